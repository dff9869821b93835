"""Schemas end to end: the tap's CLI against the demo API (and target-jsonl for drift).

* ``--discover`` on every example config: stable output, correct types, keys and replication
  keys; usable when the API is down or rejects the sample calls; sampling settings honoured.
* A sync of every example, without and with the discovered catalog: every RECORD validates
  against the SCHEMA written for its stream before it.
* Each drift policy through ``tap-restgeneric | target-jsonl`` (target-jsonl validates every
  record against the SCHEMA it received).
* A second run given ``--state`` but no catalog types every field as the first run did (CLI,
  target-jsonl; a child stream and an empty sample in-process with requests-mock).

The CLI runs of the per-example tests are made once per module, a few at a time, to keep the
module fast; each test then checks one example's runs.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests_mock
from cli import EXAMPLES, clean_env, example, tool
from helpers import BASE_URL, resource
from helpers import sync as sync_in_process

from tap_restgeneric.demo import DemoServer
from tap_restgeneric.demo.data import DATASETS, records
from tap_restgeneric.demo.shop import SHOP_MISSING_ORDER, shop_events, shop_items, shop_orders
from tap_restgeneric.records.inference import infer_schema

# jsonschema (installed with singer-sdk) ships no type stubs.
Draft7Validator: Any = importlib.import_module("jsonschema").Draft7Validator

Message = dict[str, Any]
Catalog = dict[str, Any]
T = TypeVar("T")

NAMES = sorted(path.stem for path in EXAMPLES.glob("*.json"))
INCREMENTAL = {
    "seed_000_incremental": {"crm_contacts", "signing_links"},
    "seed_003_incremental": {"customers"},
}
SAMPLE_WARNING = "could not sample records to infer a schema"
PERMISSIVE_ID = {"type": ["string", "integer"]}

# --------------------------------------------------------------------------------------------
# What every example's streams hold (from tap_restgeneric/demo): field → expected type.
# "date-time" is a string with that format; ("array", item) an array; a dict an object with
# those properties. Nullability is left to the data sampled: only the non-null types are fixed.

Spec = Any
STAMPS: dict[str, Spec] = {"created_at": "date-time", "updated_at": "date-time"}
S000_USER: dict[str, Spec] = {
    "id": "string",
    "email": "string",
    "first_name": "string",
    "last_name": "string",
    "role": "string",
    "is_active": "boolean",
    "team": {"id": "integer", "name": "string"},
    **STAMPS,
}
S000_DOCUMENT: dict[str, Spec] = {
    "id": "integer",
    "title": "string",
    "status": "string",
    "page_count": "integer",
    "is_signed": "boolean",
    "template_id": "integer",
    "tags": ("array", "string"),
    **STAMPS,
}
S000_CONTACT: dict[str, Spec] = {
    "id": "integer",
    "first_name": "string",
    "last_name": "string",
    "email": "string",
    "phone": "string",
    "lifetime_value": "number",
    "is_subscribed": "boolean",
    "address": {"city": "string", "country": "string"},
    **STAMPS,
}
S000_SIGNING_LINK: dict[str, Spec] = {
    "id": "integer",
    "document_id": "integer",
    "signer_email": "string",
    "url": "string",
    "expires_at": "date-time",
    "opened": "boolean",
    **STAMPS,
}
S000 = {
    "user": ("s000_user", S000_USER),
    "user_modified_documents": ("s000_documents", S000_DOCUMENT),
    "crm_contacts": ("s000_contacts", S000_CONTACT),
    "signing_links": ("s000_signing_links", S000_SIGNING_LINK),
}
S003 = {
    "account": (
        "s003_account",
        {
            "id": "string",
            "name": "string",
            "plan": "string",
            "seats": "integer",
            "settings": {
                "timezone": "string",
                "currency": "string",
                "two_factor_required": "boolean",
            },
            **STAMPS,
        },
    ),
    "customers": (
        "s003_customers",
        {
            "id": "integer",
            "customer_id": "string",
            "name": "string",
            "email": "string",
            "balance": "number",
            "delinquent": "boolean",
            "metadata": {"segment": "string"},
            **STAMPS,
        },
    ),
    "custom_fields": (
        "s003_custom_fields",
        {
            "id": "integer",
            "key": "string",
            "label": "string",
            "field_type": "string",
            "required": "boolean",
            "options": ("array", "string"),
            **STAMPS,
        },
    ),
}
S004_CUSTOM_FIELD: dict[str, Spec] = {
    "id": "integer",
    "name": "string",
    "object_type": "string",
    "type": "string",
    "accepts_multiple_values": "boolean",
    "choices": ("array", "string"),
    **STAMPS,
}
SHOP_ORDER: dict[str, Spec] = {
    "id": "integer",
    "number": "string",
    "customer": {"id": "integer", "email": "string"},
    "status": "string",
    **STAMPS,
}
SHOP_ITEMS = [item for order in shop_orders() for item in shop_items(order["id"])]

EXPECTED: dict[str, dict[str, tuple[int, dict[str, Spec]]]] = {
    "seed_000_analytics": {s: (DATASETS[d], shape) for s, (d, shape) in S000.items()},
    "seed_000_incremental": {s: (DATASETS[d], shape) for s, (d, shape) in S000.items()},
    "seed_001_cursor": {
        "appointment_links": (
            DATASETS["s001_appointmentlinks"],
            {
                "id": "integer",
                "slug": "string",
                "title": "string",
                "duration_minutes": "integer",
                "is_active": "boolean",
                "host_user_key": "string",
                **STAMPS,
            },
        ),
        "code_snippets": (
            DATASETS["s001_codesnippets"],
            {
                "id": "integer",
                "name": "string",
                "language": "string",
                "content_length": "integer",
                "is_published": "boolean",
                "description": "string",
                **STAMPS,
            },
        ),
        "insights_reports": (
            DATASETS["s001_insightsreports"],
            {
                "id": "integer",
                "name": "string",
                "metric": "string",
                "value": "number",
                "dimensions": ("array", "string"),
                "is_shared": "boolean",
                **STAMPS,
            },
        ),
    },
    "seed_002_bearer": {
        "resource_name": (
            DATASETS["s002_resource"],
            {
                "id": "integer",
                "name": "string",
                "category": "string",
                "quantity": "integer",
                "unit_price": "number",
                "archived": "boolean",
                "owner": {"user_key": "string", "team": "string"},
                **STAMPS,
            },
        ),
    },
    "seed_003_basic": {s: (DATASETS[d], shape) for s, (d, shape) in S003.items()},
    "seed_003_incremental": {s: (DATASETS[d], shape) for s, (d, shape) in S003.items()},
    "seed_004_offset": {
        "users": (
            DATASETS["s004_user"],
            {
                "id": "integer",
                "user_key": "string",
                "email": "string",
                "display_name": "string",
                "is_admin": "boolean",
                "last_login_at": "date-time",
                "login_count": "integer",
                **STAMPS,
            },
        ),
        **{
            f"{kind}_custom_fields": (
                DATASETS[f"s004_custom_field_{kind}"],
                S004_CUSTOM_FIELD,
            )
            for kind in ("lead", "contact", "opportunity", "activity")
        },
    },
    "shop_parent_child": {
        "orders": (len(shop_orders()), SHOP_ORDER),
        "order_details": (
            len(shop_orders()) - (1 if len(shop_orders()) >= SHOP_MISSING_ORDER else 0),
            {**SHOP_ORDER, "total": "number", "currency": "string"},
        ),
        "order_items": (
            len(SHOP_ITEMS),
            {
                "id": "string",
                "order_id": "integer",
                "sku": "string",
                "qty": "integer",
                "price": "number",
                "updated_at": "date-time",
                "_orders_number": "string",
            },
        ),
        "item_events": (
            sum(len(shop_events(item["id"])) for item in SHOP_ITEMS),
            {
                "id": "string",
                "item_id": "string",
                "kind": "string",
                "at": "date-time",
                "_order_items_order_id": "integer",
            },
        ),
    },
}


# --------------------------------------------------------------------------------------------
# Running the CLI


def tap_command(config: Path, *args: str) -> list[str]:
    """``python -m tap_restgeneric.tap --config config args``."""
    return [sys.executable, "-m", "tap_restgeneric.tap", "--config", str(config), *args]


def run(command: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command with a clean environment, capturing its output."""
    return subprocess.run(
        command,
        check=False,
        capture_output=True,
        text=True,
        env=clean_env(),
        input=stdin,
        timeout=120,
    )


def write_json(path: Path, value: Any) -> Path:
    """Write ``value`` as JSON to ``path`` and return the path."""
    path.write_text(json.dumps(value))
    return path


def in_parallel(jobs: Mapping[str, Callable[[], T]]) -> dict[str, T]:
    """Run independent CLI jobs a few at a time; the results by key."""
    with ThreadPoolExecutor(max_workers=max(2, min(4, os.cpu_count() or 2))) as pool:
        futures = {key: pool.submit(job) for key, job in jobs.items()}
        return {key: future.result() for key, future in futures.items()}


def messages_of(stdout: str) -> list[Message]:
    """The Singer messages of a tap's stdout."""
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def entries(catalog: Catalog) -> dict[str, dict[str, Any]]:
    """The catalog's entries by stream id."""
    return {entry["tap_stream_id"]: entry for entry in catalog["streams"]}


def stream_metadata(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The stream-level (empty breadcrumb) metadata of a catalog entry."""
    found: dict[str, Any] = next(m["metadata"] for m in entry["metadata"] if m["breadcrumb"] == [])
    return found


def free_port() -> int:
    """A loopback port nothing listens on (bound, read and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def no_traceback(stderr: str) -> None:
    """A run's stderr holds no Python traceback."""
    assert "Traceback" not in stderr, stderr[-3000:]


# --------------------------------------------------------------------------------------------
# Fixtures: one demo API and every example's runs, once per module


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    """A fault-free demo API for this module."""
    with DemoServer(port=0, faults=False) as api:
        yield api


@dataclass
class Discovery:
    """Two ``--discover`` runs of one example and the config file they used."""

    config: Path
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]

    @property
    def catalog(self) -> Catalog:
        """The catalog of the first run."""
        catalog: Catalog = json.loads(self.first.stdout)
        return catalog


@dataclass
class Timed:
    """A finished run and how long it took."""

    done: subprocess.CompletedProcess[str]
    seconds: float


def timed(command: list[str]) -> Timed:
    """Run a command and time it."""
    started = time.monotonic()
    done = run(command)
    return Timed(done, time.monotonic() - started)


DOWN = ("seed_003_basic", "shop_parent_child")
"""Examples also discovered with nothing listening at their base_url."""


@pytest.fixture(scope="module")
def first_runs(server: DemoServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Timed]:
    """Every ``--discover`` of the module, run together (the API-down ones mostly wait).

    "name:1", "name:2": twice for every example config; "down:name": for the DOWN examples
    with their base_url at a loopback port nothing listens on.
    """
    jobs: dict[str, Callable[[], Timed]] = {}
    for name in NAMES:
        folder = tmp_path_factory.mktemp(name)
        path = write_json(folder / "config.json", example(name, server.url))
        for n in (1, 2):
            jobs[f"{name}:{n}"] = partial(timed, tap_command(path, "--discover"))
    port = free_port()
    for name in DOWN:
        path = write_json(
            tmp_path_factory.mktemp(f"down_{name}") / "config.json",
            example(name, f"http://127.0.0.1:{port}"),
        )
        jobs[f"down:{name}"] = partial(timed, tap_command(path, "--discover"))
    return in_parallel(jobs)


@pytest.fixture(scope="module")
def discoveries(first_runs: dict[str, Timed]) -> dict[str, Discovery]:
    """``--discover`` twice for every example config."""
    found: dict[str, Discovery] = {}
    for name in NAMES:
        first, second = first_runs[f"{name}:1"].done, first_runs[f"{name}:2"].done
        found[name] = Discovery(Path(first.args[first.args.index("--config") + 1]), first, second)
    return found


@pytest.fixture(scope="module")
def down(first_runs: dict[str, Timed]) -> Timed:
    """``--discover`` of seed 003 (basic) with nothing listening at its base_url."""
    return first_runs["down:seed_003_basic"]


@pytest.fixture(scope="module")
def syncs(
    discoveries: dict[str, Discovery], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, subprocess.CompletedProcess[str]]:
    """A sync of every example without a catalog ("name:none") and with the discovered one."""
    jobs: dict[str, Callable[[], subprocess.CompletedProcess[str]]] = {}
    for name, found in discoveries.items():
        assert found.first.returncode == 0, found.first.stderr[-3000:]
        catalog = write_json(tmp_path_factory.mktemp(name) / "catalog.json", found.catalog)
        jobs[f"{name}:none"] = partial(run, tap_command(found.config))
        jobs[f"{name}:catalog"] = partial(run, tap_command(found.config, "--catalog", str(catalog)))
    return in_parallel(jobs)


# --------------------------------------------------------------------------------------------
# --discover on every example


@pytest.mark.parametrize("name", NAMES)
def test_discover_is_stable(name: str, discoveries: dict[str, Discovery]) -> None:
    found = discoveries[name]
    for done in (found.first, found.second):
        assert done.returncode == 0, done.stderr[-3000:]
        no_traceback(done.stderr)
        assert SAMPLE_WARNING not in done.stderr
    assert found.first.stdout == found.second.stdout
    assert sorted(entries(found.catalog)) == sorted(EXPECTED[name])


def check_type(schema: Mapping[str, Any], spec: Spec, where: str) -> None:
    """The property schema types what ``spec`` describes (non-null types exactly)."""
    kind = schema.get("type")
    assert kind is not None, f"{where}: untyped {schema}"
    kinds = {kind} if isinstance(kind, str) else set(kind)
    kinds.discard("null")
    if isinstance(spec, dict):
        assert kinds == {"object"}, f"{where}: {schema}"
        assert set(schema.get("properties") or {}) == set(spec), f"{where}: {schema}"
        for field, inner in spec.items():
            check_type(schema["properties"][field], inner, f"{where}.{field}")
    elif isinstance(spec, tuple):
        assert kinds == {"array"}, f"{where}: {schema}"
        check_type(schema["items"], spec[1], f"{where}[]")
    elif spec == "date-time":
        assert kinds == {"string"}, f"{where}: {schema}"
        assert schema.get("format") == "date-time", f"{where}: {schema}"
    else:
        assert kinds == {spec}, f"{where}: {schema}"
        assert "format" not in schema, f"{where}: {schema}"


@pytest.mark.parametrize("name", NAMES)
def test_discovered_types(name: str, discoveries: dict[str, Discovery]) -> None:
    catalog = entries(discoveries[name].catalog)
    for stream, (_, shape) in EXPECTED[name].items():
        schema = catalog[stream]["schema"]
        assert set(schema["properties"]) == set(shape), stream
        for field, spec in shape.items():
            check_type(schema["properties"][field], spec, f"{stream}.{field}")
        assert schema["properties"]["id"]["type"] == [
            "string" if shape["id"] == "string" else "integer"
        ], stream


def test_discovered_types_of_the_shop_parent(discoveries: dict[str, Discovery]) -> None:
    """The shop's parent stream (sampled whatever the order) is typed like every seed's."""
    schema = entries(discoveries["shop_parent_child"].catalog)["orders"]["schema"]
    assert set(schema["properties"]) == set(SHOP_ORDER)
    for field, spec in SHOP_ORDER.items():
        check_type(schema["properties"][field], spec, f"orders.{field}")


@pytest.mark.parametrize("name", NAMES)
def test_discovered_keys(name: str, discoveries: dict[str, Discovery]) -> None:
    incremental = INCREMENTAL.get(name, set())
    for stream, entry in entries(discoveries[name].catalog).items():
        meta = stream_metadata(entry)
        assert entry["key_properties"] == ["id"], stream
        assert meta["table-key-properties"] == ["id"], stream
        assert entry["schema"]["required"] == ["id"], stream
        if stream in incremental:
            assert entry["replication_key"] == "updated_at", stream
            assert entry["replication_method"] == "INCREMENTAL", stream
            assert meta["replication-key"] == "updated_at", stream
            assert meta["valid-replication-keys"] == ["updated_at"], stream
            updated = entry["schema"]["properties"]["updated_at"]
            assert updated == {"type": ["string"], "format": "date-time"}, stream
        else:
            assert entry.get("replication_key") is None, stream
            assert entry["replication_method"] == "FULL_TABLE", stream
            assert "replication-key" not in meta, stream
            assert "valid-replication-keys" not in meta, stream


# --------------------------------------------------------------------------------------------
# Syncs: every RECORD validates against the latest SCHEMA written before it


def validate(messages: list[Message]) -> tuple[dict[str, int], dict[str, list[dict[str, Any]]]]:
    """Validate every RECORD against its stream's latest SCHEMA; records counted, schemas seen."""
    latest: dict[str, dict[str, Any]] = {}
    seen: dict[str, list[dict[str, Any]]] = {}
    counts: dict[str, int] = {}
    for message in messages:
        stream = message.get("stream", "")
        if message["type"] == "SCHEMA":
            latest[stream] = message["schema"]
            seen.setdefault(stream, []).append(message["schema"])
            Draft7Validator.check_schema(message["schema"])
        elif message["type"] == "RECORD":
            assert stream in latest, f"RECORD of {stream!r} before its SCHEMA"
            errors = list(Draft7Validator(latest[stream]).iter_errors(message["record"]))
            assert not errors, f"{stream}: {message['record']} → {errors[0].message}"
            counts[stream] = counts.get(stream, 0) + 1
    return counts, seen


@pytest.mark.parametrize("mode", ["none", "catalog"])
@pytest.mark.parametrize("name", NAMES)
def test_sync_records_validate(
    name: str,
    mode: str,
    syncs: dict[str, subprocess.CompletedProcess[str]],
    discoveries: dict[str, Discovery],
) -> None:
    done = syncs[f"{name}:{mode}"]
    assert done.returncode == 0, done.stderr[-3000:]
    no_traceback(done.stderr)
    counts, seen = validate(messages_of(done.stdout))
    expected = {stream: count for stream, (count, _) in EXPECTED[name].items()}
    assert counts == expected
    assert sum(counts.values()) > 0
    for stream, written in seen.items():
        # SCHEMA is written once, then only when it changes.
        assert all(a != b for a, b in itertools.pairwise(written)), stream
    if mode == "catalog":
        catalog = entries(discoveries[name].catalog)
        for stream, written in seen.items():
            assert written[0] == catalog[stream]["schema"], stream


def test_sync_records_validate_count(syncs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    """How many records the validation above covers: every example, both modes."""
    checked = sum(sum(validate(messages_of(done.stdout))[0].values()) for done in syncs.values())
    expected = 2 * sum(count for streams in EXPECTED.values() for count, _ in streams.values())
    assert checked == expected
    print(f"validated {checked} records against the SCHEMA written before them")


@pytest.mark.parametrize("name", NAMES)
def test_sync_with_and_without_catalog_write_the_same_records(
    name: str, syncs: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    def written(mode: str) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for message in messages_of(syncs[f"{name}:{mode}"].stdout):
            if message["type"] == "RECORD":
                out.setdefault(message["stream"], []).append(message["record"])
        return out

    assert written("none") == written("catalog")


def test_test_schema_prints_the_discovered_schemas(discoveries: dict[str, Discovery]) -> None:
    found = discoveries["seed_003_basic"]
    done = run(tap_command(found.config, "--test=schema"))
    assert done.returncode == 0, done.stderr[-3000:]
    printed = {m["stream"]: m for m in messages_of(done.stdout)}
    assert {m["type"] for m in printed.values()} == {"SCHEMA"}
    for stream, entry in entries(found.catalog).items():
        assert printed[stream]["schema"] == entry["schema"], stream
        assert printed[stream]["key_properties"] == ["id"]


# --------------------------------------------------------------------------------------------
# Discovery when the API is down or rejects the sample calls


def test_discover_with_the_api_down(down: Timed) -> None:
    done = down.done
    assert done.returncode == 0, done.stderr[-3000:]
    no_traceback(done.stderr)
    # Sampling retries once, briefly: the default retries would take minutes per stream.
    assert down.seconds < 40, f"discovery took {down.seconds:.1f} s"
    warned = [line for line in done.stderr.splitlines() if SAMPLE_WARNING in line]
    streams = sorted(EXPECTED["seed_003_basic"])
    assert sorted(re.findall(r"Stream '(\w+)'", "\n".join(warned))) == streams
    assert all("WARNING" in line and "permissive schema" in line for line in warned)
    retries = [line for line in done.stderr.splitlines() if "retry " in line]
    assert len(retries) <= len(streams)
    catalog = entries(json.loads(done.stdout))
    assert sorted(catalog) == streams
    for entry in catalog.values():
        assert entry["schema"] == {
            "type": "object",
            "properties": {"id": PERMISSIVE_ID},
            "required": ["id"],
            "additionalProperties": True,
        }
        assert entry["key_properties"] == ["id"]


def test_discover_with_the_api_down_warns_for_child_streams_too(
    first_runs: dict[str, Timed],
) -> None:
    done = first_runs["down:shop_parent_child"].done
    assert done.returncode == 0, done.stderr[-3000:]
    no_traceback(done.stderr)
    warned = [line for line in done.stderr.splitlines() if SAMPLE_WARNING in line]
    named = sorted(re.findall(r"Stream '(\w+)'", "\n".join(warned)))
    assert named == sorted(EXPECTED["shop_parent_child"])


def test_discover_with_rejected_sample_calls(server: DemoServer, tmp_path: Path) -> None:
    config = example("seed_003_basic", server.url)
    config["secrets"]["password"] = "wrong"
    before = len(server.requests)
    done = run(tap_command(write_json(tmp_path / "config.json", config), "--discover"))
    assert done.returncode == 0, done.stderr[-3000:]
    no_traceback(done.stderr)
    made = server.requests[before:]
    assert [r["status"] for r in made] == [401] * 3  # no retry of a 401
    warned = [line for line in done.stderr.splitlines() if SAMPLE_WARNING in line]
    assert len(warned) == 3
    assert all("401" in line for line in warned)
    for entry in entries(json.loads(done.stdout)).values():
        assert entry["schema"]["properties"] == {"id": PERMISSIVE_ID}
        assert entry["schema"]["additionalProperties"] is True


def test_catalog_discovered_while_down_still_syncs(
    server: DemoServer, down: Timed, tmp_path: Path
) -> None:
    """The permissive catalog of a failed discovery: the sync evolves it, records validate."""
    assert down.done.returncode == 0, down.done.stderr[-3000:]
    catalog = write_json(tmp_path / "catalog.json", json.loads(down.done.stdout))
    config = write_json(tmp_path / "config.json", example("seed_003_basic", server.url))
    done = run(tap_command(config, "--catalog", str(catalog)))
    assert done.returncode == 0, done.stderr[-3000:]
    counts, seen = validate(messages_of(done.stdout))
    assert counts == {stream: count for stream, (count, _) in EXPECTED["seed_003_basic"].items()}
    for stream, written in seen.items():
        assert len(written) >= 2, stream  # the permissive one, then evolved ones
        assert written[0]["properties"] == {"id": PERMISSIVE_ID}
        assert set(written[-1]["properties"]) == set(EXPECTED["seed_003_basic"][stream][1])


# --------------------------------------------------------------------------------------------
# Sampling settings


def sampled(server: DemoServer, tmp_path: Path, **settings: Any) -> tuple[Catalog, list[Any]]:
    """Discover seed 003 (basic) with ``settings``; the catalog and the requests it made."""
    config = {**example("seed_003_basic", server.url), **settings}
    before = len(server.requests)
    done = run(tap_command(write_json(tmp_path / "config.json", config), "--discover"))
    assert done.returncode == 0, done.stderr[-3000:]
    return entries(json.loads(done.stdout)), server.requests[before:]


def test_discover_samples_one_page_by_default(server: DemoServer, tmp_path: Path) -> None:
    _, made = sampled(server, tmp_path)
    customers = [r for r in made if r["path"] == "/s003/v1/customers"]
    assert len(customers) == 1
    assert "cursor" not in customers[0]["query"]


def test_schema_sample_pages_2(server: DemoServer, tmp_path: Path) -> None:
    _, made = sampled(server, tmp_path, schema_sample_pages=2)
    customers = [r for r in made if r["path"] == "/s003/v1/customers"]
    assert len(customers) == 2  # of the 3 pages of 50
    assert "cursor" not in customers[0]["query"]
    assert customers[1]["query"]["cursor"][0]
    assert [r["status"] for r in customers] == [200, 200]
    # A one-page stream is requested once; single_page once.
    assert len([r for r in made if r["path"] == "/s003/v1/custom-fields"]) == 1
    assert len([r for r in made if r["path"] == "/s003/v1/account"]) == 1


def test_schema_sample_records(server: DemoServer, tmp_path: Path) -> None:
    """Only the first N records are used: a field null in record 1 is a nullable guess."""
    config = {**example("seed_000_analytics", server.url), "schema_sample_records": 1}
    done = run(tap_command(write_json(tmp_path / "config.json", config), "--discover"))
    assert done.returncode == 0, done.stderr[-3000:]
    documents = entries(json.loads(done.stdout))["user_modified_documents"]["schema"]
    first = infer_schema(records("s000_documents")[:1])["properties"]
    every = infer_schema(records("s000_documents"))["properties"]
    assert first["template_id"] != every["template_id"]  # the test means something
    assert documents["properties"]["template_id"] == first["template_id"]
    contacts = entries(json.loads(done.stdout))["crm_contacts"]["schema"]
    assert contacts["properties"]["phone"] == {"type": ["string"]}  # null only in record 4


# --------------------------------------------------------------------------------------------
# Each drift policy through target-jsonl

DRIFTED = {"id": 131, "name": 123, "vip": True}
"""Appended to s003_customers (on the last page): a new field and a changed type."""


@pytest.fixture(scope="module")
def drift_api() -> Iterator[DemoServer]:
    """A demo API whose s003_customers ends with a drifting record."""
    with DemoServer(port=0, faults=False) as api:
        base = records("s003_customers")[-1]
        api.add("s003_customers", {**base, **DRIFTED})
        yield api


@pytest.fixture(scope="module")
def drift_catalog(drift_api: DemoServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The discovered catalog of seed 003 (first page sampled: the drift is not in it)."""
    folder = tmp_path_factory.mktemp("drift")
    config = write_json(folder / "config.json", example("seed_003_basic", drift_api.url))
    done = run(tap_command(config, "--discover"))
    assert done.returncode == 0, done.stderr[-3000:]
    customers = entries(json.loads(done.stdout))["customers"]["schema"]
    assert "vip" not in customers["properties"]
    assert customers["properties"]["name"] == {"type": ["string"]}
    return write_json(folder / "catalog.json", json.loads(done.stdout))


@dataclass
class Piped:
    """``tap | target-jsonl``: both exit statuses, stderr, the tap's stdout, the files."""

    tap_code: int
    tap_stderr: str
    tap_stdout: str
    target_code: int
    target_stderr: str
    out: Path

    def lines(self, stream: str) -> list[dict[str, Any]]:
        """The records target-jsonl wrote for a stream."""
        path = self.out / f"{stream}.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]


def target_config(folder: Path) -> Path:
    """target-jsonl config writing <stream>.jsonl files into ``folder/out``."""
    out = folder / "out"
    out.mkdir()
    return write_json(
        folder / "target.json", {"destination_path": str(out), "do_timestamp_file": False}
    )


def pipe(config: dict[str, Any], folder: Path, *tap_args: str) -> Piped:
    """Run ``tap --config … tap_args | target-jsonl --config …`` (stdout teed for checks)."""
    target = tool("target-jsonl", "TARGET_JSONL", ".venv-target")
    tap_config = write_json(folder / "config.json", config)
    with (folder / "tap.err").open("w") as tap_err, (folder / "target.err").open("w") as tgt_err:
        tap_proc = subprocess.Popen(
            tap_command(tap_config, *tap_args),
            stdout=subprocess.PIPE,
            stderr=tap_err,
            env=clean_env(),
        )
        target_proc = subprocess.Popen(
            [target, "--config", str(target_config(folder))],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=tgt_err,
            env=clean_env(),
        )
        teed: list[bytes] = []

        def forward() -> None:
            assert tap_proc.stdout is not None and target_proc.stdin is not None
            for line in tap_proc.stdout:
                teed.append(line)
                try:
                    target_proc.stdin.write(line)
                except BrokenPipeError:
                    break
            with contextlib.suppress(BrokenPipeError):
                target_proc.stdin.close()

        thread = threading.Thread(target=forward)
        thread.start()
        tap_code = tap_proc.wait(timeout=120)
        thread.join(timeout=120)
        target_code = target_proc.wait(timeout=120)
    return Piped(
        tap_code,
        (folder / "tap.err").read_text(),
        b"".join(teed).decode(),
        target_code,
        (folder / "target.err").read_text(),
        folder / "out",
    )


def drift_config(api: DemoServer, policy: str) -> dict[str, Any]:
    """Seed 003 (basic) with the schema_drift setting."""
    return {**example("seed_003_basic", api.url), "schema_drift": policy}


def test_drift_evolve_through_target_jsonl(
    drift_api: DemoServer, drift_catalog: Path, tmp_path: Path
) -> None:
    piped = pipe(drift_config(drift_api, "evolve"), tmp_path, "--catalog", str(drift_catalog))
    assert piped.tap_code == 0, piped.tap_stderr[-3000:]
    assert piped.target_code == 0, piped.target_stderr[-3000:]
    customers = piped.lines("customers")
    assert [r["id"] for r in customers] == list(range(1, 132))
    assert customers[-1]["vip"] is True
    assert customers[-1]["name"] == 123
    assert all("vip" not in r for r in customers[:-1])
    messages = messages_of(piped.tap_stdout)
    order = [
        (m["type"], m.get("record", {}).get("id"))
        for m in messages
        if m.get("stream") == "customers"
    ]
    # The updated SCHEMA comes before the drifting record (written with its page: page 3).
    evolved_at = order.index(("SCHEMA", None), 1)
    assert order.index(("RECORD", 100)) < evolved_at < order.index(("RECORD", 131))
    assert order.count(("SCHEMA", None)) == 2
    evolved = [m["schema"] for m in messages if m["type"] == "SCHEMA"][-1]
    assert "boolean" in evolved["properties"]["vip"]["type"]
    assert set(evolved["properties"]["name"]["type"]) >= {"integer", "string"}

    # target-jsonl does validate: without the evolved SCHEMA it rejects the drifted record.
    first_schema_seen = False
    kept: list[str] = []
    for line in piped.tap_stdout.splitlines():
        message = json.loads(line)
        if message["type"] == "SCHEMA" and message["stream"] == "customers":
            if first_schema_seen:
                continue
            first_schema_seen = True
        kept.append(line)
    target = tool("target-jsonl", "TARGET_JSONL", ".venv-target")
    control = tmp_path / "control"
    control.mkdir()
    rejected = run([target, "--config", str(target_config(control))], "\n".join(kept) + "\n")
    assert rejected.returncode != 0
    assert "ValidationError" in rejected.stderr


def test_drift_freeze_through_target_jsonl(
    drift_api: DemoServer, drift_catalog: Path, tmp_path: Path
) -> None:
    piped = pipe(drift_config(drift_api, "freeze"), tmp_path, "--catalog", str(drift_catalog))
    assert piped.tap_code == 0, piped.tap_stderr[-3000:]
    assert piped.target_code == 0, piped.target_stderr[-3000:]
    customers = piped.lines("customers")
    assert [r["id"] for r in customers] == list(range(1, 132))
    last = customers[-1]
    assert "vip" not in last
    assert "name" not in last
    base = records("s003_customers")[-1]
    assert last == {k: v for k, v in base.items() if k != "name"} | {"id": 131}
    assert all(isinstance(r["name"], str) for r in customers[:-1])
    schemas = [m for m in messages_of(piped.tap_stdout) if m["type"] == "SCHEMA"]
    assert [m["stream"] for m in schemas].count("customers") == 1
    warned = [line for line in piped.tap_stderr.splitlines() if "is not in the schema" in line]
    assert len(warned) == 2, warned
    assert any("'customers'" in line and "'vip'" in line for line in warned)
    assert any("'customers'" in line and "'name'" in line for line in warned)


def test_drift_fail_through_target_jsonl(
    drift_api: DemoServer, drift_catalog: Path, tmp_path: Path
) -> None:
    piped = pipe(drift_config(drift_api, "fail"), tmp_path, "--catalog", str(drift_catalog))
    assert piped.tap_code == 1
    no_traceback(piped.tap_stderr)
    failing = [line for line in piped.tap_stderr.splitlines() if "schema_drift is 'fail'" in line]
    assert len(failing) == 1, piped.tap_stderr[-3000:]
    assert failing[0].endswith(
        "stream 'customers': a record has fields not in the schema or of another type: "
        "name, vip (schema_drift is 'fail')"
    )
    assert 131 not in [r["id"] for r in piped.lines("customers")]
    assert piped.target_code == 0, piped.target_stderr[-3000:]


# --------------------------------------------------------------------------------------------
# A second run given --state but no catalog types every field as the first run did
#
# Without a catalog an undeclared schema is typed from the first page synced; a bookmark would
# make that page hold only new records (or none), so a stream with one is typed from the page a
# run without state starts with, sampled before its sync.

LATER = "2025-06-01T12:00:00Z"
INITIAL = "2024-01-01T00:00:00Z"
"""seed_003_incremental's initial_value for customers."""


def epoch(iso: str) -> str:
    """Epoch seconds of an ISO timestamp, as the demo's query string carries it."""
    return str(int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()))


def schemas_of(messages: list[Message], stream: str) -> list[dict[str, Any]]:
    """The schema of every SCHEMA message of a stream, in order."""
    return [m["schema"] for m in messages if m["type"] == "SCHEMA" and m["stream"] == stream]


def records_of(messages: list[Message], stream: str) -> list[dict[str, Any]]:
    """The records of a stream, in order."""
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def final_state(messages: list[Message]) -> dict[str, Any]:
    """The value of the last STATE message (what a runner stores)."""
    value: dict[str, Any] = [m["value"] for m in messages if m["type"] == "STATE"][-1]
    return value


def customers_since(api: DemoServer, since: int) -> list[str | None]:
    """updated_at_gte of each request for customers made from request ``since`` on."""
    made = api.requests[since:]
    return [
        (r["query"].get("updated_at_gte") or [None])[0]
        for r in made
        if r["path"] == "/s003/v1/customers"
    ]


def test_second_run_with_state_and_no_new_records_types_like_the_first(tmp_path: Path) -> None:
    with DemoServer(port=0, faults=False) as api:
        config = write_json(tmp_path / "config.json", example("seed_003_incremental", api.url))
        first = run(tap_command(config))
        sent_first = customers_since(api, 0)
        assert first.returncode == 0, first.stderr[-3000:]
        one = messages_of(first.stdout)
        state = write_json(tmp_path / "state.json", final_state(one))
        before = len(api.requests)
        second = run(tap_command(config, "--state", str(state)))
        sent_second = customers_since(api, before)
    assert second.returncode == 0, second.stderr[-3000:]
    no_traceback(second.stderr)
    assert SAMPLE_WARNING not in second.stderr
    two = messages_of(second.stdout)
    newest = max(r["updated_at"] for r in records("s003_customers"))
    assert final_state(one)["bookmarks"]["customers"]["replication_key_value"] == newest

    for stream in ("account", "customers", "custom_fields"):
        assert len(schemas_of(one, stream)) == 1, stream
        assert schemas_of(two, stream) == schemas_of(one, stream), stream
    assert schemas_of(two, "customers")[0]["properties"]["id"] == {"type": ["integer"]}

    # Run 1 (no bookmark) typed customers from its first page: no request of its own.
    assert sent_first == [epoch(INITIAL)] * 3  # 130 records, pages of 50
    # Run 2 samples that page (from initial_value), then syncs from the bookmark.
    assert sent_second == [epoch(INITIAL), epoch(newest)]
    assert records_of(two, "customers") == []  # everything is older than the bookmark
    assert records_of(two, "account") == records_of(one, "account")
    assert records_of(two, "custom_fields") == records_of(one, "custom_fields")
    assert final_state(two)["bookmarks"]["customers"] == final_state(one)["bookmarks"]["customers"]
    validate(two)


def test_second_run_with_state_through_target_jsonl(tmp_path: Path) -> None:
    """tap | target-jsonl twice, the second run given the first one's STATE: both load."""
    with DemoServer(port=0, faults=False) as api:
        config = example("seed_003_incremental", api.url)
        (tmp_path / "first").mkdir()
        first = pipe(config, tmp_path / "first")
        one = messages_of(first.tap_stdout)
        state = write_json(tmp_path / "state.json", final_state(one))
        (tmp_path / "second").mkdir()
        second = pipe(config, tmp_path / "second", "--state", str(state))
    for piped in (first, second):
        assert piped.tap_code == 0, piped.tap_stderr[-3000:]
        assert piped.target_code == 0, piped.target_stderr[-3000:]
    two = messages_of(second.tap_stdout)
    assert schemas_of(two, "customers") == schemas_of(one, "customers")
    assert schemas_of(two, "customers")[0]["properties"]["id"] == {"type": ["integer"]}
    assert sorted(r["id"] for r in first.lines("customers")) == list(range(1, 131))
    assert second.lines("customers") == []
    assert second.lines("account") == first.lines("account")
    assert second.lines("custom_fields") == first.lines("custom_fields")


def test_second_run_with_a_field_null_in_every_new_record_keeps_its_type(tmp_path: Path) -> None:
    with DemoServer(port=0, faults=False) as api:
        config = write_json(tmp_path / "config.json", example("seed_003_incremental", api.url))
        first = run(tap_command(config))
        assert first.returncode == 0, first.stderr[-3000:]
        one = messages_of(first.stdout)
        base = records("s003_customers")[-1]
        for new_id in (131, 132):
            api.add("s003_customers", {**base, "id": new_id, "balance": None, "updated_at": LATER})
        state = write_json(tmp_path / "state.json", final_state(one))
        second = run(tap_command(config, "--state", str(state)))
    assert second.returncode == 0, second.stderr[-3000:]
    two = messages_of(second.stdout)
    written = records_of(two, "customers")
    assert [r["id"] for r in written] == [131, 132]
    assert [r["balance"] for r in written] == [None, None]
    (typed,) = schemas_of(one, "customers")
    assert typed["properties"]["balance"] == {"type": ["number"]}
    # Typed as in run 1 (from a first page of new records it would be ["string", "null"]);
    # the null values then only make it nullable (schema drift: evolve).
    first_schema, *evolved = schemas_of(two, "customers")
    assert first_schema == typed
    nullable = {"type": ["number", "null"]}
    assert evolved == [{**typed, "properties": {**typed["properties"], "balance": nullable}}]
    counts, _ = validate(two)
    assert counts["customers"] == 2


def day(n: int) -> str:
    """``2024-01-<n>T00:00:00Z``."""
    return f"2024-01-{n:02d}T00:00:00Z"


def test_child_of_a_bookmarked_parent_types_like_the_first_run() -> None:
    """The child's first page synced would be a new parent's: it is sampled like discovery."""
    posts = resource(
        "posts",
        paginator="single_page",
        incremental={"cursor_path": "updated_at", "initial_value": day(1), "start_param": "since"},
    )
    comments = resource("comments", "posts/{resources.posts.id}/comments", paginator="single_page")
    cfg = {"client": {"base_url": BASE_URL}, "resources": [posts, comments]}
    served = [{"id": 1, "updated_at": day(2)}, {"id": 2, "updated_at": day(3)}]
    pages = {1: [{"id": 10, "score": 5, "note": "ok"}], 2: [{"id": 20, "score": 7}]}

    def since(request: Any, context: Any) -> list[dict[str, Any]]:
        start = request.qs["since"][0].upper()
        return [p for p in served if p["updated_at"] >= start]

    def serve(mocker: requests_mock.Mocker) -> None:
        mocker.get(f"{BASE_URL}/posts", json=since)
        for post, body in pages.items():
            mocker.get(f"{BASE_URL}/posts/{post}/comments", json=body)

    with requests_mock.Mocker() as mocker:
        serve(mocker)
        one = sync_in_process(cfg)
    (typed,) = schemas_of(one, "comments")
    assert typed["properties"]["score"] == {"type": ["integer"]}  # from post 1's comments

    served.append({"id": 3, "updated_at": day(4)})
    pages[3] = [{"id": 30, "score": None, "note": None}]
    with requests_mock.Mocker() as mocker:
        serve(mocker)
        two = sync_in_process(cfg, state=final_state(one))
        sampled = [r.path for r in mocker.request_history]
    first_schema, *evolved = schemas_of(two, "comments")
    assert first_schema == typed  # from a first page of post 3: score ["string", "null"]
    assert evolved[-1]["properties"]["score"] == {"type": ["integer", "null"]}
    assert schemas_of(two, "posts")[0] == schemas_of(one, "posts")[0]
    assert [r["id"] for r in records_of(two, "posts")] == [3]
    assert [r["id"] for r in records_of(two, "comments")] == [30]
    # posts sampled from initial_value, post 1's comments, then the sync (new posts only).
    assert sampled == ["/posts", "/posts/1/comments", "/posts", "/posts/3/comments"]
    validate(two)


def test_bookmarked_stream_with_an_empty_sample_is_typed_from_its_first_page() -> None:
    """Sampling got no records: the first page synced types the stream, as without sampling."""
    items = resource(
        "items",
        paginator="single_page",
        incremental={"cursor_path": "updated_at", "initial_value": day(1), "start_param": "since"},
    )
    cfg = {"client": {"base_url": BASE_URL}, "resources": [{**items, "primary_key": "id"}]}
    state = {
        "bookmarks": {"items": {"replication_key": "updated_at", "replication_key_value": day(3)}}
    }
    with requests_mock.Mocker() as mocker:
        mocker.get(
            f"{BASE_URL}/items",
            [{"json": []}, {"json": [{"id": 5, "updated_at": day(4)}]}],
        )
        messages = sync_in_process(cfg, state=state)
        since = [r.qs["since"][0].upper() for r in mocker.request_history]
    assert since == [day(1), day(3)]
    (schema,) = schemas_of(messages, "items")
    assert schema["properties"]["id"] == {"type": ["integer"]}
    assert [r["id"] for r in records_of(messages, "items")] == [5]
