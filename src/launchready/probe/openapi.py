"""Reads operations out of an OpenAPI 3.x or Swagger 2.0 document.

Only the parts checks need: method, path, whether the operation requires credentials, and its
path parameters. A document that cannot be read is reported by the context, not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
_PARAM = re.compile(r"\{([^}/]+)\}")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    secured: bool
    tags: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_params(self) -> list[str]:
        return _PARAM.findall(self.path)

    def filled_path(self, value: str) -> str:
        return _PARAM.sub(value, self.path)


def base_path(document: dict[str, Any]) -> str:
    """The prefix every path lives under: Swagger 2's basePath, or OpenAPI 3's first server."""
    if "swagger" in document:
        prefix = str(document.get("basePath") or "")
    else:
        servers = document.get("servers") or []
        url = servers[0].get("url", "") if servers and isinstance(servers[0], dict) else ""
        prefix = urlsplit(str(url)).path if "{" not in str(url) else ""
    return prefix.rstrip("/")


def operations(document: dict[str, Any]) -> list[Operation]:
    """Every operation, with `secured` from its own or the document's security requirement."""
    default_security = document.get("security") or []
    prefix = base_path(document)
    found = []
    for path, item in sorted((document.get("paths") or {}).items()):
        if not isinstance(item, dict):
            continue
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            security = operation.get("security", default_security)
            # `security: [{}]` marks an operation that works without credentials.
            secured = bool(security) and all(bool(requirement) for requirement in security)
            tags = tuple(str(t) for t in operation.get("tags") or ())
            found.append(Operation(method.upper(), prefix + str(path), secured, tags))
    return found


def parse_operation(text: str) -> Operation:
    """`"GET /api/me"` from config, taken as a protected operation."""
    method, _, path = text.strip().partition(" ")
    if not path.startswith("/") or method.lower() not in METHODS:
        raise ValueError(f"{text!r} is not 'METHOD /path'")
    return Operation(method.upper(), path.strip(), True)
