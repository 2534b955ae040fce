"""The ops layer: every op spec, forward against NumPy float64 and gradients by gradcheck.

Test ids: ``ops/OP/DTYPE/forward`` for each dtype of the spec,
``ops/OP/float64/grad`` (gradcheck) for differentiable ops and
``ops/OP/float64/gradgrad`` (gradgradcheck, fast mode) for those whose spec has
``gradgrad``; ``ops/OP/spec`` when the op registry and the specs disagree (an op
without a spec fails here). ``spec_cases`` turns any table of ``OpSpec`` records
into such cases; the functional layer uses it for ``nn.functional``.
"""

from __future__ import annotations

import re
import warnings
import zlib
from collections.abc import Iterator, Mapping
from functools import partial

import numpy as np

import polytorch

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from ..testing._asserts import to_host
from ..testing._specs import SPECS, NonContig, OpSpec, Sample, check_registry, describe
from ._core import FAIL, PASS, UNSUPPORTED, Case, Outcome, Target

_MAX_REPORTED = 3  # failing samples quoted in a message


def cases(target: Target) -> Iterator[Case]:
    """The ops layer's cases for ``target``."""
    for name, message in sorted(check_registry().items()):
        yield Case(f"ops/{name}/spec", partial(Outcome, FAIL, message))
    yield from spec_cases("ops", SPECS, target)


def spec_cases(layer: str, specs: Mapping[str, OpSpec], target: Target,
               seed: tuple[str, ...] = ()) -> Iterator[Case]:
    """Forward (per dtype), grad and gradgrad cases of every record in ``specs``.

    Ids are ``LAYER/NAME/DTYPE/forward``, ``LAYER/NAME/float64/grad`` and
    ``LAYER/NAME/float64/gradgrad``; ``seed`` is prepended to the key that seeds
    each case's samples (the ops layer keeps the bare name, so its inputs never
    change; other layers add their own name so a function sharing an op's name
    draws other samples).
    """
    for spec in specs.values():
        for dt in spec.dtypes:
            yield Case(f"{layer}/{spec.name}/{dt.name}/forward",
                       partial(forward, spec, dt, target, seed))
        if spec.differentiable:
            yield Case(f"{layer}/{spec.name}/float64/grad", partial(grad, spec, target, seed))
            if spec.gradgrad:
                yield Case(f"{layer}/{spec.name}/float64/gradgrad",
                           partial(grad, spec, target, seed, second=True))


def _rng(*key: str) -> np.random.RandomState:
    # Seeded by the test's name, so a case gives the same inputs alone or in a full run.
    return np.random.RandomState(zlib.crc32("/".join(key).encode()))


def _dtypes_needed(spec: OpSpec, sample: Sample) -> set[D.dtype]:
    """Every dtype the sample puts on the device or expects back."""
    names = []
    for a in sample.args:
        arr = a.value if isinstance(a, NonContig) else a
        if isinstance(arr, np.ndarray):
            names.append(arr.dtype.name)
    expected = spec.out_dtype(*sample.args, **sample.kwargs)
    names += expected if isinstance(expected, tuple) else [expected]
    names += [v.name for v in sample.kwargs.values() if isinstance(v, D.dtype)]
    return {D.BY_NAME[n] for n in names}


def _place(arg, device, requires_grad: bool = False):
    """``(tensor, view)`` for an array argument (``view`` makes the value seen by the op)."""
    if isinstance(arg, NonContig):
        base = polytorch.tensor(arg.base(), dtype=D.BY_NAME[arg.value.dtype.name], device=device,
                                requires_grad=requires_grad)
        return base, arg.view
    if isinstance(arg, np.ndarray):
        t = polytorch.tensor(arg, dtype=D.BY_NAME[arg.dtype.name], device=device,
                             requires_grad=requires_grad)
        return t, _identity
    return arg, None  # a Python number


def _identity(t):
    return t


def _reference_arg(arg):
    arr = arg.value if isinstance(arg, NonContig) else arg
    if not isinstance(arr, np.ndarray):
        return arg
    return arr.copy() if arr.dtype == np.bool_ else arr.astype(np.float64)


# -- forward -------------------------------------------------------------------------------


def forward(spec: OpSpec, dtype: D.dtype, target: Target, seed: tuple[str, ...] = ()) -> Outcome:
    """Run every sample of ``spec`` in ``dtype`` and compare with the NumPy reference."""
    if not target.has(dtype):
        return Outcome(UNSUPPORTED, f"{target.device} does not support {dtype.name}")
    failures: list[str] = []
    ran = skipped = 0
    worst_abs = worst_rel = 0.0
    for sample in spec.samples(_rng(*seed, spec.name, dtype.name), dtype):
        if not _dtypes_needed(spec, sample) <= target.dtypes:
            skipped += 1
            continue
        ran += 1
        try:
            problems, max_abs, max_rel = _check_forward(spec, sample, target)
        except Exception as exc:
            problems, max_abs, max_rel = [f"{type(exc).__name__}: {exc}"], None, None
        worst_abs = max(worst_abs, max_abs or 0.0)
        worst_rel = max(worst_rel, max_rel or 0.0)
        if problems:
            failures.append(f"({describe(sample)}): {'; '.join(problems)}")
    if not ran:
        return Outcome(UNSUPPORTED, f"every sample needs a dtype {target.device} does not support")
    note = f", {skipped} skipped for unsupported dtypes" if skipped else ""
    if failures:
        shown = " | ".join(failures[:_MAX_REPORTED])
        return Outcome(FAIL, f"{len(failures)}/{ran} samples failed{note}: {shown}",
                       worst_abs, worst_rel)
    return Outcome(PASS, f"{ran} samples{note}", worst_abs, worst_rel)


def _check_forward(spec: OpSpec, sample: Sample, target: Target):
    args = [view(t) if view is not None else t
            for t, view in (_place(a, target.device) for a in sample.args)]
    out = spec.call(*args, **sample.kwargs)
    ref = spec.ref(*(_reference_arg(a) for a in sample.args), **sample.kwargs)
    expected = spec.out_dtype(*sample.args, **sample.kwargs)
    problems: list[str] = []
    for i, (a, t) in enumerate(zip(sample.args, args)):
        value = a.value if isinstance(a, NonContig) else a
        if isinstance(t, Tensor) and not np.array_equal(to_host(t), value, equal_nan=True):
            problems.append(f"input {i} was modified")
    if not isinstance(expected, tuple):
        out, ref, expected = (out,), (ref,), (expected,)
    if not isinstance(out, tuple) or len(out) != len(expected):
        return [f"returned {type(out).__name__}, expected {len(expected)} tensor(s)"], None, None
    worst_abs = worst_rel = 0.0
    for i, (o, r, e) in enumerate(zip(out, ref, expected)):
        what = f"output {i}: " if len(expected) > 1 else ""
        if not isinstance(o, Tensor):
            problems.append(f"{what}returned {type(o).__name__}, not a Tensor")
            continue
        if o.device != target.device:
            problems.append(f"{what}result on {o.device}, expected {target.device}")
        if o.dtype.name != e:
            problems.append(f"{what}dtype {o.dtype.name}, expected {e}")
        native = target.backend.native_dtype(o.dtype)
        if getattr(o._data, "dtype", native) != native:  # the array must hold the tensor's dtype
            problems.append(f"{what}the {o.dtype.name} tensor holds a {o._data.dtype} array")
        got, want = to_host(o), np.asarray(r)
        if got.shape != want.shape:
            problems.append(f"{what}shape {list(got.shape)}, expected {list(want.shape)}")
            continue
        rtol, atol = spec.tolerance(D.BY_NAME[e]) if e in D.BY_NAME else (0.0, 0.0)
        problem, max_abs, max_rel = _compare(got, want, rtol, atol)
        worst_abs, worst_rel = max(worst_abs, max_abs), max(worst_rel, max_rel)
        if problem:
            problems.append(what + problem)
    return problems, worst_abs, worst_rel


def _compare(got: np.ndarray, want: np.ndarray, rtol: float, atol: float):
    """``(problem or "", max abs diff, max rel diff)``; NaNs match NaNs."""
    a = got.astype(np.float64)
    e = want.astype(np.float64)
    if not a.size:
        return "", 0.0, 0.0
    both_nan = np.isnan(a) & np.isnan(e)
    same_inf = np.isinf(a) & (a == e)
    with np.errstate(invalid="ignore"):
        diff = np.where(both_nan | same_inf, 0.0, np.abs(a - e))
    diff = np.where(np.isnan(diff), np.inf, diff)
    scale = np.abs(np.where(same_inf, 0.0, e))
    with np.errstate(divide="ignore", invalid="ignore"):
        # Relative error is measured where it decides: values whose magnitude is within
        # atol (zeros, underflows) are judged by atol, and a 1e-40 against 0 is no news.
        rel = np.where(scale > atol, diff / scale, 0.0)
    max_abs, max_rel = float(diff.max()), float(rel.max())
    bad = diff > atol + rtol * scale
    if not bad.any():
        return "", max_abs, max_rel
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    return (f"{int(bad.sum())} of {a.size} values differ (rtol={rtol}, atol={atol}); "
            f"max abs diff {max_abs:.3g}; first at {list(first)}: got {got[first]!r}, "
            f"expected {want[first]!r}"), max_abs, max_rel


# -- gradients -------------------------------------------------------------------------------

_GRAD_DIFF = re.compile(r"max abs difference (\S+)")


def grad(spec: OpSpec, target: Target, seed: tuple[str, ...] = (),
         second: bool = False) -> Outcome:
    """gradcheck (``second``: gradgradcheck) every differentiable float64 sample of ``spec``.

    First derivatives are checked in slow mode (whole Jacobians); second ones in
    fast mode (``v^T J u`` for random ``u``, ``v``), which needs two evaluations
    per input instead of two per input element.
    """
    if not target.has(D.float64):
        return Outcome(UNSUPPORTED, f"{target.device} does not support float64")
    call = spec.grad_call or spec.call
    failures: list[str] = []
    ran = 0
    worst: float | None = None
    for sample in spec.samples(_rng(*seed, spec.name, "grad"), D.float64):
        if not sample.grad or second and not sample.gradgrad or \
                not _dtypes_needed(spec, sample) <= target.dtypes:
            continue
        placed = [_place(a, target.device, requires_grad=_is_float_array(a))
                  for a in sample.args]
        leaves = [t for t, _ in placed if isinstance(t, Tensor) and t.requires_grad]
        if not leaves:
            continue
        ran += 1
        fn = partial(_rebuild, call, placed, sample.kwargs)
        try:
            if not fn(*leaves).numel():
                _check_empty_grad(fn, leaves)
            elif second:
                with warnings.catch_warnings():
                    # A cast's output gradient is float32: expected, and exact (dyadic).
                    warnings.filterwarnings("ignore", "Input #", UserWarning)
                    gradgradcheck(fn, leaves, fast_mode=True, **spec.gradcheck_kwargs)
            else:
                gradcheck(fn, leaves, **spec.gradcheck_kwargs)
        except (GradcheckError, AssertionError) as exc:
            m = _GRAD_DIFF.search(str(exc))
            if m:
                worst = max(worst or 0.0, float(m.group(1)))
            failures.append(f"({describe(sample)}): {str(exc).splitlines()[0]}")
        except Exception as exc:
            failures.append(f"({describe(sample)}): {type(exc).__name__}: {exc}")
    if not ran:
        return Outcome(FAIL, f"spec {spec.name} has no differentiable float64 sample")
    if failures:
        shown = " | ".join(failures[:_MAX_REPORTED])
        return Outcome(FAIL, f"{len(failures)}/{ran} samples failed: {shown}", worst)
    return Outcome(PASS, f"{ran} samples")


def _check_empty_grad(fn, leaves) -> None:
    """An empty output has nothing to differentiate: the input gradients must be zeros.

    (gradcheck's finite differences cannot build a Jacobian with an empty output.)
    """
    out = fn(*leaves)
    grads = polytorch.autograd.grad(out, leaves, polytorch.zeros_like(out), allow_unused=True)
    for t, g in zip(leaves, grads):
        if g is None:
            continue
        if tuple(g.shape) != tuple(t.shape) or np.any(to_host(g) != 0):
            raise AssertionError(
                f"gradient of an empty output: expected zeros of shape {list(t.shape)}, got "
                f"{to_host(g)!r}"
            )


def _is_float_array(arg) -> bool:
    arr = arg.value if isinstance(arg, NonContig) else arg
    return isinstance(arr, np.ndarray) and arr.dtype.kind == "f"


def _rebuild(call, placed, kwargs, *leaves):
    """Call the op with gradcheck's ``leaves`` in place of the differentiable arguments."""
    it = iter(leaves)
    args = []
    for t, view in placed:
        if isinstance(t, Tensor) and t.requires_grad:
            t = next(it)
        args.append(view(t) if view is not None else t)
    return call(*args, **kwargs)
