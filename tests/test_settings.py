"""Settings as Meltano and in-process callers pass them (issue 14 §3).

The tap built from a dict leaves that dict as it was.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from tap_restgeneric.tap import TapRestGeneric

ROOT = Path(__file__).resolve().parent.parent


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
