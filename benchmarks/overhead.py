"""Per-op overhead: polytorch on each available backend against PyTorch eager, side by side.

Three tiny workloads, where framework overhead is all there is:
  elementwise   a + b on two float32 tensors of 8 elements
  matmul        a (4x4) @ b (4x4), float32
  fwd+bwd       relu(x @ w + b).sum().backward() with x 4x8, w 8x4 (w, b require grad)

Prints microseconds per call (median of several repeats) and the ratio to PyTorch.
Run: python benchmarks/overhead.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import timeit

import numpy as np


def _time(fn, number: int, repeat: int) -> float:
    fn()  # warm up (JAX compiles on first call)
    times = timeit.repeat(fn, number=number, repeat=repeat)
    return statistics.median(times) / number * 1e6


def _workloads(mod, device, to_tensor):
    rng = np.random.default_rng(0)
    a, b = (to_tensor(rng.standard_normal(8).astype(np.float32), device) for _ in range(2))
    m1, m2 = (to_tensor(rng.standard_normal((4, 4)).astype(np.float32), device) for _ in range(2))
    x = to_tensor(rng.standard_normal((4, 8)).astype(np.float32), device)
    w = to_tensor(rng.standard_normal((8, 4)).astype(np.float32), device).requires_grad_()
    bias = to_tensor(rng.standard_normal(4).astype(np.float32), device).requires_grad_()

    def fwd_bwd():
        w.grad = None
        bias.grad = None
        (x @ w + bias).relu().sum().backward()

    return {
        "elementwise": lambda: a + b,
        "matmul": lambda: m1 @ m2,
        "fwd+bwd": fwd_bwd,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--number", type=int, default=2000)
    args = parser.parse_args()

    import polytorch

    rows = {}
    try:
        import torch

        torch.set_num_threads(1)
        w = _workloads(torch, "cpu", lambda arr, dev: torch.from_numpy(arr).to(dev))
        rows["torch (cpu)"] = {k: _time(f, args.number, args.repeat) for k, f in w.items()}
    except ImportError:
        print("PyTorch is not installed: ratios are not available (pip install torch==2.13.0)")

    for row in polytorch.backends.available():
        for dev in row["devices"]:
            if row["error"] is not None:
                continue
            w = _workloads(polytorch, dev, lambda arr, d: polytorch.tensor(arr, device=d))
            # JAX dispatch is slower: fewer calls keep the run short.
            number = args.number if row["name"] == "numpy" else max(args.number // 10, 50)
            rows[f"polytorch ({dev})"] = {
                k: _time(f, number, args.repeat) for k, f in w.items()
            }

    names = ["elementwise", "matmul", "fwd+bwd"]
    ref = rows.get("torch (cpu)")
    header = f"{'implementation':<26}" + "".join(f"{n + ' (us)':>18}" for n in names)
    if ref:
        header += "".join(f"{'x ' + n:>18}" for n in names)
    print(header)
    print("-" * len(header))
    for label, r in rows.items():
        line = f"{label:<26}" + "".join(f"{r[n]:>18.2f}" for n in names)
        if ref:
            line += "".join(f"{r[n] / ref[n]:>18.2f}" for n in names)
        print(line)


if __name__ == "__main__":
    main()
