"""The baseline: a bare requests + orjson (or msgspec) loop writing Singer RECORD lines.

``python benchmarks/baseline.py --url http://127.0.0.1:PORT/page_number/items --style page_number``

It fetches every page of one benchmark-server style with one ``requests.Session`` (keep-alive),
decodes each body, and writes one line per record to stdout, shaped like the tap's::

    {"type":"RECORD","stream":"items","record":{...},"time_extracted":"2024-...Z"}

``time_extracted`` is taken once per page (when its response arrived). No SCHEMA, STATE,
validation, retries or logging: this is the floor a tap's wall time is compared against.

``--threads N`` (page_number and offset) is a plain thread pool instead: N requests in flight,
each thread with its own session, pages written in order; page_number stops at the first empty
page (the requests already in flight past it are dropped), offset at the first response's total.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import msgspec
import requests


def json_codec() -> tuple[str, Callable[[Any], bytes], Callable[[bytes], Any]]:
    """orjson when installed, else msgspec's JSON codec (equivalent speed and output)."""
    try:
        orjson: Any = importlib.import_module("orjson")
    except ImportError:
        return "msgspec", msgspec.json.Encoder().encode, msgspec.json.Decoder().decode
    return "orjson", orjson.dumps, orjson.loads


def pages(
    session: requests.Session, url: str, style: str, page_size: int, loads: Callable[[bytes], Any]
) -> Iterator[list[dict[str, Any]]]:
    """Yield each page's records, following the style's pagination until its end."""
    if style == "link":
        next_url: str | None = f"{url}?page=1"
        while next_url:
            response = session.get(next_url)
            response.raise_for_status()
            yield loads(response.content)["data"]
            link = response.links.get("next")
            next_url = link["url"] if link else None
        return
    page, offset, cursor = 1, 0, None
    while True:
        params: dict[str, Any]
        if style == "page_number":
            params = {"page": page}
        elif style == "offset":
            params = {"offset": offset, "limit": page_size}
        elif style == "cursor":
            params = {"cursor": cursor} if cursor else {}
        else:
            msg = f"unknown style {style!r}"
            raise ValueError(msg)
        response = session.get(url, params=params)
        response.raise_for_status()
        body = loads(response.content)
        records = body["data"]
        if style == "page_number":
            if not records:
                return
            page += 1
        yield records
        if style == "offset":
            offset += len(records)
            if not records or offset >= body["total"]:
                return
        elif style == "cursor":
            cursor = body.get("next_cursor")
            if not cursor:
                return


def pooled_pages(
    url: str, style: str, page_size: int, threads: int, loads: Callable[[bytes], Any]
) -> Iterator[list[dict[str, Any]]]:
    """Yield each page's records in order, ``threads`` requests in flight (page_number, offset)."""
    local = threading.local()

    def get(params: dict[str, Any]) -> Any:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        response = session.get(url, params=params)
        response.raise_for_status()
        return loads(response.content)

    def params(index: int) -> dict[str, Any]:
        if style == "page_number":
            return {"page": index + 1}
        return {"offset": index * page_size, "limit": page_size}

    end: int | None = None  # offset: the number of pages, from the first response's total
    with ThreadPoolExecutor(max_workers=threads) as pool:
        in_flight: deque[Future[Any]] = deque()
        submitted = 0
        while True:
            while len(in_flight) < threads and (end is None or submitted < end):
                in_flight.append(pool.submit(get, params(submitted)))
                submitted += 1
            if not in_flight:
                return
            body = in_flight.popleft().result()
            records = body["data"]
            if style == "offset" and end is None:
                end = -(-body["total"] // page_size)
            if not records:
                for future in in_flight:
                    future.cancel()
                return
            yield records


def main(argv: Sequence[str] | None = None) -> int:
    """Fetch all pages of one style and write RECORD lines to stdout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the style's items URL")
    parser.add_argument("--style", required=True)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--stream", default="items")
    parser.add_argument("--codec", action="store_true", help="print the JSON codec and exit")
    parser.add_argument("--threads", type=int, default=1, help="a plain pool (page_number, offset)")
    args = parser.parse_args(argv)
    name, dumps, loads = json_codec()
    if args.codec:
        print(name)
        return 0
    stream = args.stream
    utc = datetime.timezone.utc
    # An explicitly buffered stdout: the floor must not depend on PYTHONUNBUFFERED.
    with (
        open(sys.stdout.fileno(), "wb", buffering=1 << 16, closefd=False) as out,
        requests.Session() as session,
    ):
        write = out.write
        if args.threads > 1 and args.style in ("page_number", "offset"):
            source = pooled_pages(args.url, args.style, args.page_size, args.threads, loads)
        else:
            source = pages(session, args.url, args.style, args.page_size, loads)
        for records in source:
            extracted = datetime.datetime.now(utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            for record in records:
                message = {
                    "type": "RECORD",
                    "stream": stream,
                    "record": record,
                    "time_extracted": extracted,
                }
                write(dumps(message))
                write(b"\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
