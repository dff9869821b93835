"""End to end: exit status 0 means every record was written exactly once, on whole lines (SPEC §8).

Every test runs the CLI (``tap-restgeneric --config FILE``) as a user runs it, several streams
side by side with default settings, against ``promise_server.PromiseServer`` (six pagination
styles, collections whose size is not a multiple of the page size, faults per page). Stdout is
an OS pipe read line by line by a reader that parses every line and pauses 20 ms every 500
lines; some runs pipe the tap straight into target-jsonl instead.

Transient faults (429, 500/503 bursts, resets mid-body, read timeouts, truncated JSON) must be
survived: exit 0, every id once. Suspicious answers (an empty 200, an error-shaped 200, a page
repeating an earlier one, a next link or cursor back to an earlier page) must fail the run:
exit 1, one ``stream 'x': page N (GET <redacted URL>): ...; not a proven end`` line for the
stream, after a STATE of everything written, no id twice, unless the endpoint opts into
``on_unproven_end: stop``. ``promise_server.judge`` checks the invariants shared with the
randomized campaign (``test_promise_campaign.py``); the tests here add the specifics.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from promise_server import (
    LINK_STYLES,
    STYLES,
    SUSPICIOUS,
    Collection,
    Outcome,
    PromiseServer,
    bookmark,
    bookmark_overreach,
    config,
    duplicates,
    judge,
    resource,
    run_into_target,
    run_tap,
    state_regressions,
    updated_at,
)

API_KEY = "promise-key-7f3a9c"
SIZES = {
    "page_number": 1234,
    "page_number_total": 1187,
    "offset": 1111,
    "cursor": 765,
    "json_link": 987,
    "header_link": 543,
}
EVERY_STYLE = [Collection(style, style, count) for style, count in SIZES.items()]
NEIGHBOURS = [Collection("pages", "page_number", 1234), Collection("cursors", "cursor", 765)]


@pytest.fixture
def every_style() -> Iterator[PromiseServer]:
    """The six styles, each a collection of its own size (none a multiple of 100)."""
    with PromiseServer(EVERY_STYLE, api_key=API_KEY) as api:
        yield api


def run(api: PromiseServer, tmp_path: Path, *resources: dict[str, Any], **settings: Any) -> Outcome:
    """Run the CLI against ``api`` with these resources (all of them if none given)."""
    chosen = list(resources) or [resource(c) for c in api.collections.values()]
    return run_tap(config(api, *chosen, **settings), tmp_path, secrets=[API_KEY])


def kept(outcome: Outcome, api: PromiseServer, **options: Any) -> None:
    """Every invariant holds (exit 0 needs every id once; exit 1 an unproven-end line)."""
    verdict = judge(outcome, api, secrets=[API_KEY], **options)
    assert not verdict.violations, "\n".join(verdict.violations) + "\n" + outcome.tail()


def every_id_once(outcome: Outcome, api: PromiseServer) -> None:
    """Exit 0, no broken line, every stream's ids exactly once (and every other invariant)."""
    problems = [] if outcome.returncode == 0 else [f"exit status {outcome.returncode}, not 0"]
    problems += judge(outcome, api, secrets=[API_KEY]).violations
    assert not problems, "\n".join(problems) + "\n" + outcome.tail()


def failed_at(outcome: Outcome, api: PromiseServer, stream: str, pages: set[int]) -> str:
    """Exit 1 with one unproven-end line for ``stream`` naming one of ``pages``, after a STATE
    of everything written, and every other invariant; the line. All that is wrong is listed."""
    problems = []
    if outcome.returncode != 1:
        problems.append(f"exit status {outcome.returncode}, not 1")
    lines = outcome.unproven()
    if list(lines) != [stream]:
        proven_end = [ln for ln in outcome.stderr.splitlines() if "proven end" in ln]
        problems.append(f"unproven-end lines for {sorted(lines)}, not [{stream!r}]: {proven_end}")
    line = lines[stream][0].group(0) if lines.get(stream) else ""
    if line and int(lines[stream][0]["page"]) not in pages:
        problems.append(f"the line names page {lines[stream][0]['page']}, not {sorted(pages)}")
    problems += judge(outcome, api, secrets=[API_KEY]).violations
    assert not problems, "\n".join(dict.fromkeys(problems)) + "\n" + outcome.tail(1500)
    return line


# --------------------------------------------------------------------------------------------
# Clean runs: every style side by side


@pytest.mark.parametrize("concurrency", [None, 1, 8], ids=["default", "one_at_a_time", "eight"])
def test_every_style_side_by_side_writes_every_id_once(
    every_style: PromiseServer, tmp_path: Path, concurrency: int | None
) -> None:
    """Six styles at once, a slow pipe reader: every id once, every line whole."""
    settings = {} if concurrency is None else {"max_concurrency": concurrency}
    outcome = run(every_style, tmp_path, **settings)
    every_id_once(outcome, every_style)
    assert outcome.states


def test_a_very_slow_reader_gets_whole_lines(tmp_path: Path) -> None:
    """Pages ahead of a reader that pauses 20 ms every 100 lines, records up to 5 KB long."""
    with PromiseServer(EVERY_STYLE, api_key=API_KEY, latency=0.01) as api:
        cfg = config(api, *[resource(c) for c in EVERY_STYLE], max_concurrency=8)
        outcome = run_tap(cfg, tmp_path, slow_every=100, secrets=[API_KEY])
        every_id_once(outcome, api)


def test_every_style_into_target_jsonl(every_style: PromiseServer, tmp_path: Path) -> None:
    """Tap | target-jsonl over an OS pipe: both exit 0, each file has every id once."""
    piped = run_into_target(config(every_style, *map(resource, EVERY_STYLE)), tmp_path)
    piped.check()  # both exit 0, every line parsed
    for owner in EVERY_STYLE:
        ids = piped.files.get(owner.name, [])
        assert not duplicates(ids), f"{owner.name}: written twice {duplicates(ids)[:10]}"
        assert sorted(ids) == owner.ids(), f"{owner.name}: {len(ids)} of {owner.count}"


# --------------------------------------------------------------------------------------------
# Transient faults: survived, every id once


TRANSIENT_CASES = [
    pytest.param("429", 2, {"retry_after": 0}, {}, id="429_retry_after_0_x2"),
    pytest.param("429", 1, {"retry_after": 1}, {}, id="429_retry_after_1"),
    pytest.param("500", 2, {}, {}, id="500_burst_x2"),
    pytest.param("503", 3, {}, {}, id="503_burst_x3"),
    pytest.param("reset_mid_body", 2, {}, {}, id="reset_mid_body_x2"),
    pytest.param("read_timeout", 1, {"delay": 1.6}, {"request_timeout": 1}, id="read_timeout"),
    pytest.param("truncated_json", 2, {}, {}, id="truncated_json_x2"),
]


@pytest.mark.parametrize(("kind", "times", "options", "settings"), TRANSIENT_CASES)
def test_transient_fault_is_survived(
    every_style: PromiseServer,
    tmp_path: Path,
    kind: str,
    times: int,
    options: dict[str, Any],
    settings: dict[str, Any],
) -> None:
    """The fault on a middle page of three streams (and the first page of another): exit 0,
    every id once, no broken line."""
    for name, page in (("offset", 3), ("cursor", 4), ("header_link", 2), ("page_number", 1)):
        every_style.inject(name, page, kind, times=times, **options)
    outcome = run(every_style, tmp_path, **settings)
    every_id_once(outcome, every_style)
    assert every_style.fault_counts[kind] == 4 * times


def mixed_transient(api: PromiseServer) -> None:
    """Every transient kind somewhere on the six styles."""
    api.inject("page_number", 2, "429", times=2, retry_after=0)
    api.inject("page_number", 9, "reset_mid_body")
    api.inject("page_number_total", 5, "500", times=2)
    api.inject("page_number_total", 12, "truncated_json")
    api.inject("offset", 1, "503")
    api.inject("offset", 11, "truncated_json", times=2)
    api.inject("cursor", 3, "reset_mid_body", times=2)
    api.inject("cursor", 8, "429", retry_after=0.5)
    api.inject("json_link", 4, "read_timeout", delay=1.6)
    api.inject("json_link", 10, "503", times=2)
    api.inject("header_link", 6, "truncated_json")
    api.inject("header_link", 2, "500")


@pytest.mark.parametrize("concurrency", [None, 8], ids=["default", "eight"])
def test_mixed_transient_faults_every_style(
    every_style: PromiseServer, tmp_path: Path, concurrency: int | None
) -> None:
    """All transient kinds at once over six streams: exit 0, every id once, 0 broken lines."""
    mixed_transient(every_style)
    settings: dict[str, Any] = {"request_timeout": 1}
    if concurrency is not None:
        settings["max_concurrency"] = concurrency
    outcome = run(every_style, tmp_path, **settings)
    every_id_once(outcome, every_style)


def test_mixed_transient_faults_into_target_jsonl(
    every_style: PromiseServer, tmp_path: Path
) -> None:
    """The same faults with the tap piped into target-jsonl: each file has every id once."""
    mixed_transient(every_style)
    cfg = config(every_style, *map(resource, EVERY_STYLE), request_timeout=1)
    piped = run_into_target(cfg, tmp_path)
    piped.check()  # both exit 0, every line parsed
    for owner in EVERY_STYLE:
        ids = piped.files.get(owner.name, [])
        assert not duplicates(ids), f"{owner.name}: written twice {duplicates(ids)[:10]}"
        assert sorted(ids) == owner.ids(), f"{owner.name}: {len(ids)} of {owner.count}"


# --------------------------------------------------------------------------------------------
# Suspicious answers: exit 1, one line for the stream, nothing twice


def suspicious_cases() -> list[Any]:
    """Every suspicious kind on every style it applies to (the fault on page 4 of 6)."""
    cases = []
    for style in STYLES:
        for kind in SUSPICIOUS:
            if kind == "link_back" and style not in LINK_STYLES:
                continue
            cases.append(pytest.param(style, kind, 2, id=f"{style}-{kind}"))
    cases += [
        pytest.param(style, "link_back", 1, id=f"{style}-link_back_to_first")
        for style in sorted(LINK_STYLES)
    ]
    return cases


@pytest.mark.parametrize(("style", "kind", "target"), suspicious_cases())
def test_suspicious_answer_fails_the_stream(
    tmp_path: Path, style: str, kind: str, target: int
) -> None:
    """Page 4 of 6 answers suspiciously, two healthy streams beside it: exit 1, one line naming
    the stream, page 4 (a link back: 4 or 5), the redacted request; pages 1-3 written once."""
    faulty = Collection("faulty", style, 543)
    options = {"target": target} if kind in ("repeat_earlier", "link_back") else {}
    with PromiseServer([faulty, *NEIGHBOURS], api_key=API_KEY) as api:
        api.inject("faulty", 4, kind, **options)
        outcome = run(api, tmp_path)
        pages = {4, 5} if kind == "link_back" else {4}
        line = failed_at(outcome, api, "faulty", pages)
        assert "***" in line, line
        written = sorted(outcome.ids("faulty"))
        up_to = [faulty.ids_before(4)] + ([faulty.ids_before(5)] if kind == "link_back" else [])
        assert written in up_to, f"{len(written)} records written"


@pytest.mark.parametrize("kind", ["empty_body", "error_body", "repeat_previous"])
def test_suspicious_answer_into_target_jsonl(tmp_path: Path, kind: str) -> None:
    """A suspicious page 3 with the tap piped into target-jsonl: the tap exits 1 with its line,
    target-jsonl reads every line, its files hold no id twice and pages 1-2 of the stream."""
    faulty = Collection("faulty", "json_link", 678)
    with PromiseServer([faulty, *NEIGHBOURS], api_key=API_KEY) as api:
        api.inject("faulty", 3, kind)
        piped = run_into_target(config(api, *map(resource, api.collections.values())), tmp_path)
    assert piped.tap_returncode == 1, piped.tap_stderr[-3000:]
    assert piped.target_returncode == 0, piped.target_stderr[-3000:]
    assert piped.unparseable == 0
    for name, ids in piped.files.items():
        assert not duplicates(ids), f"{name}: written twice {duplicates(ids)[:10]}"
    assert sorted(piped.files.get("faulty", [])) == faulty.ids_before(3)
    lines = [ln for ln in piped.tap_stderr.splitlines() if "not a proven end" in ln]
    assert len(lines) == 1 and "stream 'faulty': page 3 (GET " in lines[0], lines


def test_two_failing_streams_one_line_each(tmp_path: Path) -> None:
    """Two streams answer suspiciously side by side: exit 1, at most one line per stream, every
    line for one of them, and a stream without a line stopped before its suspicious page."""
    one = Collection("one", "page_number_total", 834)
    two = Collection("two", "cursor", 456)
    with PromiseServer([one, two, *NEIGHBOURS], api_key=API_KEY, latency=0.01) as api:
        api.inject("one", 3, "error_body")
        api.inject("two", 3, "repeat_previous")
        outcome = run(api, tmp_path)
        lines = outcome.unproven()
        problems = [] if lines else ["no unproven-end line"]
        problems += [f"a line for {name}" for name in lines if name not in ("one", "two")]
        problems += [f"{len(found)} lines for {n}" for n, found in lines.items() if len(found) > 1]
        problems += judge(outcome, api, secrets=[API_KEY]).violations  # exit 1 and the rest
        assert not problems, "\n".join(problems) + "\n" + outcome.tail(1500)


# --------------------------------------------------------------------------------------------
# Opting into a quiet stop


@pytest.mark.parametrize("kind", ["empty_body", "error_body", "repeat_previous", "link_back"])
def test_on_unproven_end_stop_ends_quietly(tmp_path: Path, kind: str) -> None:
    """``on_unproven_end: stop``: exit 0, a WARNING, the records before the suspicious page."""
    quiet = Collection("quiet", "json_link", 789)
    with PromiseServer([quiet, *NEIGHBOURS], api_key=API_KEY) as api:
        api.inject("quiet", 5, kind, **({"target": 2} if kind == "link_back" else {}))
        resources = [resource(quiet, on_unproven_end="stop"), *map(resource, NEIGHBOURS)]
        outcome = run(api, tmp_path, *resources)
        assert outcome.returncode == 0, outcome.tail()
        warned = [ln for ln in outcome.stderr.splitlines() if "WARNING" in ln and "quiet" in ln]
        assert warned, outcome.tail()
        up_to = [quiet.ids_before(5)] + ([quiet.ids_before(6)] if kind == "link_back" else [])
        assert sorted(outcome.ids("quiet")) in up_to
        for owner in NEIGHBOURS:
            assert sorted(outcome.ids(owner.name)) == owner.ids()
        kept(outcome, api, quiet=["quiet"])


# --------------------------------------------------------------------------------------------
# Healing: an API that counts pages from 1 under a config left at base_page 0


@pytest.mark.parametrize("style", ["page_number", "page_number_total"])
def test_base_page_left_at_zero_heals(tmp_path: Path, style: str) -> None:
    """No base_page, an API serving page 0 as page 1: exit 0, every id once, one INFO line."""
    ones = Collection("ones", style, 1234, zero_as_one=True)
    with PromiseServer([ones, *NEIGHBOURS], api_key=API_KEY) as api:
        outcome = run(
            api, tmp_path, resource(ones, leave_base_page=True), *map(resource, NEIGHBOURS)
        )
        every_id_once(outcome, api)
        said = [ln for ln in outcome.stderr.splitlines() if "counts pages from 1" in ln]
        assert len(said) == 1, outcome.tail()
        assert "INFO" in said[0], said[0]


# --------------------------------------------------------------------------------------------
# Incremental streams side by side: STATE never goes back, resumes lose nothing


INCREMENTAL = [
    Collection("inc_a", "page_number", 1234),
    Collection("inc_b", "page_number", 876),
    Collection("inc_c", "page_number", 1055),
    Collection("inc_d", "page_number", 432),
]


def incremental_resources() -> list[dict[str, Any]]:
    """Two sorted (``row_order: asc``) and two unsorted incremental streams."""
    return [
        resource(owner, incremental=True, row_order="asc" if i % 2 == 0 else None)
        for i, owner in enumerate(INCREMENTAL)
    ]


def test_incremental_streams_side_by_side_state_only_moves_forward(tmp_path: Path) -> None:
    """Four incremental streams, max_concurrency 8: every id once, no bookmark goes back, the
    last bookmark is the newest record; a resume from it re-reads at most that boundary record."""
    names = [c.name for c in INCREMENTAL]
    with PromiseServer(INCREMENTAL, api_key=API_KEY, latency=0.005) as api:
        cfg = config(api, *incremental_resources(), max_concurrency=8)
        first = run_tap(cfg, tmp_path / "first", secrets=[API_KEY])
        every_id_once(first, api)
        assert not state_regressions(first.states, names)
        last = first.states[-1]
        for owner in INCREMENTAL:
            assert bookmark(last, owner.name) == updated_at(owner.count), last
        resumed = run_tap(cfg, tmp_path / "resumed", state=last, secrets=[API_KEY])
        kept(resumed, api, start=last)
        assert not state_regressions(resumed.states, names, start=last)
        for owner in INCREMENTAL:  # the boundary record: written again (at least once) or not
            assert resumed.ids(owner.name) in ([], [owner.count])


def test_incremental_streams_with_transient_faults(tmp_path: Path) -> None:
    """The same four streams through 429s, 503s, resets and truncated bodies, max_concurrency
    8: exit 0, every id once, STATE never goes back."""
    names = [c.name for c in INCREMENTAL]
    with PromiseServer(INCREMENTAL, api_key=API_KEY, latency=0.005) as api:
        api.inject("inc_a", 3, "429", times=2, retry_after=0)
        api.inject("inc_a", 10, "reset_mid_body")
        api.inject("inc_b", 2, "503", times=2)
        api.inject("inc_c", 6, "truncated_json")
        api.inject("inc_c", 9, "500")
        api.inject("inc_d", 4, "429", retry_after=0.5)
        outcome = run_tap(
            config(api, *incremental_resources(), max_concurrency=8),
            tmp_path,
            secrets=[API_KEY],
        )
        every_id_once(outcome, api)
        assert not state_regressions(outcome.states, names)


def test_incremental_unproven_end_keeps_a_safe_state(tmp_path: Path) -> None:
    """One of four incremental streams meets an error-shaped 200 on page 5: exit 1 with its
    line; the last STATE covers only records written; a resume (API fixed) loses nothing."""
    names = [c.name for c in INCREMENTAL]
    with PromiseServer(INCREMENTAL, api_key=API_KEY, latency=0.005) as api:
        api.inject("inc_a", 5, "error_body")
        cfg = config(api, *incremental_resources(), max_concurrency=8)
        failed = run_tap(cfg, tmp_path / "failed", secrets=[API_KEY])
        failed_at(failed, api, "inc_a", {5})
        assert not state_regressions(failed.states, names)
        last = failed.states[-1]
        for owner in INCREMENTAL:
            over = bookmark_overreach(last, owner.name, owner, failed.ids(owner.name))
            assert not over, f"{owner.name}: the STATE skips unwritten ids {over[:10]}"
        api.faults.clear()
        resumed = run_tap(cfg, tmp_path / "resumed", state=last, secrets=[API_KEY])
        assert resumed.returncode == 0, resumed.tail()
        assert not state_regressions(resumed.states, names, start=last)
        for owner in INCREMENTAL:
            both = failed.ids(owner.name) + resumed.ids(owner.name)
            assert set(both) == set(owner.ids()), f"{owner.name}: lost ids after the resume"
            value = bookmark(last, owner.name)
            boundary = {i for i in owner.ids() if updated_at(i) == value}
            extra = [i for i in duplicates(both) if i not in boundary]
            assert not extra, f"{owner.name}: written twice beyond the boundary {extra[:10]}"
