"""logging row (this issue: the exposure part): debug output, private files served to anyone,
admin pages open without login, and version banners.

Each matcher that decides "this body is a stack trace" or "this is a real .env file" carries
its own must-match and must-not-match samples in `EXAMPLES`, run by one generic test, so a
soft-404 page that says "not found" with HTTP 200 is not taken for an exposed file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from launchready.checks.base import CheckReport, check
from launchready.checks.tls_domain import evidence_of
from launchready.context import ScanContext

# -- matchers ---------------------------------------------------------------------------------

_TRACE_MARKS = re.compile(
    r"Traceback \(most recent call last\)"
    r"|File \"[^\"]+\.py\", line \d+"
    r"|\bat [\w$.]+\([\w$]+\.java:\d+\)"
    r"|Exception in thread \""
    r"|at (?:Object\.<anonymous>|Module\._compile|process\.processTicksAndRejections)"
    r"|You're seeing this error because you have <code>DEBUG = True"
    r"|Werkzeug Debugger"
    r"|<b>(?:Fatal|Parse) error</b>:"
    r"|Whoops, looks like something went wrong"
    r"|Server Error in '/' Application"
    r"|ActionController::RoutingError|ActiveRecord::\w+Error",
)


def is_stack_trace(body: str) -> bool:
    return bool(_TRACE_MARKS.search(body[:200_000]))


_ENV_LINE = re.compile(r"^\s*(?:export\s+)?[A-Z][A-Z0-9_]{2,}\s*=", re.MULTILINE)


def is_env_file(body: str) -> bool:
    if "<html" in body[:500].lower():
        return False
    return len(_ENV_LINE.findall(body[:100_000])) >= 2


def is_git_config(body: str) -> bool:
    return "[core]" in body[:10_000] and "<html" not in body[:500].lower()


def is_git_head(body: str) -> bool:
    return bool(re.match(r"ref: refs/heads/\S+\s*$|[0-9a-f]{40}\s*$", body[:200]))


_MAP_HEAD = re.compile(r'^\s*\{\s*"version"\s*:\s*3\s*,')
_MAP_KEYS = re.compile(r'"(sources|mappings|sourcesContent|names)"\s*:')


def is_source_map(body: str) -> bool:
    """A whole source map, or the head of one too big to read whole (bundles' maps often pass
    the body cap): `{"version":3,` first and one of the map's own keys early on."""
    try:
        document = json.loads(body)
    except ValueError:
        # Bundlers may write the megabytes of `mappings` before `sources`: one key suffices.
        head = body[:4096]
        return bool(_MAP_HEAD.match(head)) and bool(_MAP_KEYS.search(head))
    return isinstance(document, dict) and "mappings" in document and "sources" in document


def is_sql_dump(body: str) -> bool:
    return bool(re.search(r"\b(CREATE TABLE|INSERT INTO)\b", body[:100_000], re.IGNORECASE)) and (
        "<html" not in body[:500].lower()
    )


def is_archive(body: bytes) -> bool:
    return (
        body[:4] == b"PK\x03\x04"
        or body[:2] == b"\x1f\x8b"
        or body[:16].startswith(b"SQLite format 3")
    )


_LOGIN_FORM = re.compile(r"type=[\"']?password", re.IGNORECASE)


def is_open_admin_page(body: str) -> bool:
    """An HTML page about administration with no password field on it."""
    head = body[:200_000]
    if _LOGIN_FORM.search(head) or "<html" not in head.lower():
        return False
    return bool(re.search(r"\badmin", head, re.IGNORECASE))


EXAMPLES: dict[str, tuple[Callable[[str], bool], list[str], list[str]]] = {
    "stack-trace": (
        is_stack_trace,
        [
            'Traceback (most recent call last):\n  File "/app/main.py", line 3, in <module>',
            "java.lang.NullPointerException\n\tat com.acme.Portal.get(Portal.java:42)",
            "TypeError: x is undefined\n    at Object.<anonymous> (/srv/app.js:3:1)",
        ],
        ['{"detail": "internal error"}', "<h1>Something went wrong</h1>", "line 3 of the form"],
    ),
    "env-file": (
        is_env_file,
        ["DATABASE_URL=postgres://db/app\nSECRET_KEY=abc\n", "export API_HOST=x\nDEBUG=0\n"],
        ["<html><body>Not found</body></html>", "just one line", "NAME=only-one"],
    ),
    "git-config": (
        is_git_config,
        ['[core]\n\trepositoryformatversion = 0\n[remote "origin"]\n'],
        ["<html>[core]</html>", "Not Found"],
    ),
    "source-map": (
        is_source_map,
        [
            '{"version":3,"sources":["a.ts"],"mappings":"AAAA"}',
            '{"version":3,"file":"main.js","sources":["a.ts"],"names":[],"mappings":"AAAA;AACA',
            '{"version":3,"file":"main.js","mappings":"AAAA;AACA;' + "AAAA;" * 2000,
        ],
        ["<html></html>", '{"version": 3}', "not json", '{"version":3,"file":"main.js"'],
    ),
    "sql-dump": (
        is_sql_dump,
        ["-- dump\nCREATE TABLE users (id int);\nINSERT INTO users VALUES (1);"],
        ["<html><p>create table</p></html>", "SELECT 1"],
    ),
    "open-admin": (
        is_open_admin_page,
        ["<html><h1>Admin dashboard</h1><table>users</table></html>"],
        [
            '<html><h1>Admin login</h1><input type="password" name="p"></html>',
            '{"detail": "admin only"}',
            "<html><h1>Welcome</h1></html>",
        ],
    ),
}

# -- debug errors -------------------------------------------------------------------------------


@check("logging.debug-errors")
async def debug_errors(ctx: ScanContext, report: CheckReport) -> None:
    probes: list[tuple[str, str, bytes | None]] = [("GET", "/launchready-missing-%ff%2e%2e", None)]
    operations, _ = await ctx.protected_operations()
    probes += [
        ("GET", op.filled_path("not-a-number"), None)
        for op in operations
        if op.method == "GET" and op.path_params
    ][:3]
    if ctx.has("active") and ctx.config.auth.login:
        # Malformed JSON to the login endpoint: the most common unhandled parser error.
        probes.append(("POST", ctx.config.auth.login.path, b'{"email": '))

    answered = 0
    for method, path, body in probes:
        headers = {"Content-Type": "application/json"} if body is not None else None
        response = await ctx.http.send(method, ctx.url(path), content=body, headers=headers)
        if response.error:
            continue
        answered += 1
        if is_stack_trace(response.text):
            report.add(
                "stack-trace-exposed",
                target=f"{method} {path}",
                status=response.status,
                evidence=evidence_of(ctx, response),
            )
            return
    if not answered:
        report.error("no error-provoking request was answered", target=ctx.host)
        return
    report.add("no-debug-output", target=ctx.host, count=answered)


# -- exposed files ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exposure:
    path: str
    outcome: str
    matches: Callable[[str, bytes], bool]


EXPOSURES = (
    Exposure("/.env", "env-file-exposed", lambda text, _: is_env_file(text)),
    Exposure("/.git/config", "git-exposed", lambda text, _: is_git_config(text)),
    Exposure("/.git/HEAD", "git-exposed", lambda text, _: is_git_head(text)),
    Exposure("/backup.sql", "backup-exposed", lambda text, _: is_sql_dump(text)),
    Exposure("/dump.sql", "backup-exposed", lambda text, _: is_sql_dump(text)),
    Exposure("/backup.zip", "backup-exposed", lambda _, raw: is_archive(raw)),
    Exposure("/db.sqlite3", "backup-exposed", lambda _, raw: is_archive(raw)),
)

_SCRIPT_SRC = re.compile(r"<script[^>]+src=[\"']([^\"'#?]+\.js)", re.IGNORECASE)


async def _source_map_paths(ctx: ScanContext) -> list[str]:
    """`<script src>` bundles of the home page (or of the page it redirects to, often a login
    page), as `bundle.js.map` on the portal's own host."""
    home = await ctx.landing_page()
    paths = []
    for src in _SCRIPT_SRC.findall(home.text)[:5]:
        if src.startswith("/") and not src.startswith("//"):
            paths.append(src + ".map")
    return paths


@check("logging.exposed-files")
async def exposed_files(ctx: ScanContext, report: CheckReport) -> None:
    exposures = list(EXPOSURES)
    exposures += [
        Exposure(path, "source-map-exposed", lambda text, _: is_source_map(text))
        for path in await _source_map_paths(ctx)
    ]

    answered, found = 0, 0
    for exposure in exposures:
        response = await ctx.http.send("GET", ctx.url(exposure.path))
        if response.error:
            continue
        answered += 1
        if response.status == 200 and exposure.matches(response.text, response.body):
            found += 1
            report.add(
                exposure.outcome,
                target=ctx.url(exposure.path),
                path=exposure.path,
                evidence=evidence_of(ctx, response),
            )
    if not answered:
        report.error("no request for a private file was answered", target=ctx.host)
    elif not found:
        report.add("no-private-files", target=ctx.host, count=answered)


# -- admin pages ----------------------------------------------------------------------------------

ADMIN_PATHS = ("/admin", "/admin/", "/administrator", "/wp-admin/", "/_admin", "/dashboard/admin")


@check("logging.admin-exposed")
async def admin_exposed(ctx: ScanContext, report: CheckReport) -> None:
    answered = 0
    for path in ADMIN_PATHS:
        response = await ctx.http.send("GET", ctx.url(path))
        if response.error:
            continue
        answered += 1
        if response.status == 200 and is_open_admin_page(response.text):
            report.add(
                "admin-open",
                target=ctx.url(path),
                path=path,
                evidence=evidence_of(ctx, response),
            )
            return
    if not answered:
        report.error("no admin path answered", target=ctx.host)
        return
    report.add("admin-closed", target=ctx.host)


# -- version banners ------------------------------------------------------------------------------

BANNER_HEADERS = (
    "server",
    "x-powered-by",
    "x-aspnet-version",
    "x-aspnetmvc-version",
    "x-generator",
)
_VERSION = re.compile(r"\d+\.\d+")


@check("logging.version-banner")
async def version_banner(ctx: ScanContext, report: CheckReport) -> None:
    home = await ctx.home()
    if home.error:
        report.error(home.error, target=home.url)
        return

    shown = {
        name: home.headers[name][:200]
        for name in BANNER_HEADERS
        if name in home.headers and (_VERSION.search(home.headers[name]) or name != "server")
    }
    if shown:
        text = "; ".join(f"{name}: {value}" for name, value in shown.items())
        report.add(
            "version-disclosed", target=home.url, detail=text, evidence=evidence_of(ctx, home)
        )
    else:
        report.add("no-version-banner", target=home.url)
