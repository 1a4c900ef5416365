"""`python -m xlkpi` runs the command line."""

import sys

from xlkpi.cli.main import main

sys.exit(main())
