"""The CPU kernels' thread policy (edgenet/kernels/threads.py): the EDGENET_NUM_THREADS
cap, its link to torch.set_num_threads, the free-core estimate, and results that do not
depend on how many threads ran them."""

from __future__ import annotations

import numba
import numpy as np
import pytest
import torch

import edgenet as en
from edgenet.kernels import _fused_kernels, csr, threads

TWO = pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="numba has one thread")


@pytest.fixture(autouse=True)
def _restore(monkeypatch):
    monkeypatch.delenv(threads.ENV, raising=False)
    before = torch.get_num_threads()
    monkeypatch.setattr(threads, "_torch_ours", None)  # torch's count is the user's
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5", "2 threads"])
def test_bad_thread_count_is_a_typed_error_naming_the_variable_and_value(monkeypatch, value):
    monkeypatch.setenv(threads.ENV, value)
    with pytest.raises(en.EdgenetError, match=rf"EDGENET_NUM_THREADS={value!r} is not a thread "
                       r"count: expected a whole number >= 1"):
        threads.limit()


def test_bad_thread_count_refuses_a_forward_pass_and_changes_nothing(monkeypatch, xor):
    model = en.compile(xor, seed=0)
    before = [p.detach().clone() for p in model.parameters()]
    monkeypatch.setenv(threads.ENV, "none")
    with pytest.raises(en.EdgenetError, match="EDGENET_NUM_THREADS='none'"):
        model(torch.ones(300, 2)).sum().backward()
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("value, expected", [("1", 1), (" 1 ", 1), ("", None), ("3", 3)])
def test_thread_count_parses(value, expected):
    assert threads.parse(value) == expected


def test_limit_follows_torch_unless_the_variable_is_set(monkeypatch):
    torch.set_num_threads(1)
    assert threads.limit() == 1
    monkeypatch.setenv(threads.ENV, "1")
    torch.set_num_threads(max(2, torch.get_num_threads()))
    assert threads.limit() == 1


def test_limit_never_exceeds_numbas_pool(monkeypatch):
    monkeypatch.setenv(threads.ENV, "100000")
    assert threads.limit() == numba.config.NUMBA_NUM_THREADS


@TWO
def test_count_adapts_to_free_cores_and_not_below_one(monkeypatch):
    monkeypatch.setenv(threads.ENV, "2")
    monkeypatch.setattr(threads, "free_cores", lambda: 2.0)
    assert threads.count(10**9) == 2
    monkeypatch.setattr(threads, "free_cores", lambda: 1.0)  # one busy process beside us
    assert threads.count(10**9) == 1
    monkeypatch.setattr(threads, "free_cores", lambda: 0.0)
    assert threads.count(10**9) == 1
    monkeypatch.setattr(threads, "ADAPT", False)
    assert threads.count(10**9) == 2
    assert threads.count(5, 10) == 1  # too small to wake the workers


def test_free_cores_counts_other_processes_time_only(monkeypatch):
    clock = iter([10.0, 10.5, 10.55, 11.0])
    busy = iter([100.0, 100.5, 100.6])  # others ran 0.5 s of the next 0.5 s
    monkeypatch.setattr(threads.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(threads, "_others_busy", lambda cores: next(busy))
    monkeypatch.setattr(threads, "_cores", lambda: [0, 1])
    monkeypatch.setattr(threads, "_last", None)
    assert threads.free_cores() == 2.0  # no history yet: all free
    assert threads.free_cores() == pytest.approx(1.0)  # one core's worth busy
    assert threads.free_cores() == pytest.approx(1.0)  # within the window: kept
    assert threads.free_cores() == pytest.approx(1.8)  # 0.1 s busy over 0.5 s


def test_free_cores_without_proc_stat_is_the_core_count(monkeypatch):
    monkeypatch.setattr(threads, "_others_busy", lambda cores: None)
    monkeypatch.setattr(threads, "_last", None)
    assert threads.free_cores() == len(threads._cores())


def _step(model, x):
    """``(y, dL/dx, dL/dweight, dL/dbias)`` of ``mean(y^2)``."""
    model.zero_grad(set_to_none=True)
    x = x.clone().requires_grad_(True)
    y = model(x)
    (y * y).mean().backward()
    return y.detach(), x.grad, model.weight.grad, model.bias.grad


def _run(model, x, n):
    """A step on ``n`` threads (no adapting), and the most threads a kernel call used."""
    used: list[int] = []
    count = threads.count

    def spy(*args):
        used.append(count(*args))
        return used[-1]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(threads, "count", spy)
        mp.setattr(threads, "ADAPT", False)
        mp.setenv(threads.ENV, str(n))
        out = _step(model, x)
    return out, max(used)


@TWO
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_generation_engine_results_are_bitwise_equal_across_thread_counts(monkeypatch, dtype):
    rng = np.random.default_rng(0)
    mask = rng.random((96, 80)) < 0.2
    net = en.Network()
    for i in range(96):
        net.add_input(f"x{i}")
    for j in range(80):
        net.add_neuron(f"h{j}", activation="tanh")
    net.add_output("y")
    net.connect([f"x{i}" for i in range(96)], [f"h{j}" for j in range(80)], mask=mask)
    net.connect([f"h{j}" for j in range(80)], ["y"], mask=np.ones((80, 1)))
    model = en.compile(net, seed=0, dtype=dtype, engine="sparse")
    x = torch.randn(200, 96, dtype=dtype)
    monkeypatch.setattr(csr, "PARALLEL_WORK", 1)  # small products run parallel too
    one, used1 = _run(model, x, 1)
    two, used2 = _run(model, x, 2)
    assert (used1, used2) == (1, 2)
    for a, b in zip(one, two):
        assert torch.equal(a, b)


def _deep_narrow():
    """A deep, narrow DAG: the fused engine's case."""
    net = en.Network()
    for i in range(4):
        net.add_input(i)
    prev = list(range(4))
    for g in range(30):  # a deep, narrow DAG: the fused engine's case
        gen = [f"n{g}_{k}" for k in range(3)]
        for v in gen:
            if g < 29:
                net.add_neuron(v, activation="tanh")
            else:
                net.add_output(v)
            for u in prev:
                net.add_edge(u, v)
        prev = gen
    return en.compile(net, seed=0, engine="fused")


@TWO
def test_fused_gradients_do_not_depend_on_how_many_threads_adapting_left(monkeypatch):
    """The fused engine's weight gradients are sums over column chunks: the chunk count
    follows the thread limit, not the threads that ran, so a busy machine (fewer
    threads) gives bitwise the same gradients as a quiet one."""
    model = _deep_narrow()
    x = torch.randn(128, 4)
    monkeypatch.setattr(_fused_kernels, "PARALLEL_WORK", 1)
    monkeypatch.setenv(threads.ENV, "2")
    monkeypatch.setattr(threads, "free_cores", lambda: 2.0)
    quiet = _step(model, x)
    monkeypatch.setattr(threads, "free_cores", lambda: 0.0)  # every core busy elsewhere
    assert threads.count(10**9) == 1
    busy = _step(model, x)
    for a, b in zip(quiet, busy):
        assert torch.equal(a, b)


@TWO
def test_torch_threads_follow_the_free_cores_from_one_pass_to_the_next(monkeypatch):
    """Beside busy processes torch's threads stay lowered after edgenet's pass, so the
    user's loss and optimizer between passes run on the free cores too; a pass that finds
    the cores free again gives the user's count back."""
    torch.set_num_threads(2)
    monkeypatch.setattr(threads, "free_cores", lambda: 2.0)
    threads.adapt_torch("cpu")
    assert torch.get_num_threads() == 2
    monkeypatch.setattr(threads, "free_cores", lambda: 1.0)  # one busy process beside us
    threads.adapt_torch("cpu")
    assert torch.get_num_threads() == 1  # and it stays so after the pass
    assert threads.torch_threads() == 2 and threads.limit() == 2  # the user's count
    threads.adapt_torch("cpu")
    assert torch.get_num_threads() == 1
    monkeypatch.setattr(threads, "free_cores", lambda: 2.0)
    threads.adapt_torch("cpu")
    assert torch.get_num_threads() == 2
    assert threads._torch_ours is None
    monkeypatch.setattr(threads, "free_cores", lambda: 0.0)
    threads.adapt_torch("meta")  # not the CPU: nothing to match
    assert torch.get_num_threads() == 2


@TWO
def test_a_model_step_beside_busy_cores_runs_the_users_loss_on_the_free_cores(monkeypatch, xor):
    torch.set_num_threads(2)
    model = en.compile(xor, seed=0)
    monkeypatch.setattr(threads, "free_cores", lambda: 1.0)
    y = model(torch.ones(8, 2))
    assert torch.get_num_threads() == 1  # what (y * y).mean() and its backward run on
    (y * y).mean().backward()
    monkeypatch.setattr(threads, "free_cores", lambda: 2.0)
    model(torch.ones(8, 2))
    assert torch.get_num_threads() == 2


@TWO
def test_torch_set_num_threads_while_lowered_is_the_users_new_count(monkeypatch):
    torch.set_num_threads(2)
    monkeypatch.setattr(threads, "free_cores", lambda: 1.0)
    threads.adapt_torch("cpu")
    assert torch.get_num_threads() == 1
    torch.set_num_threads(3)  # the user's call: a new count, whatever edgenet set
    assert threads.torch_threads() == 3 and threads.limit() == min(3, numba.config.NUMBA_NUM_THREADS)
    monkeypatch.setattr(threads, "free_cores", lambda: 8.0)
    threads.adapt_torch("cpu")
    assert torch.get_num_threads() == 3  # never above the user's count
    monkeypatch.setattr(threads, "free_cores", lambda: 1.0)
    threads.adapt_torch("cpu")
    assert torch.get_num_threads() == 1
    torch.set_num_threads(1)  # the count edgenet set: read as edgenet's (documented)
    assert threads.torch_threads() == 3


@TWO
def test_adapting_off_gives_torch_the_users_count_back(monkeypatch):
    torch.set_num_threads(2)
    monkeypatch.setattr(threads, "free_cores", lambda: 0.5)
    threads.adapt_torch("cpu")
    assert torch.get_num_threads() == 1
    monkeypatch.setattr(threads, "ADAPT", False)
    threads.adapt_torch("cpu")
    assert torch.get_num_threads() == 2
    assert threads.count(10**9) == 2


@TWO
def test_fused_gradients_follow_the_users_torch_count_not_the_lowered_one(monkeypatch):
    """Without EDGENET_NUM_THREADS the limit is torch's count as the user set it: a busy
    step, which leaves torch lowered to one thread, chunks backward as a quiet one."""
    model = _deep_narrow()
    x = torch.randn(128, 4)
    monkeypatch.setattr(_fused_kernels, "PARALLEL_WORK", 1)
    torch.set_num_threads(2)
    monkeypatch.setattr(threads, "free_cores", lambda: 2.0)
    quiet = _step(model, x)
    monkeypatch.setattr(threads, "free_cores", lambda: 0.0)  # every core busy elsewhere
    busy = _step(model, x)
    for a, b in zip(quiet, busy):
        assert torch.equal(a, b)
    assert torch.get_num_threads() == 1 and threads.limit() == 2


@TWO
def test_recurrent_results_are_bitwise_equal_quiet_or_busy(monkeypatch):
    """The recurrent walk on a busy machine (torch and numba lowered to one thread) gives
    bitwise the results of a quiet one (two threads)."""
    rng = np.random.default_rng(1)
    net = en.Network()
    for i in range(3):
        net.add_input(f"x{i}")
    for v in range(40):
        net.add_neuron(v, activation="tanh", tau=2.0)
    net.add_output("y")
    for u, v in zip(rng.integers(0, 40, 400).tolist(), rng.integers(0, 40, 400).tolist()):
        net.add_edge(u, v)
    for i in range(3):
        net.add_edge(f"x{i}", i)
    net.add_edge(39, "y")
    model = en.compile(net, recurrent=True, seed=0)
    x = torch.randn(64, 5, 3)
    monkeypatch.setattr(csr, "PARALLEL_WORK", 1)
    torch.set_num_threads(2)
    monkeypatch.setattr(threads, "free_cores", lambda: 2.0)
    quiet = _step(model, x)
    monkeypatch.setattr(threads, "free_cores", lambda: 0.0)
    busy = _step(model, x)
    for a, b in zip(quiet, busy):
        assert torch.equal(a, b)


@TWO
@pytest.mark.parametrize("engine", ["sparse", "dense"])
def test_generation_engine_results_are_bitwise_equal_quiet_or_busy(monkeypatch, engine):
    """Sparse and dense generations (torch's products on the CPU) on a busy machine, torch
    and numba lowered to one thread, give bitwise the results of a quiet one."""
    rng = np.random.default_rng(2)
    net = en.Network()
    for i in range(64):
        net.add_input(f"x{i}")
    for j in range(48):
        net.add_neuron(f"h{j}", activation="tanh")
    for j in range(40):
        net.add_neuron(f"g{j}", activation="relu")
    net.add_output("y")
    net.connect([f"x{i}" for i in range(64)], [f"h{j}" for j in range(48)],
                mask=rng.random((64, 48)) < 0.05)  # sparse
    net.connect([f"h{j}" for j in range(48)], [f"g{j}" for j in range(40)],
                mask=rng.random((48, 40)) < 0.9)  # dense
    net.connect([f"g{j}" for j in range(40)], ["y"], mask=np.ones((40, 1)))
    model = en.compile(net, seed=0, engine=engine)
    assert engine in {s["kernel"] for s in model.generation_stats()}
    x = torch.randn(1024, 64)  # buffers below the workspace pool's MIN_BYTES
    monkeypatch.setattr(csr, "PARALLEL_WORK", 1)
    torch.set_num_threads(2)
    monkeypatch.setattr(threads, "free_cores", lambda: 2.0)
    quiet = _step(model, x)
    monkeypatch.setattr(threads, "free_cores", lambda: 0.0)
    busy = _step(model, x)
    assert torch.get_num_threads() == 1
    for a, b in zip(quiet, busy):
        assert torch.equal(a, b)
