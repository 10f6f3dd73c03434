"""Fixtures for the probe tests: a throwaway CA and certificates for made-up host names."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme


@pytest.fixture(scope="session")
def test_ca() -> trustme.CA:
    return trustme.CA(organization_name="launchready probe tests CA")


@pytest.fixture
def ca_bundle(test_ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    test_ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def server_tls(test_ca: trustme.CA) -> Callable[..., ssl.SSLContext]:
    """`server_tls("portal.test")`: a server context whose certificate covers those names."""

    def make(*names: str) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        test_ca.issue_cert(*names).configure_cert(context)
        return context

    return make
