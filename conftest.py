"""Doctest collection: modules whose examples need an optional package (triton, neat-python,
plotly) are skipped where it is not installed."""

import importlib.util

OPTIONAL = {"triton": "edgenet/kernels/triton.py", "neat": "edgenet/io/neat.py",
            "plotly": "edgenet/views/page.py"}
collect_ignore = [path for package, path in OPTIONAL.items()
                  if importlib.util.find_spec(package) is None]
