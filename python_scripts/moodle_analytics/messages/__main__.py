import sys

from moodle_analytics.messages.cli import main

sys.exit(main())
