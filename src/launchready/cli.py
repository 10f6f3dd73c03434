"""The command line: the only module that knows every part and wires them together.

Exit codes: 0 ready, 1 not ready, 2 usage or config error, 3 incomplete (see `--fail-on`).
Stdout carries the report; logs and progress go to stderr.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from launchready import __version__
from launchready.config import Config, ConfigError, load_config
from launchready.context import ScanContext
from launchready.findings import Status
from launchready.runner import run_scan
from launchready.scan import ScanResult
from launchready.scorecard import Verdict

EXIT_READY, EXIT_NOT_READY, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Is this B2B client portal ready for customer onboarding, and what to fix first?",
    pretty_exceptions_enable=False,
)


class Format(StrEnum):
    terminal = "terminal"
    json = "json"
    html = "html"
    sarif = "sarif"
    junit = "junit"
    md = "md"


class FailOn(StrEnum):
    not_ready = "not-ready"
    incomplete = "incomplete"
    warn = "warn"
    never = "never"


EXTENSIONS = {
    Format.json: "json",
    Format.html: "html",
    Format.sarif: "sarif",
    Format.junit: "junit.xml",
    Format.md: "md",
}

err = Console(stderr=True, highlight=False, soft_wrap=True)
log = logging.getLogger("launchready")


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("launchready")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    # httpx logs full URLs (query tokens included) at INFO: keep it quiet.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def exit_code(result: ScanResult, fail_on: FailOn) -> int:
    verdict = result.scorecard.verdict
    if fail_on is FailOn.never:
        return EXIT_READY
    if verdict is Verdict.NOT_READY:
        return EXIT_NOT_READY
    if fail_on is FailOn.warn and any(f.status is Status.WARN for f in result.findings):
        return EXIT_NOT_READY
    if verdict is Verdict.INCOMPLETE and fail_on in (FailOn.incomplete, FailOn.warn):
        return EXIT_INCOMPLETE
    return EXIT_READY


def _scan(
    config: Config, config_dir: Path, only: list[str], skip: list[str], passive: bool = False
) -> ScanResult:
    from launchready.checks.base import Check
    from launchready.findings import Finding

    interactive = err.is_terminal and not _in_ci()

    def progress(check: Check, findings: list[Finding]) -> None:
        if interactive:
            worst = ", ".join(sorted({f.status.value for f in findings})) or "done"
            err.print(f"[dim]  {check.id}: {worst}[/dim]")

    async def go() -> ScanResult:
        ctx = ScanContext(config, config_dir, passive=passive)
        result = await run_scan(ctx, only=only, skip=skip, progress=progress)
        reason = ctx.unreachable()
        if reason:
            # Said once up front, rather than left for the reader to piece together per check.
            err.print(f"launchready: {ctx.base_url} did not answer: {reason}", markup=False)
        return result

    if interactive:
        with err.status("scanning…"):
            return asyncio.run(go())
    return asyncio.run(go())


def _in_ci() -> bool:
    import os

    return bool(os.environ.get("CI"))


class ReportConsole(Console):
    """The scorecard's console. When the reader stops early (`| head`), printing stops but the
    command goes on: the report files are still written and the exit code is the verdict's
    (rich would exit with 1, which a CI job would read as "not ready")."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def emit(result: ScanResult, formats: list[Format], output: Path | None, quiet: bool) -> None:
    """Print the terminal scorecard and write the files asked for."""
    from launchready.reports import render
    from launchready.reports.terminal import print_scorecard

    if not quiet:
        print_scorecard(result, ReportConsole(highlight=False))
    files = [fmt for fmt in formats if fmt is not Format.terminal]
    for fmt in files:
        path = (
            output if output and len(files) == 1 else Path(f"launchready-report.{EXTENSIONS[fmt]}")
        )
        text = render(result, fmt.value)
        if str(path) == "-":
            sys.stdout.write(text)
            continue
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            err.print(f"launchready: cannot write {path}: {error.strerror}")
            raise typer.Exit(EXIT_USAGE) from None
        err.print(f"wrote {path}")


def check_output(formats: list[Format], output: Path | None) -> None:
    """Refuse, before any scan, an --output that cannot be honoured."""
    if output is None or str(output) == "-":
        return
    files = [fmt for fmt in formats if fmt is not Format.terminal]
    if len(files) > 1:
        err.print("launchready: --output names one file; give a single --format with it")
        raise typer.Exit(EXIT_USAGE)
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        err.print(f"launchready: cannot write {output}: no folder {folder}")
        raise typer.Exit(EXIT_USAGE)


def _load_or_exit(config_path: Path | None) -> tuple[Config, Path]:
    try:
        return load_config(config_path)
    except ConfigError as error:
        err.print(f"launchready: {error}", markup=False)
        raise typer.Exit(EXIT_USAGE) from None


FormatOpt = Annotated[
    list[Format] | None,
    typer.Option("--format", "-f", help="report format; repeat for several"),
]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="file for a single --format ('-' = stdout)")
]
FailOnOpt = Annotated[FailOn, typer.Option("--fail-on", help="what makes the exit code non-zero")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="log to stderr")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="no terminal scorecard")]


@app.command()
def scan(
    config: Annotated[Path | None, typer.Option("--config", "-c", help="config file")] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    fail_on: FailOnOpt = FailOn.incomplete,
    only: Annotated[list[str] | None, typer.Option(help="only these rows or check ids")] = None,
    skip: Annotated[list[str] | None, typer.Option(help="skip these rows or check ids")] = None,
    passive: Annotated[
        bool, typer.Option("--passive", help="no active probe, even where they are allowed")
    ] = False,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Scan the portal described by launchready.toml (or --config PATH)."""
    _setup_logging(verbose)
    check_output(fmt or [], output)
    loaded, path = _load_or_exit(config)
    result = _scan(loaded, path.resolve().parent, only or [], skip or [], passive)
    emit(result, fmt or [], output, quiet or str(output) == "-")
    raise typer.Exit(exit_code(result, fail_on))


@app.command()
def demo(
    hardened: Annotated[bool, typer.Option("--hardened", help="scan the fixed twin")] = False,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    fail_on: FailOnOpt = FailOn.incomplete,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Start the bundled sample portal on loopback, scan it, and stop it again."""
    from launchready.demo import FLAWS, start_demo
    from launchready.demo_config import demo_config, free_loopback_port

    _setup_logging(verbose)
    formats = fmt or [Format.html, Format.json]
    check_output(formats, output)
    flaws = frozenset() if hardened else frozenset(FLAWS)
    err.print(f"starting the demo portal ({'hardened' if hardened else 'flawed'}) on loopback…")
    try:
        # The scan's SMTP sink takes the portal's mail (reset and invite links).
        smtp_port = free_loopback_port()
        with start_demo(flaws, smtp_port=smtp_port) as portal:
            config = demo_config(portal, smtp_port=smtp_port)
            result = _scan(config, Path.cwd(), [], [])
    except KeyboardInterrupt:
        err.print("interrupted; the demo portal was stopped")
        raise typer.Exit(130) from None
    except RuntimeError as error:
        err.print(f"launchready: the demo portal did not start: {error}")
        raise typer.Exit(EXIT_USAGE) from None
    emit(result, formats, output, quiet or str(output) == "-")
    raise typer.Exit(exit_code(result, fail_on))


@app.command()
def init(
    url: Annotated[str, typer.Argument(help="the portal's https:// address")],
    config: Annotated[Path, typer.Option("--config", "-c")] = Path("launchready.toml"),
    force: Annotated[bool, typer.Option(help="overwrite an existing file")] = False,
) -> None:
    """Write a commented starter launchready.toml for URL."""
    from launchready.starter import starter_config

    if config.exists() and not force:
        err.print(f"launchready: {config} exists; pass --force to overwrite it")
        raise typer.Exit(EXIT_USAGE)
    try:
        text, notes = asyncio.run(starter_config(url))
    except ValueError as error:
        err.print(f"launchready: {error}")
        raise typer.Exit(EXIT_USAGE) from None
    config.write_text(text, encoding="utf-8")
    for note in notes:
        err.print(note, markup=False)
    err.print(f"wrote {config}; review it, then run `launchready scan`")


@app.command()
def report(
    scan_json: Annotated[Path, typer.Argument(help="a saved JSON report")],
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.html,
    output: OutputOpt = None,
) -> None:
    """Re-render a saved JSON scan in another format."""
    from launchready.reports import render
    from launchready.reports.json_report import load
    from launchready.reports.terminal import print_scorecard

    try:
        result = load(scan_json.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        err.print(f"launchready: cannot read {scan_json}: {error}")
        raise typer.Exit(EXIT_USAGE) from None
    except ValueError as error:
        err.print(f"launchready: {scan_json}: {error}", markup=False)
        raise typer.Exit(EXIT_USAGE) from None

    if fmt is Format.terminal:
        print_scorecard(result, Console(highlight=False))
        return
    text = render(result, fmt.value)
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        err.print(f"launchready: cannot write {output}: {error.strerror}")
        raise typer.Exit(EXIT_USAGE) from None
    err.print(f"wrote {output}")


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"launchready {__version__}\n")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="show version")
    ] = False,
) -> None:
    """launchready: readiness scan for B2B client portals."""


def main() -> None:
    app()
