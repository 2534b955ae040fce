"""Convolutional networks: polytorch on each available backend against PyTorch eager.

Workloads (float32, forward + backward of a mean-square "loss", weights requiring grad):
  lenet         LeNet-5 style at batch 64 on 1x28x28: conv 5x5 (6) -> relu -> max pool 2
                -> conv 5x5 (16) -> relu -> max pool 2 -> linear 256-120-84-10
  conv3x3       one 3x3 convolution, 32 -> 32 channels, padding 1, on 16x32x32
  pools         max_pool2d 3/2 pad 1 then adaptive_avg_pool2d 1 on 16x32x32x32

Prints milliseconds per step (the best of several interleaved rounds) and the ratio to
PyTorch. Run: python benchmarks/conv.py [--repeat N] [--only NAME]
"""

from __future__ import annotations

import argparse
import os
import timeit

# One BLAS thread, as PyTorch is given one below: a fair comparison, and on a shared
# machine OpenBLAS threads fighting for cores cost more than they bring.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

import numpy as np  # noqa: E402


def _time_interleaved(fns: dict, repeat: int, number: int) -> dict:
    """Milliseconds per call of each function: the best of ``repeat`` interleaved rounds."""
    for fn in fns.values():
        fn()  # warm up (JAX compiles on first call)
        fn()
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for label, fn in fns.items():
            best[label] = min(best[label], timeit.timeit(fn, number=number) / number * 1e3)
    return best


def _workloads(lib, device, make):
    """The benchmark steps over ``lib`` (torch or polytorch); ``make`` builds a tensor."""
    F = lib.nn.functional
    rng = np.random.default_rng(0)

    def param(*shape, scale):
        return make((rng.standard_normal(shape) * scale).astype(np.float32), device, True)

    def data(*shape):
        return make(rng.standard_normal(shape).astype(np.float32), device, False)

    x = data(64, 1, 28, 28)
    w1, b1 = param(6, 1, 5, 5, scale=0.2), param(6, scale=0.1)
    w2, b2 = param(16, 6, 5, 5, scale=0.08), param(16, scale=0.1)
    l1, c1 = param(120, 256, scale=0.06), param(120, scale=0.1)
    l2, c2 = param(84, 120, scale=0.09), param(84, scale=0.1)
    l3, c3 = param(10, 84, scale=0.1), param(10, scale=0.1)
    lenet_params = [w1, b1, w2, b2, l1, c1, l2, c2, l3, c3]

    def lenet():
        for p in lenet_params:
            p.grad = None
        h = F.max_pool2d(F.conv2d(x, w1, b1).relu(), 2)
        h = F.max_pool2d(F.conv2d(h, w2, b2).relu(), 2)
        h = h.reshape(64, 256)
        h = (h @ l1.t() + c1).relu()
        h = (h @ l2.t() + c2).relu()
        out = h @ l3.t() + c3
        (out * out).mean().backward()

    y = data(16, 32, 32, 32)
    wc, bc = param(32, 32, 3, 3, scale=0.06), param(32, scale=0.1)

    def conv3x3():
        wc.grad = bc.grad = None
        out = F.conv2d(y, wc, bc, padding=1)
        (out * out).mean().backward()

    z = param(16, 32, 32, 32, scale=1.0)

    def pools():
        z.grad = None
        out = F.adaptive_avg_pool2d(F.max_pool2d(z, 3, 2, 1), 1)
        (out * out).mean().backward()

    return {"lenet": lenet, "conv3x3": conv3x3, "pools": pools}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--number", type=int, default=3)
    parser.add_argument("--only", default=None, help="run one workload")
    args = parser.parse_args()

    import torch

    import polytorch

    torch.set_num_threads(1)

    def torch_make(arr, device, grad):
        return torch.tensor(arr, requires_grad=grad)

    def poly_make(arr, device, grad):
        return polytorch.tensor(arr, device=device, requires_grad=grad)

    impls = {"torch (cpu)": _workloads(torch, "cpu", torch_make)}
    for device in ("cpu", "cpu@jax"):
        try:
            impls[f"polytorch ({device})"] = _workloads(polytorch, device, poly_make)
        except Exception as exc:  # a backend that is not installed is skipped
            print(f"skipping {device}: {type(exc).__name__}: {exc}")
    names = [args.only] if args.only else list(impls["torch (cpu)"])
    results = {}
    for name in names:
        fns = {label: w[name] for label, w in impls.items()}
        results[name] = _time_interleaved(fns, args.repeat, args.number)
    head = f"{'implementation':<22}" + "".join(f"{n + ' (ms)':>16}" for n in names) + \
        "".join(f"{'x ' + n:>14}" for n in names)
    print(head)
    print("-" * len(head))
    for label in impls:
        row = f"{label:<22}" + "".join(f"{results[n][label]:>16.2f}" for n in names)
        row += "".join(f"{results[n][label] / results[n]['torch (cpu)']:>14.2f}" for n in names)
        print(row)


if __name__ == "__main__":
    main()
