"""moodle-bench: the build's speed and memory at scale, against the notebook way
(pandas) and against the floor (one query over the log). See cli.py."""
