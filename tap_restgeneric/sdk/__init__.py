"""The SDK seam: every use of singer-sdk beyond its documented public hooks, and nothing else."""

from tap_restgeneric.sdk.stream import RECORD_ENCODER, StreamSeam
from tap_restgeneric.sdk.tap import (
    ConfigInput,
    StateWriter,
    TapSeam,
    env_var_prefix,
    environment_settings,
    start_sync,
)

__all__ = [
    "RECORD_ENCODER",
    "ConfigInput",
    "StateWriter",
    "StreamSeam",
    "TapSeam",
    "env_var_prefix",
    "environment_settings",
    "start_sync",
]
