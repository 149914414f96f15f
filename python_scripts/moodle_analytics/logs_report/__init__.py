"""Moodle's Logs report download (Course > Reports > Logs > Download) as Moodle tables.

export.py writes a download the way Moodle renders it from logstore_standard_log
rows; load.py (the moodle-logs-import command) reads such downloads back into
Moodle-shaped tables, so the project runs for teachers without database access.
"""
