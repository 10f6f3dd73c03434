"""Run the demo portal in-process: a throw-away CA, an HTTPS and a plain-HTTP listener.

`launchready demo` and the tests need a real TLS endpoint with a certificate they can verify, on
ports that never collide, without touching the system trust store. So every run mints its own CA
(trustme), writes only the CA certificate where clients can find it, and binds both sockets to
port 0 on loopback before the app is built (the app needs the HTTPS port for its redirects).
"""

from __future__ import annotations

import shutil
import socket
import ssl
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import trustme
import uvicorn

from .flaws import FLAWS
from .mail import Mailer
from .portal import create_app, expired_tokens
from .store import generate_accounts

HOST = "127.0.0.1"
CANONICAL_HOST = "portal.test"
STARTUP_TIMEOUT_S = 10.0
SHUTDOWN_TIMEOUT_S = 5.0
SHORT_CERT_DAYS = 10
NORMAL_CERT_DAYS = 90


def _bind_free_port() -> socket.socket:
    """A listening-ready socket on a kernel-chosen free port, so no other process can race us."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit TCP_NODELAY on Linux; without it a response whose body is
    # written after its headers waits ~40 ms for the client's delayed ACK.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((HOST, 0))
    return sock


def _port_of(sock: socket.socket) -> int:
    """The port a bound socket got."""
    port: int = sock.getsockname()[1]
    return port


def _write_tls_files(directory: Path, flaws: frozenset[str]) -> tuple[Path, Path, Path]:
    """Mint the run's CA and leaf; returns (ca.pem, leaf chain, leaf key) paths.

    `short-cert` makes the leaf expire in 10 days, which a launch check must flag; otherwise it
    gets a typical 90-day lifetime.
    """
    ca = trustme.CA(organization_name="launchready demo CA")
    days = SHORT_CERT_DAYS if "short-cert" in flaws else NORMAL_CERT_DAYS
    now = datetime.now(UTC)
    leaf = ca.issue_cert(
        CANONICAL_HOST,
        f"www.{CANONICAL_HOST}",
        common_name=CANONICAL_HOST,
        not_before=now - timedelta(hours=1),
        not_after=now + timedelta(days=days),
    )

    ca_path = directory / "ca.pem"
    cert_path = directory / "portal-chain.pem"
    key_path = directory / "portal-key.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    cert_path.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(key_path))
    key_path.chmod(0o600)
    return ca_path, cert_path, key_path


def _server_config(app: Any, **tls: Any) -> uvicorn.Config:
    """Quiet uvicorn config; the Server header comes from the app, not from uvicorn."""
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
        lifespan="off",
        timeout_graceful_shutdown=2,
        **tls,
    )
    config.load()
    if config.ssl is not None:
        # Loaded here so the context can be tightened before uvicorn uses it: TLS 1.2+ only.
        config.ssl.minimum_version = ssl.TLSVersion.TLSv1_2
    return config


class _Server(uvicorn.Server):
    """uvicorn's server, minus the wait for idle keep-alive clients at shutdown.

    A TLS connection only finishes closing once the peer answers close_notify, which an idle
    pooled client never does, so a graceful stop would stall for the whole grace period. Stopping
    the demo means the run is over, so open connections are simply dropped.
    """

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.abort()

        await super().shutdown(sockets)


class _Listener:
    """One uvicorn server on a pre-bound socket, running its own event loop in a thread."""

    def __init__(self, name: str, config: uvicorn.Config, sock: socket.socket) -> None:
        self.name = name
        self.sock = sock
        self.port = _port_of(sock)
        self.server = _Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, name=f"demo-{name}", daemon=True
        )

    def start(self) -> None:
        """Run the server in the background."""
        self.thread.start()

    def ready(self) -> bool:
        """Started and accepting TCP connections."""
        if not self.server.started:
            return False

        try:
            with socket.create_connection((HOST, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        """Ask the loop to exit, then wait a bounded time for it."""
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(timeout=SHUTDOWN_TIMEOUT_S)


class DemoPortal:
    """A running demo portal. Use as a context manager, or call `stop()` when done.

    Clients must resolve portal.test / www.portal.test to 127.0.0.1 themselves (connect to
    127.0.0.1 with the Host header and SNI set) and trust `ca_path`. Every mail the portal sends
    is on `outbox`; with `smtp_port` it is also delivered to an SMTP server on 127.0.0.1.
    """

    def __init__(self, flaws: frozenset[str], *, smtp_port: int | None = None) -> None:
        self.flaws = flaws
        self.smtp_port = smtp_port
        self.accounts: list[dict[str, str]] = []
        self._mailer = Mailer(smtp_port)
        self._tmp = Path(tempfile.mkdtemp(prefix="launchready-demo-"))
        self._sockets = [_bind_free_port(), _bind_free_port()]
        self._listeners: list[_Listener] = []
        self._started = False
        self.https_port = _port_of(self._sockets[0])
        self.http_port = _port_of(self._sockets[1])
        self.ca_path = self._tmp / "ca.pem"

        try:
            self._build()
        except BaseException:
            self.stop()
            raise

    def _build(self) -> None:
        """Certificates, seeded app and the two (not yet started) listeners."""
        self.ca_path, cert_path, key_path = _write_tls_files(self._tmp, self.flaws)

        seeded = generate_accounts()
        app = create_app(
            self.flaws,
            https_port=self.https_port,
            canonical_host=CANONICAL_HOST,
            accounts=seeded,
            smtp_port=self.smtp_port,
        )
        self._mailer = app.state.portal.mailer
        expired = expired_tokens(app.state.portal)
        self.accounts = [
            {**account.as_dict(), "expired_token": expired[account.email]} for account in seeded
        ]

        https_config = _server_config(app, ssl_certfile=str(cert_path), ssl_keyfile=str(key_path))
        self._listeners = [
            _Listener("https", https_config, self._sockets[0]),
            _Listener("http", _server_config(app), self._sockets[1]),
        ]

    @property
    def base_url(self) -> str:
        """The portal's canonical HTTPS origin."""
        return f"https://{CANONICAL_HOST}:{self.https_port}"

    @property
    def outbox(self) -> list[dict[str, str]]:
        """Every mail sent so far, oldest first, as {"to", "subject", "body"} (a live list)."""
        return self._mailer.outbox

    @property
    def mail_errors(self) -> list[str]:
        """SMTP deliveries that failed (the portal carries on; the mail is still in `outbox`)."""
        return self._mailer.errors

    @property
    def http_base_url(self) -> str:
        """The plain-HTTP origin (redirects to HTTPS unless `http-no-redirect`)."""
        return f"http://{CANONICAL_HOST}:{self.http_port}"

    def start(self) -> DemoPortal:
        """Start both listeners and wait (bounded) until they accept connections. Idempotent."""
        if self._started:
            return self

        self._started = True
        for listener in self._listeners:
            listener.start()

        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        pending = list(self._listeners)
        while pending and time.monotonic() < deadline:
            pending = [listener for listener in pending if not listener.ready()]
            if pending:
                time.sleep(0.02)

        if pending:
            names = ", ".join(f"{item.name} on port {item.port}" for item in pending)
            self.stop()
            raise RuntimeError(
                f"demo portal did not start within {STARTUP_TIMEOUT_S:.0f} s ({names})"
            )

        return self

    def stop(self) -> None:
        """Shut both listeners down and delete the run's key material. Safe to call twice."""
        for listener in self._listeners:
            listener.stop()
        self._listeners = []

        for sock in self._sockets:
            sock.close()

        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> DemoPortal:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_demo(flaws: frozenset[str], *, smtp_port: int | None = None) -> DemoPortal:
    """Start the demo portal with the named flaws on (empty set = hardened) and return it.

    With `smtp_port`, the portal's mails are also sent to an SMTP server on 127.0.0.1 there.
    """
    unknown = sorted(flaws - FLAWS.keys())
    if unknown:
        raise ValueError(f"unknown flaw(s): {', '.join(unknown)}")

    return DemoPortal(frozenset(flaws), smtp_port=smtp_port).start()
