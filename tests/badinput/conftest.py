"""Fixtures for the bad-input scans: a throwaway CA, server certificates, a refusing port."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme

from tests.probe.loopback import closed_port


@pytest.fixture(scope="session")
def test_ca() -> trustme.CA:
    return trustme.CA(organization_name="launchready bad-input tests CA")


@pytest.fixture
def ca_bundle(test_ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    test_ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def server_tls(test_ca: trustme.CA) -> Callable[..., ssl.SSLContext]:
    """`server_tls("portal.test")`: a server context with a certificate the test CA signed."""

    def make(*names: str) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        test_ca.issue_cert(*names).configure_cert(context)
        return context

    return make


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses connections for the whole test."""
    sock, port = closed_port()
    try:
        yield port
    finally:
        sock.close()
