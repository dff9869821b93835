"""Adaptive concurrency for one host: AIMD on the requests in flight, a paced rate after 429s.

The level (requests allowed in flight to the host) starts at 1 and rises by one per round of
responses (additive increase, as TCP's congestion window does) while the level is in use, the
responses are latency-bound (5 ms or more) or other requests wait for a slot, and the latency
stays near its baseline (the least seen in the last 30 s). It is cut (multiplicative decrease)
on a 429 (halved), a burst of failures (3 of the last 10 responses a 5xx or no response:
halved) or latency growing markedly (an average over twice the baseline plus 10 ms: three
quarters), once per round: responses to requests sent before a cut do not cut again.

A 429 also teaches the host's rate: 95% of the requests it accepted per second over the last
Retry-After seconds (1 to 60; since the host's first request when that is more recent), as a
token bucket of one token (requests evenly spaced, never a burst). While that pace holds
requests back it grows by 0.3% a second, so the next 429 comes tens of seconds later.
``requests_per_second`` (when the API documents its budget) is a bucket of the same kind, which
the learned rate never exceeds.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field

SLOW_RESPONSE = 0.005
"""Seconds a response takes before more requests in flight can pay (the tap waits on the
network, not on its own CPU)."""
BASELINE_SECONDS = 30.0
LATENCY_FACTOR = 2.0
LATENCY_MARGIN = 0.010
LATENCY_WEIGHT = 0.25  # of a new response time in the moving average
FAILURE_WINDOW = 10
FAILURE_BURST = 3
THROTTLE_CUT = 0.5
FAILURE_CUT = 0.5
LATENCY_CUT = 0.75
RATE_CUT = 0.95
RATE_GROWTH = 0.003  # per second, while the pace holds requests back
RATE_WINDOW_MAX = 60.0
TICKS = 10  # accepted responses are counted per tenth of a second


@dataclass
class Ticket:
    """One request on the wire to a host: when it was sent, and what the host had then."""

    host: HostControl
    started: float = 0.0
    full: bool = False  # the host's level was in use while this request was on the wire
    full_mark: int = 0
    paced: bool = False  # it waited for the host's pace
    status: int | None = None
    retry_after: float | None = None

    def answered(self, status: int, retry_after: float | None = None) -> None:
        """The response's status (and its Retry-After seconds, for a 429)."""
        self.status, self.retry_after = status, retry_after


@dataclass
class HostControl:
    """The adaptive state of one host (the limiter holds its lock around every call)."""

    ceiling: int
    adaptive: bool = True
    configured_rate: float | None = None
    level: float = 1.0
    in_flight: int = 0
    waiting: int = 0
    most_in_flight: int = 0
    highest_level: int = 1
    cuts: dict[str, int] = field(default_factory=lambda: {"429": 0, "5xx": 0, "latency": 0})
    throttles: int = 0
    rate: float | None = None
    _full_marks: int = 0
    _last_cut: float = -math.inf
    _floors: list[float] = field(default_factory=lambda: [math.inf, math.inf])  # this, last
    _epoch: int = 0  # of BASELINE_SECONDS / 2 each
    _average: float | None = None
    _failures: deque[bool] = field(default_factory=lambda: deque(maxlen=FAILURE_WINDOW))
    _next_send: float = 0.0
    _last_growth: float = 0.0
    _last_rate_cut: float = -math.inf
    _first: float | None = None
    _accepted: deque[list[int]] = field(
        default_factory=lambda: deque(maxlen=int(RATE_WINDOW_MAX * TICKS) + 2)
    )

    def __post_init__(self) -> None:
        self.ceiling = max(1, self.ceiling)
        self.level = 1.0 if self.adaptive else float(self.ceiling)
        self.highest_level = int(self.level)
        self.rate = self.configured_rate

    @property
    def allowed(self) -> int:
        """Requests allowed in flight now."""
        return max(1, min(self.ceiling, int(self.level)))

    def admit(self, now: float) -> Ticket:
        """A slot was free: count the request in."""
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        if self._first is None:
            self._first = now
        ticket = Ticket(self, started=now, full_mark=self._full_marks)
        if self.in_flight >= self.allowed:
            self._full_marks += 1
            ticket.full = True
        return ticket

    def pace(self, ticket: Ticket, now: float) -> float:
        """Seconds this request waits for the host's pace (0 when it has none)."""
        if not self.rate:
            return 0.0
        send = max(now, self._next_send)
        if send > now:
            ticket.paced = True
            self._grow_rate(now)
        self._next_send = send + 1.0 / self.rate
        return send - now

    def _grow_rate(self, now: float) -> None:
        elapsed = min(1.0, max(0.0, now - self._last_growth))
        self._last_growth = now
        if self.rate is not None and self.rate != self.configured_rate:
            grown = self.rate * (1 + RATE_GROWTH * elapsed)
            self.rate = grown if self.configured_rate is None else min(grown, self.configured_rate)

    def sent(self, ticket: Ticket, now: float) -> None:
        """The request leaves now (after any pace): its response time counts from here."""
        ticket.started = now

    def release(self, ticket: Ticket, now: float, *, failed: bool) -> None:
        """The request is done: judge what its response says about the host."""
        self.in_flight -= 1
        full = ticket.full or self._full_marks != ticket.full_mark
        seconds = now - ticket.started
        status = ticket.status
        throttled = status == 429
        failed = failed or (status is not None and status >= 500)
        if throttled:
            self.throttles += 1
            self._learn_rate(ticket, now)
        elif status is not None:
            self._accept(now)
        if not self.adaptive:
            return
        fresh = ticket.started > self._last_cut  # sent after the last cut
        self._failures.append(failed)
        if throttled:
            if fresh:
                self._cut(now, THROTTLE_CUT, "429")
            return
        if failed:
            if fresh and sum(self._failures) >= FAILURE_BURST:
                self._cut(now, FAILURE_CUT, "5xx")
            return
        baseline = self._observe(seconds, now)
        assert self._average is not None
        if self._average > LATENCY_FACTOR * baseline + LATENCY_MARGIN:
            if fresh and self.level >= 2:
                self._cut(now, LATENCY_CUT, "latency")
            return
        busy = seconds >= SLOW_RESPONSE or self.waiting > 0
        if fresh and full and busy and not ticket.paced and self.level < self.ceiling:
            self.level = min(float(self.ceiling), self.level + 1.0 / self.allowed)
            self.highest_level = max(self.highest_level, self.allowed)

    def _observe(self, seconds: float, now: float) -> float:
        """Add a response time; the baseline: the least of this half of ``BASELINE_SECONDS``
        and the one before (so it follows the host within 15 to 30 s, in O(1))."""
        epoch = math.floor(now / (BASELINE_SECONDS / 2))
        if epoch != self._epoch:
            last = self._floors[0] if epoch == self._epoch + 1 else math.inf
            self._floors = [math.inf, last]
            self._epoch = epoch
        self._floors[0] = min(self._floors[0], seconds)
        if self._average is None:
            self._average = seconds
        else:
            self._average += LATENCY_WEIGHT * (seconds - self._average)
        return min(self._floors)

    def _cut(self, now: float, factor: float, why: str) -> None:
        self.level = max(1.0, math.floor(self.level * factor))
        self._last_cut = now
        self._average = None  # judged afresh at the new level
        self.cuts[why] += 1

    def _accept(self, now: float) -> None:
        """Count a response that was not a 429 (for the rate a 429 teaches), per tick."""
        tick = math.floor(now * TICKS)
        if self._accepted and self._accepted[-1][0] == tick:
            self._accepted[-1][1] += 1
        else:
            self._accepted.append([tick, 1])

    def _learn_rate(self, ticket: Ticket, now: float) -> None:
        """A 429: pace the host at 95% of what it accepted per second lately."""
        if ticket.started <= self._last_rate_cut or self._first is None:
            return  # the same burst of 429s
        window = min(RATE_WINDOW_MAX, max(1.0, ticket.retry_after or 1.0))
        span = max(1.0 / TICKS, min(window, now - self._first))  # not before the first request
        first = (now - span) * TICKS
        accepted = sum(count for tick, count in self._accepted if tick + 1 > first)
        if accepted == 0:
            return  # nothing to learn from: the Retry-After pause alone applies
        rate = RATE_CUT * accepted / span
        if self.rate is not None:
            rate = min(rate, self.rate)
        self.rate = rate
        self._last_rate_cut = now
        self._last_growth = now

    def report(self) -> str:
        """``up to 8 requests in flight (level reached 8 of 16, now 4), 1 cut (429: 1), ...``."""
        cuts = sum(self.cuts.values())
        fixed = ", fixed" if not self.adaptive else ""
        parts = [
            f"up to {self.most_in_flight} requests in flight (level reached "
            f"{self.highest_level} of {self.ceiling}{fixed}, now {self.allowed})"
        ]
        if cuts:
            detail = ", ".join(f"{why}: {n}" for why, n in self.cuts.items() if n)
            parts.append(f"{cuts} cut{'s' if cuts != 1 else ''} ({detail})")
        if self.throttles:
            parts.append(f"{self.throttles} response{'s' if self.throttles != 1 else ''} 429")
        if self.rate is not None:
            source = "" if self.rate == self.configured_rate else " learned from 429s"
            parts.append(f"pace {self.rate:.2f} requests/s{source}")
        return ", ".join(parts)


def monotonic() -> float:
    """The clock (a name tests can replace)."""
    return time.monotonic()
