"""``python -m edgenet``: the same as the ``edgenet`` command."""

import sys

from .shell.cli import main

sys.exit(main())
