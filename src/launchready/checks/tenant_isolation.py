"""tenant-isolation row: the tenant comes from the server-side session, never from the client.

Two probes: a tenant id of the other tenant sent by the client (query, body, usual headers)
must be ignored or refused; and the lists two tenants see must never share a row.
"""

from __future__ import annotations

from typing import Any

from launchready.checks.authorization import pair_evidence
from launchready.checks.base import CheckReport, check
from launchready.context import ScanContext
from launchready.engines import access
from launchready.engines.access import OwnedObject
from launchready.engines.templates import fill
from launchready.probe.http import Response

QUERY_KEYS = ("org_id", "tenant_id", "account_id", "org")
HEADERS = ("X-Org-Id", "X-Tenant-Id", "X-Account-Id")


def tenant_id(ctx: ScanContext, account: str, objects: list[OwnedObject]) -> str | None:
    """The tenant id as the API spells it: from config, else from the account's own objects."""
    configured = ctx.account(account).tenant_id
    if configured:
        return configured
    for owned in objects:
        if isinstance(owned.baseline, dict):
            value = access.tenant_of(owned.baseline)
            if value:
                return value
    return None


def variants(other: str) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(label, query params, headers) ways a client can name a tenant."""
    found: list[tuple[str, dict[str, str], dict[str, str]]] = [
        (f"?{key}={other}", {key: other}, {}) for key in QUERY_KEYS
    ]
    found += [(f"{header}: {other}", {}, {header: other}) for header in HEADERS]
    return found


@check("tenant-isolation.client-tenant-id", needs=("two-tenants",), active=True)
async def client_tenant_id(ctx: ScanContext, report: CheckReport) -> None:
    inventory = await ctx.inventory()
    judged = 0
    owners = ctx.tenant_owners()[:2]
    # Only owners hold harvested objects: the other owner is the intruder here.
    for victim_name, intruder_name in [p for p in ctx.tenant_pairs() if p[1] in owners]:
        victim_objects = inventory.owned_by(victim_name)
        other = tenant_id(ctx, victim_name, victim_objects)
        intruder = await ctx.session(intruder_name)
        if other is None or intruder.error or not victim_objects:
            continue
        victim_ids = {o.object_id for o in victim_objects}

        for resource in {o.resource for o in victim_objects}:
            for label, params, headers in variants(other):
                if resource.listable:
                    url = ctx.url(resource.collection) + _query(params)
                    listing = await intruder.send("GET", url, headers=headers)
                    judged += 1
                    leaked = access.ids_in(access.json_of(listing)) & victim_ids
                    if leaked:
                        report.add(
                            "tenant-from-client",
                            target=f"GET {resource.collection} {label}",
                            operation=f"GET {resource.collection}",
                            via=label,
                            evidence=pair_evidence(
                                ctx, None, listing, f"{intruder_name} sees {sorted(leaked)}"
                            ),
                        )
                        break
            for owned in [o for o in victim_objects if o.resource == resource][:1]:
                for label, params, headers in variants(other):
                    url = ctx.url(resource.item(owned.object_id)) + _query(params)
                    view = await intruder.send("GET", url, headers=headers)
                    judged += 1
                    if access.carries_object(view, owned):
                        report.add(
                            "tenant-from-client",
                            target=f"GET {resource.item_path} {label}",
                            operation=f"GET {resource.item_path}",
                            via=label,
                            evidence=pair_evidence(ctx, owned.exchange, view, "read as intruder"),
                        )
                        break
        judged += await _create_in_other_tenant(ctx, report, intruder_name, other)

    if not judged:
        report.unverified(
            "no tenant id or object of the other tenant is known",
            config_key="[[accounts]] tenant_id and authorization.create",
        )
    elif not any(f.is_bad for f in report.findings):
        report.add("tenant-from-session", target=ctx.host, count=judged)


async def _create_in_other_tenant(
    ctx: ScanContext, report: CheckReport, intruder_name: str, other: str
) -> int:
    """Create with the other tenant's id in the body: the object must land in our tenant."""
    templates = ctx.config.authorization.create
    if not templates:
        return 0
    intruder = await ctx.session(intruder_name)
    inventory = await ctx.inventory()
    sent = 0
    for template in templates:
        resource = access.resource_for(inventory.resources, template.path)
        body = fill(template.json_body, {"n": 0}) if template.json_body is not None else {}
        if not isinstance(body, dict) or resource is None:
            continue
        response = await intruder.send(
            template.method, ctx.url(template.path), json={**body, "org_id": other}
        )
        sent += 1
        answer = access.json_of(response)
        new_id = access.object_id(answer) if isinstance(answer, dict) else None
        if new_id is None:
            continue
        # The object is the scan's own: remove it whoever it landed with.
        inventory.created.append(OwnedObject(resource, new_id, intruder_name, answer, {}, True))
        placed = access.tenant_of(answer) if isinstance(answer, dict) else None
        if placed is not None and str(placed) == other:
            report.add(
                "tenant-from-client",
                target=f"{template.method} {template.path}",
                operation=f"{template.method} {template.path}",
                via="org_id in the body",
                evidence=pair_evidence(ctx, None, response, f"created in tenant {other}"),
            )
    return sent


def _query(params: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return "?" + urlencode(params) if params else ""


def is_listing(response: Response) -> bool:
    """A 2xx answer whose body is a list of records (bare, or under a usual key)."""
    if response.status is None or not 200 <= response.status < 300:
        return False
    body = access.json_of(response)
    if isinstance(body, dict):
        return any(isinstance(body.get(key), list) for key in access.LIST_KEYS)
    return isinstance(body, list)


@check("tenant-isolation.list-scope", needs=("two-tenants",), active=True)
async def list_scope(ctx: ScanContext, report: CheckReport) -> None:
    inventory = await ctx.inventory()
    owners = ctx.tenant_owners()[:2]
    listable = [r for r in inventory.resources if r.listable]
    if not listable:
        report.unverified("no list endpoint known", config_key="target.openapi")
        return

    judged = 0
    for resource in listable:
        seen: dict[str, tuple[set[str], Any]] = {}
        for name in owners:
            session = await ctx.session(name)
            if session.error:
                continue
            listing = await session.send("GET", ctx.url(resource.collection))
            if is_listing(listing):  # a refusal or an error page lists nothing to compare
                seen[name] = (access.ids_in(access.json_of(listing)), listing)
        if len(seen) < 2:
            continue
        judged += 1
        (a_ids, a_view), (b_ids, b_view) = seen[owners[0]], seen[owners[1]]
        shared = a_ids & b_ids
        if shared:
            report.add(
                "list-shared-rows",
                target=f"GET {resource.collection}",
                count=len(shared),
                evidence=pair_evidence(
                    ctx, a_view, b_view, f"both tenants see ids {sorted(shared)[:10]}"
                ),
            )
    if not judged:
        report.unverified("no list answered for both tenants", config_key="[[accounts]]")
    elif not any(f.is_bad for f in report.findings):
        report.add("lists-scoped", target=ctx.host, count=judged)
