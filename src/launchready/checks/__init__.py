"""One module per scorecard row; importing a module registers its checks (see `base`)."""

from __future__ import annotations

import importlib

CHECK_MODULES = (
    "tls_domain",
    "auth",
    "auth_tokens",
    "auth_mail",
    "authorization",
    "tenant_isolation",
    "logging",
    "latency",
    "attested",
)


def load_all() -> None:
    for name in CHECK_MODULES:
        importlib.import_module(f"launchready.checks.{name}")
