"""GPU benchmarks: edgenet's training step on CUDA against the usual ways of running sparse
nets on the same card, the Triton engine against the per-generation CUDA path on a deep
DAG, a CUDA-graph-captured step, and effective memory bandwidth against the card's peak.

Run from the repository root::

    python benchmarks/gpu.py                        # on the CUDA device (a few minutes)
    python benchmarks/gpu.py --device cpu --quick   # smoke run: small sizes, Triton interpreted

Cases (every step is forward, ``loss = mean(y^2)``, backward; medians over interleaved
rounds, each step followed by a device synchronisation; ratios ``baseline / edgenet``,
above 1 means edgenet is faster):

- the layered table: one ``4096 x 4096`` bipartite block at 10%, 1% and 0.1% density,
  batch 256, against ``dense`` (``x @ (W * M) + b``), ``torch.sparse`` (a CSR weight with
  autograd) and ``gather`` (``scatter(x[:, src] * w, dst)``, PyG-style);
- the deep DAG (20k neurons, 199k edges, ~1,800 generations) at batch 1024: the Triton
  engine (one launch per pass) against the per-generation path (torch CSR ops, several
  launches per generation);
- a mid-depth DAG (60 generations): one training step captured in a CUDA graph and
  replayed, against the same step run eagerly;
- effective bandwidth of each edgenet forward pass: the least memory traffic a pass
  needs (read ``x``, the weights and their column indices once, write every neuron's
  output once) over its median time, as a fraction of the card's nominal peak and of
  the copy bandwidth measured here. On the CPU these figures mean nothing.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

Step = Callable[[], object]

#: Nominal memory bandwidth (bytes/s) by device-name fragment, most specific first.
PEAK = [("H200", 4.8e12), ("H100 NVL", 3.9e12), ("H100 PCIe", 2.0e12), ("H100", 3.35e12),
        ("A100-SXM4-80GB", 2.04e12), ("A100 80GB PCIe", 1.94e12), ("A100", 1.555e12),
        ("L40S", 0.864e12), ("L4", 0.3e12), ("A10", 0.6e12)]


def peak_bandwidth(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    return next((bw for key, bw in PEAK if key in name), None)


def synced(step: Step, device: torch.device) -> Step:
    if device.type != "cuda":
        return step

    def run():
        step()
        torch.cuda.synchronize(device)

    return run


def copy_bandwidth(device: torch.device, measure, mb: int) -> float:
    """Bytes/s of a large device-to-device copy (read + write)."""
    a = torch.empty(mb * 2**20 // 4, device=device)
    b = torch.empty_like(a)
    t = measure({"copy": synced(lambda: b.copy_(a), device)}, 5)["copy"]
    return 2 * a.numel() * 4 / t


def forward_bytes(model, batch: int) -> int:
    """Least traffic of one forward pass: read x, weights and column indices once; write
    every neuron's output once."""
    s = model.weight.element_size()
    p = model.layout
    return (s * batch * p.n_nodes + p.n_edges * (s + model.layout.col.element_size())
            + model.layout.crow.numel() * model.layout.crow.element_size())


def no_grad(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> Step:
    def step():
        with torch.no_grad():
            fn(x)

    return step


def layout(model):
    return model.layout


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu (smoke run)")
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds per case")
    parser.add_argument("--only", default=None, help="run only cases whose name contains this")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device: run with --device cpu --quick for a smoke run")
    if device.type == "cpu":  # Triton's interpreter; the generation engine on torch's CSR ops
        if "triton" in sys.modules and os.environ.get("TRITON_INTERPRET") != "1":
            raise SystemExit("triton was imported before TRITON_INTERPRET=1 could be set")
        os.environ["TRITON_INTERPRET"] = "1"

    from graphs import bipartite, deep, layered  # noqa: E402
    from run import measure, report, train_step  # noqa: E402

    import edgenet as en
    from edgenet.kernels import sparse
    from edgenet.kernels import triton as kt

    sparse.TORCH_OPS_ON_CPU = device.type == "cpu"
    warnings.filterwarnings("ignore", message=".*Sparse CSR tensor support is in beta.*")
    rounds = args.rounds or (2 if args.quick else 9)
    small = args.quick or device.type == "cpu"
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    peak = peak_bandwidth(device)
    copy = copy_bandwidth(device, measure, 64 if small else 1024)
    print(f"torch {torch.__version__}, device {name}, float32; copy bandwidth "
          f"{copy / 1e9:.0f} GB/s" + (f", nominal peak {peak / 1e9:.0f} GB/s" if peak else ""))
    torch.manual_seed(0)
    rows: list[tuple[str, float, dict[str, float], dict[str, float]]] = []
    bandwidth: list[tuple[str, float]] = []

    def wanted(case: str) -> bool:
        return args.only is None or args.only in case

    def timed(steps: dict[str, Step]) -> dict[str, float]:
        return measure({k: synced(s, device) for k, s in steps.items()}, rounds)

    def record_bandwidth(case: str, model, x: torch.Tensor) -> None:
        t = timed({"forward": no_grad(model, x)})["forward"]
        bandwidth.append((case, forward_bytes(model, x.shape[0]) / t))

    # The layered table: one bipartite block, four ways.
    n, b = (512, 64) if small else (4096, 256)
    for density, bars in ((0.10, {"dense": 1.0}), (0.01, {"dense": 5.0}),
                          (0.001, {"dense": 5.0})):
        case = f"bipartite {n}x{n} {density:g} batch {b}"
        if not wanted(case):
            continue
        net, W = bipartite(n, n, density)
        model = en.compile(net, seed=0, device=device)
        x = torch.randn(b, n, device=device)
        steps = {"edgenet": train_step(model, list(model.parameters()), x)}
        weight = torch.nn.Parameter(torch.from_numpy(W).to(device))  # (n_in, n_out)
        mask = (weight.detach() != 0).float()  # (n_in, n_out)
        bias = torch.nn.Parameter(torch.zeros(n, device=device))

        def dense_forward(x, weight=weight, mask=mask, bias=bias):
            return x @ (weight * mask) + bias  # (B, n_out)

        steps["dense"] = train_step(dense_forward, [weight, bias], x)
        dst, src = np.nonzero(W.T != 0)  # rows = outputs, cols = inputs
        crow = torch.from_numpy(np.concatenate(([0], np.cumsum(np.bincount(dst, minlength=n)))))
        crow, col = crow.to(device), torch.from_numpy(src).to(device)
        values = torch.nn.Parameter(torch.from_numpy(W.T[dst, src]).to(device))  # (E,)
        bias2 = torch.nn.Parameter(torch.zeros(n, device=device))

        def sparse_forward(x, crow=crow, col=col, values=values, bias2=bias2):
            A = torch.sparse_csr_tensor(crow, col, values, size=(n, n), check_invariants=False)
            return (A @ x.T).T + bias2  # (B, n_out)

        steps["torch.sparse"] = train_step(sparse_forward, [values, bias2], x)
        from torch_geometric.utils import scatter

        w3 = torch.nn.Parameter(values.detach().clone())
        bias3 = torch.nn.Parameter(torch.zeros(n, device=device))
        targets = torch.from_numpy(dst).to(device)

        def gather_forward(x, col=col, w3=w3, bias3=bias3, targets=targets):
            messages = x[:, col] * w3  # (B, E): the edges x batch message tensor
            return scatter(messages, targets, dim=1, dim_size=n, reduce="sum") + bias3

        steps["gather"] = train_step(gather_forward, [w3, bias3], x)
        with torch.no_grad():
            err = (model(x) - dense_forward(x)).abs().max().item()
        if err > 1e-3:
            raise SystemExit(f"dense-masked disagrees with edgenet by {err}")
        times = timed(steps)
        rows.append((case, times["edgenet"], report(case, times), bars))
        record_bandwidth(f"{case} forward", model, x)

    # The deep DAG: Triton against the per-generation path.
    nn_, ne, depth, batch = (100, 995, 9, 16) if small else (20_000, 199_000, 1800, 1024)
    case = f"deep DAG {nn_} neurons {ne} edges {depth} generations batch {batch}"
    if wanted(case):
        model = en.compile(deep(nn_, ne, depth), seed=0, device=device, engine="sparse")
        L = layout(model)
        x = torch.randn(batch, 16, device=device)
        w = torch.nn.Parameter(model.weight.detach().clone())
        bias_t = torch.nn.Parameter(model.bias.detach().clone())
        with torch.no_grad():
            err = (kt.run(x, w, bias_t, L) - model(x)).abs().max().item()
        if err > 1e-3:
            raise SystemExit(f"triton disagrees with the per-generation path by {err}")
        print(f"\n{case}: {model.layout.n_edges} edges, {model.layout.depth} generations")
        times = timed({"triton": train_step(lambda x: kt.run(x, w, bias_t, L), [w, bias_t], x),
                       "per-generation": train_step(model, list(model.parameters()), x)})
        r = report(case, times, ref="triton")
        rows.append((case, times["triton"], {"per-generation": r["per-generation"]},
                     {"per-generation": 20.0}))
        t = timed({"forward": no_grad(lambda x: kt.run(x, w, bias_t, L), x)})["forward"]
        bandwidth.append((f"{case} triton forward", forward_bytes(model, batch) / t))
        record_bandwidth(f"{case} per-generation forward", model, x)

    # A mid-depth DAG: a CUDA-graph-captured training step against eager.
    case = "mid-depth DAG 60 generations of 256, fan-in 16, batch 256, CUDA graph"
    if device.type == "cuda" and wanted(case):
        net = layered(60, 256, 16)
        eager = en.compile(net, seed=0, device=device)
        captured = en.compile(net, seed=0, device=device)
        x = torch.randn(256, 16, device=device)
        opt = torch.optim.SGD(captured.parameters(), lr=1e-3)
        static_x = x.clone()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                opt.zero_grad(set_to_none=True)
                captured(static_x).square().mean().backward()
                opt.step()
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            captured(static_x).square().mean().backward()
            opt.step()
        opt_e = torch.optim.SGD(eager.parameters(), lr=1e-3)

        def eager_step():
            opt_e.zero_grad(set_to_none=True)
            eager(x).square().mean().backward()
            opt_e.step()

        times = timed({"cuda graph": graph.replay, "eager": eager_step})
        r = report(case, times, ref="cuda graph")
        rows.append((case, times["cuda graph"], {"eager": r["eager"]}, {"eager": 1.0}))

    print("\n| forward pass | effective bandwidth | of copy bandwidth | of nominal peak |")
    print("|---|---|---|---|")
    for case, bw in bandwidth:
        of_peak = f"{bw / peak:.1%}" if peak else "n/a"
        print(f"| {case} | {bw / 1e9:.1f} GB/s | {bw / copy:.1%} | {of_peak} |")

    print(f"\n| case ({name}) | edgenet | ratio vs target bar |\n|---|---|---|")
    for case, t, ratios, bars in rows:
        cells = []
        for base, bar in bars.items():
            ok = "ok" if ratios[base] >= bar else "MISS"
            cells.append(f"{base}: {ratios[base]:.2f}x (bar >= {bar:g}x) {ok}")
        print(f"| {case} | {t * 1e3:.2f} ms | {'; '.join(cells)} |")


if __name__ == "__main__":
    main()
