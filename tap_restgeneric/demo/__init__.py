"""Embedded demo REST API (standard library only) used by tests and examples."""

from tap_restgeneric.demo.server import DemoServer

__all__ = ["DemoServer"]
