"""Random numbers: polytorch's counter-based generator against each library's own, side by side.

For sizes 1e3 and 1e6 and float32 uniform / normal samples, times
  polytorch on cpu (NumPy) and cpu@jax (Philox-4x32-10 over array-API ops,
  bit-identical on both; Note [Counter-based random numbers] in polytorch/_random.py),
  numpy.random.Generator (PCG64),
  jax.random (threefry, jitted),
  torch (CPU, mt19937),
and prints milliseconds per call (the best of interleaved rounds) and each time's ratio
to the library's native generator on the same backend (polytorch cpu vs NumPy,
polytorch cpu@jax vs jax.random) and to torch.
Run: python benchmarks/rng.py [--repeat N] [--sizes 1000 1000000]
"""

from __future__ import annotations

import argparse
import timeit


def _time_interleaved(fns: dict, repeat: int) -> dict:
    """Milliseconds per call of each function: the best of ``repeat`` interleaved rounds."""
    for fn in fns.values():
        fn()
        fn()  # warm up (JAX compiles on first calls)
    number = {}
    for label, fn in fns.items():
        t = timeit.timeit(fn, number=1)
        number[label] = max(1, min(200, int(0.05 / max(t, 1e-7))))
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for label, fn in fns.items():
            t = timeit.timeit(fn, number=number[label]) / number[label] * 1e3
            best[label] = min(best[label], t)
    return best


def _cases(n: int) -> dict:
    import jax
    import numpy as np
    import torch

    import polytorch as pt

    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(0)
    key = jax.random.PRNGKey(0)
    ju = jax.jit(lambda k: jax.random.uniform(k, (n,), dtype=jax.numpy.float32))
    jn = jax.jit(lambda k: jax.random.normal(k, (n,), dtype=jax.numpy.float32))
    pt.manual_seed(0)
    torch.manual_seed(0)
    return {
        "uniform": {
            "polytorch cpu": lambda: pt.rand(n, device="cpu"),
            "polytorch cpu@jax": lambda: pt.rand(n, device="cpu@jax")._data.block_until_ready(),
            "numpy Generator": lambda: rng.random(n, dtype=np.float32),
            "jax.random": lambda: ju(key).block_until_ready(),
            "torch": lambda: torch.rand(n),
        },
        "normal": {
            "polytorch cpu": lambda: pt.randn(n, device="cpu"),
            "polytorch cpu@jax": lambda: pt.randn(n, device="cpu@jax")._data.block_until_ready(),
            "numpy Generator": lambda: rng.standard_normal(n, dtype=np.float32),
            "jax.random": lambda: jn(key).block_until_ready(),
            "torch": lambda: torch.randn(n),
        },
    }


_NATIVE = {"polytorch cpu": "numpy Generator", "polytorch cpu@jax": "jax.random"}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 1_000_000])
    args = ap.parse_args(argv)
    print(f"{'size':>9} {'sampler':8} {'implementation':18} {'ms/call':>10} "
          f"{'vs native':>10} {'vs torch':>9}")
    for n in args.sizes:
        for sampler, fns in _cases(n).items():
            t = _time_interleaved(fns, args.repeat)
            for label, ms in t.items():
                native = _NATIVE.get(label)
                vs_native = f"{ms / t[native]:9.1f}x" if native else ""
                print(f"{n:>9} {sampler:8} {label:18} {ms:10.3f} {vs_native:>10} "
                      f"{ms / t['torch']:8.1f}x")


if __name__ == "__main__":
    main()
