"""Doctest collection: the Triton kernels' module imports triton, which not every machine has."""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("triton") else ["edgenet/kernels/triton.py"]
