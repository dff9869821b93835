"""Secret values never reach stdout, stderr or state, on any CLI path (SPEC §2.3).

Every run uses known secret values that cannot occur by accident (the demo credentials and a few
made-up ones) and checks the raw output for them and for the forms they travel in: URL-encoded,
base64, and the base64 ``user:password`` of an HTTP Basic header.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from cli import clean_env, example

from tap_restgeneric.demo import DemoServer
from tap_restgeneric.demo.server import CREDENTIALS

TAP = [sys.executable, "-m", "tap_restgeneric.tap"]
QUERY_KEY = "q/sec ret+key=777&z"  # a key whose URL-encoded forms differ from the raw value


@pytest.fixture(scope="module")
def api() -> Iterator[DemoServer]:
    """A demo API of this module's own, without injected 429/503s (no Retry-After sleeps)."""
    with DemoServer(port=0, faults=False) as server:
        yield server


def b64(text: str) -> str:
    """Standard base64 of a UTF-8 string."""
    return base64.b64encode(text.encode()).decode()


def forms(value: str) -> set[str]:
    """The value as it may travel: raw, URL-encoded (both styles), base64."""
    return {value, quote(value, safe=""), quote_plus(value), b64(value)}


def basic(username: str, password: str) -> set[str]:
    """What an HTTP Basic header carries for these credentials (and the bare pair)."""
    pair = f"{username}:{password}"
    return {pair, b64(pair), f"Basic {b64(pair)}"}


SEED_000 = "seed_000_analytics"
SEED_003 = "seed_003_basic"
SECRETS: dict[str, set[str]] = {
    SEED_000: forms(CREDENTIALS["s000_api_key"])
    | forms(CREDENTIALS["s000_auth_token"])
    | basic(CREDENTIALS["s000_auth_token"], ""),
    SEED_003: forms(CREDENTIALS["s003_username"])
    | forms(CREDENTIALS["s003_password"])
    | basic(CREDENTIALS["s003_username"], CREDENTIALS["s003_password"]),
}
"""Per config: every string that would give a secret away."""


@dataclass
class Output:
    """What one CLI run wrote."""

    returncode: int
    stdout: str
    stderr: str

    def states(self) -> list[Any]:
        """The values of the STATE messages on stdout (when stdout is Singer messages)."""
        values = []
        for line in self.stdout.splitlines():
            if line.startswith("{") and '"type":"STATE"' in line.replace(" ", ""):
                values.append(json.loads(line)["value"])
        return values


def tap(
    config: dict[str, Any] | None, tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> Output:
    """Run the tap CLI with an optional config file and extra environment."""
    command = [*TAP]
    if config is not None:
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        command += ["--config", str(path)]
    done = subprocess.run(
        [*command, *args],
        check=False,
        capture_output=True,
        text=True,
        env=clean_env(**(env or {})),
        timeout=120,
    )
    return Output(done.returncode, done.stdout, done.stderr)


def assert_no_secrets(output: Output, secrets: set[str]) -> None:
    """None of ``secrets`` appears in stdout, stderr or any STATE message."""
    for where, text in (("stdout", output.stdout), ("stderr", output.stderr)):
        leaked = sorted(s for s in secrets if s in text)
        assert not leaked, f"{where} contains {leaked}"
    state_text = json.dumps(output.states())
    assert not [s for s in secrets if s in state_text]


def assert_no_traceback(output: Output) -> None:
    """The run ended without a Python traceback."""
    assert "Traceback" not in output.stderr, output.stderr[-3000:]


# every CLI path, for the seed configs with header api_key + basic (000) and user/pass (003) ----

PATHS: dict[str, tuple[list[str], dict[str, str]]] = {
    "about": (["--about"], {}),
    "about-json": (["--about", "--format", "json"], {}),
    "discover": (["--discover"], {}),
    "sync": ([], {}),
    "test": (["--test"], {}),
    "test-schema": (["--test=schema"], {}),
    "sync-LOGLEVEL-debug": ([], {"LOGLEVEL": "DEBUG"}),
    "sync-TAP_LOGLEVEL-debug": ([], {"TAP_RESTGENERIC_LOGLEVEL": "DEBUG"}),
    "discover-debug": (["--discover"], {"LOGLEVEL": "DEBUG"}),
}


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("seed", [SEED_000, SEED_003])
def test_cli_path_does_not_leak(seed: str, path: str, api: DemoServer, tmp_path: Path) -> None:
    args, env = PATHS[path]
    output = tap(example(seed, api.url), tmp_path, *args, env=env)
    assert output.returncode == 0, output.stderr[-3000:]
    assert_no_traceback(output)
    assert_no_secrets(output, SECRETS[seed])
    if "debug" in path:
        assert "| DEBUG" in output.stderr, "the run did not log at DEBUG level"
    if path.startswith("sync"):
        assert '"type":"RECORD"' in output.stdout.replace(" ", "")
        assert output.states()


def test_config_from_env_does_not_leak(api: DemoServer, tmp_path: Path) -> None:
    """``--config ENV``: settings (secrets included) from TAP_RESTGENERIC_*, at DEBUG level."""
    config = example(SEED_003, api.url)
    env = {f"TAP_RESTGENERIC_{key.upper()}": json.dumps(value) for key, value in config.items()}
    output = tap(None, tmp_path, "--config", "ENV", env={**env, "LOGLEVEL": "DEBUG"})
    assert output.returncode == 0, output.stderr[-3000:]
    assert output.states()
    assert_no_secrets(output, SECRETS[SEED_003])


def test_secrets_from_environment_variables_do_not_leak(api: DemoServer, tmp_path: Path) -> None:
    """``{"secret": NAME}`` resolved from the environment variable NAME is redacted too."""
    config = example(SEED_003, api.url)
    auth = config["client"]["auth"]
    auth["username"] = {"secret": "rg_secrets_test_user"}
    auth["password"] = {"secret": "rg_secrets_test_pass"}
    del config["secrets"]
    env = {
        "RG_SECRETS_TEST_USER": CREDENTIALS["s003_username"],
        "RG_SECRETS_TEST_PASS": CREDENTIALS["s003_password"],
        "LOGLEVEL": "DEBUG",
    }
    output = tap(config, tmp_path, env=env)
    assert output.returncode == 0, output.stderr[-3000:]
    assert output.states()
    assert_no_secrets(output, SECRETS[SEED_003])


def test_secrets_from_dlt_environment_names_are_used_and_do_not_leak(
    api: DemoServer, tmp_path: Path
) -> None:
    """A dlt user's ``SOURCES__REST_API__CREDENTIALS__<NAME>`` variables give the secrets."""
    config = example(SEED_003, api.url)
    del config["secrets"]
    env = {
        "SOURCES__REST_API__CREDENTIALS__USERNAME": CREDENTIALS["s003_username"],
        "SOURCES__REST_API__CREDENTIALS__PASSWORD": CREDENTIALS["s003_password"],
        "LOGLEVEL": "DEBUG",
    }
    output = tap(config, tmp_path, env=env)
    assert output.returncode == 0, output.stderr[-3000:]
    assert output.states()
    assert_no_secrets(output, SECRETS[SEED_003])


# failing runs ------------------------------------------------------------------------------------


def failure_lines(output: Output) -> list[str]:
    """The stderr lines reporting the failed request."""
    return [line for line in output.stderr.splitlines() if "failed with status" in line]


@pytest.mark.parametrize("debug", [False, True], ids=["info", "debug"])
@pytest.mark.parametrize("seed", [SEED_000, SEED_003])
def test_rejected_credentials_do_not_leak(
    seed: str, debug: bool, api: DemoServer, tmp_path: Path
) -> None:
    """The configured credentials are sent, the demo answers 401, nothing gives them away."""
    config = example(seed, api.url)
    secrets = set(SECRETS[seed])
    if seed == SEED_000:  # the key goes out under a header name the demo does not read
        config["client"]["auth"]["name"] = "X-Not-The-Key"
    else:  # user and password swapped: both still sent, as another Basic pair
        username, password = CREDENTIALS["s003_username"], CREDENTIALS["s003_password"]
        config["secrets"] = {"username": password, "password": username}
        secrets |= basic(password, username)
    before = len(api.requests)
    output = tap(config, tmp_path, env={"LOGLEVEL": "DEBUG"} if debug else {})
    assert output.returncode == 1
    assert_no_traceback(output)
    assert failure_lines(output), output.stderr[-3000:]  # one per stream that failed
    assert all("failed with status 401" in line for line in failure_lines(output))
    assert 401 in [r["status"] for r in api.requests[before:]]
    assert_no_secrets(output, secrets)


def query_key_config(base_url: str, name: str) -> dict[str, Any]:
    """Seed 000 with its api_key sent as the query parameter ``name`` (the demo rejects it)."""
    config = example(SEED_000, base_url)
    config["client"]["auth"] = {
        "type": "api_key",
        "name": name,
        "api_key": {"secret": "query_key"},
        "location": "query",
    }
    config["secrets"]["query_key"] = QUERY_KEY
    return config


@pytest.mark.parametrize("debug", [False, True], ids=["info", "debug"])
@pytest.mark.parametrize("name", ["sig", "api_key"])
def test_query_api_key_is_masked_in_error_url(
    name: str, debug: bool, api: DemoServer, tmp_path: Path
) -> None:
    """A key in the query string shows as ``***`` in the failing URL (by value and by name)."""
    config = query_key_config(api.url, name)
    output = tap(config, tmp_path, env={"LOGLEVEL": "DEBUG"} if debug else {})
    assert output.returncode == 1
    assert_no_traceback(output)
    lines = failure_lines(output)
    assert lines, output.stderr[-3000:]  # one per stream that failed
    for line in lines:
        url = re.search(r"GET (\S+) failed with status 401", line)
        assert url is not None, line
        assert url.group(1).startswith(f"http://127.0.0.1:{api.port}/s000/")
        assert f"{name}=***" in url.group(1)
    sent = [r for r in api.requests if name in r["query"]]
    assert sent and sent[-1]["query"][name] == [QUERY_KEY], "the key was not sent at all"
    assert_no_secrets(output, forms(QUERY_KEY) | SECRETS[SEED_000])


# config errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [[], ["--discover"]], ids=["sync", "discover"])
@pytest.mark.parametrize("seed", [SEED_000, SEED_003])
def test_config_errors_do_not_leak(
    seed: str, mode: list[str], api: DemoServer, tmp_path: Path
) -> None:
    """A config with problems next to resolved secrets: the error lines keep them masked."""
    config = example(seed, api.url)
    config["resources"][0]["endpoint"]["paginator"] = {"type": "page_numbr"}
    config["client"]["auth"]["type"] += "_typo"  # reported with the auth options beside it
    config["resources"].append(
        {"name": "x", "endpoint": {"path": "/x", "headers": {"X-Key": {"secret": "rg_missing"}}}}
    )
    output = tap(config, tmp_path, *mode, env={"LOGLEVEL": "DEBUG"})
    assert output.returncode == 1
    assert_no_traceback(output)
    assert output.stdout == ""
    assert "did you mean 'page_number'?" in output.stderr
    assert "rg_missing" in output.stderr
    assert_no_secrets(output, SECRETS[seed])


def _secret_number(config: dict[str, Any]) -> set[str]:
    config["secrets"]["api_key_id"] = 987654321
    return {"987654321"}


def _password_list(config: dict[str, Any]) -> set[str]:
    config["resources"][3]["endpoint"]["auth"]["password"] = ["rg-list-pass-42"]
    return {"rg-list-pass-42"}


def _password_object(config: dict[str, Any]) -> set[str]:
    config["resources"][3]["endpoint"]["auth"]["password"] = {"value": "rg-obj-pass-42"}
    return {"rg-obj-pass-42"}


def _token_number(config: dict[str, Any]) -> set[str]:
    config["resources"][0]["endpoint"]["auth"] = {"type": "bearer", "token": 55555555}
    return {"55555555"}


def _secrets_string(config: dict[str, Any]) -> set[str]:
    config["secrets"] = "rg-secrets-as-a-string"
    return {"rg-secrets-as-a-string"}


WRONG_TYPES = {
    "secret-resolves-to-number": _secret_number,
    "password-list": _password_list,
    "password-object": _password_object,
    "token-number": _token_number,
    "secrets-setting-string": _secrets_string,
}


@pytest.mark.parametrize("case", sorted(WRONG_TYPES))
def test_wrong_type_secret_is_not_echoed(case: str, api: DemoServer, tmp_path: Path) -> None:
    config = copy.deepcopy(example(SEED_000, api.url))
    leaked = WRONG_TYPES[case](config)
    output = tap(config, tmp_path)
    assert output.returncode == 1
    assert_no_traceback(output)
    assert "wrong type" in output.stderr or "expected" in output.stderr
    assert_no_secrets(output, leaked | SECRETS[SEED_000])
