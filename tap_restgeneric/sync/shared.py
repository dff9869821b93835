"""What the streams of one run share, handed to each stream when the tap builds it."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from tap_restgeneric.config.spec import RestApiSpec
from tap_restgeneric.http.auth import Authenticators
from tap_restgeneric.http.limiter import HostLimiter


class Halt(threading.Event):
    """Set when the run stops before its end: by a signal (``signum``) or a closed stdout."""

    def __init__(self) -> None:
        super().__init__()
        self.signum: int | None = None

    def stop(self, signum: int) -> None:
        """A signal asked the run to stop: every stream stops at its next page."""
        self.signum = signum
        self.set()


@dataclass(frozen=True)
class Shared:
    """The run-wide parts every stream uses; streams never reach back into the tap for them.

    ``limiter``: the per-host pause after a 429, adaptive requests in flight and pace.
    ``halt``: set when the run stops (a signal, a closed stdout): every stream stops at its
    next page. ``authenticators``: one authenticator per distinct auth spec.
    """

    limiter: HostLimiter
    halt: Halt
    authenticators: Authenticators

    @classmethod
    def for_api(cls, api: RestApiSpec) -> Shared:
        """The shared parts of a run of ``api``: its concurrency cap, timeout and CA bundle."""
        return cls(
            HostLimiter(api.max_concurrency, requests_per_second=api.requests_per_second),
            Halt(),
            Authenticators(api.request_timeout, api.ca_bundle or True),
        )
