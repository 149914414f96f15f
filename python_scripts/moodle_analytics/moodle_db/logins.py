"""A database login read from environment variables, as every engine's target reads it.

A dbt target reads <PREFIX>_HOST, _PORT, _USER, ... (MOODLE_PG_*, MOODLE_MYSQL_*);
an output login may fall back to the source's twin (ANALYTICS_PG_HOST unset or
empty: MOODLE_PG_HOST). Each value remembers the variable it came from, so an
error can name the one to fix.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping


def read_login(
    prefix: str,
    fields: Iterable[str],
    fallback_prefix: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[dict[str, str | None], dict[str, str]]:
    """(field -> value or None, field -> the variable that holds it, or would)."""
    environ = os.environ if environ is None else environ
    values: dict[str, str | None] = {}
    variables: dict[str, str] = {}
    for field in fields:
        names = [f"{prefix}_{field.upper()}"]
        if fallback_prefix:
            names.append(f"{fallback_prefix}_{field.upper()}")
        variables[field], values[field] = names[0], None
        for name in names:
            if environ.get(name):
                values[field], variables[field] = environ[name], name
                break
    return values, variables


def port_number(text: str) -> int | None:
    """The port a variable holds, or None when it is not a port number (1-65535)."""
    if not text.isdigit() or not 0 < int(text) < 65536:
        return None
    return int(text)
