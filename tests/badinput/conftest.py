"""Fixtures for the bad-input scans; the CA and certificates come from tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.probe.loopback import closed_port


@pytest.fixture
def refusing_port() -> Iterator[int]:
    """A loopback port that refuses connections for the whole test."""
    sock, port = closed_port()
    try:
        yield port
    finally:
        sock.close()
