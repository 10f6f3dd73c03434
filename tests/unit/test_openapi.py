"""OpenAPI 3.0/3.1 and Swagger 2.0 documents parse; broken ones say precisely why not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from launchready.context import _parse_spec
from launchready.engines.access import har_operations, resources
from launchready.probe.openapi import operations, parse_operation

SECURED = {"get": {"security": [{"bearer": []}]}, "delete": {}}


def test_openapi_3_security_default_and_override() -> None:
    document = {
        "openapi": "3.1.0",
        "servers": [{"url": "https://api.example.test/v2/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/items": {"get": {}, "post": {"security": []}},
            "/items/{item_id}": {"get": {"tags": ["admin"]}, "delete": {"security": [{}]}},
            "/health": {"get": {"security": []}},
        },
    }
    found = {op.label: op for op in operations(document)}
    assert found["GET /v2/items"].secured
    assert not found["POST /v2/items"].secured
    assert not found["DELETE /v2/items/{item_id}"].secured  # an empty requirement means public
    assert found["GET /v2/items/{item_id}"].tags == ("admin",)
    assert not found["GET /v2/health"].secured


def test_swagger_2_base_path() -> None:
    document = {"swagger": "2.0", "basePath": "/api", "paths": {"/me": SECURED}}
    found = {op.label: op.secured for op in operations(document)}
    assert found == {"GET /api/me": True, "DELETE /api/me": False}


def test_openapi_3_0_yaml() -> None:
    text = "openapi: 3.0.3\npaths:\n  /a/{id}:\n    get:\n      security: [{k: []}]\n"
    assert [op.label for op in operations(_parse_spec(text))] == ["GET /a/{id}"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{not json", "neither JSON nor YAML"),
        ("[1, 2]", "no 'paths' object"),
        ('{"paths": {}}', "no 'openapi' or 'swagger' version"),
        ("<html>hello</html>", "no 'paths' object"),
    ],
)
def test_broken_documents_say_why(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        _parse_spec(text)


def test_resources_pair_collections_and_items() -> None:
    document = {
        "openapi": "3.1.0",
        "paths": {
            "/docs": {"get": {}, "post": {}},
            "/docs/{doc_id}": {"get": {}, "patch": {}, "delete": {}},
            "/forms/{form_id}": {"get": {}},
            "/orgs/{org}/users/{user}": {"get": {}},
        },
    }
    found = {r.item_path: r for r in resources(operations(document))}
    assert set(found) == {"/docs/{doc_id}", "/forms/{form_id}"}
    assert found["/docs/{doc_id}"].listable and found["/docs/{doc_id}"].creatable
    assert not found["/forms/{form_id}"].listable
    assert found["/docs/{doc_id}"].item("7") == "/docs/7"


def test_har_keeps_methods_and_paths_only(tmp_path: Path) -> None:
    secret = "Bearer " + "x" * 30
    har = {
        "log": {
            "entries": [
                {
                    "request": {
                        "method": "GET",
                        "url": "https://p.test/api/docs/42?x=1",
                        "headers": [{"name": "Authorization", "value": secret}],
                    }
                },
                {"request": {"method": "GET", "url": "https://p.test/api/docs"}},
                {
                    "request": {
                        "method": "DELETE",
                        "url": "https://p.test/api/docs/3f2b8c1e-1d2c-4a5b-9c8d-7e6f5a4b3c2d",
                    }
                },
            ]
        }
    }
    path = tmp_path / "session.har"
    path.write_text(json.dumps(har))
    found = har_operations(path)
    assert {op.label for op in found} == {
        "GET /api/docs/{id}",
        "GET /api/docs",
        "DELETE /api/docs/{id}",
    }
    assert secret not in repr(found)


def test_config_operations() -> None:
    assert parse_operation("get /api/me").label == "GET /api/me"
    with pytest.raises(ValueError):
        parse_operation("/api/me")


@pytest.mark.parametrize("text", ["[]", '{"log": 3}', '{"log": {"entries": {}}}', "not json"])
def test_malformed_har_is_a_value_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "broken.har"
    path.write_text(text)
    with pytest.raises(ValueError):
        har_operations(path)


def test_har_skips_malformed_entries(tmp_path: Path) -> None:
    path = tmp_path / "mixed.har"
    entries = [3, {"request": "x"}, {"request": {"method": "GET", "url": "https://p.test/a"}}]
    path.write_text(json.dumps({"log": {"entries": entries}}))
    assert [op.label for op in har_operations(path)] == ["GET /a"]


def test_resources_with_trailing_slashes() -> None:
    document = {
        "openapi": "3.0.3",
        "paths": {
            "/api/projects/": {"get": {}, "post": {}},
            "/api/projects/{id}/": {"get": {}, "patch": {}},
        },
    }
    (found,) = resources(operations(document))
    assert (found.collection, found.listable, found.creatable) == ("/api/projects/", True, True)
    assert found.item("12") == "/api/projects/12/"


def test_resources_with_a_slash_on_the_list_only() -> None:
    document = {
        "openapi": "3.0.3",
        "paths": {"/api/orgs/": {"get": {}}, "/api/orgs/{id}": {"get": {}}},
    }
    (found,) = resources(operations(document))
    assert (found.collection, found.listable) == ("/api/orgs/", True)
    assert found.item("3") == "/api/orgs/3"
