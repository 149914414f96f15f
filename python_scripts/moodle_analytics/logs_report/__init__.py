"""Moodle's Logs report download (Course > Reports > Logs > Download) as Moodle tables.

export.py writes a download the way Moodle renders it from logstore_standard_log
rows. The moodle-logs-import command (load.py, the command line) reads such
downloads back into Moodle-shaped tables through importer.py, which runs the
steps of each purpose: reading (reading.py, spreadsheets.py), time placement
(times.py), events (events.py, descriptions.py), identity (people.py,
learners.py), courses and terms (courses.py), table building (tables.py,
coursework.py, grade_tables.py, gradebook.py); build.py then runs dbt on them.
"""
