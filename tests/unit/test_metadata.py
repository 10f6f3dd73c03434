"""Code and metadata must agree: every check described, every description a check."""

import re
from pathlib import Path

import pytest

import launchready.checks as checks_package
from launchready.checks import load_all
from launchready.checks.base import REGISTRY, metadata
from launchready.checks.logging import EXAMPLES
from launchready.rows import ROW_IDS

CHECKS_DIR = Path(checks_package.__file__).parent


def test_every_check_has_metadata_and_back() -> None:
    load_all()
    assert set(REGISTRY) == set(metadata())


def test_metadata_is_complete_and_rows_agree() -> None:
    load_all()
    for check_id, meta in metadata().items():
        assert meta.row == REGISTRY[check_id].row, check_id
        assert meta.row in ROW_IDS
        assert meta.title and meta.impact and meta.fix, check_id
        low, high = meta.effort_hours
        assert 0 < low <= high, check_id
        assert any(o.status.value == "pass" for o in meta.outcomes.values()), check_id
        for outcome in meta.outcomes.values():
            assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", outcome.code), outcome.code


def test_outcome_codes_in_code_and_metadata_agree() -> None:
    load_all()
    sources = "\n".join(path.read_text() for path in CHECKS_DIR.glob("*.py"))
    declared = {code for meta in metadata().values() for code in meta.outcomes}
    generic = {"check-error", "needs-missing"}

    added = set(re.findall(r'\.add\(\s*"([a-z0-9-]+)"', sources))
    assert added - declared - generic == set(), "codes added but not in metadata"

    unused = {code for code in declared if f'"{code}"' not in sources}
    assert unused == set(), "codes in metadata that no check can produce"


def test_checks_doc_is_current() -> None:
    from launchready.checks.docs import render

    doc = Path(__file__).resolve().parents[2] / "docs" / "checks.md"
    assert doc.read_text(encoding="utf-8") == render(), "run: python -m launchready.checks.docs"


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_matcher_examples(name: str) -> None:
    matcher, must_match, must_not = EXAMPLES[name]
    for sample in must_match:
        assert matcher(sample), f"{name} should match {sample!r}"
    for sample in must_not:
        assert not matcher(sample), f"{name} should not match {sample!r}"
