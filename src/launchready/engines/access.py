"""Object discovery and ownership judgement for the access-control rows.

Facts first: which operations address one object (`/documents/{id}`) and which list a
collection (`/documents`), which ids each identity owns, and what an owner's object looks like.
Then one judgement, `carries_object`: does a response handed to someone else carry the owner's
object? Status codes alone do not tell (a 200 with an empty list is no leak), so the body is
compared with the owner's own view, minus the fields that change by themselves.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from launchready.probe.http import Response
from launchready.probe.openapi import Operation

ID_KEYS = ("id", "uuid", "pk", "_id")
TENANT_KEYS = (
    "org_id",
    "organization_id",
    "tenant_id",
    "account_id",
    "org",
    "organization",
    "tenant",
)
LIST_KEYS = ("items", "results", "data", "records", "objects")
_ID_SEGMENT = re.compile(r"^(\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")


@dataclass(frozen=True)
class Resource:
    """A collection and the operations that address one of its objects."""

    collection: str  # "/api/documents"
    item_path: str  # "/api/documents/{doc_id}"
    methods: frozenset[str]  # methods on the item path
    listable: bool  # GET on the collection exists
    creatable: bool  # POST on the collection exists

    def item(self, object_id: str) -> str:
        return re.sub(r"\{[^}/]+\}(/?)$", lambda m: f"{object_id}{m.group(1)}", self.item_path)


@dataclass
class OwnedObject:
    """An object one identity can read, as it reads it."""

    resource: Resource
    object_id: str
    owner: str
    baseline: Any  # the owner's JSON view
    stable: dict[str, Any] = field(default_factory=dict)  # fields that did not change by themselves
    created_by_scan: bool = False
    exchange: Response | None = None


def resources(operations: list[Operation]) -> list[Resource]:
    """Group operations into collections whose item path ends in one path parameter."""
    by_path: dict[str, set[str]] = {}
    for op in operations:
        by_path.setdefault(op.path, set()).add(op.method)

    found = []
    for path, methods in sorted(by_path.items()):
        # A trailing slash (`/projects/{id}/`, the Django REST framework habit) belongs to the
        # path; the collection then ends in one too.
        match = re.fullmatch(r"(.*)/\{[^}/]+\}(/?)", path)
        if not match or "{" in match.group(1):
            continue
        collection = match.group(1) + match.group(2)
        if collection not in by_path:
            # Some APIs mix the two: `/organizations/` lists, `/organizations/{id}` reads.
            twin = match.group(1) + ("" if match.group(2) else "/")
            collection = twin if twin in by_path else collection
        collection_methods = by_path.get(collection, set())
        found.append(
            Resource(
                collection=collection,
                item_path=path,
                methods=frozenset(methods),
                listable="GET" in collection_methods,
                creatable="POST" in collection_methods,
            )
        )
    return found


def har_operations(path: Path) -> list[Operation]:
    """Operations seen in a HAR capture, ids in paths turned back into parameters.

    Only methods and paths are taken from the capture: its headers, cookies and bodies (which
    may hold live credentials) are never kept, so they cannot reach a report.
    """
    document = json.loads(path.read_text(encoding="utf-8"))
    log = document.get("log") if isinstance(document, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise ValueError("not a HAR file (no log.entries list)")

    seen: dict[str, Operation] = {}
    for entry in entries[:5000]:
        request = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(request, dict):
            continue
        method = str(request.get("method", "GET")).upper()
        segments = urlsplit(str(request.get("url", ""))).path.split("/")
        templated = "/".join("{id}" if _ID_SEGMENT.match(s) else s for s in segments)
        if templated:
            seen.setdefault(f"{method} {templated}", Operation(method, templated, True))
    return list(seen.values())


def records(body: Any) -> list[dict[str, Any]]:
    """The objects of a list answer: a bare array or an array under a usual key."""
    if isinstance(body, dict):
        for key in LIST_KEYS:
            if isinstance(body.get(key), list):
                body = body[key]
                break
    if not isinstance(body, list):
        return []
    return [item for item in body if isinstance(item, dict)]


def object_id(record: dict[str, Any]) -> str | None:
    for key in ID_KEYS:
        value = record.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
    return None


def ids_in(body: Any) -> set[str]:
    return {i for i in (object_id(r) for r in records(body)) if i is not None}


def tenant_of(record: dict[str, Any]) -> str | None:
    for key in TENANT_KEYS:
        value = record.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
    return None


def json_of(response: Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def stable_fields(first: Any, second: Any) -> dict[str, Any]:
    """Top-level fields equal in two reads of the same object: the ones that identify it."""
    if not (isinstance(first, dict) and isinstance(second, dict)):
        return {}
    return {
        key: value
        for key, value in first.items()
        if second.get(key) == value and isinstance(value, str | int | float) and value != ""
    }


def carries_object(response: Response, owned: OwnedObject) -> bool:
    """Does this answer hand over the owner's object? Judged by content, not status alone."""
    if response.status is None or not 200 <= response.status < 300:
        return False
    body = json_of(response)
    candidates = [body] if isinstance(body, dict) else records(body)
    for candidate in candidates:
        if not isinstance(candidate, dict) or object_id(candidate) != owned.object_id:
            continue
        distinctive = {k: v for k, v in owned.stable.items() if k not in ID_KEYS}
        if not distinctive:
            return True
        matching = sum(1 for k, v in distinctive.items() if candidate.get(k) == v)
        if matching * 2 >= len(distinctive):
            return True
    return False


PER_RESOURCE = 2  # objects harvested per collection and identity


async def harvest(
    session: Any, resource: Resource, url: Any, *, created: list[OwnedObject]
) -> list[OwnedObject]:
    """Objects of one collection that `session` can read: from its list, else those it created.

    Each object is read twice, so fields that change between reads (timestamps, counters,
    signed URLs) are not mistaken for the object's identity.
    """
    ids: list[str] = [o.object_id for o in created if o.resource == resource]
    if resource.listable:
        listing = await session.send("GET", url(resource.collection))
        ids += [i for i in ids_in(json_of(listing)) if i not in ids]

    found = []
    for object_id_ in ids[:PER_RESOURCE]:
        first = await session.send("GET", url(resource.item(object_id_)))
        second = await session.send("GET", url(resource.item(object_id_)))
        if first.status != 200 or second.status != 200:
            continue
        body_a, body_b = json_of(first), json_of(second)
        found.append(
            OwnedObject(
                resource=resource,
                object_id=object_id_,
                owner=session.account,
                baseline=body_a,
                stable=stable_fields(body_a, body_b),
                # Ours only if this very collection's object was created by the scan: an id
                # alone also names other collections' objects (user 1 beside project 1).
                created_by_scan=any(
                    o.object_id == object_id_ and o.resource == resource for o in created
                ),
                exchange=first,
            )
        )
    return found


@dataclass
class Inventory:
    """What each identity owns, per collection, and what the scan created (to remove later)."""

    resources: list[Resource]
    objects: dict[str, list[OwnedObject]] = field(default_factory=dict)
    created: list[OwnedObject] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def owned_by(self, account: str) -> list[OwnedObject]:
        return self.objects.get(account, [])


def resource_for(resources: list[Resource], collection: str) -> Resource | None:
    return next((r for r in resources if r.collection == collection), None)


async def create_objects(
    session: Any, templates: list[Any], resources: list[Resource], url: Any, fill: Any
) -> list[OwnedObject]:
    """Create one object per template as `session`; the answer's id becomes an owned object."""
    created = []
    for number, template in enumerate(templates, start=1):
        resource = resource_for(resources, template.path)
        if resource is None:
            continue
        values = {"n": number, "username": "", "password": ""}
        body = fill(template.json_body, values) if template.json_body is not None else None
        response = await session.send(template.method, url(template.path), json=body)
        answer = json_of(response)
        new_id = object_id(answer) if isinstance(answer, dict) else None
        if response.status is not None and response.status < 300 and new_id:
            created.append(
                OwnedObject(resource, new_id, session.account, answer, created_by_scan=True)
            )
    return created
