"""Report formats against golden files, and each format against what its consumers accept.

Goldens live in tests/golden/; after an intended change rewrite them with
`UPDATE_GOLDEN=1 pytest tests/reports` and review the diff. Volatile values (times, durations,
ports, the tool version) are normalised before comparing.
"""

from __future__ import annotations

import io
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from rich.console import Console

from launchready import __version__
from launchready.findings import Status
from launchready.reports import FORMATS, render, sarif
from launchready.reports.json_report import load
from launchready.reports.schema import SCHEMA_PATH, build_schema, schema_text
from launchready.reports.terminal import print_scorecard
from launchready.rows import ROW_IDS
from launchready.scan import ScanResult
from tests.reports.sample import METADATA, scan_result

REPO = Path(__file__).resolve().parents[2]
GOLDEN = REPO / "tests" / "golden"
SARIF_SCHEMA = REPO.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"

RENDERERS: dict[str, tuple[str, Callable[[ScanResult], str]]] = {
    "json": ("report.json", FORMATS["json"]),
    "sarif": ("report.sarif", lambda result: sarif.render(result, meta=METADATA)),
    "junit": ("report.junit.xml", FORMATS["junit"]),
    "md": ("report.md", FORMATS["md"]),
    "html": ("report.html", FORMATS["html"]),
}

_NORMALISE = (
    (
        re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}| UTC)?"),
        "<time>",
    ),
    (re.compile(r"(//[^/\s:\"'<>]+):\d{2,5}\b"), r"\1:<port>"),
    (re.compile(r"\b(127\.0\.0\.1|localhost):\d{2,5}\b"), r"\1:<port>"),
    (re.compile(r"(\"(duration_s|elapsed_ms)\": )[\d.]+"), r"\1<duration>"),
    (re.compile(r"\btime=\"[\d.]+\""), 'time="<duration>"'),
    (re.compile(r"\b\d+(\.\d+)?\s?(ms|s|min)\b"), "<duration>"),
)


def normalise(text: str) -> str:
    text = text.replace(__version__, "<version>")
    for pattern, replacement in _NORMALISE:
        text = pattern.sub(replacement, text)
    return text


@pytest.fixture(scope="module")
def result() -> ScanResult:
    return scan_result()


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_golden(fmt: str, result: ScanResult) -> None:
    name, renderer = RENDERERS[fmt]
    golden = GOLDEN / name
    text = normalise(renderer(result))

    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"{golden} is missing; write it with UPDATE_GOLDEN=1"

    assert text == golden.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def test_every_format_is_registered() -> None:
    assert set(FORMATS) == {"json", "html", "sarif", "junit", "md"}


def test_render_refuses_an_unknown_format(result: ScanResult) -> None:
    with pytest.raises(ValueError, match="unknown report format 'pdf'"):
        render(result, "pdf")


# SARIF


def _sarif_validator() -> jsonschema.Draft4Validator:
    if not SARIF_SCHEMA.exists():
        pytest.skip(f"official SARIF schema not found at {SARIF_SCHEMA}")
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.mark.parametrize("meta", ["fixed", "shipped"])
def test_sarif_validates_against_the_official_schema(meta: str, result: ScanResult) -> None:
    validator = _sarif_validator()
    text = sarif.render(result, meta=METADATA) if meta == "fixed" else render(result, "sarif")

    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(json.loads(text))
    ]

    assert errors == []


def _sarif(result: ScanResult) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(sarif.render(result, meta=METADATA))
    return log


def test_sarif_rules_cover_every_check_and_results_only_bad_findings(result: ScanResult) -> None:
    run = _sarif(result)["runs"][0]
    rules = run["tool"]["driver"]["rules"]

    assert [rule["id"] for rule in rules] == sorted({f.check_id for f in result.findings})
    assert "informationUri" not in run["tool"]["driver"]
    assert len(run["results"]) == sum(1 for f in result.findings if f.is_bad)
    for item in run["results"]:
        assert rules[item["ruleIndex"]]["id"] == item["ruleId"]


def test_sarif_rule_without_metadata_falls_back_to_its_finding(result: ScanResult) -> None:
    rules = {r["id"]: r for r in _sarif(result)["runs"][0]["tool"]["driver"]["rules"]}
    rule = rules["secrets.committed-key"]

    assert rule["shortDescription"]["text"] == "An API key is committed in config/settings.py"
    assert rule["help"]["text"].startswith("Revoke the key")
    assert rule["properties"]["row"] == "secrets"
    assert rule["properties"]["effortHours"] == [1, 3]


def test_sarif_levels_follow_status_and_severity(result: ScanResult) -> None:
    levels = {item["ruleId"]: item["level"] for item in _sarif(result)["runs"][0]["results"]}

    assert levels["auth.protected-operations"] == "error"  # fail, critical
    assert levels["secrets.committed-key"] == "error"  # fail, high
    assert levels["authorization.cors"] == "warning"  # fail, medium
    assert levels["email-auth.dmarc"] == "warning"  # warn, medium
    assert levels["auth.session-cookies"] == "note"  # warn, low


def test_sarif_every_result_has_a_physical_location(result: ScanResult) -> None:
    results = {i["ruleId"]: i for i in _sarif(result)["runs"][0]["results"]}

    for item in results.values():
        assert item["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert len(item["partialFingerprints"]["launchready/v1"]) == 16
    secret = results["secrets.committed-key"]["locations"][0]
    assert secret["physicalLocation"] == {
        "artifactLocation": {"uri": "config/settings.py"},
        "region": {"startLine": 42},
    }
    dmarc = results["email-auth.dmarc"]["locations"][0]
    assert dmarc["logicalLocations"] == [{"name": "portal.example.com", "kind": "resource"}]


# JUnit


def test_junit_has_one_suite_per_row_and_one_case_per_check(result: ScanResult) -> None:
    root = ET.fromstring(render(result, "junit"))
    suites = root.findall("testsuite")
    cases = root.findall("testsuite/testcase")

    assert [s.get("name") for s in suites] == list(ROW_IDS)
    assert sorted(c.get("name", "") for c in cases) == sorted({f.check_id for f in result.findings})
    for case in cases:
        assert case.get("name", "").startswith(f"{case.get('classname')}.")


def test_junit_outcomes_and_counts(result: ScanResult) -> None:
    root = ET.fromstring(render(result, "junit"))
    cases = {c.get("name"): c for c in root.iter("testcase")}

    failure = cases["auth.protected-operations"].find("failure")
    assert failure is not None and failure.get("type") == "critical"
    assert failure.get("message", "").endswith("(and 1 more)")
    assert cases["latency.core-actions"].find("error") is not None
    skipped = cases["monitoring.attested"].find("skipped")
    assert skipped is not None and "attest.monitoring" in skipped.get("message", "")
    assert len(cases["auth.session-cookies"]) == 1  # a warning passes: only system-out

    for element in (root, *root.findall("testsuite")):
        assert int(element.get("tests", "")) == len(list(element.iter("testcase")))
        for tag, attribute in (
            ("failure", "failures"),
            ("error", "errors"),
            ("skipped", "skipped"),
        ):
            assert int(element.get(attribute, "")) == len(list(element.iter(tag)))


# HTML


class _ResourceRefs(HTMLParser):
    """Collects src/href values of tags that would load something: link, script, img."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("link", "script", "img"):
            self.refs += [value or "" for name, value in attrs if name in ("src", "href")]


def test_html_loads_nothing_from_outside(result: ScanResult) -> None:
    parser = _ResourceRefs()
    parser.feed(render(result, "html"))

    assert not [ref for ref in parser.refs if re.match(r"\s*(https?:)?//", ref)]
    assert "@import" not in render(result, "html")


def test_html_shows_verdict_fix_plan_and_evidence(result: ScanResult) -> None:
    page = render(result, "html")

    assert '<span class="verdict not-ready">not ready</span>' in page
    assert page.index("<h3>access control</h3>") < page.index("<h3>secrets</h3>")
    assert "What breaks" in page and "curl -i" in page and "abcd…(40 chars)" in page
    assert "config/settings.py:42" in page and "3f2a9c1" in page


def test_html_escapes_scan_text(result: ScanResult) -> None:
    hostile = result.findings[0].model_copy(update={"title": "<script>alert(1)</script>"})
    scan = result.model_copy(update={"findings": [hostile, *result.findings[1:]]})

    page = render(scan, "html")

    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# Markdown


def test_markdown_escapes_table_cells(result: ScanResult) -> None:
    text = render(result, "md")

    assert "CORS reflects any origin with credentials \\| on /api" in text
    table = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(table) == 2 + len(ROW_IDS)  # header, rule, one line per row


# JSON and its schema


def test_json_round_trips_through_load(result: ScanResult) -> None:
    assert load(render(result, "json")) == result


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("{not json", "not valid JSON"),
        ('{"schema_version": "1.0"}', "not a launchready JSON report: scan: Field required"),
        ("[]", "not a launchready JSON report"),
    ],
)
def test_load_explains_bad_input_in_one_line(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(reason)) as caught:
        load(text)

    assert "\n" not in str(caught.value)


def test_load_refuses_another_major_schema_version(result: ScanResult) -> None:
    data = json.loads(render(result, "json"))
    data["schema_version"] = "2.0"

    with pytest.raises(ValueError, match=r"schema version 2\.0 is not supported"):
        load(json.dumps(data))


def test_shipped_schema_matches_the_models() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "report.schema.json is stale: run python -m launchready.reports.schema"
    )


def test_report_validates_against_its_schema(result: ScanResult) -> None:
    schema = build_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())

    errors = [e.message for e in validator.iter_errors(json.loads(render(result, "json")))]

    assert errors == []
    assert schema["$id"] and schema["title"] and schema["description"]


# Terminal


def test_terminal_scorecard_reads_without_colour(result: ScanResult) -> None:
    out = io.StringIO()
    console = Console(file=out, width=120, color_system=None, force_terminal=False)

    print_scorecard(result, console)

    text = out.getvalue()
    assert "NOT READY" in text and "verified 2/2" in text
    assert "no check covers this row yet" in text
    assert "Fix first" in text and "2–16 h" in text
    assert text.rstrip().splitlines()[-1].startswith("not ready: 4 blockers, 6 to fix")
    assert "\x1b[" not in text


def test_terminal_prints_brackets_literally(result: ScanResult) -> None:
    bracketed = result.findings[0].model_copy(update={"title": "[bold]not markup[/bold]"})
    found = [bracketed, *result.findings[1:]]
    from launchready.scorecard import score

    scan = result.model_copy(update={"findings": found, "scorecard": score(found)})
    out = io.StringIO()

    print_scorecard(scan, Console(file=out, width=160, color_system=None))

    assert "[bold]not markup[/bold]" in out.getvalue()


def test_statuses_in_the_sample_cover_every_kind(result: ScanResult) -> None:
    assert {f.status for f in result.findings} == set(Status)


def test_sarif_rules_from_the_shipped_metadata_validate(result: ScanResult) -> None:
    """A failing finding for every shipped check: its rule must come out valid SARIF."""
    from launchready.checks.base import metadata
    from tests.reports.sample import make

    validator = _sarif_validator()
    found = [
        make(meta.id, "x", Status.FAIL, outcome.severity, meta.title, target=result.scan.target)
        for meta in metadata().values()
        for outcome in list(meta.outcomes.values())[:1]
    ]
    scan = result.model_copy(update={"findings": found})

    log = json.loads(render(scan, "sarif"))

    assert [e.message for e in validator.iter_errors(log)] == []
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} == set(metadata())


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_scan_without_findings_renders(fmt: str, result: ScanResult) -> None:
    from launchready.scorecard import score

    empty = result.model_copy(update={"findings": [], "scorecard": score([])})

    text = render(empty, fmt)

    if fmt == "junit":
        assert ET.fromstring(text).get("tests") == "0"
    else:
        assert "incomplete" in text.lower()


def test_schema_script_reports_no_drift() -> None:
    from launchready.reports.schema import main

    assert main(["--check"]) == 0
