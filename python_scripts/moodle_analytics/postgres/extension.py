"""DuckDB's postgres extension, loaded offline from the duckdb-extension-postgres wheel
(moodle_db.extensions does it for every packaged extension)."""

from __future__ import annotations

import duckdb

from moodle_analytics.moodle_db.extensions import ExtensionError, load_packaged_extension

__all__ = ["ExtensionError", "load_postgres_extension"]


def load_postgres_extension(connection: duckdb.DuckDBPyConnection) -> None:
    """Load DuckDB's postgres extension offline, from the duckdb-extension-postgres wheel."""
    load_packaged_extension(connection, "postgres")
