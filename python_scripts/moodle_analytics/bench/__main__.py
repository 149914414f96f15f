import sys

from moodle_analytics.bench.cli import main

sys.exit(main())
