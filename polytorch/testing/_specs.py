"""Op specs: one record per registered op, read by the conformance suite and the tests.

Note [One spec per op]
Every op in ``polytorch.ops._registry.REGISTRY`` has one ``OpSpec`` here (PyTorch's
OpInfo, JAX's ``grad_test_spec``): how to build sample inputs, how to call the op
through the *public* API, a NumPy float64 reference, the dtypes it supports, the
dtype PyTorch gives its result, whether it is differentiable and, where the
defaults of ``TOLERANCES`` do not fit, its tolerances. Generic code
(``polytorch.conformance``) turns each record into forward tests per dtype and a
float64 gradcheck, so adding an op means adding one record to ``_SPECS``; an op
without a record is reported as a failure (``check_registry``).

Samples are NumPy arrays of the dtype under test, wrapped in ``NonContig`` when
the tensor must reach the op as a non-contiguous view, and Python numbers. The
reference sees the same arguments with floating and integer arrays converted to
float64 (bool arrays stay bool, so that ``bool + bool`` keeps PyTorch's logical
meaning), and must not use polytorch. Expected result dtypes follow PyTorch's
promotion rules, restated independently in ``result_dtype`` (tests check it
against ``torch.result_type``); they assume the default dtype is float32.
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import polytorch

from .. import _dtype as D
from ._asserts import TOLERANCES

__all__ = [
    "NonContig",
    "OpSpec",
    "SPECS",
    "Sample",
    "check_registry",
    "describe",
    "result_dtype",
]

F32, F64, I64, BOOL = D.float32, D.float64, D.int64, D.bool
FLOATS = (F32, F64)
NUMERIC = (F32, F64, I64)
ALL = (F32, F64, I64, BOOL)

# -- samples ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NonContig:
    """An argument placed on the device as a non-contiguous view holding ``value``.

    ``kind`` is ``"transposed"`` (a transposed copy, viewed back with
    ``transpose(-1, -2)``) or ``"strided"`` (every other element along the last
    dimension of a twice-as-wide tensor, viewed with ``[..., ::2]``).
    """

    value: np.ndarray
    kind: str = "transposed"

    def base(self) -> np.ndarray:
        """The contiguous array created on the device."""
        if self.kind == "transposed":
            return np.ascontiguousarray(np.swapaxes(self.value, -1, -2))
        filler = np.zeros_like(self.value)
        wide = np.stack([self.value, filler], axis=-1)
        return wide.reshape(self.value.shape[:-1] + (2 * self.value.shape[-1],))

    def view(self, t: polytorch.Tensor) -> polytorch.Tensor:
        """The view of the device tensor ``t`` (made from ``base()``) that holds ``value``."""
        return t.transpose(-1, -2) if self.kind == "transposed" else t[..., ::2]


@dataclass(frozen=True)
class Sample:
    """One call: positional ``args`` (arrays, ``NonContig``, Python numbers) and ``kwargs``.

    ``grad=False`` leaves the sample out of gradchecks (non-differentiable
    points, integer outputs); ``gradgrad=False`` only out of gradgradchecks
    (ties of maximum: the first derivative there is PyTorch's even split, which
    central differences reproduce, but the second is a jump).
    """

    args: tuple
    kwargs: dict = field(default_factory=dict)
    grad: bool = True
    gradgrad: bool = True


def functional_of(x):
    """``nn.functional`` of the library of the tensor ``x``: polytorch's, or PyTorch's when
    the oracle test (tests/test_conformance.py) runs a spec's ``call`` on PyTorch tensors
    (the library is then already imported)."""
    if isinstance(x, polytorch.Tensor):
        return polytorch.nn.functional
    return sys.modules[type(x).__module__.split(".")[0]].nn.functional


def _array(a) -> np.ndarray | None:
    if isinstance(a, NonContig):
        return a.value
    return a if isinstance(a, np.ndarray) else None


_SHORT = {"float32": "f32", "float64": "f64", "int64": "i64", "bool": "b"}


def describe(sample: Sample) -> str:
    """A short label such as ``f32[3,1], f32[1,4].T, 2.5, dim=1``."""
    parts = []
    for a in sample.args:
        arr = _array(a)
        if arr is None:
            parts.append(repr(a))
            continue
        label = f"{_SHORT.get(arr.dtype.name, arr.dtype.name)}[{','.join(map(str, arr.shape))}]"
        if isinstance(a, NonContig):
            label += ".T" if a.kind == "transposed" else "[..., ::2]"
        parts.append(label)
    parts += [f"{k}={getattr(v, 'name', v)!r}" for k, v in sample.kwargs.items()]
    return ", ".join(parts)


def _draw(rng: np.random.RandomState, shape, dt: D.dtype, low: float, high: float):
    """Values in [low, high] of dtype ``dt`` (integers: the integers in that range)."""
    if dt is BOOL:
        return np.asarray(rng.rand(*shape) < 0.5)
    if dt.kind in "iu":
        return np.asarray(rng.randint(int(np.ceil(low)), int(np.floor(high)) + 1, size=shape),
                          dtype=dt.name)
    return np.asarray(rng.uniform(low, high, size=shape), dtype=dt.name)


def _nonzero(rng, shape, dt: D.dtype, low: float, high: float):
    """Values whose magnitude is in [low, high], with random signs (divisors)."""
    mag = _draw(rng, shape, dt, low, high)
    sign = np.where(rng.rand(*shape) < 0.5, -1, 1).astype(dt.name)
    return np.asarray(mag * sign, dtype=dt.name)


# Note [Few distinct shapes]
# JAX compiles every primitive once per shape and dtype, which is most of a run's
# time there; so samples reuse a few shapes: (3, 4) (non-contiguous inputs too),
# 0-d, and a zero-size one, and other shapes only where they test something.


def _layouts(make) -> list:
    """The single-tensor layouts every op sees: plain, 0-d, zero-size, non-contiguous."""
    return [make(3, 4), make(), make(0, 3), NonContig(make(3, 4)),
            NonContig(make(3, 4), "strided")]


def _unary(low=-2.0, high=2.0):
    def samples(rng, dt):
        return [Sample((x,)) for x in _layouts(lambda *s: _draw(rng, s, dt, low, high))]

    return samples


def _binary(a_low=-2.0, a_high=2.0, b_low=None, b_high=None, *, divisor=False,
            scalars=(2, 0.5), ties=False):
    """Broadcasting, 0-d, non-contiguous and zero-size pairs, and Python-number operands.

    ``scalars`` is ``(right, left)``: ``x OP right`` and ``left OP y`` are sampled.
    """
    b_low = a_low if b_low is None else b_low
    b_high = a_high if b_high is None else b_high

    def samples(rng, dt):
        def a(*s):
            return _draw(rng, s, dt, a_low, a_high)

        def b(*s):
            return (_nonzero if divisor else _draw)(rng, s, dt, b_low, b_high)

        out = [
            Sample((a(3, 4), b(3, 4))),
            Sample((a(3, 1), b(4,))),
            Sample((a(), b(3, 4))),
            Sample((a(), b())),
            Sample((NonContig(a(3, 4)), b(3, 4))),
            Sample((a(3, 4), NonContig(b(3, 4), "strided"))),
            Sample((a(0, 4), b(4,))),
        ]
        if ties:  # equal elements, where comparisons differ
            x = a(3, 4)
            out.append(Sample((x, np.asarray(np.where(rng.rand(3, 4) < 0.5, x, b(3, 4)),
                                             dtype=dt.name)), gradgrad=False))
        if scalars:
            right, left = scalars
            out += [Sample((a(3, 4), right)), Sample((left, b(3, 4)))]
            if dt is BOOL:
                out.append(Sample((a(3, 4), True)))
        return out

    return samples


# -- expected dtypes: PyTorch's promotion, restated ----------------------------------------

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def _cat(name: str) -> int:
    return _CATEGORY[np.dtype(name).kind]


def _lattice(a: str, b: str) -> str:
    """``torch.promote_types`` for bool, signed integers and float32/float64."""
    if a == b:
        return a
    if {a, b} & {"uint8", "float16", "bfloat16"}:
        raise NotImplementedError(f"result_dtype does not model {a} with {b}")
    ca, cb = _cat(a), _cat(b)
    if ca != cb:
        return a if ca > cb else b
    return a if np.dtype(a).itemsize >= np.dtype(b).itemsize else b


def _combine(higher: str | None, lower: str | None) -> str | None:
    # A lower-priority group only counts when it is of a higher category.
    if higher is None or lower is None:
        return higher or lower
    if _cat(higher) == 2:
        return higher
    if higher == "bool" or _cat(lower) == 2:
        return _lattice(higher, lower)
    return higher


def result_dtype(*operands) -> str:
    """The dtype name PyTorch gives an elementwise op over ``operands``.

    Operands are arrays (a 0-d array is a zero-dimensional tensor), ``NonContig``
    and Python numbers; floats count as the default dtype, float32.

    Example:
        >>> result_dtype(np.zeros(3, np.int64), 2.5)
        'float32'
    """
    groups: list[str | None] = [None, None, None]  # dimensioned, zero-dim, Python numbers
    for o in operands:
        arr = _array(o)
        if arr is not None:
            name, g = arr.dtype.name, 0 if arr.ndim else 1
        elif isinstance(o, bool):
            name, g = "bool", 2
        elif isinstance(o, int):
            name, g = "int64", 2
        elif isinstance(o, float):
            name, g = "float32", 2
        else:
            raise TypeError(f"result_dtype: unsupported operand {o!r}")
        groups[g] = name if groups[g] is None else _lattice(groups[g], name)
    return _combine(groups[0], _combine(groups[1], groups[2]))


def promoted(*args, **kwargs) -> str:
    return result_dtype(*args)


def floating(*args, **kwargs) -> str:
    out = result_dtype(*args)
    return out if _cat(out) == 2 else "float32"


def boolean(*args, **kwargs) -> str:
    return "bool"


def same(x, *args, **kwargs) -> str:
    return _array(x).dtype.name


def summed(x, *args, **kwargs) -> str:
    name = _array(x).dtype.name
    return "int64" if _cat(name) < 2 else name


# -- the spec record -----------------------------------------------------------------------


@dataclass(frozen=True)
class OpSpec:
    """Everything the conformance suite needs to test one registered op.

    Attributes:
        name: the op's name in ``REGISTRY``.
        call: calls the op through the public API on tensors (and Python numbers).
        ref: the NumPy float64 reference, with the same signature as ``call``.
        samples: ``samples(rng, dtype) -> list[Sample]`` with arrays of ``dtype``.
        dtypes: the dtypes the op is tested in (PyTorch supports them all).
        out_dtype: ``out_dtype(*args, **kwargs)`` -> the dtype name PyTorch gives
            the result (a tuple of names for a tuple result).
        differentiable: gradchecked in float64 (must match the registry).
        grad_call: what gradcheck differentiates (default ``call``); must return one tensor.
        tolerances: ``{dtype: (rtol, atol)}`` overriding ``TOLERANCES``.
        gradcheck_kwargs: extra arguments for ``polytorch.testing.gradcheck`` (and
            ``gradgradcheck``).
        gradgrad: second derivatives are checked with ``gradgradcheck`` in float64
            (differentiable ops only); False where the gradient rule is not itself
            differentiable (say why next to the record).
    """

    name: str
    call: Callable[..., Any]
    ref: Callable[..., Any]
    samples: Callable[[np.random.RandomState, D.dtype], list[Sample]]
    dtypes: tuple[D.dtype, ...]
    out_dtype: Callable[..., str | tuple[str, ...]]
    differentiable: bool = True
    grad_call: Callable[..., Any] | None = None
    tolerances: dict = field(default_factory=dict)
    gradcheck_kwargs: dict = field(default_factory=dict)
    gradgrad: bool = True

    def tolerance(self, dtype: D.dtype) -> tuple[float, float]:
        """``(rtol, atol)`` for results of ``dtype``; exact for integers and bool."""
        if dtype.kind in "biu":
            return 0.0, 0.0
        return self.tolerances.get(dtype) or TOLERANCES[dtype]


# -- per-op calls and references ----------------------------------------------------------


def _setitem(x, value, *, key):
    out = x.clone()
    out[key] = value
    return out


def _setitem_ref(x, value, *, key):
    out = np.array(x, copy=True)
    out[key] = value
    return out


def _cast_ref(x, *, dtype):
    return np.asarray(x).astype(dtype.name).astype(np.float64 if dtype.kind != "b" else bool)


def _f64(fn):
    """``fn`` on float64 copies of its array arguments (NumPy would give bool float16)."""
    return lambda *args: fn(*(np.asarray(a, np.float64) for a in args))


def _np_reduce(fn):
    """A NumPy reduction called as ``x.sum(dim, keepdim)``: a 0-d tensor reduces over dim 0."""

    def ref(x, dim=None, keepdim=False):
        return fn(x, axis=None if np.ndim(x) == 0 else dim, keepdims=keepdim)

    return ref


def _amax(x, dim=None, keepdim=False):
    return x.max() if dim is None else x.amax(dim=dim, keepdim=keepdim)


def _max_dim(x, *, dim, keepdim=False):
    values, indices = x.max(dim=dim, keepdim=keepdim)
    return values, indices


def _max_dim_ref(x, *, dim, keepdim=False):
    return np.max(x, axis=dim, keepdims=keepdim), np.argmax(x, axis=dim, keepdims=keepdim)


def _distinct(rng, shape, dt: D.dtype):
    """Values without ties (so argmax is unique and max is differentiable)."""
    n = int(np.prod(shape))
    if dt is BOOL:
        return _draw(rng, shape, dt, 0, 1)
    values = rng.permutation(n) - n // 2
    if dt.kind == "f":
        values = values + rng.uniform(0.1, 0.9, size=n)
    return np.asarray(values.reshape(shape), dtype=dt.name)


def _reduce_samples(make_tied: bool):
    def samples(rng, dt):
        def x(*s):
            return _draw(rng, s, dt, -3, 3) if make_tied else _distinct(rng, s, dt)

        return [
            Sample((x(3, 4),), {"dim": 1}),
            Sample((x(2, 3, 4),), {"dim": (0, 2)}),
            Sample((x(3, 4),), {"dim": -1, "keepdim": True}),
            Sample((x(3, 4),), {}),
            Sample((x(),), {}),
            Sample((x(),), {"dim": 0}),
            Sample((NonContig(x(3, 4)),), {"dim": 0}),
            Sample((x(0, 3),), {"dim": 1}),
        ]

    return samples


def _sum_samples(rng, dt):
    out = _reduce_samples(True)(rng, dt)
    return out + [Sample((_draw(rng, (0, 3), dt, -3, 3),), {"dim": 0})]


def _max_dim_samples(rng, dt):
    # bool has ties: PyTorch, like NumPy, returns the first maximal index.
    def x(*s):
        return _distinct(rng, s, dt)

    return [
        Sample((x(3, 4),), {"dim": 1}),
        Sample((x(3, 4),), {"dim": 0, "keepdim": True}),
        Sample((x(2, 3, 4),), {"dim": -2}),
        Sample((NonContig(x(3, 4)),), {"dim": 1}),
        Sample((x(0, 3),), {"dim": 1}),
    ]


def _matmul_samples(rng, dt):
    def m(*s):
        return _draw(rng, s, dt, -2, 2)

    return [
        Sample((m(2, 3), m(3, 4))),
        Sample((m(3), m(3, 4))),
        Sample((m(2, 3), m(3))),
        Sample((m(3), m(3))),
        Sample((m(2, 1, 2, 3), m(3, 3, 2))),
        Sample((NonContig(m(2, 3)), NonContig(m(3, 4), "strided"))),
        Sample((m(0, 3), m(3, 2))),
        Sample((m(2, 0), m(0, 3))),
    ]


def _where_samples(rng, dt):
    def c(*s):
        return _draw(rng, s, BOOL, 0, 1)

    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    return [
        Sample((c(3, 4), x(3, 4), x(3, 4))),
        Sample((c(3, 1), x(1, 4), x(3, 4))),
        Sample((c(4), x(2, 4), x())),
        Sample((c(), x(2, 3), x(2, 3))),
        Sample((c(3, 4), NonContig(x(3, 4)), x(4))),
        Sample((c(0, 2), x(0, 2), x(2))),
        Sample((c(3, 4), x(3, 4), 0.5)),
        Sample((c(3, 4), 2, x(3, 4))),
    ]


def _logical_samples(rng, dt):
    def x(*s):  # about a third zeros
        v = _draw(rng, s, dt, -2, 2)
        return np.asarray(np.where(rng.rand(*s) < 0.35, 0, v), dtype=dt.name)

    return [
        Sample((x(3, 4), x(3, 4))),
        Sample((x(3, 1), x(1, 4))),
        Sample((x(), x(2, 3))),
        Sample((NonContig(x(3, 4)), x(3, 4))),
        Sample((x(0, 3), x(3))),
    ]


def _logical_not_samples(rng, dt):
    return [Sample((a,)) for a, _ in (s.args for s in _logical_samples(rng, dt))]


def _pow_samples(rng, dt):
    if dt.kind == "f":
        base = _binary(0.5, 2.0, -1.0, 2.0)(rng, dt)
        neg = _draw(rng, (3, 4), dt, -2, 2)
        return base + [Sample((neg, 3)), Sample((_draw(rng, (3, 4), dt, 0.5, 2), 0))]
    # Integers to negative integer powers are an error in PyTorch.
    return _binary(0, 3, 0, 3, scalars=(2, 2))(rng, dt) + [
        Sample((_draw(rng, (3, 4), dt, 1, 3), 0.5)), Sample((0.5, _draw(rng, (3, 4), dt, 0, 3)))
    ]


def _reshape_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    return [
        Sample((x(3, 4),), {"shape": (4, 3)}),
        Sample((x(3, 4),), {"shape": (2, -1)}),
        Sample((x(2, 3, 2),), {"shape": (12,)}),
        Sample((x(),), {"shape": (1, 1)}),
        Sample((x(1, 1),), {"shape": ()}),
        Sample((NonContig(x(3, 4)),), {"shape": (-1,)}),
        Sample((NonContig(x(2, 4), "strided"),), {"shape": (4, 2)}),
        Sample((x(0, 3),), {"shape": (3, 0)}),
    ]


def _permute_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    return [
        Sample((x(2, 3, 4),), {"dims": (2, 0, 1)}),
        Sample((x(3, 4),), {"dims": (-1, 0)}),
        Sample((x(),), {"dims": ()}),
        Sample((NonContig(x(3, 4)),), {"dims": (1, 0)}),
        Sample((x(0, 2, 3),), {"dims": (1, 2, 0)}),
    ]


def _expand_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    return [
        Sample((x(3, 1),), {"shape": (3, 4)}),
        Sample((x(4),), {"shape": (2, 3, 4)}),
        Sample((x(),), {"shape": (2, 3)}),
        Sample((x(3, 1),), {"shape": (-1, 4)}),
        Sample((x(1, 3),), {"shape": (0, 3)}),
        Sample((NonContig(x(1, 3), "strided"),), {"shape": (2, 2, 3)}),
    ]


_KEYS = [
    (slice(1, None), slice(None, None, 2)),
    1,
    (None, Ellipsis, -1),
    slice(2, 2),
]


def _getitem_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    out = [Sample((x(3, 4),), {"key": k}) for k in _KEYS]
    return out + [
        Sample((NonContig(x(3, 4)),), {"key": (slice(None), 1)}),
        Sample((x(2, 3, 4),), {"key": (1, Ellipsis, slice(1, None))}),
        Sample((x(),), {"key": (None, Ellipsis)}),
        Sample((x(0, 3),), {"key": (Ellipsis, 1)}),
    ]


def _setitem_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    scalar = {BOOL: True, I64: 2}.get(dt, 2.5)
    return [
        Sample((x(3, 4), x(4)), {"key": 1}),
        Sample((x(3, 4), x(3, 1)), {"key": (slice(None), slice(1, 3))}),
        Sample((x(3, 4), x()), {"key": (Ellipsis, slice(None, None, 2))}),
        Sample((NonContig(x(3, 4)), x(4)), {"key": 2}),
        Sample((x(), x()), {"key": Ellipsis}),
        Sample((x(3, 4), x(0, 4)), {"key": slice(1, 1)}),
        Sample((x(3, 4), scalar), {"key": (0, slice(1, None))}),
    ]


def _cast_samples(rng, dt):
    def x(*s):  # non-integral values and zeros: truncation and truthiness
        v = _draw(rng, s, dt, -3, 3)
        return np.asarray(np.where(rng.rand(*s) < 0.3, 0, v), dtype=dt.name)

    out = []
    for target in ALL:
        out += [Sample((x(3, 4),), {"dtype": target}, grad=False),
                Sample((NonContig(x(3, 4)),), {"dtype": target}, grad=False),
                Sample((x(),), {"dtype": target}, grad=False)]
    if dt is F64:
        # A differentiable cast: dyadic values survive float32 exactly, and the
        # gradcheck step (gradcheck_kwargs) is dyadic too, so finite differences are exact.
        dyadic = np.asarray(rng.randint(-512, 512, size=(3, 4)) / 256.0)
        out.append(Sample((dyadic,), {"dtype": F32}))
    return out


def _overwrite(x, src):
    """``copy_`` into a copy of ``x``: through the ``overwrite`` op whenever a graph is recorded."""
    return x.clone().copy_(src)


def _overwrite_ref(x, src):
    return np.array(np.broadcast_to(src, np.shape(x)), copy=True)


def _overwrite_samples(rng, dt):
    def x(*s):
        return _draw(rng, s, dt, -2, 2)

    return [
        Sample((x(3, 4), x(3, 4))),
        Sample((x(3, 4), x(4))),
        Sample((x(3, 4), x())),
        Sample((x(), x())),
        Sample((NonContig(x(3, 4)), NonContig(x(3, 4), "strided"))),
        Sample((x(0, 3), x(3))),
    ]


def _relu_backward_samples(rng, dt):
    def x(*s):  # values away from 0, where relu's derivative jumps
        return _nonzero(rng, s, dt, 0.1, 2.0)

    return [
        Sample((x(3, 4), x(3, 4))),
        Sample((x(), x())),
        Sample((NonContig(x(3, 4)), x(3, 4))),
        Sample((x(3, 4), NonContig(x(3, 4), "strided"))),
        Sample((x(0, 3), x(0, 3))),
    ]


def _relu_backward(grad, result):
    return polytorch.ops.elementwise.relu_backward(grad, result)


def _to_device(x):
    """Round trip through the host: ``x.to("cpu").to(x.device)``."""
    return x.to("cpu").to(x.device)


_SPECS = [
    # -- arithmetic -------------------------------------------------------------
    OpSpec("add", operator.add, np.add, _binary(), ALL, promoted),
    OpSpec("sub", operator.sub, np.subtract, _binary(), NUMERIC, promoted),
    OpSpec("mul", operator.mul, np.multiply, _binary(), ALL, promoted),
    OpSpec("div", operator.truediv, np.true_divide, _binary(divisor=True, b_low=0.5),
           NUMERIC, floating),
    OpSpec("pow", operator.pow, np.power, _pow_samples, NUMERIC, promoted),
    OpSpec("neg", operator.neg, np.negative, _unary(), NUMERIC, same),
    # -- exponentials and activations ---------------------------------------------
    OpSpec("exp", lambda x: x.exp(), _f64(np.exp), _unary(), ALL, floating),
    OpSpec("log", lambda x: x.log(), np.log, _unary(0.5, 3.0), NUMERIC, floating),
    OpSpec("tanh", lambda x: x.tanh(), _f64(np.tanh), _unary(-3.0, 3.0), ALL, floating),
    OpSpec("sigmoid", lambda x: x.sigmoid(), _f64(lambda x: 1 / (1 + np.exp(-x))),
           _unary(-6.0, 6.0), ALL, floating),
    OpSpec("relu", lambda x: x.relu(), lambda x: np.maximum(x, 0), _unary(), NUMERIC, same),
    OpSpec("relu_backward", _relu_backward, lambda g, r: np.where(r > 0, g, 0.0),
           _relu_backward_samples, FLOATS, same),
    # -- comparisons and logic (not differentiable) ---------------------------------
    *(
        OpSpec(name, fn, fn, _binary(scalars=(1, 0.5), ties=True), ALL, boolean,
               differentiable=False)
        for name, fn in [("eq", operator.eq), ("ne", operator.ne), ("lt", operator.lt),
                         ("le", operator.le), ("gt", operator.gt), ("ge", operator.ge)]
    ),
    OpSpec("logical_and", polytorch.logical_and, np.logical_and, _logical_samples, ALL, boolean,
           differentiable=False),
    OpSpec("logical_or", polytorch.logical_or, np.logical_or, _logical_samples, ALL, boolean,
           differentiable=False),
    OpSpec("logical_not", polytorch.logical_not, np.logical_not, _logical_not_samples, ALL,
           boolean, differentiable=False),
    # -- selection and copies ---------------------------------------------------------
    OpSpec("where", polytorch.where, np.where, _where_samples, ALL,
           lambda c, a, b: result_dtype(a, b)),
    OpSpec("clone", lambda x: x.clone(), np.copy, _unary(), ALL, same),
    OpSpec("overwrite", _overwrite, _overwrite_ref, _overwrite_samples, ALL, same),
    # -- shapes and indexing ------------------------------------------------------------
    OpSpec("reshape", lambda x, shape: x.reshape(shape), lambda x, shape: np.reshape(x, shape),
           _reshape_samples, ALL, same),
    OpSpec("permute", lambda x, dims: x.permute(dims),
           lambda x, dims: np.transpose(x, dims), _permute_samples, ALL, same),
    OpSpec("expand", lambda x, shape: x.expand(*shape),
           lambda x, shape: np.broadcast_to(
               x, tuple(s if s != -1 else x.shape[i - len(shape) + x.ndim]
                        for i, s in enumerate(shape))),
           _expand_samples, ALL, same),
    OpSpec("getitem", lambda x, key: x[key], lambda x, key: np.asarray(x)[key],
           _getitem_samples, ALL, same),
    OpSpec("setitem", _setitem, _setitem_ref, _setitem_samples, ALL, same),
    # -- reductions -------------------------------------------------------------------------
    OpSpec("sum", lambda x, dim=None, keepdim=False: x.sum(dim=dim, keepdim=keepdim),
           _np_reduce(np.sum),
           _sum_samples, ALL, summed),
    OpSpec("amax", _amax, _np_reduce(np.max), _reduce_samples(False), ALL, same),
    OpSpec("max_dim", _max_dim, _max_dim_ref, _max_dim_samples, ALL,
           lambda x, **kw: (same(x), "int64"), grad_call=lambda x, **kw: _max_dim(x, **kw)[0]),
    # -- linear algebra ---------------------------------------------------------------------
    OpSpec("matmul", operator.matmul, np.matmul, _matmul_samples, NUMERIC, promoted),
    # -- casts and transfers ------------------------------------------------------------------
    OpSpec("cast", lambda x, dtype: x.to(dtype), _cast_ref, _cast_samples, ALL,
           lambda x, dtype: dtype.name, gradcheck_kwargs={"eps": 2.0**-10}),
    OpSpec("to_device", _to_device, np.copy, _unary(), ALL, same),
]

# Each family keeps its records in its own module; they import the tools above.
# ``SPECS`` are registered primitives (the ops layer); ``FUNCTIONAL`` are the public
# ``polytorch.nn.functional`` functions, composites included, keyed by the function's
# name (the nn.functional layer of the conformance suite).
from . import (  # noqa: E402
    _specs_attention,
    _specs_conv,
    _specs_elementwise,
    _specs_linalg,
    _specs_loss,
    _specs_nn,
    _specs_random,
    _specs_reduction,
    _specs_shape,
)

_FAMILIES = (_specs_elementwise, _specs_reduction, _specs_shape, _specs_linalg, _specs_random,
             _specs_nn, _specs_conv, _specs_attention, _specs_loss)
for _family in _FAMILIES:
    _SPECS.extend(getattr(_family, "SPECS", ()))


def _by_name(records, what: str) -> dict[str, OpSpec]:
    out: dict[str, OpSpec] = {}
    for spec in records:
        if spec.name in out:
            raise ValueError(f"two {what} specs for {spec.name!r}")
        out[spec.name] = spec
    return out


SPECS: dict[str, OpSpec] = _by_name(_SPECS, "op")
FUNCTIONAL: dict[str, OpSpec] = _by_name(
    [s for f in _FAMILIES for s in getattr(f, "FUNCTIONAL", ())], "nn.functional")

def check_registry(registry: dict | None = None,
                   specs: dict[str, OpSpec] | None = None) -> dict[str, str]:
    """Problems between the op registry and the specs: ``{op name: message}``.

    An op without a spec, a spec for an op that is not registered, and a spec
    whose ``differentiable`` disagrees with the registry are all problems.

    Example:
        >>> check_registry()
        {}
    """
    from ..ops._registry import REGISTRY

    registry = REGISTRY if registry is None else registry
    specs = SPECS if specs is None else specs
    problems = {}
    for name, op in registry.items():
        spec = specs.get(name)
        if spec is None:
            problems[name] = f"op {name} has no conformance spec (add one to {__name__})"
        elif spec.differentiable != op.differentiable:
            problems[name] = (
                f"op {name}: the spec says differentiable={spec.differentiable} but the "
                f"registry says {op.differentiable}"
            )
    for name in specs:
        if name not in registry:
            problems[name] = f"spec {name} names no registered op"
    return problems
