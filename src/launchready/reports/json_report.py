"""The JSON report: the complete scan, and the one format every other report can be rebuilt from.

`launchready report scan.json --format html` reads a saved JSON report back with `load`, so the
JSON must carry everything and `load` must say plainly why a file is not a usable report.
"""

from __future__ import annotations

from pydantic import ValidationError

from launchready.scan import REPORT_SCHEMA_VERSION, ScanResult


def render(result: ScanResult) -> str:
    return result.model_dump_json(indent=2) + "\n"


def load(text: str) -> ScanResult:
    """A ScanResult from a JSON report; ValueError with a one-line reason when it is not one."""
    if not text.strip():
        raise ValueError("the file is empty, not a launchready JSON report")

    try:
        result = ScanResult.model_validate_json(text)
    except ValidationError as error:
        raise ValueError(_one_line(error)) from None

    _check_version(result.schema_version)
    return result


def _one_line(error: ValidationError) -> str:
    problems = error.errors(include_url=False)
    first = problems[0]
    if first["type"] == "json_invalid":
        return f"not valid JSON: {first['msg'].removeprefix('Invalid JSON: ')}"

    where = ".".join(str(part) for part in first["loc"]) or "the top level"
    reason = f"not a launchready JSON report: {where}: {first['msg']}"
    if len(problems) > 1:
        reason += f" (and {len(problems) - 1} more problems)"
    return reason


def _check_version(version: str) -> None:
    """Reports of another major schema version are refused rather than half-read."""
    supported = REPORT_SCHEMA_VERSION.split(".", 1)[0]
    if version.split(".", 1)[0] != supported:
        raise ValueError(
            f"report schema version {version} is not supported "
            f"(this launchready reads {supported}.x)"
        )
