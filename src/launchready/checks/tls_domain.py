"""tls-domain row: certificate, protocol, HTTPS redirect, one canonical host, HSTS, headers.

Security headers sit in this row because they are set where TLS and redirects are set, at the
edge (reverse proxy, CDN, platform config), and are fixed there in the same sprint.

Outcome codes are listed in `metadata/tls-domain.toml`.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from launchready.checks.base import CheckReport, check
from launchready.context import ScanContext
from launchready.findings import Evidence
from launchready.probe.http import Response

EXPIRY_WARN_DAYS = 21
HSTS_MIN_SECONDS = 183 * 86400  # six months
MAX_REDIRECT_HOPS = 2
# Header values are cut before parsing: a hostile server must not make us parse megabytes.
MAX_HEADER_CHARS = 4096


def evidence_of(ctx: ScanContext, *responses: Response, note: str = "") -> Evidence:
    exchanges = tuple(r.exchange for r in responses if r.exchange is not None)
    curl = ctx.http.curl(responses[-1]) if responses and responses[-1].exchange else ""
    return Evidence(note=note, exchanges=exchanges, curl=curl)


@check("tls-domain.certificate", needs=("https",))
async def certificate(ctx: ScanContext, report: CheckReport) -> None:
    facts = await ctx.tls_facts()
    target = f"{facts.host}:{facts.port}"
    if facts.error:
        report.error(facts.error, target=target)
        return

    note = (
        f"subject {facts.subject}, issuer {facts.issuer}, names {', '.join(facts.names)}, "
        f"valid until {facts.not_after:%Y-%m-%d}"
    )
    evidence = Evidence(note=note)
    days = facts.days_left()
    if days is not None and days < 0:
        report.add("cert-expired", target=target, detail=note, evidence=evidence)
    elif not facts.verified and "hostname" in (facts.verify_error or "").lower():
        report.add(
            "cert-name-mismatch", target=target, detail=facts.verify_error or "", evidence=evidence
        )
    elif not facts.verified:
        report.add(
            "cert-untrusted", target=target, detail=facts.verify_error or "", evidence=evidence
        )
    elif days is not None and days < EXPIRY_WARN_DAYS:
        report.add(
            "cert-expiring-soon", target=target, days=int(days), detail=note, evidence=evidence
        )
    else:
        report.add("cert-valid", target=target, detail=note, evidence=evidence)


@check("tls-domain.protocol", needs=("https",))
async def protocol(ctx: ScanContext, report: CheckReport) -> None:
    facts = await ctx.tls_facts()
    target = f"{facts.host}:{facts.port}"
    if facts.error:
        report.error(facts.error, target=target)
        return

    note = f"negotiated {facts.version}"
    if facts.version in ("TLSv1", "TLSv1.1", "SSLv3"):
        report.add("tls-outdated", target=target, version=facts.version, detail=note)
    elif facts.legacy_accepted:
        report.add("tls-legacy-accepted", target=target, detail=note)
    else:
        if facts.legacy_accepted is None:
            note += "; TLS 1.0/1.1 could not be offered from this machine, so only checked 1.2+"
        report.add("tls-modern", target=target, version=facts.version, detail=note)


def _same_host_https(start: str, location: str | None) -> bool:
    if not location:
        return False
    a, b = urlsplit(start), urlsplit(location)
    return b.scheme == "https" and a.hostname == b.hostname


@check("tls-domain.https-redirect", needs=("https",))
async def https_redirect(ctx: ScanContext, report: CheckReport) -> None:
    start = ctx.http_url()
    response = await ctx.http.send("GET", start)
    evidence = evidence_of(ctx, response)
    if response.error:
        if "refused" in response.error:
            report.add("http-closed", target=start, detail="plain HTTP port is closed")
        else:
            report.error(f"plain HTTP: {response.error}", target=start, evidence=evidence)
        return

    location = response.location()
    if response.is_redirect and _same_host_https(start, location):
        report.add("http-redirects", target=start, detail=f"{response.status} to {location}")
    elif response.is_redirect and location and location.startswith("https://"):
        report.add("http-redirects-other-host", target=start, location=location, evidence=evidence)
    elif response.is_redirect:
        report.add("http-redirects-plain", target=start, location=location, evidence=evidence)
    else:
        report.add("http-serves-content", target=start, status=response.status, evidence=evidence)


@check("tls-domain.canonical-host", needs=("https",))
async def canonical_host(ctx: ScanContext, report: CheckReport) -> None:
    alternates = ctx.config.alternate_hosts()
    if not alternates:
        report.unverified(
            "the target has no other host name to compare", config_key="target.alternate_hosts"
        )
        return

    for host in alternates:
        start = ctx.url("/", host=host)
        chain = await ctx.http.follow("GET", start)
        final = chain[-1]
        evidence = evidence_of(ctx, *chain)
        if chain[0].error:
            report.add("alternate-absent", target=start, detail=chain[0].error)
        elif final.error:
            report.add("alternate-broken", target=start, reason=final.error, evidence=evidence)
        elif len(chain) == 1:
            report.add("alternate-serves-content", target=start, host=host, evidence=evidence)
        elif urlsplit(final.url).hostname == ctx.host:
            report.add("alternate-redirects", target=start, detail=f"ends at {final.url}")
        else:
            report.add("alternate-redirects-elsewhere", target=start, evidence=evidence)


@check("tls-domain.redirect-chain", needs=("https",))
async def redirect_chain(ctx: ScanContext, report: CheckReport) -> None:
    starts = [ctx.http_url()] + [ctx.http_url(host) for host in ctx.config.alternate_hosts()]
    starts += [ctx.url("/", host=host) for host in ctx.config.alternate_hosts()]
    measured = 0
    for start in starts:
        chain = await ctx.http.follow("GET", start)
        if chain[0].error:
            continue  # a closed port or missing name is judged by the checks above
        measured += 1
        hops = sum(1 for r in chain if r.is_redirect)
        final = chain[-1]
        evidence = evidence_of(ctx, *chain)
        if final.error and "loop" in final.error:
            report.add("redirect-loop", target=start, evidence=evidence)
        elif (final.error and "redirects" in final.error) or hops > MAX_REDIRECT_HOPS:
            report.add("redirect-chain-long", target=start, hops=hops, evidence=evidence)
        else:
            report.add("redirect-chain-short", target=start, detail=f"{hops} hop(s)")
    if not measured:
        report.unverified("no plain-HTTP or alternate address answered", target=ctx.host)


_MAX_AGE = re.compile(r"max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


@check("tls-domain.hsts", needs=("https",))
async def hsts(ctx: ScanContext, report: CheckReport) -> None:
    home = await ctx.home()
    if home.error:
        report.error(home.error, target=home.url)
        return

    value = home.headers.get("strict-transport-security", "")[:MAX_HEADER_CHARS]
    evidence = evidence_of(ctx, home)
    if not value:
        report.add("hsts-missing", target=home.url, evidence=evidence)
        return
    match = _MAX_AGE.search(value)
    if match is None:
        report.add("hsts-invalid", target=home.url, value=value, evidence=evidence)
    elif int(match.group(1)) < HSTS_MIN_SECONDS:
        report.add("hsts-short", target=home.url, seconds=match.group(1), evidence=evidence)
    else:
        report.add("hsts-ok", target=home.url, detail=value)


def allows_inline_scripts(sources: list[str]) -> bool:
    """'unsafe-inline' counts only without a nonce or hash beside it: browsers that know nonces
    (CSP level 2 and later) ignore 'unsafe-inline' then, and older ones need it as a fallback."""
    if "'unsafe-inline'" not in sources:
        return False
    return not any(s.startswith(("'nonce-", "'sha256-", "'sha384-", "'sha512-")) for s in sources)


def _directives(csp: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in csp.split(";"):
        words = part.strip().split()
        if words:
            directives.setdefault(words[0].lower(), [w.lower() for w in words[1:]])
    return directives


@check("tls-domain.security-headers")
async def security_headers(ctx: ScanContext, report: CheckReport) -> None:
    # Judged on the page a browser renders (a redirect carries no page to protect), and over
    # plain HTTP too: a staging portal without TLS still shows its header policy.
    home = await ctx.landing_page()
    if home.error:
        report.error(home.error, target=home.url)
        return

    headers = {k.lower(): v[:MAX_HEADER_CHARS] for k, v in home.headers.items()}
    evidence = evidence_of(ctx, home)
    target = home.url
    csp = _directives(headers.get("content-security-policy", ""))
    script_sources = csp.get("script-src", csp.get("default-src"))
    bad = False

    if not csp:
        only_reported = "content-security-policy-report-only" in headers
        detail = "only Content-Security-Policy-Report-Only is sent: it blocks nothing"
        report.add(
            "csp-missing", target=target, evidence=evidence, detail=detail if only_reported else ""
        )
        bad = True
    elif script_sources is None or allows_inline_scripts(script_sources):
        report.add("csp-unsafe-inline", target=target, evidence=evidence)
        bad = True

    if "frame-ancestors" not in csp and "x-frame-options" not in headers:
        report.add("framing-allowed", target=target, evidence=evidence)
        bad = True

    if headers.get("x-content-type-options", "").lower() != "nosniff":
        report.add("nosniff-missing", target=target, evidence=evidence)
        bad = True

    if "referrer-policy" not in headers:
        report.add("referrer-policy-missing", target=target, evidence=evidence)
        bad = True

    if not bad:
        report.add("headers-ok", target=target)
