"""``python -m skflow``: see :mod:`skflow.cli`."""

import sys

from .cli import main

sys.exit(main())
