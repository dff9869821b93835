"""What the streams of one run share, handed to each stream when the tap builds it."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from tap_restgeneric.config.spec import RestApiSpec
from tap_restgeneric.http.auth import Authenticators
from tap_restgeneric.http.limiter import HostLimiter


@dataclass(frozen=True)
class Shared:
    """The run-wide parts every stream uses; streams never reach back into the tap for them.

    ``limiter``: the per-host pause after a 429, adaptive requests in flight and pace.
    ``halt``: set when the run stops (a signal, a closed stdout): streams synced side by side
    stop before their next page. ``authenticators``: one authenticator per distinct auth spec.
    """

    limiter: HostLimiter
    halt: threading.Event
    authenticators: Authenticators

    @classmethod
    def for_api(cls, api: RestApiSpec) -> Shared:
        """The shared parts of a run of ``api``: its concurrency cap, timeout and CA bundle."""
        return cls(
            HostLimiter(api.max_concurrency, requests_per_second=api.requests_per_second),
            threading.Event(),
            Authenticators(api.request_timeout, api.ca_bundle or True),
        )
