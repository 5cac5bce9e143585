"""Shared test set-up: the hypothesis profile, the ``cuda`` mark and shared fixtures.

Helpers that are not fixtures live beside this file: ``reference.py`` (the float64
oracle) and ``dags.py`` (hypothesis strategies for networks, the XOR network).
"""

import os

import pytest
import torch
from dags import xor_network
from hypothesis import HealthCheck, settings

import edgenet as en

settings.register_profile(
    "default",
    deadline=None,
    max_examples=int(os.environ.get("EDGENET_EXAMPLES", "25")),
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("default")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cuda: needs a CUDA device (skipped without one)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def xor() -> en.Network:
    """A fresh 2-4-1 XOR network with a skip edge x0 -> y and no weights yet."""
    return xor_network()
