"""`python -m sandbox.payments --port N --data DIR --key-file F …` (see `cli.py`)."""

import sys

from sandbox.payments.cli import main

sys.exit(main())
