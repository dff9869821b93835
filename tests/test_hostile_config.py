"""Hostile config files: one clear line per problem, exit status 1, no traceback, bounded time.

A generated table of malformed config files (SPEC §9, issue 13): JSON and YAML nested far too
deep, YAML alias bombs ("billion laughs") and recursive anchors, bytes that are not UTF-8,
files over the size and node limits, truncated files, wrong top-level types, every numeric
setting at NaN, ±infinity, negative, zero, huge, a string or null, stream map expressions that
do not parse with a secret inside, and more. Each case must be rejected with lines that name
the file or a config path, leak no secret and finish within CASE_SECONDS.

The whole table runs in-process through the code the CLI runs (``read_config_file``, then the
tap's config validation); a representative subset (every category, the cases of the issue)
runs through the real CLI as subprocesses, two at a time, synced or under ``--discover``. The
figures (configs tried, tracebacks, lines without a file or path, hangs, leaks) are written to
``build/hostile_config.json`` for the README's Reliability section.
"""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli import ROOT, clean_env
from singer_sdk.exceptions import ConfigValidationError

from tap_restgeneric.cli import (
    MAX_CONFIG_BYTES,
    MAX_YAML_BYTES,
    clean_failures,
    read_config_file,
)
from tap_restgeneric.config.fields import MAX_DEPTH, MAX_LINE, MAX_NODES
from tap_restgeneric.config.resolve import (
    MAX_ERROR_LINES,
    MAX_RESOURCES,
    MAX_SECRET_VALUES,
    resolve_config,
)
from tap_restgeneric.redaction import REDACT
from tap_restgeneric.tap import TapRestGeneric

CASE_SECONDS = 20.0
"""Generous bound per case (a subprocess costs about 1 s; the slowest case about 3 s)."""
CLI_CASES = 44
LONG = MAX_LINE + 10
MIN_CASES = 300
TAP = str(Path(sys.executable).with_name("tap-restgeneric"))
OUTPUT = ROOT / "build" / "hostile_config.json"
SECRET = "hostile-cfg-secret-7Qx9vLk2Wm"
"""The named secret of every case; no 10-character piece of it may appear in any output."""
DEAD = "http://127.0.0.1:9"  # nothing listens: no case may get as far as a request
Config = dict[str, Any]


def base() -> Config:
    """A valid config (each case breaks it) whose bearer token is the secret."""
    return {
        "client": {
            "base_url": DEAD,
            "auth": {"type": "bearer", "token": {"secret": "api_token"}},
        },
        "resources": [{"name": "things", "endpoint": {"path": "things"}}],
        "secrets": {"api_token": SECRET},
    }


@dataclass(frozen=True)
class Case:
    """One malformed config file and what its error must name."""

    name: str
    category: str
    content: bytes
    suffix: str = ".json"
    where: str | None = "FILE"
    """What some line must name: "FILE" the file, a config path such as
    ``config['max_concurrency']``, or None for either (every line names one or the other)."""
    discover: bool = False

    @property
    def file_name(self) -> str:
        return f"{self.name}{self.suffix}"


def as_json(config: Any) -> bytes:
    return json.dumps(config).encode()


def as_yaml(config: Any) -> bytes:
    return yaml.safe_dump(config, sort_keys=False).encode()


def path_text(*parts: str | int) -> str:
    return "config" + "".join(f"[{part!r}]" for part in parts)


# --------------------------------------------------------------------------------------------
# The table


def nested_json(depth: int, key: str = "x") -> bytes:
    """The base config plus ``key`` holding lists nested ``depth`` levels."""
    text = json.dumps(base())
    return (text[:-1] + f', "{key}": ' + "[" * depth + "]" * depth + "}").encode()


def deep_cases() -> Iterator[Case]:
    for depth in (MAX_DEPTH, MAX_DEPTH + 1, 150, 300, 500, 999, 1000, 1500, 5000, 100_000):
        yield Case(f"deep_json_{depth}", "deep nesting", nested_json(depth))
    for depth in (MAX_DEPTH + 1, 500, 1000):
        for where in ("client", "resources", "secrets", "stream_maps"):
            config = base()
            deep: Any = "x"
            for _ in range(depth):
                deep = {"k": deep} if where in ("client", "secrets") else [deep]
            if where == "client":
                config["client"]["headers"] = deep
            elif where == "resources":
                config["resources"][0]["endpoint"]["params"] = {"p": deep}
            elif where == "secrets":
                config["secrets"]["nested"] = deep
            else:
                config["stream_maps"] = {"things": {"x": deep}}
            text = json.dumps(config) if depth < 900 else None
            if text is not None:
                yield Case(f"deep_{where}_{depth}", "deep nesting", text.encode())
    for depth in (MAX_DEPTH + 1, 200, 1000, 10_000):
        flow = "x: " + "[" * depth + "]" * depth + "\n"
        yield Case(
            f"deep_yaml_flow_{depth}", "deep nesting", as_yaml(base()) + flow.encode(), ".yaml"
        )
        if depth <= 400:
            block = "".join(" " * (2 * i) + f"k{i}:\n" for i in range(depth)) + " " * (2 * depth)
            content = as_yaml(base()) + (block + "v\n").encode()
            yield Case(f"deep_yaml_block_{depth}", "deep nesting", content, ".yaml")
    mixed = "x: " + "[{a: " * 60 + "1" + "}]" * 60 + "\n"
    yield Case("deep_yaml_mixed", "deep nesting", as_yaml(base()) + mixed.encode(), ".yaml")


def laughs(levels: int, fan: int, *, merge: bool = False) -> bytes:
    """A YAML alias bomb: ``levels`` anchors, each a list of ``fan`` aliases to the previous."""
    lines = ["l0: &l0 [lol]"]
    for level in range(1, levels + 1):
        if merge:
            items = ", ".join(f"k{i}: *l{level - 1}" for i in range(fan))
            lines.append(f"l{level}: &l{level} {{{items}}}")
        else:
            lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * fan) + "]")
    return ("\n".join(lines) + "\n").encode()


def alias_cases() -> Iterator[Case]:
    head = as_yaml(base())
    for levels in (3, 4, 5, 6, 7, 8, 9, 12):
        for fan in (9, 10):
            # Small bombs fit the limit: the names of their keys are then unknown settings.
            content = head + laughs(levels, fan)
            yield Case(f"laughs_{levels}x{fan}", "alias bomb", content, ".yaml", None)
    for levels in (5, 7, 9):
        content = head + laughs(levels, 9, merge=True)
        yield Case(f"laughs_map_{levels}", "alias bomb", content, ".yaml", None)
    bare = laughs(9, 9)
    yield Case("laughs_9_issue", "alias bomb", bare, ".yaml")  # the issue's ~400-byte file
    yield Case("laughs_9_yml", "alias bomb", bare, ".yml")
    merge_chain = ["m0: &m0 {a: 1, b: 2}"]
    merge_chain += [
        f"m{i}: &m{i} {{<<: *m{i - 1}, x{i}: [*m{i - 1}, *m{i - 1}]}}" for i in range(1, 30)
    ]
    yield Case("merge_bomb", "alias bomb", head + ("\n".join(merge_chain) + "\n").encode(), ".yaml")
    recursive = {
        "self_list": "x: &a [*a]\n",
        "self_map": "x: &a {b: *a}\n",
        "self_deep": "x: &a [[[{c: [*a]}]]]\n",
        "self_merge": "x: &a {<<: *a}\n",
        "self_key": "x: &a {? *a : 1}\n",
        "self_nested_anchor": "x: &a [&b [*a]]\n",
        "self_second": "y: &b [1]\nx: &a [*b, [*a]]\n",
        "self_in_client": "client: &c {base_url: 'http://127.0.0.1:9', h: *c}\n",
    }
    for name, text in recursive.items():
        body = (
            head + text.encode()
            if name != "self_in_client"
            else text.encode() + b"resources: [a]\n"
        )
        yield Case(f"recursive_{name}", "alias bomb", body, ".yaml")
    yield Case("undefined_alias", "alias bomb", head + b"x: *nope\n", ".yaml")
    yield Case("duplicate_anchor", "alias bomb", head + b"x: &a 1\ny: &a 2\n", ".yaml")
    wide = "x: &w [" + ", ".join(["1"] * 2000) + "]\ny: [" + ", ".join(["*w"] * 60) + "]\n"
    yield Case("wide_aliases", "alias bomb", head + wide.encode(), ".yaml")
    deep_anchor = "x: &d " + "[" * 90 + "]" * 90 + "\ny: [[[[[[[[[[[[*d]]]]]]]]]]]]\n"
    yield Case("alias_too_deep", "alias bomb", head + deep_anchor.encode(), ".yaml")


def utf8_cases() -> Iterator[Case]:
    text = json.dumps(base(), indent=2).encode()
    for bad in (b"\xff", b"\xfe", b"\x80", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"):
        for position in (0, 1, 25, len(text) // 2, len(text) - 1):
            content = text[:position] + bad + text[position:]
            name = f"utf8_{bad[:1].hex()}_{position}"
            yield Case(name, "not UTF-8", content)
    yield Case("utf16_json", "not UTF-8", json.dumps(base()).encode("utf-16"))
    yield Case(
        "latin1_json",
        "not UTF-8",
        json.dumps({**base(), "x": "café"}, ensure_ascii=False).encode("latin-1"),
    )
    yaml_text = as_yaml(base())
    for position in (0, 10, len(yaml_text) // 2, len(yaml_text)):
        content = yaml_text[:position] + b"\xff\xfe" + yaml_text[position:]
        yield Case(f"utf8_yaml_{position}", "not UTF-8", content, ".yaml")
    yield Case("utf16_yaml", "not UTF-8", yaml_text.decode().encode("utf-16"), ".yaml")
    yield Case("nul_yaml", "not UTF-8", yaml_text + b"x: \x00\n", ".yaml")
    yield Case("control_yaml", "not UTF-8", yaml_text + b"x: \x07\n", ".yaml")


SETTINGS_RANGES: dict[str, Callable[[float], bool]] = {
    "request_timeout": lambda v: 0 < v <= 3600,
    "schema_sample_pages": lambda v: 1 <= v <= 100 and float(v).is_integer(),
    "schema_sample_records": lambda v: 1 <= v <= 100_000 and float(v).is_integer(),
    "max_concurrency": lambda v: 1 <= v <= 64 and float(v).is_integer(),
}
RETRY_RANGES: dict[str, Callable[[float], bool]] = {
    "max_retries": lambda v: 0 <= v <= 100 and float(v).is_integer(),
    "backoff_factor": lambda v: 0 <= v <= 60,
    "max_retry_delay": lambda v: 0 <= v <= 3600,
}
NUMBERS: dict[str, Any] = {
    "nan": math.nan,
    "inf": math.inf,
    "-inf": -math.inf,
    "-1": -1,
    "-0.5": -0.5,
    "0": 0,
    "1e308": 1e308,
    "1e999": "1e999",  # written as a JSON number: Python reads it as infinity
    "10e30": 10**30,
    "1000000": 1_000_000,
    "3601": 3601,
    "string": "10",
    "true": True,
    "null": None,
    "list": [1],
    "object": {"v": 1},
}
RETRY_LEVELS: dict[str, tuple[str | int, ...]] = {
    "client": ("client", "error_handler"),
    "defaults": ("resource_defaults", "endpoint", "error_handler"),
    "endpoint": ("resources", 0, "endpoint", "error_handler"),
}


def invalid(value: Any, in_range: Callable[[float], bool], nullable: bool = False) -> bool:
    if value is None:
        return not nullable
    if isinstance(value, bool) or not isinstance(value, int | float):
        return True
    return not math.isfinite(value) or not in_range(value)


def numbers_json(config: Config) -> bytes:
    """JSON text with NaN/Infinity written as Python's json writes them (and 1e999 raw)."""
    return json.dumps(config).replace('"1e999"', "1e999").encode()


def _set(config: Config, where: tuple[str | int, ...], value: Any) -> None:
    node: Any = config
    for part in where[:-1]:
        node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
    node[where[-1]] = value


def numeric_cases() -> Iterator[Case]:
    for key, in_range in SETTINGS_RANGES.items():
        for label, value in NUMBERS.items():
            number = math.inf if value == "1e999" else value
            if not invalid(number, in_range):
                continue
            config = {**base(), key: value}
            yield Case(
                f"{key}_{label}",
                "numeric setting",
                numbers_json(config),
                where=path_text(key),
            )
    for level, where in RETRY_LEVELS.items():
        for key, in_range in RETRY_RANGES.items():
            for label, value in NUMBERS.items():
                number = math.inf if value == "1e999" else value
                if not invalid(number, in_range):
                    continue
                config = base()
                _set(config, (*where, key), value)
                yield Case(
                    f"{level}_{key}_{label}",
                    "numeric setting",
                    numbers_json(config),
                    where=path_text(*where, key),  # resource_defaults: where it was written
                )
    for label, codes in {
        "nan": [429, math.nan],
        "negative": [429, -1],
        "99": [99],
        "600": [500, 600],
        "huge": [10**12],
        "strings": ["429"],
        "float": [429.5],
    }.items():
        config = base()
        _set(config, (*RETRY_LEVELS["endpoint"], "retry_on_status_codes"), codes)
        yield Case(
            f"retry_codes_{label}",
            "numeric setting",
            json.dumps(config).encode(),
            where=path_text(*RETRY_LEVELS["endpoint"], "retry_on_status_codes"),
        )
    for label in ("nan", "inf", "1e308", "-1"):
        value = NUMBERS[label]
        text = f"max_concurrency: {yaml.safe_dump(value).splitlines()[0]}\n".encode()
        if label == "nan":
            text = b"max_concurrency: .nan\n"
        elif label == "inf":
            text = b"max_concurrency: .inf\n"
        yield Case(
            f"yaml_max_concurrency_{label}",
            "numeric setting",
            as_yaml(base()) + text,
            ".yaml",
            path_text("max_concurrency"),
        )
    yield Case(
        "big_int_json", "numeric setting", as_json(base())[:-1] + b', "x": ' + b"9" * 5000 + b"}"
    )
    yield Case(
        "big_int_yaml", "numeric setting", as_yaml(base()) + b"x: " + b"9" * 5000 + b"\n", ".yaml"
    )


MAP_EXPRESSIONS: dict[str, str] = {
    "unclosed": f"'{SECRET}' + (",
    "dangling_op": f"'{SECRET}' +",
    "statement": f"x = '{SECRET}'",
    "two_statements": f"'{SECRET}'; 1",
    "import": f"import os; '{SECRET}'",
    "unclosed_string": f"'{SECRET}",
    "indented": f"  '{SECRET}'",
    "empty": "",
    "comment_only": f"# {SECRET}",
    "bad_subscript": f"record['{SECRET}'",
    "long_secret_prefix": "'" + "a" * 70 + f"{SECRET}' +",
    "too_nested": "(" * 300 + f"'{SECRET}'" + ")" * 300,
    "deeply_negated": "-" * 100_000 + "1",
    "null_byte": f"'{SECRET}'\x00",
}


def stream_map_cases() -> Iterator[Case]:
    for label, expression in MAP_EXPRESSIONS.items():
        for slot in ("property", "__filter__", "__alias__"):
            key = "x" if slot == "property" else slot
            if slot == "__alias__" and label in ("empty",):
                continue
            config = {**base(), "stream_maps": {"things": {key: expression}}}
            yield Case(
                f"map_{slot.strip('_')}_{label}",
                "stream_maps",
                json.dumps(config).encode(),
                where=path_text("stream_maps", "things", key),
            )
    others: dict[str, tuple[Any, tuple[str | int, ...]]] = {
        "else_value": ({"__else__": SECRET}, ("stream_maps", "__else__")),
        "unknown_option": ({"__nope__": None}, ("stream_maps", "__nope__")),
        "stream_string": ({"things": SECRET}, ("stream_maps", "things")),
        "stream_number": ({"things": 3}, ("stream_maps", "things")),
        "expression_number": ({"things": {"x": 3}}, ("stream_maps", "things", "x")),
        "expression_secret_ref": (
            {"things": {"x": {"secret": "api_token"}}},
            ("stream_maps", "things", "x"),
        ),
        "key_properties_string": (
            {"things": {"__key_properties__": "id"}},
            ("stream_maps", "things", "__key_properties__"),
        ),
        "inner_else": ({"things": {"__else__": "all"}}, ("stream_maps", "things", "__else__")),
        "inner_unknown": ({"things": {"__sorce__": "x"}}, ("stream_maps", "things", "__sorce__")),
        "source_number": ({"things": {"__source__": 5}}, ("stream_maps", "things", "__source__")),
        "filter_list": (
            {"things": {"__filter__": ["id"]}},
            ("stream_maps", "things", "__filter__"),
        ),
    }
    for label, (maps, where) in others.items():
        config = {**base(), "stream_maps": maps}
        yield Case(
            f"map_{label}", "stream_maps", json.dumps(config).encode(), where=path_text(*where)
        )
    yaml_config = {**base(), "stream_maps": {"things": {"x": f"'{SECRET}' + ("}}}
    yield Case(
        "map_yaml",
        "stream_maps",
        as_yaml(yaml_config),
        ".yaml",
        path_text("stream_maps", "things", "x"),
    )


def truncated_cases() -> Iterator[Case]:
    config = {"request_timeout": -1, **base(), "resource_defaults": {"primary_key": "id"}}
    text = json.dumps(config, indent=2).encode()
    for fraction in (0.0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99):
        cut = max(1, int(len(text) * fraction))
        yield Case(f"truncated_json_{int(fraction * 100)}", "truncated", text[:cut])
    yield Case("truncated_json_last", "truncated", text[:-1])
    yield Case("truncated_json_multibyte", "truncated", text[:-2] + "é".encode()[:1])
    yaml_text = as_yaml(config)
    for fraction in (0.1, 0.3, 0.5, 0.7, 0.9):
        cut = max(1, int(len(yaml_text) * fraction))
        # YAML may read a cut file: then its request_timeout (first) is a config error.
        yield Case(
            f"truncated_yaml_{int(fraction * 100)}", "truncated", yaml_text[:cut], ".yaml", None
        )
    flow = json.dumps(config).encode()
    for fraction in (0.2, 0.6, 0.95):
        cut = int(len(flow) * fraction)
        yield Case(
            f"truncated_flow_yaml_{int(fraction * 100)}", "truncated", flow[:cut], ".yaml", None
        )


def top_level_cases() -> Iterator[Case]:
    for label, content in {
        "list": b"[]",
        "string": b'"config"',
        "number": b"42",
        "null": b"null",
        "true": b"true",
        "empty": b"",
        "whitespace": b"   \n\t\n",
        "bom": b"\xef\xbb\xbf" + as_json(base()),
        "two_objects": as_json(base()) + as_json(base()),
        "trailing_comma": b'{"client": {"base_url": "http://127.0.0.1:9"},}',
        "single_quotes": b"{'client': {}}",
        "comments": b'// config\n{"client": {}}',
        "nan_top": b"NaN",
    }.items():
        yield Case(f"top_json_{label}", "wrong top level", content)
    surrogate = as_json(base())[:-1] + b', "client": "\\ud800"}'
    yield Case("top_json_lone_surrogate", "wrong top level", surrogate, where=path_text("client"))
    for label, content in {
        "list": b"- a\n- b\n",
        "scalar": b"config\n",
        "empty": b"",
        "comment_only": b"# nothing\n",
        "null": b"~\n",
        "two_documents": as_yaml(base()) + b"---\n" + as_yaml(base()),
        "tabs": b"client:\n\tbase_url: x\n",
        "bad_indent": b"client:\n  base_url: x\n resources: [a]\n",
        "set_tag": as_yaml(base()) + b"x: !!set {a, b}\n",
        "binary_tag": as_yaml(base()) + b"x: !!binary aGVsbG8=\n",
        "python_tag": as_yaml(base()) + b"x: !!python/object/apply:os.system [echo]\n",
        "timestamp_tag": as_yaml(base()) + b"x: !!timestamp 2024-01-01\n",
        "omap_tag": as_yaml(base()) + b"x: !!omap [a: 1]\n",
        "custom_tag": as_yaml(base()) + b"x: !secret api_token\n",
        "list_key": as_yaml(base()) + b"? [a, b]\n: 1\n",
        "map_key": as_yaml(base()) + b"? {a: 1}\n: 1\n",
    }.items():
        yield Case(f"top_yaml_{label}", "wrong top level", content, ".yaml")


def structure_cases() -> Iterator[Case]:
    settings: dict[str, tuple[Any, tuple[str | int, ...]]] = {
        "client_list": ([], ("client",)),
        "client_string": ("http://x", ("client",)),
        "client_null": (None, ("client",)),
        "resources_object": ({"a": 1}, ("resources",)),
        "resources_string": ("things", ("resources",)),
        "resources_number": (3, ("resources",)),
        "secrets_list": ([SECRET], ("secrets",)),
        "secrets_string": (SECRET, ("secrets",)),
        "start_date_number": (20240101, ("start_date",)),
        "start_date_text": ("yesterday", ("start_date",)),
        "ca_bundle_missing": ("/no/such/ca.pem", ("ca_bundle",)),
        "schema_drift_bad": ("sometimes", ("schema_drift",)),
    }
    for label, (value, where) in settings.items():
        config: Config = {**base(), str(where[0]): value}
        yield Case(f"struct_{label}", "structure", as_json(config), where=path_text(*where))
    config = base()
    config["resources"] = [1, None, [], {"name": ""}, {"endpoint": 5}]
    yield Case(
        "struct_resource_items", "structure", as_json(config), where=path_text("resources", 0)
    )
    config = base()
    config["client"]["base_url"] = f"ftp://user:{SECRET}@example.com"
    yield Case(
        "struct_base_url_secret",
        "structure",
        as_json(config),
        where=path_text("client", "base_url"),
    )
    missing = base()
    del missing["client"]
    yield Case("struct_no_client", "structure", as_json(missing), where="config")
    missing_secret = base()
    del missing_secret["secrets"]
    yield Case(
        "struct_missing_secret",
        "structure",
        as_json(missing_secret),
        where=path_text("client", "auth", "token"),
    )


def limit_cases() -> Iterator[Case]:
    text = as_json(base())
    yield Case(
        "size_json",
        "size and count limits",
        text[:-1] + b" " * (MAX_CONFIG_BYTES - len(text) + 1) + b"}",
    )
    yaml_text = as_yaml(base())
    yield Case(
        "size_yaml",
        "size and count limits",
        yaml_text + b"#" * (MAX_YAML_BYTES - len(yaml_text) + 1),
        ".yaml",
    )
    nodes = {**base(), "x": [0] * MAX_NODES}
    yield Case("nodes_json", "size and count limits", as_json(nodes))
    many_keys = {**base(), **{f"k{i}": 1 for i in range(MAX_NODES // 2)}}
    yield Case("nodes_json_keys", "size and count limits", as_json(many_keys))
    flow = "x: [" + ", ".join(["0"] * (MAX_NODES + 1)) + "]\n"
    yield Case("nodes_yaml", "size and count limits", yaml_text + flow.encode(), ".yaml")
    too_many = base()
    too_many["resources"] = [f"r{i}" for i in range(MAX_RESOURCES + 1)]
    yield Case(
        "too_many_resources",
        "size and count limits",
        as_json(too_many),
        where=path_text("resources"),
    )
    secrets = base()
    secrets["secrets"] |= {f"s{i}": f"value-{i}-xyz" for i in range(MAX_SECRET_VALUES + 1)}
    yield Case("too_many_secrets", "size and count limits", as_json(secrets), where="config")
    problems = {**base(), **{f"unknown_{i}": i for i in range(5 * MAX_ERROR_LINES)}}
    yield Case("too_many_problems", "size and count limits", as_json(problems), where="config")
    huge_key = {**base(), "k" * 3_000_000: 1}
    yield Case("huge_key", "size and count limits", as_json(huge_key), where="config['kkkk")
    huge_value = {**base(), "stream_maps": "s" * 3_000_000, "start_date": 7 * "x" * 1_000_000}
    yield Case("huge_values", "size and count limits", as_json(huge_value), where="config")
    bad_resources = base()
    bad_resources["resources"] = [{"name": i} for i in range(MAX_RESOURCES)]
    yield Case(
        "many_bad_resources",
        "size and count limits",
        as_json(bad_resources),
        where=path_text("resources", 0, "name"),
    )


def unreadable_cases() -> Iterator[Case]:
    # The content is ignored: the harness makes these a directory and a missing file.
    yield Case("unreadable_directory", "unreadable", b"")
    yield Case("unreadable_missing", "unreadable", b"")


def build_table() -> list[Case]:
    groups = (
        deep_cases,
        alias_cases,
        utf8_cases,
        numeric_cases,
        stream_map_cases,
        truncated_cases,
        top_level_cases,
        structure_cases,
        limit_cases,
        unreadable_cases,
    )
    cases = [case for group in groups for case in group()]
    names = [case.name for case in cases]
    assert len(names) == len(set(names)), [n for n, c in Counter(names).items() if c > 1]
    return cases


TABLE = build_table()
ISSUE_CASES = (
    "deep_json_1000",
    "deep_json_500",
    "recursive_self_list",
    "laughs_9_issue",
    "utf8_ff_25",
    "request_timeout_nan",
    "endpoint_max_retry_delay_1e308",
    "client_backoff_factor_1e308",
    "max_concurrency_1000000",
    "map_property_unclosed",
)


# --------------------------------------------------------------------------------------------
# Running a case


@dataclass
class Outcome:
    """What one case printed (its error lines) and how long it took."""

    case: Case
    file: str
    lines: list[str]
    seconds: float
    traceback: str = ""
    output: str = ""
    returncode: int | None = None
    hung: bool = False

    def problems(self) -> list[str]:
        """Everything wrong with the outcome (empty: the case failed cleanly)."""
        found = []
        if self.hung or self.seconds > CASE_SECONDS:
            found.append(f"took {self.seconds:.1f} s (bound {CASE_SECONDS} s)")
        if self.traceback:
            found.append(f"traceback: {self.traceback[-2000:]}")
        if self.returncode is not None and self.returncode != 1:
            found.append(f"exit status {self.returncode}")
        if not self.lines:
            found.append("no error line (accepted?)")
        found += [f"line without file or path: {line!r}" for line in self.without_path()]
        want = self.file if self.case.where == "FILE" else self.case.where
        if want is not None and not any(want in line for line in self.lines):
            found.append(f"no line names {want}: {self.lines[:5]}")
        found += [f"line of {len(line):,} characters" for line in self.lines if len(line) > LONG]
        if leaked(self.output or "\n".join(self.lines)):
            found.append("the secret appears in the output")
        return found

    def without_path(self) -> list[str]:
        return [
            line
            for line in self.lines
            if self.file not in line
            and " at config" not in line
            and " in config[" not in line
            and line != "Config validation failed"
        ]


def leaked(text: str) -> bool:
    """Whether any 10-character piece of the secret appears in ``text``."""
    return any(SECRET[i : i + 10] in text for i in range(len(SECRET) - 9))


def write_case(case: Case, directory: Path) -> Path:
    path = directory / case.file_name
    if case.name == "unreadable_directory":
        path.mkdir(exist_ok=True)
    elif case.name != "unreadable_missing":
        path.write_bytes(case.content)
    return path


def run_in_process(case: Case, directory: Path) -> Outcome:
    """The CLI's code path without the process: read the file, then validate as the tap does."""
    path = write_case(case, directory)
    start = time.monotonic()
    lines: list[str] = []
    error = ""
    try:
        config = read_config_file(str(path))
    except ValueError as exc:
        lines = [str(exc)]
    except Exception:
        error = traceback.format_exc()
    else:
        try:
            TapRestGeneric(config=config, validate_config=True, setup_mapper=False)
        except ConfigValidationError as exc:
            lines = list(exc.errors)
        except Exception:
            error = traceback.format_exc()
    seconds = time.monotonic() - start
    # What the log would print: every line passes through the redactor.
    return Outcome(case, str(path), [REDACT(line) for line in lines], seconds, error)


def run_cli(case: Case, directory: Path) -> Outcome:
    """``tap-restgeneric --config FILE [--discover]`` as a subprocess, bounded in time."""
    path = write_case(case, directory)
    command = [TAP, "--config", str(path), *(["--discover"] if case.discover else [])]
    start = time.monotonic()
    try:
        done = subprocess.run(
            command,
            check=False,
            capture_output=True,
            text=True,
            env=clean_env(),
            timeout=CASE_SECONDS,
        )
    except subprocess.TimeoutExpired:
        return Outcome(case, str(path), [], time.monotonic() - start, hung=True)
    seconds = time.monotonic() - start
    messages = [
        line.split(" | ", 3)[-1].strip() for line in done.stderr.splitlines() if " | ERROR " in line
    ]
    lines = [m.removeprefix("Config validation error: ") for m in messages]
    output = done.stdout + done.stderr
    shown = output if "Traceback" in output else ""
    outcome = Outcome(case, str(path), lines, seconds, shown, output, done.returncode)
    if done.stdout:
        outcome.traceback += f"\nstdout not empty: {done.stdout[:500]}"
    return outcome


# --------------------------------------------------------------------------------------------
# Figures


@dataclass
class Figures:
    """Counts over every case run, in-process and through the CLI."""

    configs: int = 0
    cli_runs: int = 0
    tracebacks: int = 0
    lines_without_path: int = 0
    hangs: int = 0
    leaks: int = 0
    accepted: int = 0
    slowest: float = 0.0
    slowest_case: str = ""
    categories: Counter[str] = field(default_factory=Counter)

    def count(self, outcome: Outcome, *, cli: bool) -> None:
        if cli:
            self.cli_runs += 1
        else:
            self.configs += 1
            self.categories[outcome.case.category] += 1
        self.tracebacks += bool(outcome.traceback)
        self.lines_without_path += len(outcome.without_path())
        self.hangs += outcome.hung or outcome.seconds > CASE_SECONDS
        self.leaks += leaked(outcome.output or "\n".join(outcome.lines))
        self.accepted += not outcome.lines and not outcome.traceback and not outcome.hung
        if outcome.seconds > self.slowest:
            self.slowest, self.slowest_case = outcome.seconds, outcome.case.name

    def as_dict(self) -> dict[str, Any]:
        return {
            "configs_tried": self.configs,
            "cli_runs": self.cli_runs,
            "tracebacks": self.tracebacks,
            "lines_without_path": self.lines_without_path,
            "hangs": self.hangs,
            "secret_leaks": self.leaks,
            "accepted": self.accepted,
            "slowest_case_s": round(self.slowest, 2),
            "slowest_case": self.slowest_case,
            "by_category": dict(sorted(self.categories.items())),
        }


FIGURES = Figures()


@pytest.fixture(scope="module", autouse=True)
def hostile_figures() -> Iterator[Figures]:
    """Write build/hostile_config.json after the module's tests."""
    yield FIGURES
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(json.dumps(FIGURES.as_dict(), indent=2) + "\n")


@pytest.fixture(scope="module")
def in_process(tmp_path_factory: pytest.TempPathFactory) -> list[Outcome]:
    """Every case of the table, run once in-process (and counted)."""
    directory = tmp_path_factory.mktemp("hostile")
    outcomes = []
    for case in TABLE:
        outcome = run_in_process(case, directory)
        FIGURES.count(outcome, cli=False)
        outcomes.append(outcome)
    return outcomes


def cli_subset() -> list[Case]:
    """The issue's cases plus round-robin picks over the categories, every other one --discover."""
    picked = [case for case in TABLE if case.name in ISSUE_CASES]
    by_category: dict[str, list[Case]] = {}
    for case in TABLE:
        if case not in picked and not case.name.startswith(("size_", "nodes_yaml")):
            by_category.setdefault(case.category, []).append(case)
    groups = [cases[::3] + cases[1::3] + cases[2::3] for _, cases in sorted(by_category.items())]
    while len(picked) < CLI_CASES and any(groups):
        for group in groups:
            if group and len(picked) < CLI_CASES:
                picked.append(group.pop(0))
    return [
        Case(c.name, c.category, c.content, c.suffix, c.where, discover=bool(i % 2))
        for i, c in enumerate(picked)
    ]


# --------------------------------------------------------------------------------------------
# The table's tests


def test_table_has_every_kind_of_hostile_config() -> None:
    assert len(TABLE) >= MIN_CASES, len(TABLE)
    categories = Counter(case.category for case in TABLE)
    assert set(categories) == {
        "deep nesting",
        "alias bomb",
        "not UTF-8",
        "numeric setting",
        "stream_maps",
        "truncated",
        "wrong top level",
        "structure",
        "size and count limits",
        "unreadable",
    }, categories
    assert all(name in {case.name for case in TABLE} for name in ISSUE_CASES)


def test_every_hostile_config_fails_cleanly_in_process(in_process: list[Outcome]) -> None:
    """Each case: error lines naming the file or a path, no exception, no secret, in time."""
    failures = {o.case.name: o.problems() for o in in_process if o.problems()}
    assert not failures, json.dumps(failures, indent=2)[:6000]


def test_hostile_configs_fail_cleanly_through_the_cli(tmp_path: Path) -> None:
    """A representative subset as files for the real CLI: exit 1, one line each, no traceback."""
    cases = cli_subset()
    assert len(cases) >= CLI_CASES
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(lambda case: run_cli(case, tmp_path), cases))
    for outcome in outcomes:
        FIGURES.count(outcome, cli=True)
    failures = {o.case.name: o.problems() for o in outcomes if o.problems()}
    assert not failures, json.dumps(failures, indent=2)[:6000]


def test_figures_are_written(in_process: list[Outcome]) -> None:
    figures = FIGURES.as_dict()
    assert figures["configs_tried"] == len(in_process) == len(TABLE)
    assert figures["configs_tried"] >= MIN_CASES
    for name in ("tracebacks", "lines_without_path", "hangs", "secret_leaks", "accepted"):
        assert figures[name] == 0, figures


# --------------------------------------------------------------------------------------------
# The messages of the issue's cases, exactly


def lines_for(content: bytes, tmp_path: Path, suffix: str = ".json") -> tuple[str, list[str]]:
    outcome = run_in_process(Case("probe", "probe", content, suffix), tmp_path)
    assert not outcome.traceback, outcome.traceback
    return outcome.file, outcome.lines


def test_not_utf8_names_the_file_line_and_column(tmp_path: Path) -> None:
    content = b'{"client": {"base_url":\n  "\xff"}}'
    file, lines = lines_for(content, tmp_path)
    assert lines == [
        f"config file {file} is not UTF-8 text: byte 0xff at line 2 column 4 (byte 27) cannot "
        "be decoded (invalid start byte); expected a file saved as UTF-8"
    ]


def test_json_nested_too_deep_names_line_and_column(tmp_path: Path) -> None:
    file, lines = lines_for(b'{"a":\n' + b"[" * 1000 + b"]" * 1000 + b"}", tmp_path)
    assert lines == [
        f"config file {file}: nested more than {MAX_DEPTH} levels deep at line 2 column 100; "
        f"expected at most {MAX_DEPTH} levels of objects and lists"
    ]


def test_nesting_up_to_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "edge.json"
    path.write_bytes(b'{"a": ' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}")
    assert read_config_file(str(path))["a"]
    path.write_bytes(b'{"a": ' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}")
    with pytest.raises(ValueError, match="nested more than 100 levels"):
        read_config_file(str(path))


def test_billion_laughs_is_refused_at_the_alias_quickly(tmp_path: Path) -> None:
    start = time.monotonic()
    file, lines = lines_for(laughs(9, 9), tmp_path, ".yaml")
    assert time.monotonic() - start < 2
    assert lines == [
        f"config file {file}: more than {MAX_NODES:,} nodes (*l4 expands to 13,942) at line 6 "
        f"column 40; expected at most {MAX_NODES:,} nodes (objects, lists, keys and values, "
        "aliases expanded)"
    ]


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    file, lines = lines_for(b"a: &a [*a]\n", tmp_path, ".yaml")
    assert lines == [
        f"config file {file}: the alias *a refers to a node that contains it at line 1 column 8; "
        "expected aliases to nodes that do not contain them (no recursive aliases)"
    ]


def test_yaml_reads_as_json_data(tmp_path: Path) -> None:
    """Anchors within the limits work; keys are strings; timestamps stay strings."""
    path = tmp_path / "ok.yaml"
    path.write_text(
        "defaults: &d {primary_key: id, endpoint: {params: {per_page: 100}}}\n"
        "resource_defaults: *d\n"
        "start_date: 2024-01-01T00:00:00Z\n"
        "on: yes\n"
        "200: ok\n"
        "merged: {<<: *d, name: x}\n"
    )
    data = read_config_file(str(path))
    assert data["resource_defaults"] == {
        "primary_key": "id",
        "endpoint": {"params": {"per_page": 100}},
    }
    assert data["start_date"] == "2024-01-01T00:00:00Z"
    assert data["on"] is True
    assert data["200"] == "ok"
    assert data["merged"]["name"] == "x" and data["merged"]["primary_key"] == "id"


def test_numeric_limits_are_inclusive() -> None:
    """The documented maxima themselves are accepted."""
    config = base()
    config |= {
        "request_timeout": 3600,
        "max_concurrency": 64,
        "schema_sample_pages": 100,
        "schema_sample_records": 100_000,
    }
    config["client"]["error_handler"] = {
        "max_retries": 100,
        "backoff_factor": 60,
        "max_retry_delay": 3600,
        "retry_on_status_codes": [100, 599],
    }
    spec = resolve_config(config)
    assert spec.max_concurrency == 64
    assert spec.request_timeout == 3600
    config |= {"request_timeout": 0.001, "max_concurrency": 1}
    assert resolve_config(config).request_timeout == 0.001


def test_nan_timeout_is_a_config_error() -> None:
    with pytest.raises(ConfigValidationError) as caught:
        resolve_config({**base(), "request_timeout": math.nan})
    assert caught.value.errors == [
        "not a finite number: got nan; expected a number above 0 and at most 3600 at "
        "config['request_timeout']"
    ]


def test_huge_concurrency_is_a_config_error() -> None:
    with pytest.raises(ConfigValidationError) as caught:
        resolve_config({**base(), "max_concurrency": 1_000_000})
    assert caught.value.errors == [
        "out of range: got 1000000; expected an integer from 1 to 64 at config['max_concurrency']"
    ]


def test_stream_map_error_is_a_redacted_path_line() -> None:
    config = {**base(), "stream_maps": {"things": {"x": "'" + "a" * 70 + SECRET + "' + ("}}}
    with pytest.raises(ConfigValidationError) as caught:
        resolve_config(config, ["stream_maps"])
    [line] = caught.value.errors
    assert line.startswith("invalid stream map expression \"'aaaa")
    assert line.endswith(" at config['stream_maps']['things']['x']")
    assert not leaked(line), line  # cut after redaction: not even a piece of the secret


def test_valid_stream_maps_pass() -> None:
    maps = {
        "things": {
            "double": "id * 2",
            "__filter__": "id > 1",
            "__alias__": "things_v2",
            "dropped": None,
            "gone": "__NULL__",
            "__key_properties__": ["id"],
        },
        "other*": {"__source__": "things", "y": "str(id)"},
        "__else__": None,
    }
    resolve_config({**base(), "stream_maps": maps}, ["stream_maps"])


def test_too_many_problems_end_with_a_count_line() -> None:
    config = {**base(), **{f"unknown_{i}": i for i in range(250)}}
    with pytest.raises(ConfigValidationError) as caught:
        resolve_config(config)
    lines = caught.value.errors
    assert len(lines) == MAX_ERROR_LINES + 1
    assert lines[-1] == (
        f"150 more problems are not listed; expected at most {MAX_ERROR_LINES} problems per run "
        "at config"
    )


# --------------------------------------------------------------------------------------------
# The last resort


def test_unforeseen_error_is_one_redacted_line(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tap-restgeneric-test")
    REDACT.add(SECRET)
    with (
        caplog.at_level(logging.DEBUG, logger="tap-restgeneric-test"),
        pytest.raises(SystemExit) as exit_,
        clean_failures(logger),
    ):
        raise RuntimeError(f"boom with {SECRET}\nand a second line")
    assert exit_.value.code == 1
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert errors == [
        "unexpected error: RuntimeError: boom with *** and a second line (log level DEBUG shows "
        "the traceback)"
    ]
    assert len(debug) == 1 and "Traceback (most recent call last)" in debug[0]
    assert not leaked("\n".join(errors + debug))


def test_unforeseen_error_in_the_cli_has_its_traceback_only_at_debug(tmp_path: Path) -> None:
    """A catalog whose streams are not a list fails inside the SDK: one line, traceback at
    DEBUG (the secret is in the catalog file's name)."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps(base()))
    catalog = tmp_path / f"catalog-{SECRET}.json"
    catalog.write_text('{"streams": 5}')
    command = [TAP, "--config", str(config), "--catalog", str(catalog)]
    runs = {}
    for level in ("INFO", "DEBUG"):
        runs[level] = subprocess.run(
            command,
            check=False,
            capture_output=True,
            text=True,
            env=clean_env(LOGLEVEL=level),
            timeout=CASE_SECONDS,
        )
    for level, done in runs.items():
        assert done.returncode == 1, done.stderr[-2000:]
        assert done.stdout == ""
        assert not leaked(done.stderr), level
        errors = [line for line in done.stderr.splitlines() if " | ERROR " in line]
        assert len(errors) == 1, done.stderr[-2000:]
        assert "unexpected error: TypeError: " in errors[0]
    assert "Traceback" not in runs["INFO"].stderr
    assert "Traceback (most recent call last)" in runs["DEBUG"].stderr


@pytest.mark.parametrize(
    ("option", "text", "problem"),
    [
        ("--state", '{"bookmarks": ', "is not valid JSON: Expecting value at line 1 column 15"),
        ("--state", "[1]", "must hold a JSON object, not list"),
        ("--catalog", '{"streams": [', "is not valid JSON: Expecting value at line 1 column 14"),
    ],
)
def test_state_or_catalog_file_that_is_no_json_object_is_one_line_naming_it(
    tmp_path: Path, option: str, text: str, problem: str
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(base()))
    given = tmp_path / "given.json"
    given.write_text(text)
    done = subprocess.run(
        [TAP, "--config", str(config), option, str(given)],
        check=False,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=CASE_SECONDS,
    )
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if " | ERROR " in line]
    assert [e.split("| ")[-1] for e in errors] == [f"{option[2:]} file {given} {problem}"]
    assert "Traceback" not in done.stderr
