"""Paginators, one class per dlt style, registered by type name in ``PAGINATORS``."""

from tap_restgeneric.paginators import auto, ranges, references
from tap_restgeneric.paginators.base import PAGINATORS, Page, PaginationError, Paginator, Stop

__all__ = [
    "PAGINATORS",
    "Page",
    "PaginationError",
    "Paginator",
    "Stop",
    "auto",
    "ranges",
    "references",
]
