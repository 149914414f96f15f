"""DuckDB's postgres and mysql extensions, loaded offline from their pinned wheels,
and what the dbt-duckdb plugins of the duckdb_pg and duckdb_mysql targets share.

An extension must match the duckdb version exactly, and ``LOAD mysql`` would
download it from the internet when it is not installed. The wheels
duckdb-extension-postgres and duckdb-extension-mysql carry the binary for this
duckdb version, but under the short name (``mysql.duckdb_extension``) while
DuckDB derives the entry point from the file name and looks for the extension's
real name (``mysql_scanner``) in its extension directory. So the binary is linked
under its real name into a temporary directory laid out as DuckDB's own
(``<dir>/v<version>/<platform>/``), the connection loads it from there, and the
connection's extension directory is set back as it was.
"""

from __future__ import annotations

import contextlib
import importlib
import tempfile
from pathlib import Path

import duckdb

# extension -> its real name, which the binary's file must carry
SCANNER_NAMES = {"postgres": "postgres_scanner", "mysql": "mysql_scanner"}


class ExtensionError(RuntimeError):
    """A DuckDB extension cannot be loaded; the message says what to install."""


def _packaged_binary(name: str) -> Path:
    package = f"duckdb-extension-{name}=={duckdb.__version__}"
    try:
        module = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError:
        raise ExtensionError(
            f"DuckDB's {name} extension is not installed; pip install {package}"
        ) from None
    binary = (
        Path(module.__file__).parent
        / "extensions"
        / f"v{duckdb.__version__}"
        / f"{name}.duckdb_extension"
    )
    if not binary.exists():
        raise ExtensionError(
            f"{binary} missing: the extension must be the same version as duckdb; "
            f"pip install {package}"
        )
    return binary


def _setting(connection: duckdb.DuckDBPyConnection, name: str) -> str:
    return connection.execute(f"SELECT current_setting('{name}')").fetchone()[0]


def load_packaged_extension(connection: duckdb.DuckDBPyConnection, name: str) -> None:
    """Load DuckDB's ``name`` extension (postgres or mysql) offline, from its wheel."""
    scanner = SCANNER_NAMES[name]
    loaded = connection.execute(
        "SELECT loaded FROM duckdb_extensions() WHERE extension_name = ?", [scanner]
    ).fetchone()
    if loaded and loaded[0]:
        return
    binary = _packaged_binary(name)
    platform = connection.execute("PRAGMA platform").fetchone()[0]
    previous = _setting(connection, "extension_directory")
    with tempfile.TemporaryDirectory(prefix="moodle-duckdb-ext-") as directory:
        layout = Path(directory) / f"v{duckdb.__version__}" / platform
        layout.mkdir(parents=True)
        (layout / f"{scanner}.duckdb_extension").symlink_to(binary)
        literal = directory.replace("'", "''")
        connection.execute(f"SET extension_directory = '{literal}'")
        try:
            connection.execute(f"LOAD {name}")
        except duckdb.Error as error:
            raise ExtensionError(f"DuckDB could not load its {name} extension: {error}") from None
        finally:
            with contextlib.suppress(duckdb.Error):
                restored = previous.replace("'", "''")
                connection.execute(f"SET extension_directory = '{restored}'")


def make_warehouse_directory(path: str | None) -> None:
    """Create the directory of a target's DuckDB file (data/ on a fresh clone), which
    DuckDB will not; in-memory and MotherDuck paths have none."""
    if path and path != ":memory:" and not path.startswith("md:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
