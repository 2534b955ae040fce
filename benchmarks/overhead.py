"""Per-op overhead: polytorch on each available backend against PyTorch eager, side by side.

Three tiny workloads, where framework overhead is all there is:
  elementwise   a + b on two float32 tensors of 8 elements
  matmul        a (4x4) @ b (4x4), float32
  fwd+bwd       relu(x @ w + b).sum().backward() with x 4x8, w 8x4 (w, b require grad)

Prints microseconds per call (the best of several interleaved rounds) and the ratio to
PyTorch.
Run: python benchmarks/overhead.py [--repeat N]
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np


def _time_interleaved(fns: dict, number: dict, repeat: int) -> dict:
    """Microseconds per call of each function: the best of ``repeat`` rounds.

    Each round times every implementation once, one after another, so that a
    slow spell of a shared machine hits all of them alike; the minimum over the
    rounds is the least disturbed measurement.
    """
    for fn in fns.values():
        fn()  # warm up (JAX compiles on first call)
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for label, fn in fns.items():
            t = timeit.timeit(fn, number=number[label]) / number[label] * 1e6
            best[label] = min(best[label], t)
    return best


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
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--number", type=int, default=1000)
    args = parser.parse_args()

    import polytorch

    impls = {}  # label -> (workloads, calls per timing)
    try:
        import torch

        torch.set_num_threads(1)
        impls["torch (cpu)"] = (
            _workloads(torch, "cpu", lambda arr, dev: torch.from_numpy(arr).to(dev)), args.number)
    except ImportError:
        print("PyTorch is not installed: ratios are not available (pip install torch==2.13.0)")

    for row in polytorch.backends.available():
        if row["error"] is not None:
            continue
        for dev in row["devices"]:
            w = _workloads(polytorch, dev, lambda arr, d: polytorch.tensor(arr, device=d))
            # JAX dispatch is slower: fewer calls keep the run short.
            number = args.number if row["name"] == "numpy" else max(args.number // 10, 50)
            impls[f"polytorch ({dev})"] = (w, number)

    names = ["elementwise", "matmul", "fwd+bwd"]
    rows = {label: {} for label in impls}
    for name in names:
        fns = {label: w[name] for label, (w, _) in impls.items()}
        numbers = {label: n for label, (_, n) in impls.items()}
        for label, t in _time_interleaved(fns, numbers, args.repeat).items():
            rows[label][name] = t

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
