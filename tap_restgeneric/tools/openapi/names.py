"""The names the importer reads paging from: parameter, field and header name sets, and
JSON paths of response fields."""

from __future__ import annotations

import re

from tap_restgeneric.tools.openapi.refs import Node

DEFAULT_SIZE = 100
MAX_SIZE = 1000


def norm(name: str) -> str:
    """``page[size]``, ``pageSize``, ``$top`` → ``pagesize``, ``pagesize``, ``top``."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


PAGE_PARAMS = {"page", "pagenumber", "currentpage", "pageno", "pagenum"}
SIZE_PARAMS = {"perpage", "pagesize", "size", "limit", "resultsperpage", "maxresults", "top"}
SIZE_PARAMS |= {"pagelimit", "maxpagesize", "itemsperpage", "count"}
OFFSET_PARAMS = {"offset", "skip", "start", "startindex", "pageoffset"}
LIMIT_PARAMS = {"limit", "top", "size", "pagesize", "maxresults", "pagelimit", "perpage", "count"}
CURSOR_PARAMS = {"cursor", "after", "startingafter", "pagetoken", "nexttoken", "continuation"}
CURSOR_PARAMS |= {"continuationtoken", "marker", "token", "nextcursor", "pagecursor", "pageafter"}
CURSOR_PARAMS |= {"startcursor", "scrollid", "nextpagetoken", "next", "paginationtoken"}
AFTER_PARAMS = {"startingafter", "after", "afterid", "sinceid", "startafter"}
LINK_FIELDS = {"next", "nexturl", "nextlink", "nextpageurl", "odatanextlink", "nexthref"}
TOKEN_FIELDS = {"nextcursor", "cursor", "nexttoken", "nextpagetoken", "continuation"}
TOKEN_FIELDS |= {"continuationtoken", "endcursor", "nextmarker", "scrollid", "after"}
PAGES_FIELDS = {"totalpages", "pages", "pagecount", "numpages", "lastpage"}
RECORDS_FIELDS = {"total", "count", "totalcount", "totalitems", "totalresults", "totalrecords"}
RECORDS_FIELDS |= {"totalelements", "totalentries", "totalsize", "numresults"}
NEXT_FIELDS = {"nextpage", "nextcursor", "nextpagetoken"}  # a string: a cursor; an integer: a page
MORE_FIELDS = {"hasmore", "hasnext", "hasnextpage", "more", "moreresults"}
RECORDS_HEADERS = {"x-total-count", "x-total", "total-count", "x-total-results"}
PAGES_HEADERS = {"x-total-pages", "x-page-count"}


def json_path(parts: tuple[str, ...]) -> str:
    """``a.b`` or ``['@odata.nextLink']`` for keys that are not identifiers."""
    if all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", p) for p in parts):
        return ".".join(parts)
    return "".join(f"[{p!r}]" for p in parts)


Fields = dict[tuple[str, ...], Node]
