"""from_connection_matrices: parity with the stacked masked layers it replaces."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import edgenet as en

SEED_MATRIX = [[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1]]  # the 4 -> 3 example of the seed


def masked_forward(x, masks, weights, biases, acts):
    """The seed's layer, stacked: h = act(h @ (W * M) + b), in float64 NumPy."""
    fns = {"relu": lambda z: np.maximum(z, 0), "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
           "tanh": np.tanh, "identity": lambda z: z}
    h = x
    for M, W, b, a in zip(masks, weights, biases, acts, strict=True):
        h = fns[a](h @ (W * M) + b)
    return h


@pytest.mark.parametrize("widths, density, acts", [
    ([4, 3], 0.6, ["sigmoid"]),
    ([6, 8, 5, 2], 0.4, ["relu", "tanh", "identity"]),
    ([10, 30, 30, 30, 3], 0.2, ["relu", "relu", "tanh", "sigmoid"]),
])
def test_parity_with_stacked_masked_layers(widths, density, acts):
    rng = np.random.default_rng(len(widths))
    masks = [rng.random((a, b)) < density for a, b in zip(widths, widths[1:], strict=False)]
    weights = [rng.standard_normal(m.shape) for m in masks]
    biases = [rng.standard_normal(m.shape[1]) for m in masks]
    net = en.from_connection_matrices(masks, weights, biases, activation=acts[:-1],
                                      output_activation=acts[-1])
    assert net.number_of_edges() == sum(int(m.sum()) for m in masks)
    x = rng.standard_normal((7, widths[0]))
    expected = masked_forward(x, masks, weights, biases, acts)
    got = net.compile(dtype=torch.float64)(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_the_seed_example():
    W = np.arange(12, dtype=float).reshape(4, 3) / 10
    net = en.from_connection_matrices([SEED_MATRIX], [W], activation="relu",
                                      output_activation="relu")
    assert sorted(net.edges) == [("x0", "y0"), ("x0", "y2"), ("x1", "y1"), ("x1", "y2"),
                                 ("x2", "y0"), ("x2", "y1"), ("x3", "y2")]
    x = np.array([[1.0, -2.0, 0.5, 3.0]])
    expected = masked_forward(x, [np.array(SEED_MATRIX)], [W], [np.zeros(3)], ["relu"])
    got = net.compile(dtype=torch.float64)(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_masks_from_torch_and_missing_weights():
    net = en.from_connection_matrices([torch.tensor(SEED_MATRIX)], activation="tanh")
    assert all(w is None for _, _, w in net.edges(data="weight"))
    assert net.compile(seed=0)(torch.zeros(2, 4)).shape == (2, 3)


@pytest.mark.parametrize("kwargs, message", [
    (dict(matrices=[]), r"matrices is empty"),
    (dict(matrices=np.eye(2)), r"matrices must be a list of 2-D connection matrices.*\[M\]"),
    (dict(matrices=[np.ones(3)]), r"matrices\[0\] has shape \(3,\); expected a 2-D"),
    (dict(matrices=[np.ones((2, 3)), np.ones((4, 1))]),
     r"matrices\[1\] has shape \(4, 1\) but matrices\[0\] has shape \(2, 3\); layer 1 must "
     r"have 3 rows"),
    (dict(matrices=[[["a"]]]), r"matrices\[0\] must be a numeric 2-D array"),
    (dict(matrices=[[[np.nan]]]), r"matrices\[0\]\[0, 0\] is nan"),
    # complex numbers: a real cast drops the imaginary part (a mask entry 1j gave no edge)
    (dict(matrices=[np.array([[1, 1j]])]),
     r"matrices\[0\] holds complex numbers \(complex128\): matrices\[0\]\[0, 1\] is 1j; "
     r"expected real numbers"),
    (dict(matrices=[[[1, 1j]]]), r"matrices\[0\] holds complex numbers"),
    (dict(matrices=[np.ones((2, 2))], weights=[torch.tensor([[1.0, 2.0], [3.0, 1 + 1j]])]),
     r"weights\[0\] holds complex numbers \(complex64\): weights\[0\]\[1, 1\] is \(1\+1j\)"),
    (dict(matrices=[np.ones((2, 2))], biases=[np.array([0.5, 2j])]),
     r"biases\[0\] holds complex numbers \(complex128\): biases\[0\]\[1\] is 2j"),
    (dict(matrices=[np.ones((2, 2))], weights=[np.ones((2, 3))]),
     r"weights\[0\] has shape \(2, 3\); expected \(2, 2\)"),
    (dict(matrices=[np.ones((2, 2))], weights=[]), r"weights has 0 entries but there are 1"),
    (dict(matrices=[np.ones((2, 2))], biases=[np.ones(3)]),
     r"biases\[0\] has shape \(3,\); expected \(2,\)"),
    (dict(matrices=[np.ones((2, 2)), np.ones((2, 2))], activation=["relu", "tanh"]),
     r"activation lists 2 names but there are 1 hidden layers"),
])
def test_bad_input_is_refused(kwargs, message):
    with pytest.raises(en.EdgenetError, match=message):
        en.from_connection_matrices(**kwargs)


@pytest.mark.parametrize("make, message", [
    (lambda t: t.to("meta"), r"is a meta tensor: it has a shape"),
    (lambda t: t.to_sparse(), r"is a sparse tensor \(layout torch.sparse_coo\); expected a dense"),
])
@pytest.mark.parametrize("where", ["matrices", "weights", "biases"])
def test_meta_and_sparse_tensors_are_refused_by_name(make, message, where):
    args = dict(matrices=[torch.ones(2, 3)], weights=[torch.ones(2, 3)], biases=[torch.ones(3)])
    args[where] = [make(args[where][0])]
    with pytest.raises(en.EdgenetError, match=rf"{where}\[0\] {message}"):
        en.from_connection_matrices(**args)


def test_bfloat16_tensors_are_read_exactly():
    W = torch.tensor([[0.1, -2.7]], dtype=torch.bfloat16)
    b = torch.tensor([0.3, 0.0], dtype=torch.float16)
    net = en.from_connection_matrices([torch.ones(1, 2, dtype=torch.bfloat16)], weights=[W],
                                      biases=[b])
    assert [w for _, _, w in net.edges(data="weight")] == W.double().flatten().tolist()
    assert net.nodes["y0"]["bias"] == b.double()[0].item()
