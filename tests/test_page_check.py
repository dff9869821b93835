"""The page check (msgspec) agrees with the exact drift checker, and the guard uses it per page."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tap_restgeneric.records.drift import Checker, DriftGuard
from tap_restgeneric.records.inference import widen
from tap_restgeneric.records.page_check import PageCheck

ITEM_SCHEMA: dict[str, Any] = {
    "type": ["object"],
    "properties": {
        "id": {"type": ["integer"]},
        "name": {"type": ["string", "null"]},
        "amount": {"type": ["number"]},
        "active": {"type": ["boolean"]},
        "tags": {"type": ["array"], "items": {"type": ["string"]}},
        "lines": {
            "type": ["array", "null"],
            "items": {"type": ["object"], "properties": {"sku": {"type": ["string"]}}},
        },
        "address": {
            "type": ["object", "null"],
            "properties": {
                "city": {"type": ["string"]},
                "geo": {"type": ["object"], "properties": {"lat": {"type": ["number"]}}},
            },
        },
        "extra": {"type": ["object"]},
        "anything": {},
    },
}
GOOD: dict[str, Any] = {
    "id": 1,
    "name": None,
    "amount": 2,
    "active": True,
    "tags": ["a"],
    "lines": [{"sku": "x"}],
    "address": {"city": "Oslo", "geo": {"lat": 1.5}},
    "extra": {"free": [1, "form"]},
    "anything": [None],
}


def check(records: list[dict[str, Any]], schema: dict[str, Any] = ITEM_SCHEMA) -> bool:
    """What the page check says of ``records``."""
    page = PageCheck(schema)
    assert page.available
    return page.fits(records)


def test_a_page_of_fitting_records_passes() -> None:
    assert check([GOOD, {"id": 2}, {**GOOD, "amount": 2.5}])


def test_missing_fields_are_fine() -> None:
    assert check([{}, {"id": 3}])


@pytest.mark.parametrize(
    "change",
    [
        {"unknown": 1},
        {"id": True},
        {"id": 1.0},
        {"id": "1"},
        {"name": 5},
        {"amount": "2.5"},
        {"active": None},
        {"tags": ["a", 1]},
        {"tags": None},
        {"lines": [{"sku": "x", "qty": 1}]},
        {"address": {"city": "Oslo", "zip": "0150"}},
        {"address": {"geo": {"lat": "north"}}},
        {"address": "Oslo"},
        {"extra": []},
    ],
)
def test_one_misfit_anywhere_fails_the_page(change: dict[str, Any]) -> None:
    record = {**copy.deepcopy(GOOD), **change}
    assert Checker(ITEM_SCHEMA).misfits(record) != []
    assert not check([GOOD, record, GOOD])


def test_decimals_and_tuples_are_accepted_as_the_checker_accepts_them() -> None:
    record = {"id": 1, "amount": Decimal("1.5"), "tags": ("a", "b")}
    assert Checker(ITEM_SCHEMA).misfits(record) == []
    assert check([record])


@pytest.mark.parametrize(
    "prop",
    [
        {"type": ["date"]},
        {"type": []},
        {"anyOf": [{"type": "string"}], "properties": {"a": {"type": "string"}}},
        {"properties": {"a": {"type": "string"}}},
        {"type": ["array"], "items": {"type": ["string", "date"]}},
    ],
)
def test_schemas_it_cannot_mirror_build_no_check(prop: dict[str, Any]) -> None:
    page = PageCheck({"properties": {"v": prop}})
    assert not page.available
    assert not page.fits([{}])


def test_a_union_msgspec_refuses_builds_no_check() -> None:
    # An object with properties listed twice would be two Structs in one union.
    nested = {"properties": {"a": {"type": ["array", "object"]}}}
    assert PageCheck({"properties": {"v": {"type": ["object", "array"], **nested}}}).available
    assert not PageCheck({"properties": {"v": {"type": ["object", "object"], **nested}}}).available


def test_the_guard_skips_per_record_checks_when_the_page_fits() -> None:
    calls: list[dict[str, Any]] = []
    guard = DriftGuard("items", copy.deepcopy(ITEM_SCHEMA), "evolve", calls.append, widen)
    counted = 0
    original = guard.checker.misfits

    def counting(record: Mapping[str, Any], prefix: str = "") -> list[str]:
        nonlocal counted
        counted += 1
        return original(record, prefix)

    guard.checker.misfits = counting  # type: ignore[method-assign]
    page = [GOOD, {"id": 2}]
    assert guard.apply_page(page) is page
    assert counted == 0
    drifted = [GOOD, {"id": 3, "new": "x"}]
    assert guard.apply_page(drifted) == drifted
    assert counted == 2  # the exact checker ran on each record of the page
    assert len(calls) == 1 and "new" in calls[0]["properties"]
    assert guard.page_check.fits([{"id": 4, "new": "y"}])  # rebuilt from the evolved schema


# --------------------------------------------------------------------------------------------
# Both checkers agree on random schemas and records.

NAMES = st.sampled_from(["a", "b", "c"])
SCALAR_TYPES = st.lists(
    st.sampled_from(["null", "boolean", "integer", "number", "string"]), min_size=1, max_size=3
)


def _schemas(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    objects = st.builds(
        lambda kinds, props: {"type": ["object", *kinds], "properties": props},
        st.lists(st.sampled_from(["null", "string"]), max_size=1),
        st.dictionaries(NAMES, children, min_size=1, max_size=3),
    )
    arrays = st.builds(
        lambda kinds, items: {"type": ["array", *kinds], "items": items},
        st.lists(st.sampled_from(["null", "integer"]), max_size=1),
        children,
    )
    free: st.SearchStrategy[dict[str, Any]] = st.sampled_from(
        [{"type": ["object"]}, {"type": "array"}, {}]
    )
    return objects | arrays | free


PROPS = st.recursive(st.builds(lambda kinds: {"type": kinds}, SCALAR_TYPES), _schemas, max_leaves=6)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(NAMES, children, max_size=3),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(  # found in CI: the exact checker looked only one array level deep
    props={"b": {"type": ["array"], "items": {"type": ["array"], "items": {"type": ["null"]}}}},
    records=[{"b": [[False]]}],
)
@given(
    props=st.dictionaries(NAMES, PROPS, max_size=3),
    records=st.lists(st.dictionaries(NAMES, VALUES, max_size=3), min_size=1, max_size=4),
)
def test_page_check_and_exact_checker_agree(
    props: dict[str, Any], records: list[dict[str, Any]]
) -> None:
    schema = {"properties": props}
    page = PageCheck(schema)
    exact = all(Checker(schema).misfits(record) == [] for record in records)
    if page.available:
        assert page.fits(records) == exact
    else:
        assert not page.fits(records)
