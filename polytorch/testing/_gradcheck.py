"""Gradient checks against central finite differences."""

from __future__ import annotations

import numpy as np


def numerical_jacobian(fn, inputs, eps=1e-6):
    """d(sum(fn(*inputs) * probe))/d(input) for each input, by central differences in float64.

    Returns a list (per input) of arrays of shape ``output.shape + input.shape``.
    """
    from .. import no_grad, tensor

    base = [np.array(t.detach().numpy(), dtype=np.float64) for t in inputs]
    devices = [t.device for t in inputs]
    dtypes = [t.dtype for t in inputs]

    def run(arrays):
        with no_grad():
            ts = [tensor(a, dtype=dt, device=dv) for a, dt, dv in zip(arrays, dtypes, devices)]
            out = fn(*ts)
        return np.array(out.numpy(), dtype=np.float64)

    out0 = run(base)
    jacs = []
    for b in base:
        jac = np.zeros(out0.shape + b.shape)
        flat = b.reshape(-1)
        for i in range(flat.size):
            orig = flat[i]
            flat[i] = orig + eps
            plus = run(base)
            flat[i] = orig - eps
            minus = run(base)
            flat[i] = orig
            jac.reshape(out0.shape + (-1,))[..., i] = (plus - minus) / (2 * eps)
        jacs.append(jac)
    return out0, jacs


def gradcheck(fn, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True) -> bool:
    """Compare autograd's vector-Jacobian products with finite differences (float64 inputs).

    Example:
        >>> x = polytorch.tensor([1.0, 2.0], dtype=polytorch.float64, requires_grad=True)
        >>> polytorch.testing.gradcheck(lambda t: (t * t).sum(), (x,))
        True
    """
    from .. import autograd, tensor

    inputs = tuple(inputs)
    out, jacs = numerical_jacobian(fn, inputs, eps)
    diff_inputs = [t for t in inputs if t.requires_grad]
    rng = np.random.default_rng(0)
    probe = rng.standard_normal(out.shape)
    y = fn(*inputs)
    g = tensor(probe, dtype=y.dtype, device=y.device)
    grads = autograd.grad(y, diff_inputs, g, allow_unused=True)
    k = 0
    for t, jac in zip(inputs, jacs):
        if not t.requires_grad:
            continue
        expected = np.tensordot(probe, jac, axes=probe.ndim) if probe.ndim else probe * jac
        got = grads[k]
        k += 1
        actual = np.zeros(t.shape) if got is None else np.asarray(got.numpy(), np.float64)
        if not np.allclose(actual, expected, atol=atol, rtol=rtol):
            if raise_exception:
                raise AssertionError(
                    f"gradcheck failed for input {k - 1} of shape {list(t.shape)}: max abs "
                    f"difference {np.max(np.abs(actual - expected))}\nanalytical:\n{actual}\n"
                    f"numerical:\n{expected}"
                )
            return False
    return True
