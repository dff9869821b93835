"""Undeclared schemas typed from sampled first pages: at --discover, and before a sync."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL

from tap_restgeneric.errors import StreamRequestError
from tap_restgeneric.sync.bookmarks import IncrementalRun, utc_now
from tap_restgeneric.sync.summary import StreamStats

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

    from tap_restgeneric.config.spec import RestApiSpec
    from tap_restgeneric.sync.streams import RestGenericStream

logger = logging.getLogger(__name__)


def infer_schemas(
    api: RestApiSpec,
    streams: Mapping[str, RestGenericStream],
    only: set[str] | None = None,
    *,
    log: logging.Logger = logger,
) -> None:
    """Sample each stream without a declared schema (parents first) and type it.

    ``streams``: by Singer stream name. ``only`` (before a sync): type just these resources;
    their parents are sampled for contexts, and a resource whose sample has no records still
    waits for its first page. ``log``: where a parent without records is reported (the tap's).
    """
    samples: dict[str, list[dict[str, Any]]] = {}
    visit = set(only or ())
    for resource in reversed(api.resources):  # children first: their parents too
        if resource.name in visit and resource.parent is not None:
            visit.add(resource.parent)
    for resource in api.resources:  # parents first
        if only is not None and resource.name not in visit:
            continue
        stream = streams[resource.stream_name]
        contexts: list[Any] = [None]
        if resource.parent is not None:
            parent = streams[api.stream_names[resource.parent]]
            contexts = [parent.child_context(r) for r in samples.get(resource.parent, [])[:5]]
            if not contexts and not resource.schema_complete and only is None:
                log.warning(
                    "Stream %r: could not sample records to infer a schema (its parent %r "
                    "gave none); using a permissive schema",
                    stream.name,
                    resource.parent,
                )
        samples[resource.name] = sample_schema(
            stream, contexts, sync=only is not None, type_it=only is None or resource.name in only
        )


def type_before_sync(
    api: RestApiSpec, streams: Mapping[str, RestGenericStream], *, log: logging.Logger = logger
) -> None:
    """No catalog: type the streams whose first page synced state would filter, beforehand.

    Without a catalog an undeclared schema is typed from the first page synced. A bookmark
    of the stream or of an ancestor (whose records give the stream its contexts) would
    make that another page than a run without state typed it from, so such streams are
    typed from that page, sampled as --discover samples (from the start value, no state).
    """
    filtered: set[str] = set()
    typed: set[str] = set()
    for resource in api.resources:  # parents first
        stream = streams[resource.stream_name]
        if bookmarked(stream) or resource.parent in filtered:
            filtered.add(resource.name)
            if stream.selected and stream.schema_tracker.awaits_first_page:
                typed.add(resource.name)
    if typed:
        infer_schemas(api, streams, typed, log=log)


def bookmarked(stream: RestGenericStream) -> bool:
    """Whether the state holds a bookmark the stream's requests would start from."""
    spec = stream.resource.endpoint.incremental
    if spec is None or spec.end_value is not None:  # a backfill ignores state
        return False
    if stream.replication_method != REPLICATION_INCREMENTAL:
        return False
    entry = ((stream.tap_state or {}).get("bookmarks") or {}).get(stream.tap_stream_id) or {}
    return any(
        part.get("replication_key") == spec.replication_key
        and part.get("replication_key_value") is not None
        for part in (entry, *(entry.get("partitions") or ()))
    )


def sample_schema(
    stream: RestGenericStream,
    contexts: list[Context | None],
    *,
    sync: bool = False,
    type_it: bool = True,
) -> list[dict[str, Any]]:
    """Type the stream's schema from its first pages (as --discover does); return the sample.

    Streams with a declared schema, or with ``type_it`` false, are sampled only to feed
    their children's sampling. Before a sync (``sync``: state would filter the first page
    synced) the sample is the page a sync without state types the stream from: the first
    page with records (of the first context with one), all its records; a sample without
    records types nothing (the first page synced does, as without sampling); the sampled
    pages are left out of the stream's summary.
    """
    resource = stream.resource
    if (resource.schema_complete or not type_it) and not stream.children_fields:
        return []
    sample: list[dict[str, Any]] = []
    limit, pages = stream.api.sample_records, stream.api.sample_pages
    requester = stream.requester
    retry = requester.retry
    requester.retry = replace(retry, max_retries=min(retry.max_retries, 1), max_delay=2.0)
    try:
        for context in contexts:
            spec = resource.endpoint.incremental
            run = IncrementalRun(spec, {}, utc_now()) if spec else None
            window = next(iter(run.windows())) if run else None
            for records in stream.pages(context, run, window, max_pages=pages, commit=False):
                sample += records
                if sync and sample:
                    break
            if len(sample) >= limit or (sync and sample):
                break
    except (StreamRequestError, OSError) as exc:
        logger.warning(
            "Stream %r: could not sample records to infer a schema (%s); %s",
            stream.name,
            exc,
            "typing it from the first page synced"
            if sync
            else "using a permissive schema (declare 'schema' or 'columns' to avoid this)",
        )
        return []
    finally:
        requester.retry = retry
        if sync:
            stream.stats = StreamStats(stream.name)
    if not sync:
        sample = sample[:limit]
    if type_it and not resource.schema_complete and (sample or not sync):
        stream.schema_tracker.adopt_sample(sample)
        if sync:
            logger.info(
                "Stream %r: typed from its first page sampled from its start value (%d "
                "records), not from the first page synced, which state filters",
                stream.name,
                len(sample),
            )
    return sample
