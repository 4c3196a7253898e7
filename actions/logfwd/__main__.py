"""``python -m logfwd``: the same as the ``logfwd`` command."""

import sys

from .cli import main

sys.exit(main())
