"""The demo: a sparse, locally connected network built edge by edge, trained on digits.

The network reads the 8x8 images of scikit-learn's bundled ``load_digits``
(1797 images, no download):

* a locally connected first stage: ``channels`` feature maps, each neuron seeing
  one ``patch x patch`` window of the image (no weight sharing: every edge has
  its own weight);
* a sparse second stage: each neuron reads ``fan_in`` first-stage neurons drawn at
  random;
* ten outputs, one per digit, reading the whole second stage, plus skip
  connections from every pixel straight to the outputs.

It is trained with Adam on cross-entropy and compared, edge for edge, with the
dense MLP of the same shape (every neuron of one stage connected to every neuron
of the next). :func:`run` writes the trained network as GraphML and its picture.

>>> from edgenet.shell.demo import build
>>> net = build(channels=2, hidden=8, fan_in=4)
>>> len(net.inputs), len(net.outputs), len(net.layers())
(64, 10, 4)
"""

from __future__ import annotations

import importlib.util
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import torch

from ..errors import EdgenetError
from ..graph.network import Network
from ..graph.wiring import random_mask
from ..io.files import write_network
from ..model.schedulers import SET
from .progress import bar

SIDE = 8  # digits images are 8 x 8 pixels
CLASSES = 10


def build(
    *,
    channels: int = 12,
    patch: int = 3,
    stride: int = 1,
    hidden: int = 128,
    fan_in: int = 12,
    skip: bool = True,
    seed: int = 0,
) -> Network:
    """The demo network, edge by edge: locally connected stage, sparse stage, skips.

    Nodes are named ``"p{row}{col}"`` (pixels), ``"a{channel}_{row}{col}"`` (first
    stage, by the top-left corner of its window), ``"b{k}"`` (second stage) and
    ``"digit{d}"`` (outputs).

    >>> from edgenet.shell.demo import build
    >>> net = build(channels=1, patch=4, stride=4, hidden=2, fan_in=2, skip=False)
    >>> sorted(net.predecessors("a0_04"))[:3], net.in_degree("a0_04")
    (['p04', 'p05', 'p06'], 16)
    """
    if not 1 <= patch <= SIDE or stride < 1:
        raise EdgenetError(
            f"patch must be in 1..{SIDE} and stride >= 1 (got patch={patch}, stride={stride})"
        )
    rng = np.random.default_rng(seed)
    net = Network()
    pixels = [f"p{r}{c}" for r in range(SIDE) for c in range(SIDE)]
    for p in pixels:
        net.add_input(p)

    # First stage: one neuron per (channel, window); the mask says which pixels it sees.
    corners = range(0, SIDE - patch + 1, stride)
    first, mask = [], []
    for ch in range(channels):
        for r in corners:
            for c in corners:
                window = np.zeros((SIDE, SIDE))
                window[r : r + patch, c : c + patch] = 1
                first.append(f"a{ch}_{r}{c}")
                mask.append(window.reshape(-1))
    for n in first:
        net.add_neuron(n, activation="relu")
    net.connect(pixels, first, mask=np.stack(mask, axis=1))  # (64, n_first)

    # Second stage: each neuron reads fan_in first-stage neurons chosen at random.
    second = [f"b{k}" for k in range(hidden)]
    for n in second:
        net.add_neuron(n, activation="relu")
    fan_in = min(fan_in, len(first))
    pick = np.zeros((len(first), hidden))  # (n_first, hidden)
    for k in range(hidden):
        pick[rng.choice(len(first), size=fan_in, replace=False), k] = 1
    net.connect(first, second, mask=pick)

    # Outputs read the whole second stage; skip connections bring every pixel straight in.
    outputs = [f"digit{d}" for d in range(CLASSES)]
    for n in outputs:
        net.add_output(n)
    net.connect(second, outputs)
    if skip:
        net.connect(pixels, outputs)
    return net


def dense_edges(net: Network) -> int:
    """Edges of the dense MLP with the same layer sizes (each layer fully feeds the next).

    >>> import edgenet as en
    >>> from edgenet.shell.demo import dense_edges
    >>> net = en.Network(); net.add_input("x"); net.add_input("z"); net.add_output("y")
    >>> net.connect(["x"], ["y"]); dense_edges(net)
    2
    """
    sizes = [len(layer) for layer in net.layers()]
    return sum(a * b for a, b in pairwise(sizes))


@dataclass
class Result:
    """What :func:`run` measured and wrote."""

    accuracy: float
    edges: int
    dense_edges: int
    seconds: float
    graphml: str
    picture: str
    page: str | None = None  # the interactive page; None without plotly

    @property
    def ratio(self) -> float:
        return self.edges / self.dense_edges


def load(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The digits data, scaled to [0, 1] and split 75/25 (stratified): ``x_train, y_train,
    x_test, y_test``.

    >>> from edgenet.shell.demo import load
    >>> x_train, y_train, x_test, y_test = load()
    >>> tuple(x_train.shape), tuple(x_test.shape), float(x_train.max())
    ((1347, 64), (450, 64), 1.0)
    """
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise EdgenetError(
            'the demo trains on scikit-learn\'s digits, and scikit-learn is not installed: '
            'pip install "edgenet[demo]"'
        ) from None
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x / 16.0, y, test_size=0.25, random_state=seed, stratify=y
    )
    as_x = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
    as_y = lambda a: torch.as_tensor(a, dtype=torch.long)  # noqa: E731
    return as_x(x_train), as_y(y_train), as_x(x_test), as_y(y_test)


def train(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int = 40,
    batch: int = 64,
    lr: float = 0.01,
    seed: int = 0,
    schedule: Callable[[torch.nn.Module, torch.optim.Optimizer], Any] | None = None,
) -> list[float]:
    """Adam on cross-entropy, cosine-decayed learning rate; returns the mean loss per epoch.

    ``schedule(model, optimizer)``, when given, makes a rewiring scheduler (such as
    :class:`edgenet.SET`) whose ``step()`` runs after every optimizer step.

    A progress bar shows the epochs when stderr is a terminal.

    >>> import torch, edgenet as en
    >>> from edgenet.shell.demo import build, train
    >>> model = en.compile(build(channels=1, hidden=4, fan_in=2), seed=0)
    >>> x, y = torch.rand(32, 64), torch.randint(0, 10, (32,))
    >>> losses = train(model, x, y, epochs=2)
    >>> len(losses)
    2
    """
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * math.ceil(len(x) / batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(steps, 1))
    rewiring = schedule(model, opt) if schedule is not None else None
    losses = []
    with bar(epochs, desc="training", unit="epoch") as progress:
        for _ in range(epochs):
            total = 0.0
            for idx in torch.randperm(len(x), generator=gen).split(batch):
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                opt.step()
                sched.step()
                if rewiring is not None:
                    rewiring.step()
                total += loss.item() * len(idx)
            losses.append(total / len(x))
            progress.set_postfix(loss=f"{losses[-1]:.4f}")
            progress.update(1)
    return losses


def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Share of ``x`` whose largest output is the right class.

    >>> import torch, edgenet as en
    >>> from edgenet.shell.demo import accuracy
    >>> net = en.Network(); net.add_input("x"); net.add_output("a"); net.add_output("b")
    >>> net.add_edge("x", "a", weight=1.0); net.add_edge("x", "b", weight=-1.0)
    >>> accuracy(net.compile(), torch.tensor([[1.0], [-1.0]]), torch.tensor([0, 0]))
    0.5
    """
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def run(
    out: str | os.PathLike[str] = "edgenet-demo",
    *,
    quick: bool = False,
    seed: int = 0,
    echo: Callable[[str], None] = print,
) -> Result:
    """Build, train, evaluate, save and draw the demo network; returns what it measured.

    ``quick`` trains the same network for 4 epochs instead of 40 (seconds, for CI). Writes
    ``digits.graphml``, ``digits.png`` and, when plotly is installed, the interactive page
    ``digits.html`` into ``out`` (created if needed).

    >>> import tempfile
    >>> from edgenet.shell.demo import run
    >>> result = run(tempfile.mkdtemp(), quick=True, echo=lambda line: None)
    >>> result.ratio < 0.1
    True
    """
    from ..views.draw import draw

    started = time.perf_counter()
    torch.manual_seed(seed)
    x_train, y_train, x_test, y_test = load(seed)
    net = build(seed=seed)
    epochs = 4 if quick else 40
    dense = dense_edges(net)
    sizes = " -> ".join(str(len(layer)) for layer in net.layers())
    echo(
        f"network: {sizes} neurons by layer, {net.number_of_edges():,} edges; the dense MLP "
        f"of that shape has {dense:,} ({net.number_of_edges() / dense:.1%})"
    )
    threads = torch.get_num_threads()
    try:
        # Batches of 64 through a few thousand edges are too small to share between
        # threads; one thread is faster, and much faster on a busy machine.
        torch.set_num_threads(1)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*Sparse CSR tensor support is in beta.*")
            model = net.compile(seed=seed)
            losses = train(model, x_train, y_train, epochs=epochs, seed=seed)
            acc = accuracy(model, x_test, y_test)
    finally:
        torch.set_num_threads(threads)
    echo(
        f"trained {epochs} epochs on {len(x_train)} images (final loss {losses[-1]:.4f}); "
        f"test accuracy {acc:.2%} on {len(x_test)} held-out images"
    )
    os.makedirs(out, exist_ok=True)
    trained = model.to_network()
    graphml = os.path.join(os.fspath(out), "digits.graphml")
    picture = os.path.join(os.fspath(out), "digits.png")
    write_network(trained, graphml)
    title = (f"digits: {acc:.1%} test accuracy with {trained.number_of_edges():,} edges "
             f"({trained.number_of_edges() / dense:.1%} of dense)")
    draw(trained, path=picture, title=title)
    page: str | None = os.path.join(os.fspath(out), "digits.html")
    if importlib.util.find_spec("plotly") is not None:
        draw(trained, path=page, title=title)
        wrote = f"{graphml}, {picture} and {page}"
    else:
        page, wrote = None, f"{graphml} and {picture} (no page: pip install \"edgenet[html]\")"
    seconds = time.perf_counter() - started
    echo(f"wrote {wrote} ({seconds:.1f} s in all)")
    return Result(acc, trained.number_of_edges(), dense, seconds, graphml, picture, page)


def sparse_mlp(density: float, hidden: int = 128, seed: int = 0) -> Network:
    """A ``64 -> hidden -> 10`` MLP keeping each edge of the dense one with probability
    ``density`` (random masks, the seed documents' masked layers as a graph).

    >>> net = sparse_mlp(0.05)
    >>> share = net.number_of_edges() / (64 * 128 + 128 * 10)
    >>> len(net.inputs), len(net.outputs), 0.03 < share < 0.07
    (64, 10, True)
    """
    net = Network()
    pixels = [f"p{i}" for i in range(64)]
    hid = [f"h{j}" for j in range(hidden)]
    digits = [f"d{k}" for k in range(10)]
    for p in pixels:
        net.add_input(p)
    for h in hid:
        net.add_neuron(h, activation="relu")
    for d in digits:
        net.add_output(d)
    net.connect(pixels, hid, mask=random_mask(64, hidden, density, seed))
    net.connect(hid, digits, mask=random_mask(hidden, 10, density, seed + 1))
    return net


#: The runs of :func:`compare_rewiring`, in the order it prints them.
METHODS = ("static uniform", "static ERK", "SET", "RigL", "pruning")


def compare_rewiring(
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    *,
    density: float = 0.05,
    quick: bool = False,
    echo: Callable[[str], None] = print,
) -> dict[str, list[float]]:
    """Test accuracy of a ``64 -> 128 -> 10`` MLP on digits at ``density`` of the dense
    MLP's edges, trained five ways (one run per seed); prints the mean and spread of each.

    * ``static uniform``: every layer at ``density``, wiring fixed
      (:func:`edgenet.sparse_mlp` with ``allocation="uniform"``);
    * ``static ERK``: Erdős–Rényi-kernel densities (the small output layer denser),
      wiring fixed;
    * ``SET`` and ``RigL``: from the ERK wiring, 30% of the edges rewired once per
      epoch, the fraction decaying on a cosine to none at 75% of training, among the
      pairs of the initial layer structure (:class:`edgenet.SET`, :class:`edgenet.RigL`);
    * ``pruning``: from the dense MLP, gradual magnitude pruning of each layer to
      ``1 - density`` sparsity on Zhu & Gupta's cubic schedule between 10% and 60% of
      training (:class:`edgenet.GradualPruning`), then trained on at that sparsity.

    Every run ends with the same edge count per layer allocation's total (``density`` of
    the dense edges); ``quick`` trains 3 epochs (for tests), else 60.

    >>> report = compare_rewiring(seeds=(0,), quick=True, echo=lambda line: None)
    >>> list(report)
    ['static uniform', 'static ERK', 'SET', 'RigL', 'pruning']
    """
    from ..graph.wiring import sparse_mlp as mlp
    from ..model.schedulers import GradualPruning, RigL

    x_train, y_train, x_test, y_test = load(0)
    epochs = 3 if quick else 60
    per_epoch = math.ceil(len(x_train) / 64)
    steps = epochs * per_epoch
    sizes = [64, 128, 10]
    report: dict[str, list[float]] = {name: [] for name in METHODS}
    edges: dict[str, int] = {}

    def rewiring(cls: Any, seed: int) -> Callable[[Any, torch.optim.Optimizer], Any]:
        extra = {"seed": seed} if cls is SET else {}
        return lambda model, opt: cls(model, opt, fraction=0.3, every=per_epoch,
                                      until=int(0.75 * steps), **extra)

    def pruning(model: Any, opt: torch.optim.Optimizer) -> GradualPruning:
        return GradualPruning(model, opt, sparsity=1 - density, begin=int(0.1 * steps),
                              end=int(0.6 * steps), every=max(1, per_epoch // 2))

    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)  # small batches through a few hundred edges: one thread
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*Sparse CSR tensor support is in beta.*")
            for seed in seeds:
                runs: dict[str, tuple[Network, Any]] = {
                    "static uniform": (mlp(sizes, density, allocation="uniform", seed=seed),
                                       None),
                    "static ERK": (mlp(sizes, density, allocation="erk", seed=seed), None),
                    "SET": (mlp(sizes, density, allocation="erk", seed=seed),
                            rewiring(SET, seed)),
                    "RigL": (mlp(sizes, density, allocation="erk", seed=seed),
                             rewiring(RigL, seed)),
                    "pruning": (mlp(sizes, 1.0, seed=seed), pruning),
                }
                for name, (net, schedule) in runs.items():
                    torch.manual_seed(seed)
                    model = net.compile(seed=seed)
                    train(model, x_train, y_train, epochs=epochs, seed=seed, schedule=schedule)
                    report[name].append(accuracy(model, x_test, y_test))
                    edges[name] = model.weight.numel()
    finally:
        torch.set_num_threads(threads)
    dense = sum(a * b for a, b in pairwise(sizes))
    echo(f"MLP 64 -> 128 -> 10 on digits at {density:.0%} of the dense MLP's {dense} edges, "
         f"{epochs} epochs, seeds {list(seeds)}:")
    for name, accs in report.items():
        mean, spread = float(np.mean(accs)), float(np.std(accs))
        echo(f"  {name:>14}: test accuracy {mean:.2%} +- {spread:.2%} (min {min(accs):.2%}, "
             f"max {max(accs):.2%}), {edges[name]} edges")
    return report
