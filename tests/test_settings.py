"""Settings as Meltano and in-process callers pass them (issue 14 §3).

The tap built from a dict leaves that dict as it was. Numeric settings work from
``TAP_RESTGENERIC_*`` environment variables (``--config ENV``); text that is no number is one
config error line. No secret is kept in meltano.yml (``meltano config list`` shows none) and
``.env``, where ``meltano config set`` writes them, is ignored by git. No dependency installs a
module that one of the SDK's installs too (``backoff`` and the SDK's ``python-backoff``).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from itertools import islice
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import requests
import tomllib
import yaml
from cli import clean_env, example, jsonl_ids, meltano, meltano_run
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from singer_sdk.configuration import _dict_config as dict_config

from tap_restgeneric.config.settings import DEFAULT_CONCURRENCY
from tap_restgeneric.config.spec import RetrySpec
from tap_restgeneric.demo import DemoServer
from tap_restgeneric.demo.server import TOUCH_PATH
from tap_restgeneric.http.requester import _waits
from tap_restgeneric.tap import TapRestGeneric

TAP = [sys.executable, "-m", "tap_restgeneric.tap"]

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "meltano_settings.py"


def sample_config() -> dict[str, Any]:
    """The repo's sample config, with its secret given."""
    config: dict[str, Any] = json.loads((ROOT / "sample_config.json").read_text())
    config["secrets"] = {"api_key_id": "k", "auth_token": "t"}
    return config


def test_config_dict_passed_in_is_not_modified() -> None:
    config = sample_config()
    before = copy.deepcopy(config)
    tap = TapRestGeneric(config=config, parse_env_config=False)
    assert config == before
    assert "request_timeout" not in config
    assert tap.config["request_timeout"] == 60  # the tap's own copy has the defaults


# numeric settings from the environment --------------------------------------------------------

NUMERIC_ENV = {
    "TAP_RESTGENERIC_REQUEST_TIMEOUT": "5",
    "TAP_RESTGENERIC_MAX_CONCURRENCY": "2",
    "TAP_RESTGENERIC_SCHEMA_SAMPLE_PAGES": "2",
    "TAP_RESTGENERIC_SCHEMA_SAMPLE_RECORDS": "50",
}


@pytest.fixture(scope="module")
def api() -> Iterator[DemoServer]:
    """A demo API of this module's own, without injected 429/503s."""
    with DemoServer(port=0, faults=False) as server:
        yield server


def run_with_env(config: dict[str, Any], tmp_path: Path, *args: str, **env: str) -> Any:
    """``tap-restgeneric --config FILE --config ENV ...`` with these TAP_RESTGENERIC_* variables."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    command = [*TAP, "--config", str(path), "--config", "ENV", *args]
    return subprocess.run(
        command, capture_output=True, text=True, env=clean_env(**env), timeout=120, check=False
    )


def test_numeric_settings_from_the_environment_are_numbers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {**NUMERIC_ENV, "TAP_RESTGENERIC_REQUEST_TIMEOUT": "2.5"}.items():
        monkeypatch.setenv(name, value)
    tap = TapRestGeneric(config=sample_config(), parse_env_config=True)
    assert tap.api.request_timeout == 2.5
    assert tap.api.max_concurrency == 2
    assert (tap.config["schema_sample_pages"], tap.config["schema_sample_records"]) == (2, 50)


@pytest.mark.parametrize("args", [(), ("--discover",)], ids=["sync", "discover"])
def test_numeric_settings_work_from_the_environment_on_the_cli(
    api: DemoServer, tmp_path: Path, args: tuple[str, ...]
) -> None:
    done = run_with_env(example("seed_003_basic", api.url), tmp_path, *args, **NUMERIC_ENV)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "expected a number" not in done.stderr
    assert done.stdout.strip()


@pytest.mark.parametrize(
    ("name", "setting", "expected"),
    [
        ("TAP_RESTGENERIC_REQUEST_TIMEOUT", "request_timeout", "expected a number"),
        ("TAP_RESTGENERIC_MAX_CONCURRENCY", "max_concurrency", "expected an integer"),
        ("TAP_RESTGENERIC_SCHEMA_SAMPLE_PAGES", "schema_sample_pages", "expected an integer"),
    ],
)
def test_numeric_setting_from_the_environment_that_is_no_number_is_a_config_error(
    api: DemoServer, tmp_path: Path, name: str, setting: str, expected: str
) -> None:
    done = run_with_env(example("seed_003_basic", api.url), tmp_path, "--discover", **{name: "abc"})
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1, done.stderr[-2000:]
    assert f"config[{setting!r}]" in errors[0] and expected in errors[0]
    assert "ValueError" not in done.stderr and "Traceback" not in done.stderr


# .env: the working directory's only, and the environment wins -----------------------------------


@pytest.fixture
def restored_environ() -> Iterator[None]:
    """os.environ as it was before the test (a .env read adds variables to it)."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def env_tap(monkeypatch: pytest.MonkeyPatch, cwd: Path) -> TapRestGeneric:
    """The tap parsing TAP_RESTGENERIC_* settings, started in ``cwd``."""
    monkeypatch.chdir(cwd)
    for name in [n for n in os.environ if n.startswith("TAP_RESTGENERIC_")]:
        monkeypatch.delenv(name)
    return TapRestGeneric(config=sample_config(), parse_env_config=True)


def test_dot_env_in_the_working_directory_is_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, restored_environ: None
) -> None:
    (tmp_path / ".env").write_text("TAP_RESTGENERIC_MAX_CONCURRENCY=3\n")
    assert env_tap(monkeypatch, tmp_path).api.max_concurrency == 3


def test_the_environment_wins_over_dot_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, restored_environ: None
) -> None:
    (tmp_path / ".env").write_text("TAP_RESTGENERIC_MAX_CONCURRENCY=3\n")
    monkeypatch.chdir(tmp_path)
    tap_env = {"TAP_RESTGENERIC_MAX_CONCURRENCY": "7"}
    monkeypatch.setattr(os, "environ", os.environ | tap_env)
    tap = TapRestGeneric(config=sample_config(), parse_env_config=True)
    assert tap.api.max_concurrency == 7


def test_dot_env_above_the_working_directory_is_not_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, restored_environ: None
) -> None:
    """Not a parent's .env, nor one beside the installed package (the SDK searches upwards)."""
    (tmp_path / ".env").write_text("TAP_RESTGENERIC_MAX_CONCURRENCY=3\n")
    (tmp_path / "project").mkdir()
    assert env_tap(monkeypatch, tmp_path / "project").api.max_concurrency == DEFAULT_CONCURRENCY


def test_the_sdk_search_for_a_dot_env_upwards_is_not_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, restored_environ: None
) -> None:
    """The SDK looks for a .env upwards from its own installed files (in a checkout with its
    .venv inside, the repo's .env) and lets it override the environment: never consulted."""
    found = tmp_path / "repo" / ".env"
    found.parent.mkdir()
    found.write_text("TAP_RESTGENERIC_MAX_CONCURRENCY=3\n")
    monkeypatch.setattr(dict_config, "find_dotenv", lambda *a, **k: str(found))
    (tmp_path / "work").mkdir()
    assert env_tap(monkeypatch, tmp_path / "work").api.max_concurrency == DEFAULT_CONCURRENCY


# secrets under Meltano --------------------------------------------------------------------------

DEMO_SECRETS = ("demo-key-000", "demo-token-000")


def test_meltano_config_list_shows_no_secret(tmp_path: Path) -> None:
    shutil.copy(ROOT / "meltano.yml", tmp_path / "meltano.yml")
    env = clean_env(MELTANO_SEND_ANONYMOUS_USAGE_STATS="false")
    done = meltano(tmp_path, env, "config", "list", "--all", "tap-restgeneric", timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "client.base_url" in done.stdout  # the extractor's config is listed
    for value in DEMO_SECRETS:
        assert value not in done.stdout + done.stderr
    assert "secrets." not in done.stdout  # no secret set in meltano.yml at all
    current = f"current value: {DEFAULT_CONCURRENCY}"
    assert f"max_concurrency [env: TAP_RESTGENERIC_MAX_CONCURRENCY] {current}" in done.stdout
    assert "request_timeout [env: TAP_RESTGENERIC_REQUEST_TIMEOUT] current value: 60" in done.stdout


def meltano_settings_script() -> Any:
    """scripts/meltano_settings.py as a module."""
    spec = importlib.util.spec_from_file_location("meltano_settings", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_meltano_yml_declares_what_about_declares() -> None:
    """Every setting of --about, with its kind, default and sensitivity, and its capabilities;
    scripts/meltano_settings.py wrote them and finds them current."""
    script = meltano_settings_script()
    info = script.about(str(Path(sys.executable).parent / "tap-restgeneric"))
    extractor = yaml.safe_load((ROOT / "meltano.yml").read_text())["plugins"]["extractors"][0]
    assert extractor["capabilities"] == info["capabilities"]
    declared = {setting["name"]: setting for setting in extractor["settings"]}
    properties = info["settings"]["properties"]
    assert list(declared) == list(properties)
    for name, prop in properties.items():
        assert declared[name]["kind"] == script.kind(prop), name
        assert declared[name].get("value") == prop.get("default"), name
        assert declared[name].get("sensitive", False) == prop.get("secret", False), name
    assert declared["request_timeout"]["kind"] == "decimal"  # --about: a number (2.5 works)
    assert {"max_concurrency", "ca_bundle", "flattening_enabled", "batch_config"} <= set(declared)
    assert script.main(["--check"]) == 0


def test_meltano_yml_holds_no_secret_value() -> None:
    text = (ROOT / "meltano.yml").read_text()
    assert not [value for value in DEMO_SECRETS if value in text]


def test_dot_env_is_ignored_by_git() -> None:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    done = subprocess.run(
        [git, "check-ignore", "--no-index", "-q", ".env"], cwd=ROOT, check=False, timeout=60
    )
    assert done.returncode == 0


# packaging ---------------------------------------------------------------------------------------


def top_level_modules(distribution: str) -> set[str]:
    """The importable top-level names whose files an installed distribution owns."""
    try:
        files = metadata.files(distribution) or []
    except metadata.PackageNotFoundError:  # not installed here: owns nothing here
        return set()
    names = set()
    for file in files:
        parts = PurePosixPath(str(file)).parts
        if file.suffix != ".py" or parts[0].endswith((".dist-info", ".data")) or ".." in parts:
            continue
        names.add(parts[0].removesuffix(".py"))
    return names


def test_no_dependency_owns_a_module_the_sdk_brings_too() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    ours = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    sdk = {
        canonicalize_name(req.name)
        for req in map(Requirement, metadata.requires("singer-sdk") or [])
        if req.marker is None or req.marker.evaluate({"extra": ""})
    }
    assert "python-backoff" in sdk
    clashes = {
        (mine, theirs, *sorted(shared))
        for mine in ours - sdk - {"singer-sdk"}
        for theirs in sdk
        if (shared := top_level_modules(mine) & top_level_modules(theirs))
    }
    assert not clashes


def test_retry_waits_double_from_the_factor_up_to_the_cap() -> None:
    retry = RetrySpec(backoff_factor=1.5, max_delay=10.0)
    waits = list(islice(_waits(retry), 6))
    for wait, base in zip(waits, [1.5, 3.0, 6.0, 10.0, 10.0, 10.0], strict=True):
        assert base <= wait <= min(10.0, base * 1.1)


# README commands ---------------------------------------------------------------------------------

WRITES = re.compile(r"(?:>>?|\btee|\s-o|--output)\s+(?!&)(\S+)")


def readme_commands() -> list[str]:
    """Each shell command of the README's ```bash blocks, continuation lines joined."""
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    commands = []
    for block in blocks:
        text = re.sub(r"\\\n\s*", " ", block)
        commands += [line.split(" #")[0].strip() for line in text.splitlines()]
    return [c for c in commands if c and not c.startswith("#")]


def test_readme_commands_write_only_under_output() -> None:
    """Every file a README command makes lands in output/ (ignored by git) or a temp dir, and
    target-jsonl is pointed there (by default it writes into the working directory)."""
    commands = readme_commands()
    assert len(commands) > 15
    written = [(c, path) for c in commands for path in WRITES.findall(c)]
    assert written
    for command, path in written:
        assert path.startswith(("output/", "/dev/null", "$TMP", "/tmp/")), command
    for command in commands:
        if "|" in command and "target-jsonl" in command.split("|")[-1]:
            assert "-c examples/targets/target-jsonl.json" in command, command
    target = json.loads((ROOT / "examples" / "targets" / "target-jsonl.json").read_text())
    assert target["destination_path"] == "output"


def test_output_is_ignored_by_git() -> None:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    for path in ("output/catalog.json", "output/my_config.json", "output/state.json"):
        done = subprocess.run(
            [git, "check-ignore", "--no-index", "-q", path], cwd=ROOT, check=False, timeout=60
        )
        assert done.returncode == 0, path


# the demo job is incremental -------------------------------------------------------------------


def test_meltano_yml_config_is_sample_config_without_secrets() -> None:
    extractor = yaml.safe_load((ROOT / "meltano.yml").read_text())["plugins"]["extractors"][0]
    sample = json.loads((ROOT / "sample_config.json").read_text())
    del sample["secrets"]
    assert extractor["config"] == sample


def test_demo_job_run_2_extracts_only_changes(meltano_project: Path) -> None:
    """meltano.yml's job twice under Meltano (its state store), two contacts changed between:
    run 2 writes those two contacts, no signing link, and the whole streams without a cursor."""
    config = sample_config()  # its secrets reach the tap as TAP_RESTGENERIC_SECRETS
    config["secrets"] = dict(zip(("api_key_id", "auth_token"), DEMO_SECRETS, strict=True))
    suffix = ("--state-id-suffix", "demo-two-runs")
    out = meltano_project / "output"
    with DemoServer(port=0, faults=False) as server:
        config["client"]["base_url"] = f"{server.url}/s000"
        first = meltano_run(meltano_project, config, *suffix)
        assert first.returncode == 0, first.stderr[-3000:]
        assert len(jsonl_ids(out / "crm_contacts.jsonl")) == 45
        assert len(jsonl_ids(out / "signing_links.jsonl")) == 23
        body = {"dataset": "s000_contacts", "ids": [3, 17], "updated_at": "2025-06-01T12:00:00Z"}
        requests.post(server.url + TOUCH_PATH, json=body, timeout=5).raise_for_status()
        second = meltano_run(meltano_project, config, *suffix)
        assert second.returncode == 0, second.stderr[-3000:]
    assert sorted(jsonl_ids(out / "crm_contacts.jsonl")) == [3, 17]
    assert not (out / "signing_links.jsonl").exists()
    assert len(jsonl_ids(out / "user_modified_documents.jsonl")) == 7
