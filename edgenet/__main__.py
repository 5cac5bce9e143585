"""``python -m edgenet``: the same as the ``edgenet`` command."""

import sys

from .cli import main

sys.exit(main())
