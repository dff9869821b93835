"""tap-restgeneric: a Singer tap for any REST API described in dlt's rest_api dialect."""
