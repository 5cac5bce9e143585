"""Whole-brain scale: a FlyWire-shaped connectome from a table to one training step.

Run from the repository root::

    python benchmarks/connectome_scale.py             # 140,000 neurons, 15M edges; and 1.5M
    python benchmarks/connectome_scale.py --quick     # a smoke run (20k neurons, 300k edges)

Nothing is downloaded. The table is generated FlyWire-shaped: 64-bit root ids, a
heavy-tailed (Pareto) in-degree and a log-normal out-degree, synapse counts (at least 1,
heavy-tailed) as weights, about 8% of connections split over two neuropil rows (so
``parallel="sum"`` merges them), 2,000 sensory inputs (n / 20 when smaller) without
incoming edges, 100 readout neurons, leaky tanh/relu neurons with time constants in a
node table.

Each measurement runs in its own process, so its peak RSS is its own. Within a process,
every phase resets the kernel's high-water mark (``/proc/self/clear_refs``) and reads
``VmHWM`` afterwards: the phase's peak resident memory, the whole process included.

1. ``columnar`` at full size: ``read_edgelist(as_graph=False)`` of the Parquet edge and
   node tables, ``compile(table, recurrent=True)``, a forward pass (T = 10, batch 8,
   no grad), and one training step (forward, ``mean(y^2)``, backward through time, SGD
   step), each twice (``_2``: the second call). Numba kernels are compiled on a tiny
   model first, outside the timings.
2. At 1.5M edges: ``read_edgelist`` to NetworkX then ``compile(G, recurrent=True)``,
   against the columnar path in another process; the script checks the two models are
   identical (weights, biases, time constants and outputs, bitwise) and prints the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

T, BATCH = 10, 8


def generate(folder: str, n: int, m: int, seed: int = 0) -> tuple[str, str]:
    """Write ``edges.parquet`` (pre, post, neuropil, syn_count) and ``nodes.parquet``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    ids = (720575940600000000 + rng.choice(10**9, n, replace=False)).astype(np.int64)
    n_in, n_out = min(2000, n // 20), 100
    pull = rng.pareto(1.5, n) + 1.0  # heavy-tailed in-degree
    pull[:n_in] = 0.0  # sensory inputs take no edges
    push = rng.lognormal(0.0, 1.0, n)
    unique = int(m / 1.08)
    pre = rng.choice(n, unique, p=push / push.sum())
    post = rng.choice(n, unique, p=pull / pull.sum())
    key = np.unique(pre.astype(np.int64) * n + post)  # distinct pairs
    pre, post = key // n, key % n
    del key
    count = np.minimum(rng.zipf(2.2, len(pre)), 5000).astype(np.int32)  # synapses
    split = np.flatnonzero(rng.random(len(pre)) < m / len(pre) - 1)  # a second neuropil row
    half = np.maximum(count[split] // 2, 1)
    count[split] -= np.minimum(half, count[split] - 1)
    order = rng.permutation(len(pre) + len(split))
    pre = np.concatenate((pre, pre[split]))[order]
    post = np.concatenate((post, post[split]))[order]
    count = np.concatenate((count, half))[order]
    pils = np.array(["AL_L", "AL_R", "MB_CA_L", "LO_R", "ME_L", "FB"])
    neuropil = pa.DictionaryArray.from_arrays(rng.integers(0, len(pils), len(pre)).astype(
        np.int8), pa.array(pils))
    edges = pa.table({"pre": ids[pre], "post": ids[post], "neuropil": neuropil,
                      "syn_count": count})
    del pre, post, count
    role = np.array(["input"] * n_in + ["hidden"] * (n - n_in - n_out) + ["output"] * n_out)
    act = np.where(rng.random(n) < 0.5, "tanh", "relu").astype(object)
    act[:n_in] = None
    nodes = pa.table({"root_id": ids, "role": role, "activation": pa.array(act.tolist()),
                      "tau": rng.uniform(1.0, 5.0, n),
                      "cell_type": pa.array(rng.choice(["KC", "PN", "LN", "DN"], n))})
    e, v = os.path.join(folder, "edges.parquet"), os.path.join(folder, "nodes.parquet")
    pq.write_table(edges, e, row_group_size=1 << 20)
    pq.write_table(nodes, v)
    return e, v


def peak_reset() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:  # pragma: no cover - not Linux
        pass


def memory() -> tuple[float, float]:
    """(current RSS, peak RSS since the last reset) in GiB."""
    got = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS", "VmHWM")):
                key, value = line.split(":")
                got[key] = int(value.split()[0]) / 2**20
    return got["VmRSS"], got["VmHWM"]


def child(kind: str, edges: str, nodes: str, out: str | None) -> None:
    """One measured run, printing one JSON line per phase."""
    import torch

    import edgenet as en

    torch.manual_seed(0)
    warm = en.compile(en.EdgeTable([0, 1, 1, 2], [1, 1, 2, 3], weight=[1.0, 0.5, 1.0, 1.0],
                                   nodes={"id": [0, 1, 2, 3], "tau": [1.0, 2.0, 3.0, 1.0],
                                          "activation": [None, "tanh", "relu", "tanh"]}),
                      recurrent=True)  # numba compiles here, not in the timings
    for _ in range(2):
        with torch.no_grad():
            warm(torch.ones(2, 3, 1))
        warm(torch.ones(2, 3, 1)).sum().backward()
    del warm

    def phase(name: str, fn):
        peak_reset()
        t0 = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - t0
        rss, peak = memory()
        print(json.dumps({"phase": name, "seconds": round(seconds, 2), "rss_gib": round(rss, 3),
                          "peak_gib": round(peak, 3)}), flush=True)
        return value

    rss0, _ = memory()
    print(json.dumps({"phase": "start", "seconds": 0.0, "rss_gib": round(rss0, 3),
                      "peak_gib": round(rss0, 3)}), flush=True)
    read = dict(source="pre", target="post", weight="syn_count", parallel="sum",
                nodes=nodes, node_id="root_id", attributes=False)
    if kind == "graph":
        G = phase("read", lambda: en.read_edgelist(edges, **read))
        model = phase("compile", lambda: en.compile(G, recurrent=True, seed=0))
        E = G.number_of_edges()
    else:
        table = phase("read", lambda: en.read_edgelist(edges, as_graph=False, **read))
        model = phase("compile", lambda: en.compile(table, recurrent=True, seed=0))
        E = table.n_edges
    arrays = [a for a in vars(model.plan).values() if isinstance(a, np.ndarray)]
    shared = {a.__array_interface__["data"][0] for a in arrays}
    held = sum(a.nbytes for a in arrays) + sum(
        t.numel() * t.element_size() for t in [*model.parameters(), *model.buffers()]
        if t.untyped_storage().data_ptr() not in shared)  # buffers share the plan's arrays
    print(json.dumps({"phase": "size", "edges": E, "neurons": len(model.neurons),
                      "inputs": len(model.inputs), "held": held}), flush=True)
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(BATCH, T, len(model.inputs), generator=gen)  # (B, T, n_in)
    with torch.no_grad():
        y = phase("forward", lambda: model(x))  # (B, T, n_out)
        phase("forward_2", lambda: model(x))  # a second call: nothing left to set up
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss = model(x).square().mean()
        loss.backward()
        opt.step()
        return loss

    phase("train_step", step)
    phase("train_step_2", step)
    if out is not None:
        torch.save({"weight": model.weight.detach().clone(), "bias": model.bias.detach(),
                    "tau": model.tau, "y": y, "neurons": model.neurons[:1000],
                    "weight_before": None}, out)


def run(kind: str, edges: str, nodes: str, out: str | None = None) -> dict[str, dict]:
    cmd = [sys.executable, __file__, "--child", kind, edges, nodes] + ([out] if out else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{kind} run failed ({proc.returncode})")
    phases = {}
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            phases[row.pop("phase")] = row
    return phases


def show(title: str, phases: dict[str, dict]) -> None:
    size = phases.pop("size", {})
    print(f"\n{title}: {size.get('neurons', '?'):,} neurons, {size.get('edges', '?'):,} edges "
          f"(after merging repeated pairs), {size.get('inputs', '?'):,} inputs")
    print(f"  {'phase':<12} {'seconds':>8} {'RSS after':>10} {'phase peak':>11}")
    for name, row in phases.items():
        print(f"  {name:<12} {row['seconds']:>8.2f} {row['rss_gib']:>9.2f}G "
              f"{row['peak_gib']:>10.2f}G")
    top = max(row["peak_gib"] for row in phases.values())
    print(f"  peak RSS of the run: {top:.2f} GiB")
    if "read" in phases and "compile" in phases and size.get("edges"):
        grown = (phases["compile"]["rss_gib"] - phases["read"]["rss_gib"]) * 2**30
        print(f"  the model holds {size['held'] / size['edges']:.1f} bytes per edge (its "
              f"arrays and tensors, counted); RSS grew {grown / size['edges']:.1f} bytes per "
              "edge over the compile (freed temporaries the allocator keeps included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--skip-full", action="store_true", help="only the 1.5M comparison")
    args = parser.parse_args()
    if args.child:
        kind, edges, nodes, *out = args.child
        child(kind, edges, nodes, out[0] if out else None)
        return
    import torch

    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start "
          f"(other work on the machine slows every phase), torch threads "
          f"{torch.get_num_threads()}")
    full = (20_000, 300_000) if args.quick else (140_000, 15_000_000)
    small = (10_000, 150_000) if args.quick else (45_000, 1_500_000)
    with tempfile.TemporaryDirectory() as folder:
        if not args.skip_full:
            t0 = time.perf_counter()
            e, v = generate(folder, *full)
            print(f"generated {full[1]:,} rows over {full[0]:,} neurons in "
                  f"{time.perf_counter() - t0:.1f} s ({os.path.getsize(e) / 2**20:.0f} MiB "
                  "Parquet)")
            phases = run("columnar", e, v)
            show("columnar path, full size", phases)
            read_compile = phases["read"]["seconds"] + phases["compile"]["seconds"]
            top = max(r["peak_gib"] for k, r in phases.items() if "peak_gib" in r)
            print(f"  bars: read + compile {read_compile:.1f} s (<= 60 s), peak RSS "
                  f"{top:.2f} GiB (<= 4 GiB)")
            os.remove(e)
            os.remove(v)
        e, v = generate(folder, *small, seed=1)
        a, b = os.path.join(folder, "graph.pt"), os.path.join(folder, "table.pt")
        graph = run("graph", e, v, a)
        show("graph path (read_edgelist -> NetworkX -> compile)", dict(graph))
        table = run("columnar", e, v, b)
        show("columnar path (read_edgelist(as_graph=False) -> compile)", dict(table))
        ga, ta = torch.load(a), torch.load(b)
        identical = all(torch.equal(ga[k], ta[k]) for k in ("weight", "bias", "tau", "y")) \
            and ga["neurons"] == ta["neurons"]
        slow = graph["read"]["seconds"] + graph["compile"]["seconds"]
        fast = table["read"]["seconds"] + table["compile"]["seconds"]
        print(f"\nread + compile at {small[1]:,} edges: graph path {slow:.2f} s, columnar "
              f"{fast:.2f} s: {slow / fast:.1f}x (bar >= 5x); models identical (weights, "
              f"biases, tau, outputs bitwise): {identical}")


if __name__ == "__main__":
    main()
