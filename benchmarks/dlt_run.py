"""dlt's rest_api source with its default settings, writing the tap's RECORD lines.

    /path/to/python-with-dlt benchmarks/dlt_run.py --config config.json [--resource items]

``bench.py --compare`` runs this as a measured child, with a Python where ``dlt`` is installed
(``--dlt-python``, else the bench's own when it can import dlt). It builds
``rest_api_source(config)`` from the same one-resource config the tap gets (dlt's rest_api
dialect; keys only the tap knows, such as ``schema_sample_pages``, are dropped) and iterates the
resource: dlt's own extraction (its REST client, paginator and data selector, one request at a
time, as dlt does by default) without a pipeline's normalize and load steps. Each record becomes
one ``{"type":"RECORD","stream":...,"record":{...},"time_extracted":"..."}`` line in a buffered
stdout, as ``baseline.py`` writes them, so the bench checks every id the same way.

Exit status 3 when dlt cannot be imported (the bench reports that as "not installed").
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

TAP_ONLY_KEYS = frozenset({"schema_sample_pages", "max_concurrency"})
NOT_INSTALLED = 3


def dumps() -> Callable[[Any], bytes]:
    """orjson when installed beside dlt (it depends on it), else the standard library."""
    try:
        orjson: Any = importlib.import_module("orjson")
    except ImportError:
        return lambda value: json.dumps(value, separators=(",", ":"), default=str).encode()
    return orjson.dumps  # type: ignore[no-any-return]


def main(argv: Sequence[str] | None = None) -> int:
    """Iterate the resource and write its records."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="the tap's config (JSON)")
    parser.add_argument("--resource", default="items")
    args = parser.parse_args(argv)
    try:
        rest_api: Any = importlib.import_module("dlt.sources.rest_api")
    except ImportError as exc:
        print(f"dlt is not installed in {sys.executable}: {exc}", file=sys.stderr)
        return NOT_INSTALLED
    config = {
        k: v for k, v in json.loads(args.config.read_text()).items() if k not in TAP_ONLY_KEYS
    }
    source = rest_api.rest_api_source(config)
    encode = dumps()
    out = sys.stdout.buffer
    prefix = b'{"type":"RECORD","stream":' + encode(args.resource) + b',"record":'
    for item in source.resources[args.resource]:
        # dlt yields records one by one here (its pages are flattened by the pipe iterator).
        now = datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
        out.write(prefix + encode(item) + b',"time_extracted":"' + now.encode() + b'"}\n')
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
