"""The JSON Schema of the JSON report, generated from the models so it cannot drift from them.

The shipped copy lives in `launchready/schemas/report.schema.json`; a test fails when it differs
from what the models generate. Regenerate it after changing a model:

    python -m launchready.reports.schema          # rewrite the shipped file
    python -m launchready.reports.schema --check  # exit 1 if it is stale
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from launchready.scan import REPORT_SCHEMA_VERSION, ScanResult

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "report.schema.json"

SCHEMA_ID = f"urn:launchready:schema:report:{REPORT_SCHEMA_VERSION}"

DESCRIPTION = (
    "A launchready scan: facts about the run, the scorecard (twelve graded rows, a verdict and an "
    "ordered fix plan) and every finding with its redacted evidence. Written by "
    "`launchready scan --format json`; read back by `launchready report`."
)


def build_schema() -> dict[str, Any]:
    """The report schema: the models' JSON Schema headed by $schema, $id, title, description."""
    generated = ScanResult.model_json_schema()
    generated.pop("title", None)
    generated.pop("description", None)

    header: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": f"launchready scan report {REPORT_SCHEMA_VERSION}",
        "description": DESCRIPTION,
    }
    return header | generated


def schema_text() -> str:
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = schema_text()

    if "--check" in args:
        current = SCHEMA_PATH.read_text(encoding="utf-8") if SCHEMA_PATH.exists() else ""
        if current != text:
            sys.stderr.write(f"{SCHEMA_PATH} is stale; run python -m launchready.reports.schema\n")
            return 1
        return 0

    SCHEMA_PATH.parent.mkdir(parents=True, exist_ok=True)
    SCHEMA_PATH.write_text(text, encoding="utf-8")
    sys.stderr.write(f"wrote {SCHEMA_PATH}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
