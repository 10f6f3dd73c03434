"""authorization row (this issue: the cross-origin part): CORS must not hand authenticated
responses to any site that asks.

A CORS policy that reflects any Origin together with Allow-Credentials lets every web page a
customer visits read their portal data with their cookies: an authorization failure, fixed
where cross-origin access is granted.
"""

from __future__ import annotations

from launchready.checks.base import CheckReport, check
from launchready.checks.tls_domain import evidence_of
from launchready.context import ScanContext

# A made-up origin: it is only a header value, nothing is ever sent to it.
FOREIGN_ORIGIN = "https://launchready-probe.invalid"


@check("authorization.cors")
async def cors(ctx: ScanContext, report: CheckReport) -> None:
    paths = ["/"]
    operations, _ = await ctx.protected_operations()
    reads = [op for op in operations if op.method == "GET" and not op.path_params]
    if reads:
        paths.append(reads[0].path)

    answered = 0
    for path in paths:
        for origin in (FOREIGN_ORIGIN, "null"):
            response = await ctx.http.send("GET", ctx.url(path), headers={"Origin": origin})
            if response.error:
                continue
            answered += 1
            allowed = response.headers.get("access-control-allow-origin", "")
            credentials = response.headers.get("access-control-allow-credentials", "")
            with_credentials = credentials.strip().lower() == "true"
            if allowed == origin and with_credentials:
                code = "cors-reflects-origin" if origin != "null" else "cors-allows-null-origin"
                report.add(code, target=ctx.url(path), evidence=evidence_of(ctx, response))
                return
            if allowed == "*" and with_credentials:
                report.add(
                    "cors-wildcard-credentials",
                    target=ctx.url(path),
                    evidence=evidence_of(ctx, response),
                )
                return

    if not answered:
        report.error("no request for the CORS check was answered", target=ctx.host)
        return
    report.add("cors-restricted", target=ctx.host)
