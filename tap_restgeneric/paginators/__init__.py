"""Paginators, one class per style, registered by type name in ``PAGINATORS``.

Importing a style's module registers it: a new style is one module and one name below.
"""

from tap_restgeneric.paginators import auto, next_page, page_number, ranges, references  # noqa: F401
from tap_restgeneric.paginators.base import (
    PAGINATORS,
    Page,
    PaginationError,
    Paginator,
    Stop,
    build_paginator,
)

__all__ = [
    "PAGINATORS",
    "Page",
    "PaginationError",
    "Paginator",
    "Stop",
    "build_paginator",
]
