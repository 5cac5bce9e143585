"""RigL's scoring (issue 24): the exact scores of every candidate by one product per block
of target rows and a running top-k, never a list of every candidate pair; the opt-in
``sample=m``, which scores m free candidates drawn uniformly. Checked against a brute
force over the listed pairs and a dense score matrix, ties included."""

from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
import pytest
import torch

import edgenet as en
from edgenet.model import schedulers


def dag_model(n: int = 40, p: float = 0.2, dead: float = 0.85, seed: int = 0):
    """A random DAG in float64 whose hidden neurons are partly dead (relu with bias -50):
    their outputs and gradients are 0, so many candidate scores tie at exactly 0."""
    rng = np.random.default_rng(seed)
    G = nx.gnp_random_graph(n, p, seed=seed, directed=True)
    net = en.Network()
    for i in range(n):
        if i < 5:
            net.add_input(i)
        elif i >= n - 3:
            net.add_output(i)
        else:
            net.add_neuron(i, bias=-50.0 if rng.random() < dead else 0.1)
    for u, v in G.edges:
        if u < v and v >= 5 and u < n - 3:
            net.add_edge(u, v, weight=float(rng.normal()))
    return en.compile(net, dtype=torch.float64, seed=seed)


def backward_pass(model, seed: int = 0):
    x = torch.randn(6, model.n_inputs, dtype=torch.float64,
                    generator=torch.Generator().manual_seed(seed))
    model.zero_grad()
    model(x).square().sum().backward()


def brute_force(model, sched, k: int) -> tuple[list, np.ndarray, np.ndarray]:
    """The k pairs RigL must grow, by scoring every listed free pair of a dense score
    matrix, ties by listing order (``"forward"``: by target row, then source row);
    also the scores and listing keys of every free pair by ``(u, v)`` row."""
    H, D = sched.gradients()
    n, n_in = len(model.nodes), model.n_inputs
    src, dst = model.edge_rows()
    drop = np.argsort(model.weight.detach().abs().numpy(), kind="stable")[:k]
    kept = np.ones(len(src), dtype=bool)
    kept[drop] = False
    if sched.candidates[0] == "forward":
        v, u = np.nonzero(np.tril(np.ones((n, n), dtype=bool), -1))  # v > u, by (v, u)
        u, v = u[v >= n_in], v[v >= n_in]
    else:
        u, v = schedulers._row_pairs(model, sched.candidates)  # in listing order
    free = schedulers._absent(u, v, src[kept], dst[kept], n)
    u, v = u[free], v[free]
    S = (H @ D.T).abs().numpy()  # (N, N - n_in) every |dL/dw_uv|
    scores = S[u, v - n_in]
    order = np.lexsort((np.arange(len(u)), -scores))[:k]
    nodes = model.nodes
    score_of = np.full((n, n), np.nan)
    score_of[u, v] = scores
    key_of = np.full((n, n), -1)
    key_of[u, v] = np.arange(len(u))
    return [(nodes[a], nodes[b]) for a, b in zip(u[order], v[order])], score_of, key_of


def overlapping_blocks(model):
    """Blocks that overlap, repeat nodes, list backward pairs and an input as target."""
    nodes = model.nodes
    return [
        (nodes[:5] + nodes[10:18], nodes[12:30]),
        (nodes[::-1][5:20] + nodes[2:4], nodes[20:37] + [nodes[0]] + nodes[25:28]),
        (nodes[:12] + nodes[:3], nodes[30:]),
    ]


@pytest.mark.parametrize("block", [None, 7, 100])
@pytest.mark.parametrize("kind", ["layers", "forward", "overlapping"])
def test_exact_scores_equal_a_brute_force_over_every_candidate(kind, block):
    """The blocked product and running top-k give the k best of a full dense score
    matrix, in order, with ties (dead neurons score exactly 0) broken as listed."""
    model = dag_model()
    candidates = overlapping_blocks(model) if kind == "overlapping" else kind
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the listed backward pairs
        sched = en.RigL(model, None, fraction=0.5, every=1, candidates=candidates)
    old = schedulers.SCORE_BLOCK
    ties = 0
    try:
        if block:
            schedulers.SCORE_BLOCK = block  # many blocks of target rows
        for step in range(3):
            backward_pass(model, step)
            k = round(0.5 * len(model.edges))
            want, score_of, _ = brute_force(model, sched, k)
            rows = {x: r for r, x in enumerate(model.nodes)}  # before the rewire
            sched.step()
            assert sched.last[1] == want
            ties += sum(score_of[rows[u], rows[v]] == 0 for u, v in want)
    finally:
        schedulers.SCORE_BLOCK = old
    assert ties  # zero scores were among the grown: the tie order was tested


def test_default_candidates_never_list_every_pair(monkeypatch):
    """Before the fix the default ("layers") candidates were listed pair by pair, nodes²
    of them on a deep random DAG (9 s a step at 5k nodes and 100k edges)."""
    model = dag_model()
    sched = en.RigL(model, None, fraction=0.3, every=1)

    def listed(*args, **kwargs):
        raise AssertionError("every candidate pair was listed")

    monkeypatch.setattr(schedulers, "_row_pairs", listed)
    backward_pass(model)
    edges = len(model.edges)
    sched.step()
    assert len(model.edges) == edges and sched.last[1]


# -------------------------------------------------------------------------- sample=m

def sampled(seed: int, sample: int, candidates="layers", steps: int = 1, **kwargs):
    model = dag_model(**kwargs)
    sched = en.RigL(model, None, fraction=0.05, every=1, candidates=candidates,
                    sample=sample, seed=seed)
    out = []
    for step in range(steps):
        backward_pass(model, step)
        sched.step()
        out.append((sched.last, list(sched.scored)))
    return out


@pytest.mark.parametrize("candidates", ["layers", "forward"])
def test_sample_is_repeatable_with_a_seed(candidates):
    a = sampled(0, 30, candidates, steps=3)
    assert a == sampled(0, 30, candidates, steps=3)
    assert a != sampled(1, 30, candidates, steps=3)


@pytest.mark.parametrize("sample", [20, 60, 150])  # drawn with rejections; listed, then drawn
@pytest.mark.parametrize("candidates", ["layers", "forward", "overlapping", "edges"])
def test_sample_regrows_the_best_of_distinct_free_candidates(candidates, sample):
    model = dag_model()
    if candidates == "overlapping":
        candidates = overlapping_blocks(model)
    elif candidates == "edges":
        nodes = model.nodes
        candidates = [(nodes[i], nodes[j]) for i in range(20) for j in range(i + 1, 40)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sched = en.RigL(model, None, fraction=0.1, every=1, candidates=candidates,
                        sample=sample, seed=0)
    backward_pass(model)
    k = round(0.1 * len(model.edges))
    _, score_of, key_of = brute_force(model, sched, k)
    free = int((~np.isnan(score_of)).sum())
    assert free > sample  # a true sample
    rows = {x: r for r, x in enumerate(model.nodes)}  # before the rewire
    sched.step()
    scored = [(rows[u], rows[v]) for u, v in sched.scored]
    assert len(scored) == sample == len(set(scored))
    score = np.array([score_of[p] for p in scored])
    assert not np.isnan(score).any()  # every scored pair is a free candidate
    key = np.array([key_of[p] for p in scored])
    best = np.lexsort((key, -score))[:k]
    assert sched.last[1] == [sched.scored[i] for i in best]


def test_sample_draws_uniformly():
    """Forward pairs into later rows are more: a draw of the target first, then of a
    source, would over-sample early targets. Counts over many draws match the share of
    free pairs in each half of the rows, for the rejection draw and the listed one."""
    model = dag_model()
    n, n_in = len(model.nodes), model.n_inputs
    for sample in (8, 150):
        late = drawn = 0
        for seed in range(150):
            (_, scored), = sampled(seed, sample, "forward")
            rows = {x: r for r, x in enumerate(model.nodes)}
            late += sum(rows[v] >= n // 2 for _, v in scored)  # rows match across copies
            drawn += len(scored)
        sched = en.RigL(model, None, fraction=0.05, every=1, candidates="forward")
        backward_pass(model)
        _, score_of, _ = brute_force(model, sched, round(0.05 * len(model.edges)))
        free = ~np.isnan(score_of)
        share = free[:, n // 2:].sum() / free.sum()
        assert abs(late / drawn - share) < 0.03, (sample, late / drawn, share)
        assert n_in < n // 2


def test_sample_covering_every_free_candidate_is_exact():
    model, twin = dag_model(), dag_model()
    exact = en.RigL(model, None, fraction=0.3, every=1)
    whole = en.RigL(twin, None, fraction=0.3, every=1, sample=10**9, seed=0)
    for step in range(3):
        backward_pass(model, step)
        backward_pass(twin, step)
        exact.step()
        whole.step()
        assert whole.last == exact.last


def test_sampled_scoring_never_scores_a_block(monkeypatch):
    model = dag_model()
    sched = en.RigL(model, None, fraction=0.1, every=1, candidates="forward", sample=40)

    def blocks(*args, **kwargs):
        raise AssertionError("a block of candidates was scored")

    monkeypatch.setattr(en.RigL, "_grow_exact", blocks)
    backward_pass(model)
    sched.step()
    assert len(sched.scored) == 40


@pytest.mark.parametrize("bad", [0, -3, True, 2.5, "40", [40]])
def test_bad_sample_is_refused_by_name(bad):
    model = dag_model()
    with pytest.raises(en.EdgenetError, match=r"sample must be a positive int .* \(got "):
        en.RigL(model, None, fraction=0.3, sample=bad)


def test_sample_smaller_than_the_regrowth_is_refused_and_changes_nothing():
    model = dag_model()
    k = round(0.3 * len(model.edges))
    with pytest.raises(en.EdgenetError, match=rf"sample={k - 1} is fewer than the {k} edges"):
        en.RigL(model, None, fraction=0.3, sample=k - 1)
    sched = en.RigL(model, None, fraction=0.3, every=1, sample=k, seed=0)
    nodes = model.nodes
    edges = set(model.edges)
    new = [(nodes[0], v) for v in nodes[5:-3] if (nodes[0], v) not in edges][:10]
    model.rewire(add=new)  # more edges: a step now regrows more than sample
    backward_pass(model)
    before = (list(model.edges), model.weight.detach().clone())
    with pytest.raises(en.EdgenetError, match=r"RigL step 1 regrows \d+ edges but sample="):
        sched.step()
    assert (list(model.edges), sched.t) == (before[0], 0)
    torch.testing.assert_close(model.weight.detach(), before[1])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("sample", [None, 40])
@pytest.mark.parametrize("kind", ["layers", "forward"])
def test_scoring_on_cuda_grows_what_the_cpu_grows(kind, sample):
    grown = []
    for device in ("cpu", "cuda"):
        model = en.compile(dag_model().to_network(), dtype=torch.float64, device=device)
        sched = en.RigL(model, None, fraction=0.1, every=1, candidates=kind, sample=sample,
                        seed=0)
        x = torch.randn(6, model.n_inputs, dtype=torch.float64,
                        generator=torch.Generator().manual_seed(0)).to(device)
        model(x).square().sum().backward()
        sched.step()
        grown.append(sched.last)
    assert grown[0] == grown[1]
