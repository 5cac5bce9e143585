"""The ``edgenet`` command's entry point, outside the package on purpose.

Importing :mod:`edgenet` loads torch, which takes a second or more; a Ctrl-C in that
second must end the command quietly (exit status 130), as it does later in
:func:`edgenet.shell.cli.main`. Only a module that is not part of the package can catch it.
"""

from __future__ import annotations

import sys


def main() -> int:
    """Run :func:`edgenet.shell.cli.main`, exiting with 130 on Ctrl-C while it is imported."""
    try:
        from edgenet.shell.cli import main as run
    except KeyboardInterrupt:
        print("edgenet: interrupted", file=sys.stderr)
        return 130
    return run()


if __name__ == "__main__":
    sys.exit(main())
