"""``gradcheck`` and ``gradgradcheck``: autograd against finite differences (PyTorch's API).

Slow mode (the default) builds both Jacobians in full: the numerical one by
central differences, one input element at a time, in float64 on the host; the
analytical one by one backward pass per output element. Fast mode compares
``v^T J u`` for random ``u`` and ``v``: one directional difference per input
and one backward pass per output, which is what the conformance suite uses for
second derivatives. Functions are evaluated with grad mode as the caller has
it, on fresh tensors of the inputs' dtypes and devices (so ``gradgradcheck``,
whose function calls ``autograd.grad``, works), and the inputs are never
modified.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` and ``gradgradcheck`` when the gradients are wrong."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _is_tensor(x) -> bool:
    from .._tensor import Tensor

    return isinstance(x, Tensor)


def _host(t) -> np.ndarray:
    # A copy: on NumPy the host array may be the tensor's own memory, and it gets perturbed.
    return np.array(t._device._impl[1].to_numpy(t._data), dtype=np.float64, copy=True)


class _Evaluator:
    """Calls ``func`` on fresh copies of the inputs, some replaced by host float64 arrays."""

    def __init__(self, func, inputs):
        self.func = func
        self.inputs = inputs

    def __call__(self, replace: dict) -> list[np.ndarray]:
        from .. import tensor

        args = []
        for i, a in enumerate(self.inputs):
            if i in replace:
                a = tensor(replace[i], dtype=a.dtype, device=a.device,
                           requires_grad=a.requires_grad)
            args.append(a)
        outs = _as_tuple(self.func(*args))
        return [_host(o.detach()) for o in outs if _is_tensor(o)]


def _numerical_jacobians(evaluate, inputs, diff_idx, n_outputs, eps):
    """``jac[i][k]``: (numel of input i, numel of output k), by central differences."""
    jacs = []
    for i in diff_idx:
        base = _host(inputs[i])
        flat = base.reshape(-1)
        cols = [[] for _ in range(n_outputs)]
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            plus = evaluate({i: base})
            flat[j] = orig - eps
            minus = evaluate({i: base})
            flat[j] = orig
            for k in range(n_outputs):
                cols[k].append(((plus[k] - minus[k]) / (2 * eps)).reshape(-1))
        jacs.append([
            np.stack(c) if c else np.zeros((0, 0)) for c in cols
        ])
    return jacs


def _vjp(outputs, diff_inputs, k, probe):
    """Gradients of ``outputs[k]`` seeded with ``probe`` w.r.t. ``diff_inputs``, on the host."""
    from .. import autograd, tensor

    out = outputs[k]
    g = tensor(probe.reshape(out.shape), dtype=out.dtype, device=out.device)
    grads = autograd.grad(out, diff_inputs, g, retain_graph=True, allow_unused=True)
    return [np.zeros(t.numel()) if gi is None else _host(gi).reshape(-1)
            for t, gi in zip(diff_inputs, grads)], grads


def _analytical_jacobians(outputs, diff_inputs, check_grad_dtypes):
    """``jac[i][k]`` from one backward pass per output element."""
    jacs = [[None] * len(outputs) for _ in diff_inputs]
    for k, out in enumerate(outputs):
        n = out.numel()
        rows = [np.zeros((t.numel(), n)) for t in diff_inputs]
        for j in range(n):
            probe = np.zeros(n)
            probe[j] = 1.0
            host, grads = _vjp(outputs, diff_inputs, k, probe)
            _check_grads(grads, diff_inputs, check_grad_dtypes)
            for i, h in enumerate(host):
                rows[i][:, j] = h
        for i in range(len(diff_inputs)):
            jacs[i][k] = rows[i]
    return jacs


def _check_grads(grads, diff_inputs, check_grad_dtypes):
    for g, t in zip(grads, diff_inputs):
        if g is None:
            continue
        if tuple(g.shape) != tuple(t.shape):
            raise GradcheckError("Analytical gradient has incorrect size")
        if check_grad_dtypes and g.dtype is not t.dtype:
            raise GradcheckError("Gradient has dtype mismatch")
        if g.device != t.device:
            raise GradcheckError("Gradient has device mismatch")


def _fail(msg, raise_exception):
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked: bool | None = None) -> bool:
    """Check the gradients of ``func`` at ``inputs`` against central finite differences.

    ``inputs`` is a tensor or a tuple (tensors that require grad are checked;
    use float64). Returns True, or raises ``GradcheckError`` describing the
    mismatching Jacobians (returns False with ``raise_exception=False``).
    Forward-mode and batched checks do not exist in polytorch and raise
    ``NotImplementedError`` when asked for; ``masked`` is for sparse tensors and
    ignored. ``check_undefined_grad`` is accepted for compatibility: every
    polytorch rule accepts absent (None) output gradients by construction.

    Example:
        >>> x = polytorch.tensor([1.0, 2.0], dtype=polytorch.float64, requires_grad=True)
        >>> polytorch.autograd.gradcheck(lambda t: (t * t).sum(), (x,))
        True
    """
    if check_batched_grad or check_batched_forward_grad or check_forward_ad:
        raise NotImplementedError(
            "gradcheck: forward-mode AD and batched gradients are not supported by polytorch"
        )
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, a in enumerate(inputs) if _is_tensor(a) and a.requires_grad]
    for i in diff_idx:
        if inputs[i].dtype.name not in ("float64", "complex128"):
            warnings.warn(
                f"Input #{i} requires gradient and is not a double precision floating point or "
                "complex. This check will likely fail if all the inputs are not of double "
                "precision floating point or complex. ",
                stacklevel=2,
            )
        if inputs[i].dtype.is_complex:
            raise NotImplementedError("gradcheck: complex inputs are not supported yet")
    if not diff_idx:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of "
            "them have requires_grad=True."
        )
    if not check_backward_ad:
        return True
    diff_inputs = [inputs[i] for i in diff_idx]
    outputs = [o for o in _as_tuple(func(*inputs)) if _is_tensor(o)]
    diff_out = [k for k, o in enumerate(outputs) if o.requires_grad]
    evaluate = _Evaluator(func, inputs)
    rng = np.random.default_rng(0)

    if not diff_out:
        # Nothing is differentiable: the function must not depend on its inputs.
        for i in diff_idx:
            for col in _numerical_jacobians(evaluate, inputs, [i], len(outputs), eps)[0]:
                if np.any(col != 0):
                    return _fail("Numerical gradient for function expected to be zero",
                                 raise_exception)
        return True

    douts = [outputs[k] for k in diff_out]
    if fast_mode:
        return _fast(evaluate, inputs, diff_idx, diff_inputs, outputs, diff_out, eps, atol,
                     rtol, nondet_tol, raise_exception, check_grad_dtypes, rng)

    numerical = _numerical_jacobians(evaluate, inputs, diff_idx, len(outputs), eps)
    analytical = _analytical_jacobians(douts, diff_inputs, check_grad_dtypes)
    for a, i in enumerate(diff_idx):
        for b, k in enumerate(diff_out):
            num, ana = numerical[a][k], analytical[a][b]
            if num.size == 0 and ana.size == 0:
                continue
            num = num.reshape(ana.shape)
            if not np.allclose(ana, num, rtol=rtol, atol=atol):
                diff = float(np.max(np.abs(ana - num)))
                return _fail(
                    f"Jacobian mismatch for output {b} with respect to input {i},\n"
                    f"numerical:{num!r}\nanalytical:{ana!r}\n"
                    f"max abs difference {diff}\n", raise_exception)
    if not _reentrant(douts, diff_inputs, rng, nondet_tol):
        return _fail(_NOT_REENTRANT.format(nondet_tol), raise_exception)
    return True


_NOT_REENTRANT = (
    "Backward is not reentrant, i.e., running backward with same input and grad_output "
    "multiple times gives different values, although analytical gradient matches numerical "
    "gradient. The tolerance for nondeterminism was {}."
)


def _reentrant(douts, diff_inputs, rng, nondet_tol) -> bool:
    for k, out in enumerate(douts):
        if not out.numel():
            continue
        probe = rng.standard_normal(out.numel())
        first, _ = _vjp(douts, diff_inputs, k, probe)
        second, _ = _vjp(douts, diff_inputs, k, probe)
        for a, b in zip(first, second):
            if a.size and np.max(np.abs(a - b)) > nondet_tol:
                return False
    return True


def _fast(evaluate, inputs, diff_idx, diff_inputs, outputs, diff_out, eps, atol, rtol,
          nondet_tol, raise_exception, check_grad_dtypes, rng):
    """Compare ``v^T J u`` (finite differences along ``u``) with ``(v^T J) u`` (backward)."""
    us = []
    for t in diff_inputs:
        u = rng.standard_normal(t.numel())
        norm = np.linalg.norm(u)
        us.append(u / norm if norm else u)
    vs = {k: rng.standard_normal(outputs[k].numel()) for k in diff_out}
    douts = [outputs[k] for k in diff_out]
    for a, (i, u) in enumerate(zip(diff_idx, us)):
        base = _host(inputs[i])
        plus = evaluate({i: base + eps * u.reshape(base.shape)})
        minus = evaluate({i: base - eps * u.reshape(base.shape)})
        for b, k in enumerate(diff_out):
            if not outputs[k].numel() or not u.size:
                continue
            jvp = ((plus[k] - minus[k]) / (2 * eps)).reshape(-1)
            num = float(vs[k] @ jvp)
            host, grads = _vjp(douts, diff_inputs, b, vs[k])
            _check_grads(grads, diff_inputs, check_grad_dtypes)
            ana = float(host[a] @ u)
            if not abs(ana - num) <= atol + rtol * abs(num):
                return _fail(
                    f"Jacobian mismatch for output {b} with respect to input {i},\n"
                    f"numerical:{num!r}\nanalytical:{ana!r}\n"
                    f"max abs difference {abs(ana - num)}\n\n"
                    "The above quantities relating the numerical and analytical jacobians are "
                    "computed in fast mode (v^T J u for random unit u and random v).",
                    raise_exception)
    if not _reentrant(douts, diff_inputs, rng, nondet_tol):
        return _fail(_NOT_REENTRANT.format(nondet_tol), raise_exception)
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0,
                  check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
                  check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False,
                  masked: bool = False) -> bool:
    """Check second derivatives: ``gradcheck`` of the map (inputs, grad_outputs) -> grads.

    ``grad_outputs`` default to random values in [-1, 1] (a fixed seed) that
    require grad, so both the rule's dependence on the inputs and its linearity
    in the incoming gradient are checked.

    Example:
        >>> x = polytorch.tensor([1.0, 2.0], dtype=polytorch.float64, requires_grad=True)
        >>> polytorch.autograd.gradgradcheck(lambda t: (t ** 3).sum(), (x,))
        True
    """
    from .. import autograd, tensor

    if check_fwd_over_rev or check_batched_grad:
        raise NotImplementedError(
            "gradgradcheck: forward-mode AD and batched gradients are not supported by polytorch"
        )
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(1)
        outputs = [o for o in _as_tuple(func(*inputs)) if _is_tensor(o) and o.requires_grad]
        grad_outputs = tuple(
            tensor(rng.uniform(-1, 1, size=tuple(o.shape)), dtype=o.dtype, device=o.device,
                   requires_grad=True)
            for o in outputs
        )
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    diff_idx = [i for i, a in enumerate(inputs) if _is_tensor(a) and a.requires_grad]

    def new_func(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs = [o for o in _as_tuple(func(*ins)) if _is_tensor(o) and o.requires_grad]
        diff = [ins[i] for i in diff_idx]
        grads = autograd.grad(outs, diff, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    if not check_rev_over_rev:
        return True
    return gradcheck(new_func, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad,
                     check_grad_dtypes=check_grad_dtypes, fast_mode=fast_mode)
