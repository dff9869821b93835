"""User tools behind the ``restgeneric`` command: validate, preview, import-dlt."""
