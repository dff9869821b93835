"""Config resolution: every invalid config gives exact error lines; valid configs give the spec."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli import secret_variables
from seed_configs import SEED_CONFIGS
from singer_sdk.exceptions import ConfigValidationError

from tap_restgeneric.config.resolve import resolve_config
from tap_restgeneric.config.spec import (
    DEFAULT_RETRY_STATUSES,
    ComponentSpec,
    RestApiSpec,
    RetrySpec,
)
from tap_restgeneric.http.auth import AUTHS
from tap_restgeneric.paginators import PAGINATORS

BASE = "https://api.example.com"
CLIENT = {"base_url": BASE}
REPO_ROOT = Path(__file__).resolve().parents[1]

PAGINATOR_TYPES = "one of " + ", ".join(repr(name) for name in PAGINATORS.names)
AUTH_TYPES = "one of 'api_key', 'basic', 'bearer', 'http_basic', 'oauth2_client_credentials'"
RESOURCE_KEYS = (
    "one of 'columns', 'endpoint', 'file_format', 'include_from_parent', 'max_table_nesting', "
    "'merge_key', 'name', 'nested_hints', 'parallelized', 'parent_table_name', 'primary_key', "
    "'processing_steps', 'references', 'schema', 'schema_contract', 'schema_drift', 'selected', "
    "'table_format', 'table_name', 'write_disposition'"
)
ENDPOINT_KEYS = (
    "one of 'auth', 'data', 'data_selector', 'error_handler', 'headers', 'incremental', 'json', "
    "'method', 'on_unproven_end', 'paginator', 'params', 'path', 'response_actions'"
)
R0 = "config['resources'][0]"
EP0 = f"{R0}['endpoint']"
PAG0 = f"{EP0}['paginator']"

# Secret names that tests rely on being absent from the environment.
SECRET_ENV_NAMES = ("TOKEN", "X", "API_TOKEN", "RG_MISSING", "NOPE", "USERNAME", "PASSWORD")


@pytest.fixture(autouse=True)
def _no_secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECRET_ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def config(*resources: Any, **settings: Any) -> dict[str, Any]:
    """A config with the test client and the given resources (default: one resource 'a')."""
    return {"client": dict(CLIENT), "resources": list(resources or ["a"]), **settings}


def endpoint(**keys: Any) -> dict[str, Any]:
    """A config whose only resource 'a' has the given endpoint keys."""
    return config({"name": "a", "endpoint": keys})


def paginator(**keys: Any) -> dict[str, Any]:
    """A config whose only resource 'a' has the given endpoint paginator dict."""
    return endpoint(paginator=keys)


def errors_of(raw: dict[str, Any]) -> list[str]:
    """The error lines of an invalid config."""
    with pytest.raises(ConfigValidationError) as info:
        resolve_config(raw)
    return list(info.value.errors)


# --------------------------------------------------------------------------------------------
# 1. Invalid configs: (config, one exact expected line)

INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "missing client": (
        {"resources": ["a"]},
        "missing required setting 'client'; expected an object with the API's 'base_url' at config",
    ),
    "missing resources": (
        {"client": CLIENT},
        "missing required setting 'resources'; expected a list of resource names or objects "
        "at config",
    ),
    "missing base_url": (
        {"client": {"headers": {"X-A": "1"}}, "resources": ["a"]},
        "missing required key 'base_url'; expected the API's base URL at config['client']",
    ),
    "empty client": (
        {"client": {}, "resources": ["a"]},
        "missing required key 'base_url'; expected the API's base URL at config['client']",
    ),
    "unknown setting": (
        config(resource=[]),
        "unknown setting 'resource' (did you mean 'resources'?); expected one of 'ca_bundle', "
        "'client', 'max_concurrency', 'request_timeout', 'requests_per_second', "
        "'resource_defaults', 'resources', "
        "'schema_drift', "
        "'schema_sample_pages', 'schema_sample_records', 'secrets', 'start_date' "
        "at config['resource']",
    ),
    "unknown client key": (
        {"client": {**CLIENT, "base_ulr": BASE}, "resources": ["a"]},
        "unknown key 'base_ulr' (did you mean 'base_url'?); expected one of 'auth', 'base_url', "
        "'error_handler', 'headers', 'paginator', 'session' at config['client']['base_ulr']",
    ),
    "unknown resource key": (
        config({"name": "a", "endpiont": "x"}),
        f"unknown key 'endpiont' (did you mean 'endpoint'?); expected {RESOURCE_KEYS} "
        f"at {R0}['endpiont']",
    ),
    "endpoint key on the resource": (
        config({"name": "a", "params": {"q": 1}}),
        f"'params' is an endpoint key, not a resource key; expected it inside 'endpoint' "
        f"at {R0}['params']",
    ),
    "unknown endpoint key": (
        endpoint(pth="x"),
        f"unknown key 'pth' (did you mean 'path'?); expected {ENDPOINT_KEYS} at {EP0}['pth']",
    ),
    "unknown on_unproven_end": (
        endpoint(on_unproven_end="skip"),
        f"unknown value 'skip'; expected one of 'fail', 'stop' at {EP0}['on_unproven_end']",
    ),
    "unknown paginator key": (
        paginator(type="offset", limit=10, offset_parm="skip"),
        "unknown key 'offset_parm' (did you mean 'offset_param'?); expected one of "
        "'has_more_path', 'limit', 'limit_body_path', 'limit_param', 'maximum_offset', 'offset', "
        "'offset_body_path', 'offset_param', 'stop_after_empty_page', 'stop_condition', "
        f"'total_header', 'total_path' at {PAG0}['offset_parm']",
    ),
    "unknown auth key": (
        {"client": {**CLIENT, "auth": {"type": "bearer", "tokn": "t"}}, "resources": ["a"]},
        "unknown key 'tokn' (did you mean 'token'?); expected one of 'token' "
        "at config['client']['auth']['tokn']",
    ),
    "unknown error_handler key": (
        {"client": {**CLIENT, "error_handler": {"max_retry": 3}}, "resources": ["a"]},
        "unknown key 'max_retry' (did you mean 'max_retries'?); expected one of "
        "'backoff_factor', 'max_retries', 'max_retry_delay', 'retry_on_status_codes' "
        "at config['client']['error_handler']['max_retry']",
    ),
    "unknown response action key": (
        endpoint(response_actions=[{"status_code": 404, "action": "ignore", "contnt": "x"}]),
        "unknown key 'contnt' (did you mean 'content'?); expected one of 'action', 'content', "
        f"'status_code' at {EP0}['response_actions'][0]['contnt']",
    ),
    "unknown paginator type (shorthand)": (
        {"client": {**CLIENT, "paginator": "page_nubmer"}, "resources": ["a"]},
        f"unknown paginator type 'page_nubmer' (did you mean 'page_number'?); "
        f"expected {PAGINATOR_TYPES} at config['client']['paginator']",
    ),
    "paginator class name as type": (
        paginator(type="HeaderCursorPaginator"),
        f"unknown paginator type 'HeaderCursorPaginator'; expected {PAGINATOR_TYPES} "
        f"at {PAG0}['type']",
    ),
    "paginator without type": (
        paginator(limit=10),
        f"missing required key 'type'; expected {PAGINATOR_TYPES} at {PAG0}",
    ),
    "unknown auth type": (
        {"client": {**CLIENT, "auth": {"type": "basci", "username": "u"}}, "resources": ["a"]},
        f"unknown auth type 'basci' (did you mean 'basic'?); expected {AUTH_TYPES} "
        "at config['client']['auth']['type']",
    ),
    "auth of the wrong type": (
        {"client": {**CLIENT, "auth": 3}, "resources": ["a"]},
        f"wrong type: got integer; expected an object or a type name ({AUTH_TYPES}) "
        "at config['client']['auth']",
    ),
    "limit as a string": (
        paginator(type="offset", limit="10"),
        f"wrong type: got string '10'; expected an integer at {PAG0}['limit']",
    ),
    "primary_key as an integer": (
        config({"name": "a", "primary_key": 1}),
        f"wrong type: got integer; expected a field name or a list of field names "
        f"at {R0}['primary_key']",
    ),
    "resources as an object": (
        {"client": CLIENT, "resources": {"a": {}}},
        "wrong type: got object; expected a list of resource names or objects "
        "at config['resources']",
    ),
    "resource as a number": (
        config(3),
        f"wrong type: got integer; expected a resource name or an object at {R0}",
    ),
    "resource without name": (
        config({"endpoint": "things"}),
        f"missing required key 'name'; expected 'name': a non-empty string at {R0}",
    ),
    "endpoint header not a string": (
        endpoint(headers={"X-Page": 1}),
        f"wrong type: got integer 1; expected a string at {EP0}['headers']['X-Page']",
    ),
    "client header not a string": (
        {"client": {**CLIENT, "headers": {"X-Page": 1}}, "resources": ["a"]},
        "wrong type: got integer 1; expected a string at config['client']['headers']['X-Page']",
    ),
    "method lower case": (
        endpoint(method="get"),
        f"unknown value 'get'; expected one of 'GET', 'POST' at {EP0}['method']",
    ),
    "data_selector a number": (
        endpoint(data_selector=3),
        f"wrong type: got integer; expected a JSONPath string, '$' or [] at {EP0}['data_selector']",
    ),
    "offset without limit": (
        paginator(type="offset", offset_param="skip"),
        f"missing required key 'limit'; expected 'limit': an integer at {PAG0}",
    ),
    "offset shorthand": (
        endpoint(paginator="offset"),
        "paginator 'offset' cannot be given by name alone: it needs 'limit'; "
        f"expected an object with 'type' and 'limit' at {PAG0}",
    ),
    "page_number that never ends": (
        paginator(type="page_number", stop_after_empty_page=False, total_path=None),
        "pagination could never end; expected one of total_path, maximum_page, has_more_path, "
        f"stop_condition or stop_after_empty_page: true at {PAG0}",
    ),
    "offset that never ends": (
        paginator(type="offset", limit=10, stop_after_empty_page=False, total_path=None),
        "pagination could never end; expected one of total_path, maximum_offset, "
        f"has_more_path, stop_condition or stop_after_empty_page: true at {PAG0}",
    ),
    "cursor_param with cursor_body_path": (
        paginator(type="cursor", cursor_param="c", cursor_body_path="page.cursor"),
        f"'cursor_param' and 'cursor_body_path' are both set; expected only one of them at {PAG0}",
    ),
    "bad JSONPath": (
        endpoint(data_selector="items[*"),
        "invalid JSONPath 'items[*': Parse error near the end of string!; expected a JSONPath "
        f"such as 'data' or 'items[*].data' at {EP0}['data_selector']",
    ),
    "stop_condition does not parse": (
        paginator(type="cursor", stop_condition="{{ response.get('hasNext' }}"),
        "template does not parse: '(' was never closed; expected a {{ expression }} template "
        f"at {PAG0}['stop_condition']",
    ),
    "stop_condition reaches for a dunder": (
        paginator(type="cursor", stop_condition="{{ response.__class__ }}"),
        "attribute '__class__' is not allowed; expected a {{ expression }} template "
        f"at {PAG0}['stop_condition']",
    ),
    "stop_condition imports": (
        paginator(type="cursor", stop_condition="{{ __import__('os') }}"),
        "unknown name '__import__' (the template may use response, headers, records, page); "
        f"expected a {{{{ expression }}}} template at {PAG0}['stop_condition']",
    ),
    "missing secret": (
        {
            "client": {**CLIENT, "auth": {"type": "bearer", "token": {"secret": "api_token"}}},
            "resources": ["a"],
        },
        "secret 'api_token' is not set; expected it in config['secrets']['api_token'] "
        f"or one of the environment variables {secret_variables('api_token')} "
        "at config['client']['auth']['token']",
    ),
    "missing secret for an auth shorthand": (
        {"client": {**CLIENT, "auth": "bearer"}, "resources": ["a"]},
        "secret 'token' is not set; expected it in config['secrets']['token'] "
        f"or one of the environment variables {secret_variables('token')} "
        "at config['client']['auth']",
    ),
    "path params missing": (
        endpoint(path="{org}/{repo}/issues"),
        "path '{org}/{repo}/issues' requires a param named 'org'; expected params['org'] "
        f"at {EP0}['path']",
    ),
    "duplicate resource names": (
        config("a", {"name": "a", "endpoint": "other"}),
        "resource 'a' is already defined; expected unique names at config['resources'][1]['name']",
    ),
    "a resource name a target would make a path of": (
        config({"name": "../../etc/x", "endpoint": "x"}),
        "'../../etc/x' cannot name a stream: targets make file and table names of it; expected "
        "a name without '/', '\\' or control characters, not '.' or '..' "
        "at config['resources'][0]['name']",
    ),
    "a table_name with a control character": (
        config({"name": "a", "table_name": "a\x00", "endpoint": "x"}),
        "'a\\x00' cannot name a stream: targets make file and table names of it; expected "
        "a name without '/', '\\' or control characters, not '.' or '..' "
        "at config['resources'][0]['table_name']",
    ),
    "name in resource_defaults": (
        config(resource_defaults={"name": "x"}),
        "resource_defaults cannot set 'name'; expected 'name' on each resource instead "
        "at config['resource_defaults']['name']",
    ),
    "error inside resource_defaults is reported there": (
        config("a", "b", resource_defaults={"endpoint": {"paginator": {"type": "offset"}}}),
        "missing required key 'limit'; expected 'limit': an integer "
        "at config['resource_defaults']['endpoint']['paginator']",
    ),
    "processing_steps": (
        config({"name": "a", "processing_steps": [{"filter": "lambda r: r"}]}),
        "'processing_steps' cannot be written in JSON (they are Python callables); expected "
        "Singer stream maps (the 'stream_maps' setting) to filter and transform records "
        f"at {R0}['processing_steps']",
    ),
    "client session": (
        {"client": {**CLIENT, "session": "requests.Session()"}, "resources": ["a"]},
        "'session' cannot be written in JSON (it is a Python requests session); expected "
        "'error_handler' for retries and 'request_timeout' for timeouts "
        "at config['client']['session']",
    ),
    "response action unknown": (
        endpoint(response_actions=[{"status_code": 404, "action": "ignroe"}]),
        "unknown value 'ignroe' (did you mean 'ignore'?); expected one of 'ignore', 'retry', "
        f"'fail' at {EP0}['response_actions'][0]['action']",
    ),
    "response action matching nothing": (
        endpoint(response_actions=[{"action": "ignore"}]),
        "the response action has nothing to match on; expected 'status_code' and/or 'content' "
        f"at {EP0}['response_actions'][0]",
    ),
    "write_disposition unknown": (
        config({"name": "a", "write_disposition": "mrege"}),
        "unknown write_disposition 'mrege' (did you mean 'merge'?); expected one of 'append', "
        f"'replace', 'merge' at {R0}['write_disposition']",
    ),
    "write_disposition dict unknown": (
        config({"name": "a", "write_disposition": {"disposition": "upsert"}}),
        "unknown write_disposition 'upsert'; expected one of 'append', 'replace', 'merge' "
        f"at {R0}['write_disposition']",
    ),
    "secrets not an object": (
        config(secrets=[]),
        "wrong type: got list []; expected an object at config['secrets']",
    ),
}


@pytest.mark.parametrize(("raw", "line"), list(INVALID.values()), ids=list(INVALID))
def test_invalid_config_error_line(raw: dict[str, Any], line: str) -> None:
    errors = errors_of(raw)
    assert line in errors, "\n".join(errors)
    assert "; expected " in line
    assert " at config" in line


def test_invalid_table_is_big_enough() -> None:
    assert len(INVALID) >= 30


def test_unknown_auth_key_also_reports_the_missing_key() -> None:
    raw = {"client": {**CLIENT, "auth": {"type": "bearer", "tokn": "t"}}, "resources": ["a"]}
    assert errors_of(raw)[1] == (
        "missing required key 'token'; expected 'token': a string at config['client']['auth']"
    )


def test_path_params_report_each_missing_param() -> None:
    errors = errors_of(endpoint(path="{org}/{repo}/issues"))
    assert errors == [
        f"path '{{org}}/{{repo}}/issues' requires a param named '{name}'; "
        f"expected params['{name}'] at {EP0}['path']"
        for name in ("org", "repo")
    ]


def test_missing_secret_is_reported_once() -> None:
    raw = paginator(type="offset", limit={"secret": "rg_missing"})
    assert errors_of(raw) == [
        "secret 'rg_missing' is not set; expected it in config['secrets']['rg_missing'] "
        f"or one of the environment variables {secret_variables('rg_missing')} "
        f"at {PAG0}['limit']"
    ]


def test_resource_defaults_error_is_reported_once_for_all_resources() -> None:
    raw = config("a", "b", "c", resource_defaults={"selected": "yes"})
    assert errors_of(raw) == [
        "wrong type: got string 'yes'; expected true or false "
        "at config['resource_defaults']['selected']"
    ]


# --------------------------------------------------------------------------------------------
# 2. Every error at once


def test_every_error_at_once() -> None:
    raw = {
        "client": {**CLIENT, "paginator": "page_nubmer"},
        "resources": [
            "a",
            {"name": "a", "endpoint": {"path": "b", "method": "get"}},
            {
                "name": "c",
                "endpoint": {"auth": {"type": "bearer", "token": {"secret": "rg_missing"}}},
            },
        ],
        "resourse_defaults": {},
    }
    assert errors_of(raw) == [
        "unknown setting 'resourse_defaults' (did you mean 'resource_defaults'?); expected one "
        "of 'ca_bundle', 'client', 'max_concurrency', 'request_timeout', 'requests_per_second', "
        "'resource_defaults', "
        "'resources', 'schema_drift', 'schema_sample_pages', 'schema_sample_records', 'secrets', "
        "'start_date' "
        "at config['resourse_defaults']",
        "secret 'rg_missing' is not set; expected it in config['secrets']['rg_missing'] "
        f"or one of the environment variables {secret_variables('rg_missing')} "
        "at config['resources'][2]['endpoint']['auth']['token']",
        f"unknown paginator type 'page_nubmer' (did you mean 'page_number'?); "
        f"expected {PAGINATOR_TYPES} at config['client']['paginator']",
        "unknown value 'get'; expected one of 'GET', 'POST' "
        "at config['resources'][1]['endpoint']['method']",
        "resource 'a' is already defined; expected unique names at config['resources'][1]['name']",
    ]


# --------------------------------------------------------------------------------------------
# 3. Valid configs produce the right spec


def only(spec: RestApiSpec) -> Any:
    """The single resource of a spec."""
    assert len(spec.resources) == 1
    return spec.resources[0]


def test_client_settings() -> None:
    spec = resolve_config(
        {"client": {"base_url": BASE, "headers": {"Accept": "application/json"}}, "resources": []}
    )
    assert spec == RestApiSpec(base_url=BASE, headers={"Accept": "application/json"}, resources=())


def test_string_resource() -> None:
    res = only(resolve_config(config("posts")))
    assert res.name == "posts"
    assert res.endpoint.path == "posts"
    assert res.endpoint.method == "GET"
    assert res.endpoint.paginator == ComponentSpec("auto", {})
    assert res.endpoint.data_selector is None
    assert res.endpoint.retry == RetrySpec()
    assert res.primary_key == ()
    assert res.selected is True


def test_endpoint_as_string() -> None:
    res = only(resolve_config(config({"name": "posts", "endpoint": "v2/posts/all"})))
    assert (res.name, res.endpoint.path) == ("posts", "v2/posts/all")


@pytest.mark.parametrize("resource", [{"name": "posts"}, {"name": "posts", "endpoint": {}}])
def test_missing_endpoint_or_path_defaults_to_name(resource: dict[str, Any]) -> None:
    assert only(resolve_config(config(resource))).endpoint.path == "posts"


def test_table_name_names_the_stream() -> None:
    res = only(resolve_config(config({"name": "posts", "table_name": "blog_posts"})))
    assert (res.name, res.stream_name, res.endpoint.path) == ("posts", "blog_posts", "posts")


DEFAULTS: dict[str, Any] = {
    "primary_key": "id",
    "write_disposition": "merge",
    "endpoint": {
        "params": {"per_page": 100, "sort": "asc"},
        "json": {"filter": "all", "fields": ["id"]},
        "headers": {"X-Default": "d"},
        "paginator": {"type": "page_number", "total_path": None, "base_page": 1},
        "data_selector": "data",
    },
}


def test_resource_defaults_apply_to_a_string_resource() -> None:
    res = only(resolve_config(config("posts", resource_defaults=DEFAULTS)))
    ep = res.endpoint
    assert res.primary_key == ("id",)
    assert ep.path == "posts"
    assert ep.params == {"per_page": 100, "sort": "asc"}
    assert ep.json == {"filter": "all", "fields": ["id"]}
    assert ep.headers == {"X-Default": "d"}
    assert ep.paginator.type == "page_number"
    assert ep.paginator.options["base_page"] == 1
    assert ep.data_selector == "data"


def test_resource_defaults_merge_rules() -> None:
    resource = {
        "name": "posts",
        "primary_key": ["org", "id"],
        "endpoint": {
            "params": {"sort": "desc", "q": "x"},
            "json": {"fields": ["name"]},
            "headers": {"X-Own": "o"},
            "paginator": {"type": "cursor", "cursor_path": "next"},
            "data_selector": "items",
        },
    }
    res = only(resolve_config(config(resource, resource_defaults=DEFAULTS)))
    ep = res.endpoint
    # params and json: one level deep, the resource wins per key
    assert ep.params == {"per_page": 100, "sort": "desc", "q": "x"}
    assert ep.json == {"filter": "all", "fields": ["name"]}
    # headers, paginator and data_selector: replaced wholesale
    assert ep.headers == {"X-Own": "o"}
    assert ep.paginator.type == "cursor"
    assert ep.paginator.options["cursor_path"] == "next"
    assert ep.data_selector == "items"
    assert res.primary_key == ("org", "id")


def test_explicit_null_in_resource_resets_the_default() -> None:
    resource = {
        "name": "posts",
        "primary_key": None,
        "endpoint": {"paginator": None, "data_selector": None, "headers": None},
    }
    raw = config(resource, resource_defaults=DEFAULTS)
    raw["client"]["paginator"] = {"type": "json_link", "next_url_path": "links.next"}
    res = only(resolve_config(raw))
    assert res.primary_key == ()
    assert res.endpoint.data_selector is None
    assert res.endpoint.headers == {}
    assert res.endpoint.paginator == ComponentSpec(
        "json_link", {"next_url_path": "links.next", "relative_to": "url", "stop_condition": None}
    )


ENDPOINT_PAGINATOR = {"type": "cursor"}
DEFAULT_PAGINATOR = {"type": "header_link"}
CLIENT_PAGINATOR = {"type": "json_link"}
UNSET = object()


@pytest.mark.parametrize(
    ("at_endpoint", "at_defaults", "at_client", "expected"),
    [
        (ENDPOINT_PAGINATOR, DEFAULT_PAGINATOR, CLIENT_PAGINATOR, "cursor"),
        (ENDPOINT_PAGINATOR, UNSET, UNSET, "cursor"),
        (UNSET, DEFAULT_PAGINATOR, CLIENT_PAGINATOR, "header_link"),
        (UNSET, DEFAULT_PAGINATOR, UNSET, "header_link"),
        (UNSET, UNSET, CLIENT_PAGINATOR, "json_link"),
        (UNSET, UNSET, UNSET, "auto"),
        (None, DEFAULT_PAGINATOR, CLIENT_PAGINATOR, "json_link"),
        (None, DEFAULT_PAGINATOR, UNSET, "auto"),
        (None, UNSET, UNSET, "auto"),
        ("auto", UNSET, CLIENT_PAGINATOR, "auto"),
        ("single_page", DEFAULT_PAGINATOR, CLIENT_PAGINATOR, "single_page"),
        (UNSET, "header_cursor", "json_link", "header_cursor"),
    ],
)
def test_paginator_precedence(
    at_endpoint: Any, at_defaults: Any, at_client: Any, expected: str
) -> None:
    raw = config(
        {"name": "a", "endpoint": {} if at_endpoint is UNSET else {"paginator": at_endpoint}}
    )
    if at_defaults is not UNSET:
        raw["resource_defaults"] = {"endpoint": {"paginator": at_defaults}}
    if at_client is not UNSET:
        raw["client"]["paginator"] = at_client
    assert only(resolve_config(raw)).endpoint.paginator.type == expected


def test_single_entity_path() -> None:
    raw = config({"name": "user", "endpoint": {"path": "user/{id}", "params": {"id": 7, "x": 1}}})
    raw["client"]["paginator"] = CLIENT_PAGINATOR  # the client paginator does not prevent it
    ep = only(resolve_config(raw)).endpoint
    assert ep.path == "user/7"
    assert ep.params == {"x": 1}
    assert ep.paginator == ComponentSpec("single_page", {})
    assert ep.data_selector == "$"


def test_single_entity_path_keeps_explicit_settings() -> None:
    resource = {
        "name": "user",
        "endpoint": {
            "path": "user/{id}.json",
            "params": {"id": 7},
            "data_selector": "user",
            "paginator": {"type": "cursor"},
        },
    }
    ep = only(resolve_config(config(resource))).endpoint
    assert (ep.path, ep.data_selector, ep.paginator.type) == ("user/7.json", "user", "cursor")


def test_single_entity_rule_respects_resource_defaults_paginator() -> None:
    resource = {"name": "user", "endpoint": {"path": "user/{id}", "params": {"id": 7}}}
    raw = config(resource, resource_defaults={"endpoint": {"paginator": DEFAULT_PAGINATOR}})
    ep = only(resolve_config(raw)).endpoint
    assert (ep.paginator.type, ep.data_selector) == ("header_link", "$")


def test_placeholder_before_last_segment_is_not_single_entity() -> None:
    resource = {"name": "d", "endpoint": {"path": "users/{id}/details", "params": {"id": 7}}}
    ep = only(resolve_config(config(resource))).endpoint
    assert (ep.path, ep.paginator.type, ep.data_selector) == ("users/7/details", "auto", None)


def test_static_path_params_are_substituted_and_removed() -> None:
    resource = {
        "name": "issues",
        "endpoint": {
            "path": "{org}/{repo}/issues",
            "params": {"org": "dlt-hub", "repo": "dlt", "state": "open", "labels": ["a", "b"]},
        },
    }
    ep = only(resolve_config(config(resource))).endpoint
    assert ep.path == "dlt-hub/dlt/issues"
    assert ep.params == {"state": "open", "labels": ["a", "b"]}


def test_basic_auth_alias_with_username_only() -> None:
    raw = config()
    raw["client"]["auth"] = {"type": "basic", "username": "key123"}
    auth = only(resolve_config(raw)).endpoint.auth
    assert AUTHS[auth.type] is AUTHS["http_basic"]
    assert dict(auth.options) == {"username": "key123", "password": ""}


def test_data_selector_empty_list_means_whole_body() -> None:
    assert only(resolve_config(endpoint(data_selector=[]))).endpoint.data_selector == "$"


def test_page_number_seed_aliases() -> None:
    raw = paginator(
        type="page_number", page_param="page", start_from_page=1, limit=20, limit_param="per_page"
    )
    options = only(resolve_config(raw)).endpoint.paginator.options
    assert "start_from_page" not in options
    assert (options["base_page"], options["page"]) == (1, 1)
    assert (options["limit"], options["limit_param"], options["page_param"]) == (
        20,
        "per_page",
        "page",
    )


def test_page_number_limit_param_defaults_to_limit() -> None:
    options = only(
        resolve_config(paginator(type="page_number", limit=20))
    ).endpoint.paginator.options
    assert (options["limit"], options["limit_param"], options["base_page"]) == (20, "limit", 0)


def test_cursor_seed_aliases() -> None:
    condition = "{{ response.get('hasNext', {}) == False }}"
    raw = paginator(type="cursor", limit=50, cursor_param="next", stop_condition=condition)
    options = only(resolve_config(raw)).endpoint.paginator.options
    assert (options["limit"], options["limit_param"]) == (50, "limit")
    assert options["cursor_param"] == "next"
    assert options["cursor_path"] == "cursors.next"
    assert options["stop_condition"].text == condition
    assert options["stop_condition"].evaluate(
        {"response": {"hasNext": False}, "headers": {}, "records": [], "page": 1}
    )


SEED_RETRY = {"retry_on_status_codes": [429], "max_retries": 3, "backoff_factor": 2}
SEED_RETRY_SPEC = RetrySpec(frozenset({429}), max_retries=3, backoff_factor=2.0, max_delay=300.0)


@pytest.mark.parametrize(
    ("at_endpoint", "at_defaults", "at_client", "expected"),
    [
        (SEED_RETRY, UNSET, UNSET, SEED_RETRY_SPEC),
        (UNSET, SEED_RETRY, UNSET, SEED_RETRY_SPEC),
        (UNSET, UNSET, SEED_RETRY, SEED_RETRY_SPEC),
        (UNSET, UNSET, UNSET, RetrySpec()),
        (SEED_RETRY, {"max_retries": 9}, {"max_retries": 8}, SEED_RETRY_SPEC),
        (
            UNSET,
            SEED_RETRY,
            {"max_retries": 8},
            SEED_RETRY_SPEC,
        ),
        (
            UNSET,
            UNSET,
            {"max_retries": 0, "max_retry_delay": 10},
            RetrySpec(DEFAULT_RETRY_STATUSES, max_retries=0, backoff_factor=1.0, max_delay=10.0),
        ),
    ],
)
def test_error_handler_most_specific_level_wins(
    at_endpoint: Any, at_defaults: Any, at_client: Any, expected: RetrySpec
) -> None:
    ep: dict[str, Any] = {} if at_endpoint is UNSET else {"error_handler": at_endpoint}
    raw = config({"name": "a", "endpoint": ep})
    if at_defaults is not UNSET:
        raw["resource_defaults"] = {"endpoint": {"error_handler": at_defaults}}
    if at_client is not UNSET:
        raw["client"]["error_handler"] = at_client
    assert only(resolve_config(raw)).endpoint.retry == expected


def test_auth_dict_without_type_is_bearer() -> None:
    raw = config()
    raw["client"]["auth"] = {"token": "t0k3n"}
    assert only(resolve_config(raw)).endpoint.auth == ComponentSpec("bearer", {"token": "t0k3n"})


def test_endpoint_auth_replaces_client_auth() -> None:
    raw = config("a", {"name": "b", "endpoint": {"auth": {"type": "basic", "username": "u"}}})
    raw["client"]["auth"] = {"type": "bearer", "token": "t0k3n"}
    first, second = resolve_config(raw).resources
    assert first.endpoint.auth == ComponentSpec("bearer", {"token": "t0k3n"})
    assert second.endpoint.auth == ComponentSpec("basic", {"username": "u", "password": ""})


def test_auth_shorthand_reads_secrets() -> None:
    raw = config(secrets={"token": "from-secrets"})
    raw["client"]["auth"] = "bearer"
    auth = only(resolve_config(raw)).endpoint.auth
    assert auth == ComponentSpec("bearer", {"token": "from-secrets"})


def test_auth_shorthand_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN", "from-env")
    raw = config()
    raw["client"]["auth"] = "bearer"
    auth = only(resolve_config(raw)).endpoint.auth
    assert auth == ComponentSpec("bearer", {"token": "from-env"})


def test_auth_shorthand_ignores_unrelated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only required and secret fields come from the environment: NAME/LOCATION do not leak."""
    monkeypatch.setenv("API_KEY", "k3y")
    monkeypatch.setenv("NAME", "someone")
    monkeypatch.setenv("LOCATION", "query")
    raw = config()
    raw["client"]["auth"] = "api_key"
    auth = only(resolve_config(raw)).endpoint.auth
    assert auth == ComponentSpec(
        "api_key", {"api_key": "k3y", "name": "Authorization", "location": "header"}
    )


def _secret_header_config(**settings: Any) -> dict[str, Any]:
    raw = config(**settings)
    raw["client"]["headers"] = {"X-Key": {"secret": "x"}}
    return raw


def test_secret_reference_from_secrets_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X", "from-env")  # the secrets setting comes first
    spec = resolve_config(_secret_header_config(secrets={"x": "from-secrets"}))
    assert spec.headers == {"X-Key": "from-secrets"}


def test_secret_reference_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X", "from-env")
    assert resolve_config(_secret_header_config()).headers == {"X-Key": "from-env"}


def test_secret_reference_in_resource_defaults_and_params() -> None:
    raw = config(
        {"name": "a", "endpoint": {"params": {"key": {"secret": "x"}}}},
        resource_defaults={"endpoint": {"headers": {"X-Key": {"secret": "x"}}}},
        secrets={"x": "s3cr3t"},
    )
    ep = only(resolve_config(raw)).endpoint
    assert (ep.params, ep.headers) == ({"key": "s3cr3t"}, {"X-Key": "s3cr3t"})


def test_response_actions_are_resolved() -> None:
    raw = endpoint(
        response_actions=[
            {"status_code": 404, "action": "ignore"},
            {"content": "rate limited", "action": "retry"},
        ]
    )
    actions = only(resolve_config(raw)).endpoint.response_actions
    assert [(a.status_code, a.content, a.action) for a in actions] == [
        (404, None, "ignore"),
        (None, "rate limited", "retry"),
    ]


def test_input_config_is_not_mutated() -> None:
    raw = config(
        "posts",
        {"name": "user", "endpoint": {"path": "user/{id}", "params": {"id": 1}}},
        {"name": "issues", "endpoint": "{org}/issues", "primary_key": None},
        resource_defaults={
            **DEFAULTS,
            "endpoint": {**DEFAULTS["endpoint"], "params": {"org": "o"}},
        },
        secrets={"x": "s3cr3t", "token": "t"},
    )
    raw["client"].update(auth="bearer", headers={"X-Key": {"secret": "x"}}, paginator="cursor")
    before = copy.deepcopy(raw)
    resolve_config(raw)
    assert raw == before


# --------------------------------------------------------------------------------------------
# 4. The five seed configs


@pytest.mark.parametrize("seed", sorted(SEED_CONFIGS))
def test_seed_config_resolves(seed: str) -> None:
    raw = SEED_CONFIGS[seed]
    before = copy.deepcopy(raw)
    spec = resolve_config(raw)
    assert raw == before
    assert spec.base_url.startswith("https://api.example.com")
    assert [r.name for r in spec.resources] == [r["name"] for r in raw["resources"]]
    for res in spec.resources:
        assert res.primary_key == ("id",)
        assert res.endpoint.auth is not None


def test_seed_000() -> None:
    spec = resolve_config(SEED_CONFIGS["000"])
    user, _, contacts, signing = spec.resources
    assert user.endpoint.path == "/user"
    assert user.endpoint.paginator.type == "single_page"
    assert user.endpoint.auth == ComponentSpec(
        "api_key", {"name": "api_key", "api_key": "seed000-api-key-id", "location": "header"}
    )
    assert contacts.endpoint.paginator.options["limit"] == 20
    assert contacts.endpoint.paginator.options["limit_param"] == "per_page"
    assert signing.endpoint.auth == ComponentSpec(
        "basic", {"username": "seed000-auth-token", "password": ""}
    )


def test_seed_001() -> None:
    spec = resolve_config(SEED_CONFIGS["001"])
    assert spec.base_url == "https://api.example.com/v1/"
    for res in spec.resources:
        options = res.endpoint.paginator.options
        assert res.endpoint.paginator.type == "cursor"
        assert (options["limit"], options["cursor_param"]) == (50, "next")
        assert options["stop_condition"].text == "{{ response.get('hasNext', {}) == False }}"


def test_seed_002() -> None:
    ep = only(resolve_config(SEED_CONFIGS["002"])).endpoint
    assert ep.params == {"per_page": 2}
    assert ep.data_selector == "items.*.data"
    assert ep.paginator.type == "page_number"
    options = ep.paginator.options
    assert (options["base_page"], options["page"], options["limit"]) == (1, 1, 2)
    assert ep.retry == RetrySpec(
        frozenset({429, 500, 502, 503, 504}), max_retries=3, backoff_factor=2.0
    )
    assert ep.auth == ComponentSpec("bearer", {"token": "seed002-api-token"})


def test_seed_003() -> None:
    account, customers, _ = resolve_config(SEED_CONFIGS["003"]).resources
    assert account.endpoint.data_selector == "$"
    assert account.endpoint.retry == SEED_RETRY_SPEC
    assert customers.endpoint.paginator.options["cursor_path"] == "meta.next_cursor"
    assert customers.endpoint.auth == ComponentSpec(
        "basic", {"username": "seed003-user", "password": "seed003-password"}
    )


def test_seed_004() -> None:
    spec = resolve_config(SEED_CONFIGS["004"])
    assert len(spec.resources) == 5
    for res in spec.resources:
        options = res.endpoint.paginator.options
        assert res.endpoint.paginator.type == "offset"
        assert (options["limit"], options["offset_param"], options["offset"]) == (1000, "_skip", 0)
        assert res.endpoint.auth == ComponentSpec(
            "basic", {"username": "seed004-api-key", "password": ""}
        )


def test_seed_without_its_secrets_names_each_missing_secret() -> None:
    raw = {k: v for k, v in SEED_CONFIGS["003"].items() if k != "secrets"}
    assert errors_of(raw) == [
        f"secret '{name}' is not set; expected it in config['secrets']['{name}'] "
        f"or one of the environment variables {secret_variables(name)} "
        f"at config['client']['auth']['{name}']"
        for name in ("username", "password")
    ]


# --------------------------------------------------------------------------------------------
# 5. Through the CLI

CLI_CONFIG = {
    "client": {"base_url": BASE, "paginator": "offset"},
    "resources": ["a", {"name": "b", "endpoint": {"method": "get"}}],
    "resourcs": [],
}
CLI_LINES = [
    "unknown setting 'resourcs' (did you mean 'resources'?)",
    "paginator 'offset' cannot be given by name alone: it needs 'limit'; expected an object "
    "with 'type' and 'limit' at config['client']['paginator']",
    "unknown value 'get'; expected one of 'GET', 'POST' "
    "at config['resources'][1]['endpoint']['method']",
]


@pytest.mark.parametrize("extra", [[], ["--discover"]], ids=["sync", "discover"])
def test_cli_bad_config_exits_1_with_error_lines(tmp_path: Path, extra: list[str]) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(CLI_CONFIG))
    result = subprocess.run(
        [sys.executable, "-m", "tap_restgeneric.tap", "--config", str(path), *extra],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    for line in CLI_LINES:
        assert line in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
