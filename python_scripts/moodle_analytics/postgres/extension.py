"""DuckDB's postgres extension, loaded offline from the duckdb-extension-postgres wheel.

The extension must match the duckdb version exactly. ``LOAD postgres`` would download
it from extensions.duckdb.org when it is not installed; the wheel carries the binary
for this duckdb version, so nothing needs the network.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import duckdb


class ExtensionError(RuntimeError):
    """DuckDB's postgres extension cannot be loaded; the message says what to install."""


def load_postgres_extension(connection: duckdb.DuckDBPyConnection) -> None:
    """Load DuckDB's postgres extension offline, from the duckdb-extension-postgres wheel."""
    with contextlib.suppress(duckdb.Error):
        connection.execute("LOAD postgres")
        return
    try:
        import duckdb_extension_postgres
    except ImportError:
        raise ExtensionError(
            "DuckDB's postgres extension is not installed; pip install "
            f"duckdb-extension-postgres=={duckdb.__version__}"
        ) from None
    packaged = (
        Path(duckdb_extension_postgres.__file__).parent
        / "extensions"
        / f"v{duckdb.__version__}"
        / "postgres.duckdb_extension"
    )
    if not packaged.exists():
        raise ExtensionError(
            f"{packaged} missing: duckdb-extension-postgres must be the same version as "
            f"duckdb ({duckdb.__version__})"
        )
    # The wheel names the file postgres, but LOAD derives the entry point from the file
    # name and the extension's real name is postgres_scanner.
    with tempfile.TemporaryDirectory() as directory:
        link = Path(directory) / "postgres_scanner.duckdb_extension"
        link.symlink_to(packaged)
        connection.execute(f"LOAD '{link}'")
