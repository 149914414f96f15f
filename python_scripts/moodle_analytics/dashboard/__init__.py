"""A static dashboard page generated from the marts after `dbt build`.

`moodle-dashboard` (or `python -m moodle_analytics.dashboard`) reads the DuckDB
warehouse and writes one self-contained HTML file: no server, no network, the
charts drawn as inline SVG."""

from moodle_analytics.dashboard.build import build_dashboard

__all__ = ["build_dashboard"]
