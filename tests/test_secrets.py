"""Secret values never reach stdout, stderr or state, on any CLI path (SPEC §2.3).

Every run uses known secret values that cannot occur by accident (the demo credentials and a few
made-up ones) and checks the raw output for them and for the forms they travel in: URL-encoded,
base64, and the base64 ``user:password`` of an HTTP Basic header.
"""

from __future__ import annotations

import base64
import copy
import json
import os
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
from singer_sdk.exceptions import ConfigValidationError

from tap_restgeneric.config.resolve import resolve_config
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


# dlt's environment names, in order ---------------------------------------------------------------

DLT_NAMES = [
    "RG_DLT_TOKEN",
    "SOURCES__REST_API__CREDENTIALS__RG_DLT_TOKEN",
    "SOURCES__REST_API__RG_DLT_TOKEN",
    "SOURCES__CREDENTIALS__RG_DLT_TOKEN",
    "SOURCES__RG_DLT_TOKEN",
    "CREDENTIALS__RG_DLT_TOKEN",
]
ANY_SOURCE_NAMES = [
    "SOURCES__MY_GITHUB__RG_DLT_TOKEN",
    "SOURCES__MY_GITHUB__CREDENTIALS__RG_DLT_TOKEN",
]


def bearer_config(name: str = "rg_dlt_token", **settings: Any) -> dict[str, Any]:
    """A config whose bearer token is ``{"secret": name}``."""
    auth = {"type": "bearer", "token": {"secret": name}}
    client = {"base_url": "https://api.example.com/", "auth": auth}
    return {"client": client, "resources": ["a"], **settings}


def token_of(config: dict[str, Any]) -> Any:
    """The bearer token the config resolves to."""
    spec = resolve_config(config)
    auth = spec.resources[0].endpoint.auth
    assert auth is not None
    return auth.options["token"]


@pytest.fixture
def no_dlt_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The environment without any variable the secret rg_dlt_token could come from."""
    for name in list(os.environ):
        if name.endswith("RG_DLT_TOKEN") or name.endswith("SOURCES__REST_API__TOKEN"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize("index", range(len(DLT_NAMES)), ids=DLT_NAMES)
def test_each_environment_name_gives_the_secret_and_earlier_ones_win(
    no_dlt_env: pytest.MonkeyPatch, index: int
) -> None:
    for position, name in enumerate(DLT_NAMES[index:] + ANY_SOURCE_NAMES):
        no_dlt_env.setenv(name, f"value-{index + position}")
    assert token_of(bearer_config()) == f"value-{index}"


def test_the_secrets_setting_wins_over_every_environment_name(
    no_dlt_env: pytest.MonkeyPatch,
) -> None:
    for name in DLT_NAMES + ANY_SOURCE_NAMES:
        no_dlt_env.setenv(name, "from-env")
    assert token_of(bearer_config(secrets={"rg_dlt_token": "from-setting"})) == "from-setting"


@pytest.mark.parametrize("name", ANY_SOURCE_NAMES)
def test_a_dlt_source_section_gives_the_secret(no_dlt_env: pytest.MonkeyPatch, name: str) -> None:
    no_dlt_env.setenv(name, "from-my-github")
    assert token_of(bearer_config()) == "from-my-github"


def test_a_dotted_dlt_key_is_read_as_dlt_writes_it_in_the_environment(
    no_dlt_env: pytest.MonkeyPatch,
) -> None:
    no_dlt_env.setenv("SOURCES__GH__RG_DLT_TOKEN", "dotted")
    assert token_of(bearer_config("sources.gh.rg_dlt_token")) == "dotted"


def test_an_auth_shorthand_reads_dlt_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOKEN", raising=False)
    monkeypatch.setenv("SOURCES__REST_API__CREDENTIALS__TOKEN", "shorthand-token")
    config = {"client": {"base_url": "https://api.example.com/", "auth": "bearer"}}
    assert token_of(config | {"resources": ["a"]}) == "shorthand-token"


def missing_error(config: dict[str, Any]) -> str:
    """The one error line of a config whose secret is missing."""
    with pytest.raises(ConfigValidationError) as info:
        resolve_config(config)
    assert len(info.value.errors) == 1
    return str(info.value.errors[0])


def test_missing_secret_error_lists_every_name_tried(no_dlt_env: pytest.MonkeyPatch) -> None:
    assert missing_error(bearer_config()) == (
        "secret 'rg_dlt_token' is not set; expected it in config['secrets']['rg_dlt_token'] or "
        f"one of the environment variables {', '.join(DLT_NAMES)}, "
        "SOURCES__<SOURCE>__RG_DLT_TOKEN, SOURCES__<SOURCE>__CREDENTIALS__RG_DLT_TOKEN "
        "at config['client']['auth']['token']"
    )


def test_two_dlt_source_sections_that_disagree_are_named_in_the_error(
    no_dlt_env: pytest.MonkeyPatch,
) -> None:
    no_dlt_env.setenv("SOURCES__ONE__RG_DLT_TOKEN", "a")
    no_dlt_env.setenv("SOURCES__TWO__CREDENTIALS__RG_DLT_TOKEN", "b")
    assert missing_error(bearer_config()).startswith(
        "secret 'rg_dlt_token' is not set (set with different values in "
        "SOURCES__ONE__RG_DLT_TOKEN, SOURCES__TWO__CREDENTIALS__RG_DLT_TOKEN); "
    )


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
