"""``assert_close``: compare tensors (or arrays, numbers) with dtype-aware tolerances."""

from __future__ import annotations

import numpy as np

from .. import _dtype as D

# Default (rtol, atol) per dtype, as PyTorch's testing uses.
TOLERANCES = {
    D.float16: (1e-3, 1e-5), D.bfloat16: (1.6e-2, 1e-5), D.float32: (1.3e-6, 1e-5),
    D.float64: (1e-7, 1e-7), D.complex64: (1.3e-6, 1e-5), D.complex128: (1e-7, 1e-7),
}


def to_host(x) -> np.ndarray:
    from .._tensor import Tensor

    if isinstance(x, Tensor):
        arr = np.asarray(x.detach().numpy())
        return arr.astype(np.float32) if x.dtype is D.bfloat16 else arr
    if hasattr(x, "detach") and hasattr(x, "numpy"):  # a torch tensor
        return x.detach().cpu().numpy()
    return np.asarray(x)


def assert_close(actual, expected, *, rtol=None, atol=None, equal_nan=True, msg="") -> None:
    """Raise AssertionError naming the worst mismatch unless ``actual`` is close to ``expected``."""
    from .._tensor import Tensor

    a, e = to_host(actual), to_host(expected)
    if rtol is None or atol is None:
        dt = actual.dtype if isinstance(actual, Tensor) else None
        r, t = TOLERANCES.get(dt, (1e-7, 1e-7) if a.dtype == np.float64 else (1.3e-6, 1e-5))
        rtol = r if rtol is None else rtol
        atol = t if atol is None else atol
    if a.shape != e.shape:
        raise AssertionError(f"{msg} shape mismatch: {a.shape} vs {e.shape}")
    if a.dtype.kind in "biu" and e.dtype.kind in "biu":
        if not np.array_equal(a, e):
            bad = np.argwhere(a != e)
            raise AssertionError(f"{msg} values differ at {len(bad)} positions, first {bad[0]}")
        return
    if not np.allclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan):
        diff = np.abs(a.astype(np.complex128) - e.astype(np.complex128))
        worst = np.unravel_index(np.nanargmax(diff), diff.shape) if diff.size else ()
        raise AssertionError(
            f"{msg} tensors are not close (rtol={rtol}, atol={atol}): max abs diff "
            f"{np.nanmax(diff)} at {worst}: {a[worst]} vs {e[worst]}"
        )
