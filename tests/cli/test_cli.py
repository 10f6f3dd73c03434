"""The command line as a user runs it: real processes, real demo portal, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from launchready.rows import ROW_IDS

SCHEMA = (
    Path(__file__).resolve().parents[2] / "src" / "launchready" / "schemas" / "report.schema.json"
)
COVERED_ROWS = {"auth", "authorization", "tls-domain", "logging", "latency"}


def launchready(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "launchready", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_demo_flawed_json_report(tmp_path: Path) -> None:
    done = launchready("demo", "--format", "json", "--output", "r.json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    jsonschema.validate(report, json.loads(SCHEMA.read_text()))
    assert report["scorecard"]["verdict"] == "not-ready"
    assert [row["id"] for row in report["scorecard"]["rows"]] == list(ROW_IDS)
    assert "Traceback" not in done.stderr


def test_demo_hardened_default_reports(tmp_path: Path) -> None:
    done = launchready("demo", "--hardened", cwd=tmp_path)
    assert done.returncode == 3, done.stderr  # incomplete: rows without checks yet
    assert (tmp_path / "launchready-report.html").stat().st_size > 1000
    report = json.loads((tmp_path / "launchready-report.json").read_text())
    failing = [
        (f["check_id"], f["outcome"])
        for f in report["findings"]
        if f["row"] in COVERED_ROWS and f["status"] == "fail"
    ]
    assert failing == []
    assert "incomplete" in done.stdout.lower()


def test_report_rerenders_saved_scan(tmp_path: Path) -> None:
    done = launchready(
        "demo", "--hardened", "--quiet", "--format", "json", "--output", "s.json", cwd=tmp_path
    )
    assert done.returncode == 3, done.stderr
    for fmt, marker in (("sarif", '"version": "2.1.0"'), ("junit", "<testsuite"), ("md", "|")):
        out = launchready("report", "s.json", "--format", fmt, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        assert marker in out.stdout

    (tmp_path / "broken.json").write_text("{not json")
    bad = launchready("report", "broken.json", cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1

    unwritable = launchready(
        "report", "s.json", "--format", "md", "--output", "no/such/dir/r.md", cwd=tmp_path
    )
    assert unwritable.returncode == 2 and "Traceback" not in unwritable.stderr
    assert (
        unwritable.stderr.strip()
        == "launchready: cannot write no/such/dir/r.md: No such file or directory"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "is empty"),
        ("[target\n", "not valid TOML"),
        ('[target]\nurl = "https://p.test"\nbogus = 1\n', "target.bogus: unknown key"),
        (
            '[target]\nurl = "https://p.test"\n[[accounts]]\nname = "a"\npassword = "x"\n',
            "literal credential",
        ),
    ],
)
def test_bad_config_is_one_line_and_exit_2(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "launchready.toml").write_text(text)
    done = launchready("scan", cwd=tmp_path)
    assert done.returncode == 2
    assert expected in done.stderr and "Traceback" not in done.stderr
    assert done.stderr.count("launchready.toml") == 1


def test_init_lists_openapi_operations(tmp_path: Path) -> None:
    from launchready.demo import FLAWS, start_demo

    # The flawed portal serves itself on plain HTTP, so init can reach it by address.
    with start_demo(frozenset({"http-no-redirect"} & set(FLAWS))) as portal:
        done = launchready("init", f"http://127.0.0.1:{portal.http_port}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "launchready.toml").read_text()
    assert 'openapi = "/openapi.json"' in text
    assert "GET /api/documents  (needs credentials)" in text
    import tomllib

    assert tomllib.loads(text)["target"]["url"].startswith("http://127.0.0.1")
    again = launchready("init", "https://x.test", cwd=tmp_path)
    assert again.returncode == 2 and "exists" in again.stderr


def test_output_that_cannot_be_honoured_is_refused_before_the_scan(tmp_path: Path) -> None:
    several = launchready("demo", "--format", "html", "--format", "json", "-o", "r", cwd=tmp_path)
    assert several.returncode == 2
    assert several.stderr.strip() == (
        "launchready: --output names one file; give a single --format with it"
    )
    nowhere = launchready("demo", "--format", "json", "-o", "no/dir/r.json", cwd=tmp_path)
    assert nowhere.returncode == 2
    assert nowhere.stderr.strip() == "launchready: cannot write no/dir/r.json: no folder no/dir"
    assert "starting the demo portal" not in several.stderr + nowhere.stderr


def test_unreachable_target_is_said_once_in_one_line(tmp_path: Path) -> None:
    from tests.probe.loopback import closed_port

    sock, port = closed_port()
    try:
        (tmp_path / "l.toml").write_text(f'[target]\nurl = "http://127.0.0.1:{port}"\n')
        done = launchready("scan", "-c", "l.toml", "-q", cwd=tmp_path)
    finally:
        sock.close()
    assert done.returncode == 3 and "Traceback" not in done.stderr
    said = [line for line in done.stderr.splitlines() if "did not answer" in line]
    assert said == [f"launchready: http://127.0.0.1:{port} did not answer: connection refused"]


def test_a_reader_that_stops_early_does_not_change_the_exit_code(tmp_path: Path) -> None:
    from tests.probe.loopback import closed_port

    sock, port = closed_port()
    (tmp_path / "l.toml").write_text(f'[target]\nurl = "http://127.0.0.1:{port}"\n')
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "launchready", "scan", "-c", "l.toml"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "COLUMNS": "100"},
        )
        assert process.stdout is not None
        process.stdout.close()  # gone before the scorecard is printed, like `| head -0`
        code = process.wait(timeout=120)
    finally:
        sock.close()
    assert code == 3


def test_init_on_an_address_that_does_not_answer(tmp_path: Path) -> None:
    from tests.probe.loopback import closed_port

    sock, port = closed_port()
    try:
        done = launchready("init", f"http://127.0.0.1:{port}", cwd=tmp_path)
    finally:
        sock.close()
    assert done.returncode == 0, done.stderr
    assert f"http://127.0.0.1:{port} did not answer: connection refused" in done.stderr
    text = (tmp_path / "launchready.toml").read_text()
    assert "www.127.0.0.1" not in text and "@127.0.0.1" not in text
