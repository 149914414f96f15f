import sys

from moodle_analytics.dashboard.cli import main

sys.exit(main())
