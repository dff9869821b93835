"""A randomized campaign against the promise of exit status 0 (SPEC §3, §8).

Each run draws, from a fixed seed (``PROMISE_SEED``), 2-4 streams of random pagination styles
and sizes (a page_number stream may be a 1-based API under a config that leaves ``base_page``
at 0; a stream may be incremental, sorted or not, or opt into ``on_unproven_end: stop``),
``max_concurrency`` from {default, 1, 4, 8}, and 0-3 faults per stream, transient (429, 500,
503, reset mid-body, read timeout, truncated JSON) or suspicious (empty 200, error-shaped 200,
a repeated page, a next link or cursor back to an earlier page). It runs the CLI against a
``promise_server.PromiseServer`` with stdout a pipe read by a slow, strict reader, several runs at
a time, and checks every invariant with ``promise_server.judge``: no broken line ever, exit 0
only with every id of every stream exactly once, a suspicious fault fails the run with one
line for its stream, no id twice, STATE never goes back and never skips unwritten records.

``PROMISE_RUNS`` sets the number of runs (the default, 200 runs four at a time — they mostly
wait on retries — takes about three and a half minutes on two cores); ``PROMISE_AT_ONCE`` how
many run at once;
``PROMISE_ONLY=7`` replays run 7 alone. The counts go to ``build/promise.json`` and into
``reliability.FIGURES`` (``build/reliability.json``).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promise_server import (
    LINK_STYLES,
    PAGE_STYLES,
    STYLES,
    SUSPICIOUS,
    TRANSIENT,
    Collection,
    Outcome,
    PromiseServer,
    Verdict,
    config,
    expected_ids,
    judge,
    resource,
    run_tap,
)
from reliability import FIGURES, ROOT

pytest_plugins = ["reliability"]

SEED = int(os.environ.get("PROMISE_SEED", "20260101"))
RUNS = int(os.environ.get("PROMISE_RUNS", "200"))
ONLY = os.environ.get("PROMISE_ONLY")
AT_ONCE = int(os.environ.get("PROMISE_AT_ONCE", "4"))
RUN_TIMEOUT = 120.0
API_KEY = "campaign-key-5d21e0"
OUTPUT = ROOT / "build" / "promise.json"
FIGURE_KIND = {"429": "status", "500": "status", "503": "status", "read_timeout": "slow"}


# --------------------------------------------------------------------------------------------
# Drawing a run


@dataclass
class StreamPlan:
    """One stream of a run: its collection and how the config reads it."""

    owner: Collection
    incremental: bool = False
    row_order: str | None = None
    quiet: bool = False
    leave_base_page: bool = False

    def resource(self) -> dict[str, Any]:
        """The tap's resource for it."""
        return resource(
            self.owner,
            incremental=self.incremental,
            row_order=self.row_order,
            on_unproven_end="stop" if self.quiet else None,
            leave_base_page=self.leave_base_page,
        )


@dataclass
class FaultPlan:
    """One fault to inject."""

    collection: str
    page: int
    kind: str
    times: int | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunPlan:
    """Everything one run draws."""

    index: int
    streams: list[StreamPlan]
    faults: list[FaultPlan]
    concurrency: int | None
    latency: float

    @property
    def settings(self) -> dict[str, Any]:
        """Settings beyond the defaults: max_concurrency if drawn, a short request_timeout for
        a read-timeout fault."""
        chosen: dict[str, Any] = {}
        if self.concurrency is not None:
            chosen["max_concurrency"] = self.concurrency
        if any(f.kind == "read_timeout" for f in self.faults):
            chosen["request_timeout"] = 1
        return chosen

    def describe(self) -> str:
        """One line: streams, concurrency and faults (to read a violation by)."""
        streams = ", ".join(
            f"{s.owner.name}={s.owner.style}/{s.owner.count}/{s.owner.page_size}"
            + ("+heal" if s.leave_base_page else "")
            + ("+inc" if s.incremental else "")
            + ("+quiet" if s.quiet else "")
            for s in self.streams
        )
        faults = ", ".join(f"{f.collection}p{f.page}:{f.kind}x{f.times}" for f in self.faults)
        return f"run {self.index}: [{streams}] max_concurrency={self.concurrency} [{faults}]"


def draw_collection(rng: random.Random, name: str) -> StreamPlan:
    """A collection of a random style and size (rarely empty or a whole number of pages)."""
    style = rng.choice(STYLES)
    page_size = rng.choice([20, 50, 100])
    pages = rng.randint(1, 14)
    roll = rng.random()
    if roll < 0.03:
        count = 0
    elif roll < 0.13:
        count = pages * page_size
    else:
        count = (pages - 1) * page_size + rng.randint(1, page_size - 1)
    heal = style in PAGE_STYLES and rng.random() < 0.2
    owner = Collection(name, style, count, page_size, zero_as_one=heal)
    plan = StreamPlan(owner, leave_base_page=heal)
    if rng.random() < 0.35:
        plan.incremental = True
        plan.row_order = rng.choice(["asc", None])
    return plan


def draw_transient(rng: random.Random, name: str, page: int) -> FaultPlan:
    """A transient fault within the default retry budget (4 retries)."""
    kind = rng.choice(TRANSIENT)
    times = 2 if rng.random() < 0.2 else 1  # each retry after a 5xx waits ~1 s, then ~2 s
    if kind == "429":
        return FaultPlan(name, page, kind, times, {"retry_after": rng.choice([0, 0, 0.5])})
    if kind == "read_timeout":
        return FaultPlan(name, page, kind, 1, {"delay": 1.6})
    if kind in ("500", "503") and rng.random() < 0.3:
        return FaultPlan(name, page, kind, times, {"retry_after": 0})
    return FaultPlan(name, page, kind, times)


def draw_suspicious(rng: random.Random, stream: StreamPlan, page: int) -> FaultPlan | None:
    """A suspicious fault that fits the page and style (None: none does)."""
    kinds = [k for k in SUSPICIOUS if k != "link_back" or stream.owner.style in LINK_STYLES]
    if page < 3:
        kinds = [k for k in kinds if k != "repeat_earlier"]
    if page < 2 or not kinds:
        return None
    kind = rng.choice(kinds)
    options: dict[str, Any] = {}
    if kind == "repeat_earlier":
        options["target"] = rng.randint(1, page - 2)
    elif kind == "link_back":
        options["target"] = rng.randint(1, page - 1)
    return FaultPlan(stream.owner.name, page, kind, None, options)


def draw(seed: int, index: int) -> RunPlan:
    """Run ``index`` of the campaign seeded ``seed`` (the same plan every time)."""
    rng = random.Random(f"{seed}:{index}")
    streams = [draw_collection(rng, f"s{j}_{index}") for j in range(rng.randint(2, 4))]
    faults: list[FaultPlan] = []
    for stream in streams:
        pages = list(range(1, stream.owner.pages + 1))
        rng.shuffle(pages)
        suspicious = False
        for page in pages[: rng.randint(0, 3)]:
            fault = None
            if not suspicious and rng.random() < 0.2:
                fault = draw_suspicious(rng, stream, page)
                suspicious = fault is not None
                stream.quiet = suspicious and rng.random() < 0.15
            faults.append(fault or draw_transient(rng, stream.owner.name, page))
    concurrency = rng.choice([None, 1, 4, 8])
    latency = rng.choice([0.0, 0.0, 0.005])
    return RunPlan(index, streams, faults, concurrency, latency)


# --------------------------------------------------------------------------------------------
# Running and counting


@dataclass
class Result:
    """One run: its plan, what the tap wrote, what the judge found, the faults that fired."""

    plan: RunPlan
    outcome: Outcome
    verdict: Verdict
    fired: Counter[str]


def execute(plan: RunPlan, workdir: Path) -> Result:
    """Serve the plan's collections with its faults and run the CLI once."""
    collections = [s.owner for s in plan.streams]
    with PromiseServer(collections, api_key=API_KEY, latency=plan.latency) as api:
        for fault in plan.faults:
            api.inject(fault.collection, fault.page, fault.kind, times=fault.times, **fault.options)
        cfg = config(api, *[s.resource() for s in plan.streams], **plan.settings)
        outcome = run_tap(cfg, workdir, timeout=RUN_TIMEOUT, secrets=[API_KEY])
        quiet = [s.owner.name for s in plan.streams if s.quiet]
        verdict = judge(outcome, api, quiet=quiet, secrets=[API_KEY])
        fired = Counter(api.fault_counts)
    return Result(plan, outcome, verdict, fired)


@dataclass
class Tally:
    """The campaign's counts (written to build/promise.json)."""

    seed: int
    runs: int = 0
    exit_0: int = 0
    exit_1: int = 0
    exit_other: int = 0
    streams: int = 0
    faults_planned: Counter[str] = field(default_factory=Counter)
    faults_fired: Counter[str] = field(default_factory=Counter)
    runs_with_suspicious: int = 0
    records_expected: int = 0
    records_written: int = 0
    lines_read: int = 0
    broken_lines: int = 0
    silent_short_results: int = 0
    false_alarms: int = 0
    duplicates: int = 0
    state_regressions: int = 0
    bookmark_overreach: int = 0
    failures_reported: int = 0
    runs_with_violations: int = 0
    violations: list[str] = field(default_factory=list)
    seconds: float = 0.0
    slowest_run: float = 0.0

    def add(self, result: Result) -> None:
        """Count one run."""
        outcome, verdict, plan = result.outcome, result.verdict, result.plan
        self.runs += 1
        if outcome.returncode == 0:
            self.exit_0 += 1
        elif outcome.returncode == 1:
            self.exit_1 += 1
        else:
            self.exit_other += 1
        self.streams += len(plan.streams)
        self.faults_planned.update(f.kind for f in plan.faults)
        self.faults_fired.update(result.fired)
        self.runs_with_suspicious += any(f.kind in SUSPICIOUS for f in plan.faults)
        self.records_expected += verdict.expected
        self.records_written += verdict.written
        self.lines_read += outcome.lines
        self.broken_lines += outcome.broken
        self.silent_short_results += verdict.silent_short
        self.false_alarms += verdict.false_alarm
        self.duplicates += verdict.duplicates
        self.state_regressions += verdict.regressions
        self.bookmark_overreach += verdict.overreach
        self.failures_reported += verdict.reported
        self.slowest_run = max(self.slowest_run, outcome.seconds)
        if verdict.violations:
            self.runs_with_violations += 1
            if len(self.violations) < 40:
                head = f"PROMISE_SEED={self.seed} PROMISE_ONLY={plan.index}: {plan.describe()}"
                self.violations.append(head + "\n    " + "\n    ".join(verdict.violations[:4]))

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready counts."""
        return {
            "seed": self.seed,
            "runs": self.runs,
            "exit_status": {"0": self.exit_0, "1": self.exit_1, "other": self.exit_other},
            "streams": self.streams,
            "faults_planned": dict(sorted(self.faults_planned.items())),
            "faults_fired": dict(sorted(self.faults_fired.items())),
            "faults_fired_total": sum(self.faults_fired.values()),
            "runs_with_suspicious_fault": self.runs_with_suspicious,
            "records_expected": self.records_expected,
            "records_written": self.records_written,
            "lines_read": self.lines_read,
            "broken_lines": self.broken_lines,
            "silent_short_results": self.silent_short_results,
            "false_alarms": self.false_alarms,
            "duplicates": self.duplicates,
            "state_regressions": self.state_regressions,
            "bookmark_overreach": self.bookmark_overreach,
            "failures_reported": self.failures_reported,
            "runs_with_violations": self.runs_with_violations,
            "violations": self.violations,
            "duration_s": round(self.seconds, 1),
            "slowest_run_s": round(self.slowest_run, 1),
        }

    def summary(self) -> str:
        """The counts in one paragraph."""
        return (
            f"{self.runs} runs (exit 0: {self.exit_0}, 1: {self.exit_1}, other: "
            f"{self.exit_other}), {sum(self.faults_fired.values())} faults fired, records "
            f"expected {self.records_expected} / written {self.records_written}, broken lines "
            f"{self.broken_lines}, silent short results {self.silent_short_results}, false "
            f"alarms {self.false_alarms}, duplicates {self.duplicates}, STATE regressions "
            f"{self.state_regressions}, bookmarks past unwritten records "
            f"{self.bookmark_overreach}, runs breaking the promise {self.runs_with_violations}"
            f" ({self.seconds:.0f} s)"
        )


def to_figures(results: list[Result]) -> None:
    """Feed the runs into reliability.FIGURES: faults fired, runs, records, tracebacks."""
    for result in results:
        outcome, verdict = result.outcome, result.verdict
        FIGURES.faults_injected.update(
            {FIGURE_KIND.get(kind, kind): n for kind, n in result.fired.items()}
        )
        FIGURES.output(outcome.stderr, secrets=[API_KEY])
        FIGURES.failed_runs_reported += verdict.reported
        for stream in result.plan.streams:
            written = outcome.ids(stream.owner.name)
            if outcome.returncode == 0 and not any(
                f.collection == stream.owner.name and f.kind in SUSPICIOUS
                for f in result.plan.faults
            ):
                FIGURES.account(expected_ids(stream.owner, None), written)
            else:  # a failed or cut-short stream: only duplicates count
                FIGURES.account(set(written), written)


def plans() -> Iterator[RunPlan]:
    """The campaign's runs (just ``PROMISE_ONLY`` if set)."""
    indexes = [int(ONLY)] if ONLY else range(RUNS)
    for index in indexes:
        yield draw(SEED, index)


# --------------------------------------------------------------------------------------------
# Tests


def test_campaign_draws_every_style_and_fault_kind() -> None:
    """Drawing reaches every style, every fault kind, each concurrency, healing, incremental
    and quiet streams (over 300 draws of the seed), and is reproducible."""
    drawn = [draw(SEED, i) for i in range(300)]
    assert [p.describe() for p in drawn[:5]] == [draw(SEED, i).describe() for i in range(5)]
    styles = {s.owner.style for p in drawn for s in p.streams}
    kinds = {f.kind for p in drawn for f in p.faults}
    assert styles == set(STYLES)
    assert kinds == set(TRANSIENT) | set(SUSPICIOUS)
    assert {p.concurrency for p in drawn} == {None, 1, 4, 8}
    assert any(s.leave_base_page for p in drawn for s in p.streams)
    assert any(s.incremental for p in drawn for s in p.streams)
    assert any(s.quiet for p in drawn for s in p.streams)
    assert all(2 <= len(p.streams) <= 4 for p in drawn)


def test_promise_campaign(tmp_path: Path) -> None:
    """Every run keeps the promise: whole lines, exit 0 only when complete, a suspicious fault
    reported for its stream, no id twice, STATE never back nor past unwritten records."""
    started = time.monotonic()
    tally = Tally(SEED)
    results: list[Result] = []
    pool = ThreadPoolExecutor(max_workers=AT_ONCE)
    try:
        futures = [pool.submit(execute, p, tmp_path / f"run{p.index}") for p in plans()]
        for future in futures:
            result = future.result()
            results.append(result)
            tally.add(result)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    tally.seconds = time.monotonic() - started
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(tally.as_dict(), indent=2) + "\n")
    to_figures(results)
    FIGURES.write()
    print(f"\npromise campaign: {tally.summary()}")
    assert tally.runs_with_violations == 0, f"{tally.summary()}\n\n" + "\n".join(
        tally.violations[:12]
    )
