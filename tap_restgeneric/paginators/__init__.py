"""Paginators, one class per dlt style, registered by type name in ``PAGINATORS``."""

from tap_restgeneric.paginators import auto, ranges, references
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
    "auto",
    "build_paginator",
    "ranges",
    "references",
]
