"""Hostile and broken inputs: every one must end, within its timeouts, with findings that say
why in one line, and never with a crash.

Each scan runs the whole check set against a server the test starts on loopback (or a port
nothing listens on), with short timeouts. Config mistakes go through the real command line.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import ssl
import struct
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import trustme

from launchready.config import Config, parse_config
from launchready.context import ScanContext
from launchready.findings import Finding, Status
from launchready.runner import run_scan
from launchready.scan import ScanResult
from tests.probe.loopback import LoopbackServer, Reply, Request, html, http_handler

KNOWN_STATUSES = {status.value for status in Status}
SCAN_BOUND_S = 30.0  # a generous ceiling; the short timeouts below make scans take seconds
RESOLVE = {"portal.test": "127.0.0.1", "www.portal.test": "127.0.0.1"}
SHORT = {"connect_timeout": 0.5, "read_timeout": 0.5, "check_timeout": 10.0}

# Checks that need nothing but an answering target: on a dead target they must say "error".
HTTP_CHECKS = (
    "logging.version-banner",
    "logging.exposed-files",
    "logging.admin-exposed",
    "logging.debug-errors",
    "authorization.cors",
)
HTTPS_CHECKS = ("tls-domain.hsts", "tls-domain.security-headers", *HTTP_CHECKS)
TLS_CHECKS = ("tls-domain.certificate", "tls-domain.protocol")


def hostile_config(
    url: str,
    *,
    http_url: str,
    ca_bundle: str | None = None,
    openapi: str | None = None,
    alternate_hosts: list[str] | None = None,
    **scope: Any,
) -> Config:
    target: dict[str, Any] = {
        "url": url,
        "http_url": http_url,
        # No alternates unless asked: www.<host> must never reach a real resolver.
        "alternate_hosts": alternate_hosts or [],
        "resolve": RESOLVE,
    }
    if ca_bundle:
        target["ca_bundle"] = ca_bundle
    if openapi:
        target["openapi"] = openapi
    settings = {**SHORT, "rate_per_second": 500, "max_body_bytes": 65536, **scope}
    return parse_config({"target": target, "scope": settings}, Path("hostile.toml"))


def scan(config: Config) -> ScanResult:
    """The whole scan, bounded; a crash of any kind fails the test with its type."""

    async def bounded() -> ScanResult:
        return await asyncio.wait_for(run_scan(ScanContext(config)), SCAN_BOUND_S)

    started = time.monotonic()
    try:
        result = asyncio.run(bounded())
    except (Exception, asyncio.CancelledError) as error:
        pytest.fail(f"the scan crashed: {type(error).__name__}: {error}")
    elapsed = time.monotonic() - started
    assert elapsed < SCAN_BOUND_S, elapsed
    return result


def assert_survived(result: ScanResult) -> None:
    """What every bad input must leave behind, whatever it was."""
    assert result.findings, "a scan always has findings"
    for finding in result.findings:
        assert finding.status.value in KNOWN_STATUSES
        assert "\n" not in finding.detail, (finding.check_id, finding.detail)
        assert "Traceback" not in finding.detail, (finding.check_id, finding.detail)
        # A check that raised is caught by the runner, but it is a bug, not a verdict.
        assert not finding.detail.startswith("the check failed"), (
            finding.check_id,
            finding.detail,
        )
    assert result.scorecard.verdict.value != "ready"


def findings_of(result: ScanResult, check_id: str) -> list[Finding]:
    found = [f for f in result.findings if f.check_id == check_id]
    assert found, f"no finding for {check_id}"
    return found


def assert_errors(result: ScanResult, check_ids: tuple[str, ...]) -> dict[str, str]:
    """Each check gave exactly one "error" finding with a non-empty one-line reason."""
    details = {}
    for check_id in check_ids:
        found = findings_of(result, check_id)
        assert [f.status for f in found] == [Status.ERROR], (check_id, found)
        detail = found[0].detail
        assert detail.strip() and "\n" not in detail, (check_id, detail)
        details[check_id] = detail
    return details


# -- hostile servers ---------------------------------------------------------------------------


async def never_answer(server: LoopbackServer, reader: asyncio.StreamReader, writer: Any) -> None:
    """Accept, read whatever comes, say nothing (until the test stops the server)."""
    for _ in range(100):
        if not await asyncio.wait_for(reader.read(65536), 20):
            return


async def ssh_banner(server: LoopbackServer, reader: asyncio.StreamReader, writer: Any) -> None:
    """Not HTTP at all: an SSH-like banner and random bytes."""
    writer.write(b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3\r\n" + secrets.token_bytes(2048))
    await writer.drain()
    await asyncio.wait_for(reader.read(65536), 5)


async def plain_text(server: LoopbackServer, reader: asyncio.StreamReader, writer: Any) -> None:
    """A plain-HTTP server on the port the target says is HTTPS."""
    await asyncio.wait_for(reader.read(4096), 5)
    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    await writer.drain()


async def reset(server: LoopbackServer, reader: asyncio.StreamReader, writer: Any) -> None:
    """Accept and reset the connection at once (RST, not FIN)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def drip(request: Request) -> Reply:
    """Headers at once, then one byte every 0.2 s: never a read timeout, never finished."""

    async def bytes_slowly() -> AsyncIterator[bytes]:
        for _ in range(100):
            await asyncio.sleep(0.2)
            yield b"."

    return Reply(200, [("Content-Type", "text/html")], stream=bytes_slowly, content_length=100)


FIFTY_MB = 50 * 1024 * 1024
CHUNK = b"<p>" + b"a" * 65533


def fifty_mb(request: Request) -> Reply:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(FIFTY_MB // len(CHUNK)):
            yield CHUNK

    return Reply(200, [("Content-Type", "text/html")], stream=chunks, content_length=FIFTY_MB)


def loop(request: Request) -> Reply:
    return Reply(302, [("Location", "/b" if request.path == "/a" else "/a")])


# -- unreachable, refused, reset -------------------------------------------------------------------


def test_unreachable_https_target(refusing_port: int) -> None:
    port = refusing_port
    result = scan(
        hostile_config(f"https://portal.test:{port}", http_url=f"http://portal.test:{port}")
    )
    assert_survived(result)
    details = assert_errors(result, TLS_CHECKS + HTTPS_CHECKS)
    assert details["tls-domain.certificate"].startswith("TLS handshake failed")
    assert result.scorecard.verdict.value == "incomplete"


def test_refused_http_target(refusing_port: int) -> None:
    port = refusing_port
    result = scan(hostile_config(f"http://127.0.0.1:{port}", http_url=f"http://127.0.0.1:{port}"))
    assert_survived(result)
    assert_errors(result, HTTP_CHECKS)
    assert result.scan.requests_sent < 60


def test_a_refused_plain_http_port_counts_as_http_closed(
    refusing_port: int, server_tls: Callable[..., ssl.SSLContext], ca_bundle: str
) -> None:
    with LoopbackServer(http_handler(lambda r: html()), ssl_context=server_tls("portal.test")) as s:
        result = scan(
            hostile_config(
                f"https://portal.test:{s.port}",
                http_url=f"http://portal.test:{refusing_port}",
                ca_bundle=ca_bundle,
            )
        )
    assert_survived(result)
    assert [f.outcome for f in findings_of(result, "tls-domain.https-redirect")] == ["http-closed"]


def test_connection_reset_on_accept() -> None:
    with LoopbackServer(reset) as server:
        result = scan(hostile_config(server.url, http_url=server.url))
    assert_survived(result)
    assert_errors(result, HTTP_CHECKS)


# -- TLS ------------------------------------------------------------------------------------------


def test_plain_text_on_the_https_port_is_a_failed_handshake() -> None:
    with LoopbackServer(plain_text) as server:
        result = scan(
            hostile_config(
                f"https://portal.test:{server.port}", http_url=f"http://portal.test:{server.port}"
            )
        )
    assert_survived(result)
    details = assert_errors(result, TLS_CHECKS + HTTPS_CHECKS)
    assert details["tls-domain.certificate"].startswith("TLS handshake failed")


def test_untrusted_self_signed_certificate_is_a_cert_untrusted_fail(
    refusing_port: int, ca_bundle: str
) -> None:
    stranger = trustme.CA(organization_name="nobody trusts this CA")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    stranger.issue_cert("portal.test").configure_cert(context)
    with LoopbackServer(http_handler(lambda r: html()), ssl_context=context) as server:
        result = scan(
            hostile_config(
                f"https://portal.test:{server.port}",
                http_url=f"http://portal.test:{refusing_port}",
                ca_bundle=ca_bundle,  # trusts the test CA, not the stranger
            )
        )
    assert_survived(result)
    certificate = findings_of(result, "tls-domain.certificate")
    assert [(f.status, f.outcome) for f in certificate] == [(Status.FAIL, "cert-untrusted")]
    assert certificate[0].detail and "\n" not in certificate[0].detail
    details = assert_errors(result, ("tls-domain.hsts", "logging.version-banner"))
    assert all(d.startswith("TLS certificate not trusted") for d in details.values()), details
    assert result.scorecard.verdict.value == "not-ready"


# -- servers that stall ---------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_server_that_accepts_and_never_answers(scheme: str) -> None:
    with LoopbackServer(never_answer) as server:
        url = f"{scheme}://portal.test:{server.port}"
        started = time.monotonic()
        result = scan(hostile_config(url, http_url=f"http://portal.test:{server.port}"))
        elapsed = time.monotonic() - started
    assert_survived(result)
    assert elapsed < 20, elapsed
    if scheme == "http":
        details = assert_errors(result, HTTP_CHECKS)
        assert details["logging.version-banner"] == (
            "the server accepted the connection but did not answer in time"
        )
    else:
        details = assert_errors(result, TLS_CHECKS + HTTPS_CHECKS)
        assert details["tls-domain.certificate"] == "TLS handshake failed: timed out"
        assert details["tls-domain.hsts"] == "connection timed out"


def test_a_server_that_drips_bytes_is_cut_by_the_total_and_check_timeouts() -> None:
    with LoopbackServer(http_handler(drip)) as server:
        started = time.monotonic()
        result = scan(
            hostile_config(
                f"http://portal.test:{server.port}",
                http_url=f"http://portal.test:{server.port}",
                check_timeout=4.0,
            )
        )
        elapsed = time.monotonic() - started
    assert_survived(result)
    assert elapsed < 15, elapsed
    details = assert_errors(result, HTTP_CHECKS)
    assert details["logging.version-banner"].startswith("no complete answer within")
    assert any(d.startswith("the check did not finish within 4 s") for d in details.values())


def test_a_check_timeout_does_not_cancel_facts_other_checks_share(
    server_tls: Callable[..., ssl.SSLContext], ca_bundle: str
) -> None:
    """Slow answers make the OpenAPI search outlast check_timeout, and checks start at
    different times (six at once), so one check times out while others still wait."""
    with (
        LoopbackServer(http_handler(drip), ssl_context=server_tls("portal.test")) as portal,
        LoopbackServer(http_handler(drip)) as plain,
    ):
        result = scan(
            hostile_config(
                f"https://portal.test:{portal.port}",
                http_url=f"http://portal.test:{plain.port}",
                ca_bundle=ca_bundle,
                check_timeout=3.0,
            )
        )
    assert_survived(result)


# -- bodies, redirects, documents ----------------------------------------------------------------


def test_a_50_mb_body_everywhere_is_cut_and_the_scan_goes_on() -> None:
    with LoopbackServer(http_handler(fifty_mb)) as server:
        started = time.monotonic()
        result = scan(
            hostile_config(
                f"http://portal.test:{server.port}",
                http_url=f"http://portal.test:{server.port}",
                max_body_bytes=65536,
            )
        )
        elapsed = time.monotonic() - started
        requests = server.requests
    assert_survived(result)
    assert elapsed < 20, elapsed
    assert requests == result.scan.requests_sent
    # The truncated answers are still judged: the header and file checks reach a verdict.
    for check_id in ("logging.version-banner", "logging.exposed-files", "logging.admin-exposed"):
        assert all(f.status is not Status.ERROR for f in findings_of(result, check_id))


def test_a_redirect_loop_is_reported_not_followed_forever(
    server_tls: Callable[..., ssl.SSLContext], ca_bundle: str
) -> None:
    context = server_tls("portal.test", "www.portal.test")
    with (
        LoopbackServer(http_handler(loop), ssl_context=context) as portal,
        LoopbackServer(http_handler(loop)) as plain,
    ):
        result = scan(
            hostile_config(
                f"https://portal.test:{portal.port}",
                http_url=f"http://portal.test:{plain.port}",
                ca_bundle=ca_bundle,
                alternate_hosts=["www.portal.test"],
            )
        )
        requests = portal.requests + plain.requests
    assert_survived(result)
    chain = findings_of(result, "tls-domain.redirect-chain")
    assert "redirect-loop" in {f.outcome for f in chain}
    canonical = findings_of(result, "tls-domain.canonical-host")
    assert [f.outcome for f in canonical] == ["alternate-broken"]
    assert "redirect loop" in canonical[0].title
    assert requests == result.scan.requests_sent < 100
    assert result.scorecard.verdict.value == "not-ready"


def _openapi_scan(server: LoopbackServer) -> ScanResult:
    return scan(
        hostile_config(
            f"http://portal.test:{server.port}",
            http_url=f"http://portal.test:{server.port}",
            openapi="/openapi.json",
        )
    )


def _not_json(request: Request) -> Reply:
    if request.path == "/openapi.json":
        return Reply(200, [("Content-Type", "application/json")], b"{not json")
    return html()


def test_invalid_json_where_the_openapi_document_is_expected() -> None:
    with LoopbackServer(http_handler(_not_json)) as server:
        result = _openapi_scan(server)
        assert "/openapi.json" in server.paths
    assert_survived(result)
    found = findings_of(result, "auth.protected-operations")
    assert len(found) == 1
    assert found[0].status in (Status.ERROR, Status.UNVERIFIED)
    detail = found[0].detail
    assert "/openapi.json" in detail and "neither JSON nor YAML" in detail
    assert "\n" not in detail


def test_invalid_openapi_document_is_an_error_finding() -> None:
    with LoopbackServer(http_handler(_not_json)) as server:
        result = _openapi_scan(server)
    assert [f.status for f in findings_of(result, "auth.protected-operations")] == [Status.ERROR]


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_port_that_does_not_speak_http(scheme: str) -> None:
    with LoopbackServer(ssh_banner) as server:
        url = f"{scheme}://portal.test:{server.port}"
        result = scan(hostile_config(url, http_url=f"http://portal.test:{server.port}"))
    assert_survived(result)
    if scheme == "http":
        details = assert_errors(result, HTTP_CHECKS)
        assert details["logging.version-banner"].startswith("the server did not speak HTTP")
    else:
        details = assert_errors(result, TLS_CHECKS + HTTPS_CHECKS)
        assert details["tls-domain.certificate"].startswith("TLS handshake failed")


# -- config errors, through the real command line --------------------------------------------------

LITERAL = "hunter" + secrets.token_hex(4)
CONFIG_CASES: dict[str, tuple[str | None, tuple[str, ...]]] = {
    # case: (file text, or None for no file; words the message must hold besides the file)
    "empty": ("", ("empty", "[target] url")),
    "malformed": ('[target\nurl = "https://portal.example.test"\n', ("not valid TOML", "line 1")),
    "unknown-key": (
        '[target]\nurl = "https://portal.example.test"\n\n[scope]\nconect_timeout = 3\n',
        ("scope.conect_timeout", "unknown key"),
    ),
    "literal-password": (
        '[target]\nurl = "https://portal.example.test"\n\n'
        f'[[accounts]]\nname = "alice"\npassword = "{LITERAL}"\n',
        ("accounts[0]", "'password'", "password_env"),
    ),
    "missing": (None, ("no such file",)),
    # Written as pyproject.toml: a `tool` key that is not a table.
    "pyproject-tool-not-a-table": ('tool = "launchready"\n', ("tool.launchready",)),
}


def cases() -> list[Any]:
    return list(CONFIG_CASES)


# A directory name long enough that "launchready: PATH: reason" is wider than 80 columns.
DEEP = "config-files-for-the-bad-input-tests-of-launchready"


@pytest.fixture(scope="module")
def cli_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[Path, subprocess.CompletedProcess[str]]]:
    """Run `launchready scan --config FILE` once per case, all at the same time."""
    root = tmp_path_factory.mktemp("cli") / DEEP
    root.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "FORCE_COLOR")}
    env["NO_COLOR"] = "1"
    started: dict[str, tuple[Path, subprocess.Popen[str]]] = {}
    for case, (text, _) in CONFIG_CASES.items():
        path = root / case / ("pyproject.toml" if case.startswith("pyproject") else "conf.toml")
        path.parent.mkdir()
        if text is not None:
            path.write_text(text, encoding="utf-8")
        command = [sys.executable, "-c", "from launchready.cli import main; main()"]
        started[case] = (
            path,
            subprocess.Popen(
                [*command, "scan", "--config", str(path)],
                cwd=root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
    done = {}
    for case, (path, process) in started.items():
        try:
            stdout, stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate(timeout=10)
        done[case] = (
            path,
            subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr),
        )
    return done


@pytest.mark.parametrize("case", cases())
def test_config_error_exits_2_naming_file_and_key(
    case: str, cli_runs: dict[str, tuple[Path, subprocess.CompletedProcess[str]]]
) -> None:
    path, done = cli_runs[case]
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output
    assert done.stdout == ""
    message = " ".join(done.stderr.split())  # undo any wrapping by the console
    assert message.startswith(f"launchready: {path}:"), message
    for word in CONFIG_CASES[case][1]:
        assert word in message, (word, message)
    assert LITERAL not in output  # a refused literal credential is never echoed


@pytest.mark.parametrize("case", cases())
def test_config_error_is_one_line_on_stderr(
    case: str, cli_runs: dict[str, tuple[Path, subprocess.CompletedProcess[str]]]
) -> None:
    """Wider than 80 columns on purpose: the console must not wrap it when not a terminal."""
    path, done = cli_runs[case]
    lines = done.stderr.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"launchready: {path}:")
