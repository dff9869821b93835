"""The tap's command line as a user (or Meltano) runs it: --about, --discover, --catalog, --state,
--test, config errors and runtime failures, each in a subprocess against the demo API."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli import clean_env, example, file_limited, run_tap, secret_variables
from faults import FaultServer

from tap_restgeneric.cli import CLOSED_STDOUT, STDOUT_FAILED
from tap_restgeneric.demo import DemoServer

TAP = [sys.executable, "-m", "tap_restgeneric.tap"]
SCRIPT = Path(sys.executable).with_name("tap-restgeneric")
SEED_000_STREAMS = ["crm_contacts", "signing_links", "user", "user_modified_documents"]
SEED_000_COUNTS = {"crm_contacts": 45, "signing_links": 23, "user": 1, "user_modified_documents": 7}
UNROUTABLE = "http://127.0.0.1:9"  # discard port: nothing listens, a request would fail at once


@pytest.fixture(scope="module")
def api() -> Iterator[DemoServer]:
    """A demo API of this module's own, without injected 429/503s (no Retry-After sleeps)."""
    with DemoServer(port=0, faults=False) as server:
        yield server


def tap(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m tap_restgeneric.tap *args`` with a clean environment."""
    return subprocess.run(
        [*TAP, *args],
        check=False,
        capture_output=True,
        text=True,
        env=env or clean_env(),
        timeout=120,
    )


def write_config(tmp_path: Path, config: dict[str, Any], name: str = "config.json") -> str:
    """Write a config file and return its path."""
    path = tmp_path / name
    path.write_text(json.dumps(config))
    return str(path)


def lines_with(text: str, *parts: str) -> list[str]:
    """The lines of ``text`` that contain every one of ``parts``."""
    return [line for line in text.splitlines() if all(part in line for part in parts)]


def assert_no_traceback(stderr: str) -> None:
    """The run ended without a Python traceback."""
    assert "Traceback" not in stderr, stderr[-3000:]


# --about -------------------------------------------------------------------------------------


def test_about_plain() -> None:
    done = tap("--about")
    assert done.returncode == 0, done.stderr
    assert "Name: tap-restgeneric" in done.stdout
    assert "Capabilities:" in done.stdout
    assert "Settings:" in done.stdout
    assert "- Name: client" in done.stdout
    assert_no_traceback(done.stderr)


def test_about_console_script() -> None:
    """The ``tap-restgeneric`` console script next to the interpreter is the same CLI."""
    if not SCRIPT.exists():
        pytest.skip(f"console script not installed at {SCRIPT}")
    done = subprocess.run(
        [str(SCRIPT), "--about", "--format", "json"],
        check=False,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["name"] == "tap-restgeneric"


def test_about_json() -> None:
    done = tap("--about", "--format", "json")
    assert done.returncode == 0, done.stderr
    about = json.loads(done.stdout)
    assert about["name"] == "tap-restgeneric"
    assert about["description"]
    capabilities = set(about["capabilities"])
    assert {"discover", "state", "catalog", "about", "stream-maps"} <= capabilities
    settings = about["settings"]
    properties = settings["properties"]
    for name in ("client", "resources", "secrets", "start_date", "request_timeout"):
        assert name in properties, name
        assert properties[name].get("description"), name
    assert set(settings["required"]) >= {"client", "resources"}
    assert properties["secrets"]["secret"] is True
    assert properties["secrets"]["writeOnly"] is True
    for name in ("client", "resources", "start_date", "request_timeout"):
        assert not properties[name].get("secret"), name
    assert properties["request_timeout"]["default"] == 60
    assert properties["start_date"]["format"] == "date-time"


def test_about_markdown() -> None:
    done = tap("--about", "--format", "markdown")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith("# `tap-restgeneric`")
    assert "## Settings" in text
    header = "| Setting | Required | Default | Description |"
    assert header in text
    rows = [line for line in text.splitlines() if line.startswith("| client |")]
    assert len(rows) == 1
    assert "| True |" in rows[0]
    assert any(line.startswith("| resources | True |") for line in text.splitlines())
    table = [line for line in text.splitlines() if line.startswith("|")]
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert "\n".join(table) in readme, "README's settings table differs from --about"


# --discover ----------------------------------------------------------------------------------


def check_seed_000_catalog(stdout: str) -> dict[str, Any]:
    """Stdout is exactly one catalog JSON document with the seed 000 streams."""
    catalog: dict[str, Any] = json.loads(stdout)  # fails on any non-JSON line
    streams = catalog["streams"]
    assert sorted(s["tap_stream_id"] for s in streams) == SEED_000_STREAMS
    for stream in streams:
        assert stream["key_properties"] == ["id"], stream["tap_stream_id"]
        schema = stream["schema"]
        assert schema["type"] == "object"
        assert schema["additionalProperties"] is True
        assert "id" in schema["properties"]
        root = [m for m in stream["metadata"] if m["breadcrumb"] == []]
        assert root[0]["metadata"]["table-key-properties"] == ["id"]
    return catalog


def test_discover_samples_the_first_page_of_each_stream(api: DemoServer, tmp_path: Path) -> None:
    """Schema inference: one request per stream (its first page), nothing more."""
    before = len(api.requests)
    done = tap(
        "--config", write_config(tmp_path, example("seed_000_analytics", api.url)), "--discover"
    )
    assert done.returncode == 0, done.stderr
    check_seed_000_catalog(done.stdout)
    sampled = sorted((r["path"], str(r["query"])) for r in api.requests[before:])
    assert sampled == [
        ("/s000/user", "{}"),
        ("/s000/user/documentsv2", "{}"),
        ("/s000/v2/application/signing-links", "{'page': ['0'], 'per_page': ['20']}"),
        ("/s000/v2/crm/contacts", "{'page': ['0'], 'per_page': ['20']}"),
    ]
    assert_no_traceback(done.stderr)


def test_discover_works_with_no_api_reachable(tmp_path: Path) -> None:
    config = example("seed_000_analytics", UNROUTABLE)
    done = tap("--config", write_config(tmp_path, config), "--discover")
    assert done.returncode == 0, done.stderr
    check_seed_000_catalog(done.stdout)
    warnings = [line for line in done.stderr.splitlines() if "could not sample" in line]
    assert len(warnings) == 4
    assert "Stream 'crm_contacts': could not sample records to infer a schema" in done.stderr
    assert_no_traceback(done.stderr)


def test_discover_catalog_does_not_contain_secrets(api: DemoServer, tmp_path: Path) -> None:
    done = tap(
        "--config", write_config(tmp_path, example("seed_000_analytics", api.url)), "--discover"
    )
    assert done.returncode == 0, done.stderr
    assert "demo-key-000" not in done.stdout
    assert "demo-token-000" not in done.stdout


# config errors -------------------------------------------------------------------------------

MISSING_SECRET = "tap_restgeneric_cli_test_missing"


def bad_config(base_url: str) -> dict[str, Any]:
    """A config with four problems in four places."""
    return {
        "client": {"base_url": base_url, "auth": {"type": "api_kee", "api_key": "x" * 12}},
        "resources": [
            {"name": "a", "endpoint": {"path": "/a", "paginator": {"type": "page_numbr"}}},
            {
                "name": "b",
                "endpoint": {
                    "path": "/b",
                    "paginator": {"type": "cursor", "stop_condition": "{{ response.get( }}"},
                },
            },
            {
                "name": "c",
                "endpoint": {"path": "/c", "headers": {"X-Key": {"secret": MISSING_SECRET}}},
            },
        ],
    }


EXPECTED_PROBLEMS: list[tuple[str, ...]] = [
    (
        "unknown paginator type 'page_numbr' (did you mean 'page_number'?); expected one of ",
        "'single_page'",
        " at config['resources'][0]['endpoint']['paginator']['type']",
    ),
    (
        "unknown auth type 'api_kee' (did you mean 'api_key'?); expected one of ",
        "'bearer'",
        " at config['client']['auth']['type']",
    ),
    (
        "template does not parse",
        " at config['resources'][1]['endpoint']['paginator']['stop_condition']",
    ),
    (
        f"secret {MISSING_SECRET!r} is not set; expected it in "
        f"config['secrets'][{MISSING_SECRET!r}] or one of the environment variables "
        f"{secret_variables(MISSING_SECRET)} "
        "at config['resources'][2]['endpoint']['headers']['X-Key']",
    ),
]


def check_config_errors(
    done: subprocess.CompletedProcess[str], api: DemoServer, before: int
) -> None:
    """Exit 1, one stderr line per problem, no traceback, nothing on stdout, no request."""
    assert done.returncode == 1, done.stderr
    assert_no_traceback(done.stderr)
    assert done.stdout == ""
    for parts in EXPECTED_PROBLEMS:
        assert len(lines_with(done.stderr, *parts)) == 1, (parts, done.stderr)
    assert len(api.requests) == before


@pytest.mark.parametrize("mode", [[], ["--discover"]], ids=["sync", "discover"])
def test_bad_config_reports_every_problem(mode: list[str], api: DemoServer, tmp_path: Path) -> None:
    before = len(api.requests)
    done = tap("--config", write_config(tmp_path, bad_config(api.url + "/s000")), *mode)
    check_config_errors(done, api, before)


def test_bad_config_under_test_mode(api: DemoServer, tmp_path: Path) -> None:
    before = len(api.requests)
    done = tap("--config", write_config(tmp_path, bad_config(api.url + "/s000")), "--test")
    check_config_errors(done, api, before)


def test_missing_required_settings(tmp_path: Path) -> None:
    done = tap("--config", write_config(tmp_path, {"client": "not-an-object"}))
    assert done.returncode == 1
    assert_no_traceback(done.stderr)
    assert done.stdout == ""
    assert lines_with(done.stderr, "'resources'")
    assert lines_with(done.stderr, " at config['client']")


def test_malformed_json_config(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"client": {"base_url": "http://127.0.0.1:9"},, "resources": []}')
    done = tap("--config", str(path))
    assert done.returncode == 1
    assert_no_traceback(done.stderr)
    assert done.stdout == ""
    assert str(path) in done.stderr or "config" in done.stderr.lower()


def test_missing_config_file(tmp_path: Path) -> None:
    done = tap("--config", str(tmp_path / "nowhere.json"))
    assert done.returncode != 0
    assert_no_traceback(done.stderr)
    assert "nowhere.json" in done.stderr


def test_yaml_config_file(api: DemoServer, tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(example("seed_000_analytics", api.url)))
    done = tap("--config", str(path), "--discover")
    assert done.returncode == 0, done.stderr[-2000:]
    check_seed_000_catalog(done.stdout)


# --catalog and --state -----------------------------------------------------------------------


def test_catalog_with_deselected_stream(api: DemoServer, tmp_path: Path) -> None:
    config_path = write_config(tmp_path, example("seed_000_analytics", api.url))
    discovered = tap("--config", config_path, "--discover")
    assert discovered.returncode == 0, discovered.stderr
    catalog = json.loads(discovered.stdout)
    for stream in catalog["streams"]:
        if stream["tap_stream_id"] == "crm_contacts":
            for entry in stream["metadata"]:
                if entry["breadcrumb"] == []:
                    entry["metadata"]["selected"] = False
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    before = len(api.requests)
    run = run_tap(example("seed_000_analytics", api.url), tmp_path, "--catalog", str(catalog_path))
    assert run.returncode == 0, run.stderr[-2000:]
    selected = [s for s in SEED_000_STREAMS if s != "crm_contacts"]
    assert sorted(run.records) == selected
    assert sorted(run.schemas) == selected
    for stream in selected:
        assert len(run.records[stream]) == SEED_000_COUNTS[stream], stream
    contacts = [r for r in api.requests[before:] if r["path"].endswith("/crm/contacts")]
    assert contacts == [], "a deselected stream was requested"


def test_state_round_trip(api: DemoServer, tmp_path: Path) -> None:
    config = example("seed_000_analytics", api.url)
    first = run_tap(config, tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.states, "a full-table run emits STATE messages"
    last = first.states[-1]
    assert set(last["bookmarks"]) == set(SEED_000_STREAMS)
    assert "progress_markers" not in json.dumps(last)
    second = run_tap(config, tmp_path, state=last)
    assert second.returncode == 0, second.stderr[-2000:]
    assert_no_traceback(second.stderr)
    assert {s: len(r) for s, r in second.records.items()} == SEED_000_COUNTS
    assert second.states[-1] == last


# --test --------------------------------------------------------------------------------------


def test_connection_test(api: DemoServer, tmp_path: Path) -> None:
    before = len(api.requests)
    done = tap("--config", write_config(tmp_path, example("seed_000_analytics", api.url)), "--test")
    assert done.returncode == 0, done.stderr[-2000:]
    assert_no_traceback(done.stderr)
    made = api.requests[before:]
    assert 1 <= len(made) <= len(SEED_000_STREAMS), made
    assert all(r["status"] == 200 for r in made)
    messages = [json.loads(line) for line in done.stdout.splitlines()]
    records = [m for m in messages if m["type"] == "RECORD"]
    assert len(records) <= len(SEED_000_STREAMS)


def test_schema_test_prints_schemas_only(api: DemoServer, tmp_path: Path) -> None:
    """--test=schema infers like --discover (one first-page request per stream), then SCHEMAs."""
    before = len(api.requests)
    config_path = write_config(tmp_path, example("seed_000_analytics", api.url))
    done = tap("--config", config_path, "--test=schema")
    assert done.returncode == 0, done.stderr[-2000:]
    messages = [json.loads(line) for line in done.stdout.splitlines()]
    assert {m["type"] for m in messages} == {"SCHEMA"}
    assert sorted(m["stream"] for m in messages) == SEED_000_STREAMS
    assert all(m["key_properties"] == ["id"] for m in messages)
    assert len(api.requests) == before + len(SEED_000_STREAMS)
    contacts = next(m["schema"] for m in messages if m["stream"] == "crm_contacts")
    assert contacts["properties"]["updated_at"] == {"type": ["string"], "format": "date-time"}


# runtime failures ----------------------------------------------------------------------------


def wrong_credentials(base_url: str) -> dict[str, Any]:
    """Seed 000 with credentials the demo rejects (401)."""
    config = example("seed_000_analytics", base_url)
    config["secrets"] = {"api_key_id": "wrong-key-000", "auth_token": "wrong-token-000"}
    return config


def check_401(stderr: str, port: int, streams: int | None = None) -> None:
    """One clear line per failed stream: stream, redacted URL, status and the body excerpt.

    Streams synced side by side can each fail before the first failure stops the others, so
    there are 1 to ``max_concurrency`` lines unless ``streams`` says how many.
    """
    assert_no_traceback(stderr)
    pattern = re.compile(
        rf"stream '(\w+)': GET http://127\.0\.0\.1:{port}/\S+ failed with status 401"
    )
    matching = [line for line in stderr.splitlines() if pattern.search(line)]
    assert matching, stderr[-3000:]
    assert streams is None or len(matching) == streams, stderr[-3000:]
    failed = []
    for line in matching:
        assert '{"error": "unauthorized"}' in line
        found = pattern.search(line)
        assert found is not None
        failed.append(found.group(1))
    assert len(set(failed)) == len(failed) and set(failed) <= set(SEED_000_STREAMS)
    assert len(lines_with(stderr, "failed with status 401")) == len(matching)


def test_wrong_credentials_fail_with_one_line_per_stream(api: DemoServer, tmp_path: Path) -> None:
    run = run_tap(wrong_credentials(api.url), tmp_path)
    assert run.returncode == 1
    check_401(run.stderr, api.port)
    assert run.records == {}


def test_wrong_credentials_one_stream_at_a_time_fail_with_one_line(
    api: DemoServer, tmp_path: Path
) -> None:
    run = run_tap({**wrong_credentials(api.url), "max_concurrency": 1}, tmp_path)
    assert run.returncode == 1
    check_401(run.stderr, api.port, streams=1)
    assert run.records == {}


def test_wrong_credentials_under_test_mode(api: DemoServer, tmp_path: Path) -> None:
    done = tap("--config", write_config(tmp_path, wrong_credentials(api.url)), "--test")
    assert done.returncode == 1
    check_401(done.stderr, api.port)


@pytest.mark.parametrize("streams", ["seed_003_basic", "seed_004_offset"])
def test_reader_closing_stdout_is_one_line_and_exit_1(
    demo: DemoServer, tmp_path: Path, streams: str
) -> None:
    """The target dies mid-run (its stdin closed): one line saying so, exit 1, no traceback
    and no 'Exception ignored' at exit; every stream stops (several side by side)."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(example(streams, demo.url)))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tap_restgeneric.tap", "--config", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()  # the first SCHEMA, then the reader is gone
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    errors = [line for line in stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, stderr[-3000:]
    assert errors[0].endswith(CLOSED_STDOUT)
    assert "Traceback" not in stderr and "Exception ignored" not in stderr


@pytest.mark.parametrize("streams", ["seed_003_basic", "seed_004_offset"])
def test_stdout_a_full_disk_is_one_line_and_exit_1(
    demo: DemoServer, tmp_path: Path, streams: str
) -> None:
    """Stdout a file that can take no more (capped at 4,000 bytes, as a full disk): one line
    saying so, exit 1, no traceback — it was 'unexpected error: OSError'."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(example(streams, demo.url)))
    tap = [sys.executable, "-m", "tap_restgeneric.tap", "--config", str(path)]
    with (tmp_path / "out.jsonl").open("wb") as out:
        done = subprocess.run(
            file_limited(4000, tap),
            stdout=out,
            stderr=subprocess.PIPE,
            env=clean_env(),
            timeout=60,
            check=False,
        )
    stderr = done.stderr.decode()
    assert done.returncode == 1
    errors = [line for line in stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, stderr[-3000:]
    assert errors[0].endswith(f"cannot write to stdout (File too large): {STDOUT_FAILED}")
    assert "Traceback" not in stderr and "Exception ignored" not in stderr


def test_ctrl_c_during_preview_is_one_line_and_exit_130(tmp_path: Path) -> None:
    """Ctrl-C while ``restgeneric preview`` walks pages: the stop line, no traceback."""
    with FaultServer({"/items": 2000}, auth=None, page_delay=0.3) as api:
        endpoint = {"path": "items", "data_selector": "data", "paginator": {"type": "header_link"}}
        config = {
            "client": {"base_url": api.url},
            "resources": [{"name": "items", "endpoint": endpoint}],
        }
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        proc = subprocess.Popen(
            [sys.executable, "-m", "tap_restgeneric.tools", "preview", str(path), "--pages", "50"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(),
        )
        deadline = time.monotonic() + 30
        while len(api.log("/items")) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGINT, err[-2000:]
    assert "Traceback" not in err + out
    assert "stopped by SIGINT before the end" in err
