"""authorization row: one tenant never reaches another's objects (reads, updates, deletes),
members never reach admin functions, privileged fields are not mass-assignable, and CORS does
not hand authenticated responses to any site that asks.

Writes are only aimed at objects the scan created itself (`authorization.create`), and a
test account's own fields that a probe changed are put back.

A CORS policy that reflects any Origin together with Allow-Credentials lets every web page a
customer visits read their portal data with their cookies: an authorization failure, fixed
where cross-origin access is granted.
"""

from __future__ import annotations

import re
from typing import Any

from launchready.checks.base import CheckReport, check
from launchready.checks.tls_domain import evidence_of
from launchready.context import ScanContext
from launchready.engines import access
from launchready.engines.access import OwnedObject
from launchready.findings import Evidence
from launchready.probe.http import Response
from launchready.probe.login import Session
from launchready.probe.openapi import Operation, parse_operation

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


# -- objects across tenants -------------------------------------------------------------------

MARKER = "launchready-cross-tenant-probe"


def pair_evidence(
    ctx: ScanContext, owner_view: Response | None, intruder_view: Response, note: str
) -> Evidence:
    """The owner's own read beside the other identity's request, and a curl line for it."""
    exchanges = tuple(r.exchange for r in (owner_view, intruder_view) if r and r.exchange)
    return Evidence(note=note, exchanges=exchanges, curl=ctx.http.curl(intruder_view))


def write_evidence(ctx: ScanContext, attempt: Response, after: Response, note: str) -> Evidence:
    """The intruder's write, then the owner's read that shows its effect, in that order; the
    curl line repeats the write."""
    exchanges = tuple(r.exchange for r in (attempt, after) if r.exchange)
    return Evidence(note=note, exchanges=exchanges, curl=ctx.http.curl(attempt))


def _editable_field(owned: OwnedObject) -> str | None:
    """A plain text field of the object to change in a write probe (never ids or tenant)."""
    if not isinstance(owned.baseline, dict):
        return None
    skipped = set(access.ID_KEYS) | set(access.TENANT_KEYS)
    return next(
        (k for k, v in owned.baseline.items() if isinstance(v, str) and k not in skipped), None
    )


async def _probe_writes(
    ctx: ScanContext, report: CheckReport, owned: OwnedObject, intruder: Session
) -> None:
    """Update and delete the owner's object as the intruder; only on objects the scan made."""
    owner = await ctx.session(owned.owner)
    url = ctx.url(owned.resource.item(owned.object_id))
    field_name = _editable_field(owned)
    target = f"{owned.resource.item_path} (id {owned.object_id}) as {intruder.account}"

    for method in ("PATCH", "PUT"):
        if method not in owned.resource.methods or field_name is None:
            continue
        body = {field_name: MARKER}
        if method == "PUT" and isinstance(owned.baseline, dict):
            body = {**owned.baseline, field_name: MARKER}
        attempt = await intruder.send(method, url, json=body)
        after = await owner.send("GET", url)
        changed = isinstance(access.json_of(after), dict) and (
            access.json_of(after).get(field_name) == MARKER
        )
        if changed:
            note = f"{intruder.account} changed {owned.owner}'s object; {owned.owner} reads it back"
            report.add(
                "cross-tenant-update",
                target=target,
                intruder=intruder.account,
                owner=owned.owner,
                evidence=write_evidence(ctx, attempt, after, note),
            )
            break

    if "DELETE" in owned.resource.methods:
        attempt = await intruder.send("DELETE", url)
        after = await owner.send("GET", url)
        if after.status in (404, 410) and attempt.status is not None and attempt.status < 300:
            note = f"{intruder.account} deleted {owned.owner}'s object; it is gone for its owner"
            report.add(
                "cross-tenant-delete",
                target=target,
                intruder=intruder.account,
                owner=owned.owner,
                evidence=write_evidence(ctx, attempt, after, note),
            )


@check("authorization.cross-tenant-objects", needs=("two-tenants",), active=True)
async def cross_tenant_objects(ctx: ScanContext, report: CheckReport) -> None:
    inventory = await ctx.inventory()
    owners = ctx.tenant_owners()[:2]
    judged = 0
    for owner_name, intruder_name in ctx.tenant_pairs():
        intruder = await ctx.session(intruder_name)
        if intruder.error:
            report.unverified(
                intruder.error, config_key=ctx.login_hint(intruder, "[[accounts]] and auth.login")
            )
            continue
        anonymous = Session("anonymous", ctx.http)

        for owned in inventory.owned_by(owner_name):
            url = ctx.url(owned.resource.item(owned.object_id))
            target = f"{owned.resource.item_path} (id {owned.object_id})"
            judged += 1
            for who, code in ((intruder, "cross-tenant-read"), (anonymous, "anonymous-read")):
                view = await who.send("GET", url)
                if access.carries_object(view, owned):
                    note = f"{who.account} receives {owned.owner}'s object {owned.object_id}"
                    report.add(
                        code,
                        target=f"{target} as {who.account}",
                        intruder=who.account,
                        owner=owned.owner,
                        evidence=pair_evidence(ctx, owned.exchange, view, note),
                    )
            # Writes are tried by the other tenant's owner only: each write probe costs the
            # scan one of its own objects, and reads already show what every intruder reaches.
            if owned.created_by_scan and intruder_name in owners:
                await _probe_writes(ctx, report, owned, intruder)

        # Before trusting the refusals, make sure the intruder was still logged in.
        if not await ctx.is_alive(intruder):
            report.error(f"session of {intruder_name} ended during the check", target=ctx.host)
            return

    skipped = skipped_resources(inventory)
    if not judged:
        reason = "; ".join(inventory.problems + skipped) or "no object could be read by its owner"
        report.unverified(reason, config_key="target.openapi or authorization.create")
    elif not any(f.is_bad for f in report.findings):
        detail = "skipped: " + "; ".join(skipped) if skipped else ""
        report.add("objects-isolated", target=ctx.host, count=judged, detail=detail)


def skipped_resources(inventory: access.Inventory) -> list[str]:
    """Object endpoints the matrix could not fill with an id, each with the reason."""
    covered = {o.resource for objects in inventory.objects.values() for o in objects}
    reasons = []
    for resource in inventory.resources:
        if resource in covered:
            continue
        why = (
            "no id: no list endpoint and no create template"
            if not resource.listable
            else ("no id: its list was empty or unreadable for both tenants")
        )
        reasons.append(f"{resource.item_path} ({why})")
    return reasons


# -- admin functions ------------------------------------------------------------------------------


async def admin_operations(ctx: ScanContext) -> list[Operation]:
    config = ctx.config.authorization
    found = [parse_operation(text) for text in config.admin_operations]
    operations, _ = await ctx.access_operations()
    pattern = re.compile(config.admin_path)
    tags = set(config.admin_tags)
    found += [op for op in operations if pattern.search(op.path) or tags & set(op.tags)]
    return list({op.label: op for op in found}.values())


@check("authorization.function-level", active=True)
async def function_level(ctx: ScanContext, report: CheckReport) -> None:
    members = ctx.accounts_with(role="member")
    if not members:
        report.unverified("no account with role member", config_key='[[accounts]] role = "member"')
        return
    operations = [op for op in await admin_operations(ctx) if not op.path_params]
    reads = [op for op in operations if op.method == "GET"]
    if not reads:
        report.unverified(
            "no admin-only read operation known", config_key="authorization.admin_operations"
        )
        return

    judged, logged_in = 0, 0
    for member in members:
        session = await ctx.session(member.name)
        if session.error:
            report.unverified(
                session.error, config_key=ctx.login_hint(session, "[[accounts]] and auth.login")
            )
            continue
        logged_in += 1
        for op in reads:
            response = await session.send("GET", ctx.url(op.path))
            judged += response.status is not None
            if response.status is not None and 200 <= response.status < 300:
                report.add(
                    "admin-function-open",
                    target=op.label,
                    operation=op.label,
                    account=member.name,
                    evidence=pair_evidence(ctx, None, response, f"{member.name} is a member"),
                )
    if judged and not any(f.is_bad for f in report.findings):
        report.add("admin-functions-refused", target=ctx.host, count=len(reads))
    elif logged_in and not judged:
        report.error("no admin operation answered", target=ctx.host)


# -- mass assignment ------------------------------------------------------------------------------

SELF_PATH = re.compile(r"/(me|self|profile|account|users/me|user)$")
PRIVILEGED_FIELDS = {"role": "admin", "is_admin": True, "is_staff": True, "is_superuser": True}


@check("authorization.mass-assignment", active=True)
async def mass_assignment(ctx: ScanContext, report: CheckReport) -> None:
    operations, _ = await ctx.access_operations()
    by_label = {op.label for op in operations}
    targets = [
        op
        for op in operations
        if op.method in ("PATCH", "PUT")
        and SELF_PATH.search(op.path)
        and f"GET {op.path}" in by_label
    ]
    members = ctx.accounts_with(role="member") or ctx.accounts_with()[:1]
    if not targets or not members:
        report.unverified(
            "no self-update operation (PATCH /me) and member account known",
            config_key='target.openapi and [[accounts]] role = "member"',
        )
        return

    session = await ctx.session(members[0].name)
    if session.error:
        report.unverified(
            session.error, config_key=ctx.login_hint(session, "[[accounts]] and auth.login")
        )
        return
    for op in targets:
        url = ctx.url(op.path)
        before = access.json_of(await session.send("GET", url))
        if not isinstance(before, dict):
            continue
        attempt = await session.send(op.method, url, json={**_plain(before), **PRIVILEGED_FIELDS})
        after_response = await session.send("GET", url)
        after = access.json_of(after_response)
        escalated = [
            key
            for key, value in PRIVILEGED_FIELDS.items()
            if isinstance(after, dict) and key in after and after[key] == value != before.get(key)
        ]
        if escalated:
            # Put the account back as it was: it is the scan's own test account.
            restore = {key: before[key] for key in escalated if key in before}
            await session.send(op.method, url, json={**_plain(before), **restore})
            report.add(
                "privilege-mass-assignment",
                target=op.label,
                fields=", ".join(escalated),
                operation=op.label,
                evidence=pair_evidence(ctx, after_response, attempt, "read back after the update"),
            )
        else:
            report.add("mass-assignment-ignored", target=op.label, operation=op.label)


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    """The writable-looking part of an object: strings and numbers, no ids."""
    return {
        k: v
        for k, v in record.items()
        if isinstance(v, str | int) and k not in access.ID_KEYS and k not in PRIVILEGED_FIELDS
    }
