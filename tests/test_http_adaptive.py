"""One host's adaptive control (http/adaptive.py) on a made-up clock: when the level rises and
falls, what a 429 teaches, and the pace of a budget."""

from __future__ import annotations

import pytest

from tap_restgeneric.http.adaptive import HostControl


def round_trip(
    host: HostControl, now: float, seconds: float, status: int = 200, retry_after: float = 0.0
) -> float:
    """``host.allowed`` requests sent at ``now``, answered after ``seconds``; the time then."""
    tickets = [host.admit(now) for _ in range(host.allowed)]
    for ticket in tickets:
        wait = host.pace(ticket, now)
        host.sent(ticket, now + wait)
    end = now + seconds
    for ticket in tickets:
        ticket.answered(status, retry_after if status == 429 else None)
        host.release(ticket, end, failed=False)
    return end


def test_the_level_rises_by_one_per_full_round_of_slow_responses() -> None:
    host = HostControl(ceiling=8)
    now = 0.0
    levels = []
    for _ in range(10):
        now = round_trip(host, now, 0.02)
        levels.append(host.allowed)
    assert levels == [2, 3, 4, 5, 6, 7, 8, 8, 8, 8]
    assert host.highest_level == 8 and host.most_in_flight == 8


def test_a_fast_host_stays_at_one_request_when_nothing_waits() -> None:
    host = HostControl(ceiling=8)
    now = 0.0
    for _ in range(20):
        now = round_trip(host, now, 0.001)
    assert host.allowed == 1


def test_a_level_not_in_use_does_not_grow() -> None:
    """One request at a time on a level of 4: the level is not what limits, so it stays."""
    host = HostControl(ceiling=8)
    host.level = 4.0
    now = 0.0
    for _ in range(10):
        ticket = host.admit(now)
        host.sent(ticket, now)
        now += 0.02
        ticket.answered(200)
        host.release(ticket, now, failed=False)
    assert host.allowed == 4


def test_a_429_halves_the_level_once_per_round_and_teaches_a_pace() -> None:
    host = HostControl(ceiling=16)
    now = 0.0
    for _ in range(7):
        now = round_trip(host, now, 0.02)
    assert host.allowed == 8
    now = round_trip(host, now, 0.02, status=429, retry_after=1)  # 8 answers 429 at once
    assert host.allowed == 4  # one cut for the whole round
    assert host.cuts["429"] == 1 and host.throttles == 8
    assert host.rate is not None
    accepted_per_second = 28 / now  # 1 + 2 + ... + 7 requests accepted since 0
    assert host.rate == pytest.approx(0.95 * accepted_per_second)


def test_a_burst_of_5xx_cuts_but_one_does_not() -> None:
    host = HostControl(ceiling=16)
    now = 0.0
    for _ in range(7):
        now = round_trip(host, now, 0.02)
    ticket = host.admit(now)
    host.sent(ticket, now)
    ticket.answered(503)
    host.release(ticket, now + 0.02, failed=False)
    assert host.cuts["5xx"] == 0
    now = round_trip(host, now + 0.02, 0.02, status=502)
    assert host.cuts["5xx"] == 1 and host.allowed <= 4


def test_latency_growing_over_its_baseline_cuts_the_level() -> None:
    host = HostControl(ceiling=16)
    now = 0.0
    for _ in range(7):
        now = round_trip(host, now, 0.02)
    for _ in range(5):
        now = round_trip(host, now, 0.2)  # the server slows down tenfold
    assert host.cuts["latency"] >= 1
    assert host.allowed < 8


def test_a_budget_spaces_requests_evenly_and_is_never_exceeded() -> None:
    host = HostControl(ceiling=4, configured_rate=10.0)
    waits = []
    for _ in range(5):
        ticket = host.admit(0.0)
        waits.append(host.pace(ticket, 0.0))
    assert waits == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert host.rate == 10.0  # a configured budget does not grow


def test_without_adaptive_the_level_is_the_ceiling() -> None:
    host = HostControl(ceiling=6, adaptive=False)
    assert host.allowed == 6
    round_trip(host, 0.0, 0.02, status=429, retry_after=1)
    assert host.allowed == 6
    assert "fixed" in host.report()
