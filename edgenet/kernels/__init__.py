"""Kernels that run a compiled DAG forward and backward.

>>> from edgenet.kernels import sparse
>>> sparse.DagFunction.__name__
'DagFunction'
"""
