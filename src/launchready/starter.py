"""`launchready init URL`: a commented starter config, with the OpenAPI operations found.

It only loads pages (the OpenAPI document at the usual paths) from the one host named, through
the same probe layer as a scan.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from launchready.config import parse_config
from launchready.context import OPENAPI_PATHS, ScanContext
from launchready.probe import openapi

TEMPLATE = """\
# launchready.toml: what to scan and how. Every key is documented in docs/config.md.
# Credentials never go in this file: accounts name environment variables instead.

[target]
url = "{url}"
# http_url = "http://{host}"            # plain-HTTP address to test the HTTPS redirect
# alternate_hosts = ["{alternate}"]     # other names that must redirect to {host}
{openapi_line}
# ca_bundle = "staging-ca.pem"          # trust a private CA for a staging certificate
# [target.resolve]                      # like curl --resolve: scan staging under real names
# "{host}" = "203.0.113.10"

[scope]
# Active probes (logins, bursts, fuzzing, writes) only run against a target you own.
active = false
request_budget = 3000
rate_per_second = 10

# Two accounts in two tenants let the access-control rows run.
# [[accounts]]
# name = "alice"
# tenant = "acme"
# role = "admin"
# username_env = "LAUNCHREADY_ALICE_EMAIL"
# password_env = "LAUNCHREADY_ALICE_PASSWORD"

# [auth.login]
# path = "/api/login"
# json = {{ email = "{{username}}", password = "{{password}}" }}
# token_path = "access_token"

# Core onboarding actions whose p95 must stay under 500 ms.
# [[actions]]
# name = "login"
# method = "POST"
# path = "/api/login"
# json = {{ email = "{{username}}", password = "{{password}}" }}
# credentials = "alice"

# [attestations.monitoring]
# date = 2026-01-31
# by = "ops@{mail_host}"
# note = "uptime check on / and /login pages on-call; test alert fired in 3 min"
{operations}"""


async def starter_config(url: str) -> tuple[str, list[str]]:
    """The starter file's text and notes for the user; ValueError for a bad URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL")
    host = parts.hostname
    config = parse_config({"target": {"url": url}, "scope": {"hosts": [host]}}, Path("<init>"))
    # An address has no www twin and no mail domain: suggest names only for a name.
    alternate = next(iter(config.alternate_hosts()), "www.portal.example.com")
    mail_host = host if "." in host and not host.replace(".", "").isdigit() else "example.com"
    ctx = ScanContext(config)
    try:
        home = await ctx.home()
        document, source = await ctx.openapi()
    finally:
        await ctx.aclose()

    notes: list[str] = []
    if home.error:
        notes.append(f"{url} did not answer: {home.error}; the file is written all the same")
    operations_text = ""
    if document is None:
        openapi_line = '# openapi = "/openapi.json"              # or a file path'
        notes.append(f"no OpenAPI document found ({source}); tried {', '.join(OPENAPI_PATHS)}")
    else:
        path = urlsplit(source).path
        openapi_line = f'openapi = "{path}"'
        found = openapi.operations(document)
        notes.append(f"found OpenAPI at {source} with {len(found)} operations")
        listed = "\n".join(
            f"#   {op.label}{'  (needs credentials)' if op.secured else ''}" for op in found[:200]
        )
        operations_text = f"\n# Operations found in {path}:\n{listed}\n"
    text = TEMPLATE.format(
        url=url.rstrip("/"),
        host=host,
        alternate=alternate,
        mail_host=mail_host,
        openapi_line=openapi_line,
        operations=operations_text,
    )
    return text, notes
