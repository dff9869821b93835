"""Secrets from dlt's environment names (config/secrets.py): which names, in what order, errors."""

from __future__ import annotations

import os
from typing import Any

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tap_restgeneric.config.resolve import resolve_config

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
