"""Fills request templates: `{username}`, `{password}`, `{n}`, `{setup.KEY}`, `{response.KEY}`,
and for the auth probes `{email}`, `{token}` and `{new_password}`.

A placeholder that is a whole JSON string value is replaced by the value with its type (so an
id stays a number); inside a longer string it is replaced by its text.
"""

from __future__ import annotations

import re
from typing import Any

_PLACEHOLDER = re.compile(
    r"\{(username|password|n|email|token|new_password|(?:setup|response)\.[\w.]+)\}"
)


def lookup(values: dict[str, Any], key: str) -> Any:
    current: Any = values
    for part in key.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        else:
            raise KeyError(key)
    return current


def fill(template: Any, values: dict[str, Any]) -> Any:
    """The template with placeholders replaced; raises KeyError naming a missing value."""
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole:
            return lookup(values, whole.group(1))
        return _PLACEHOLDER.sub(lambda m: str(lookup(values, m.group(1))), template)
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, values) for value in template]
    return template
