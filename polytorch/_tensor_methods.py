"""Binds ops to ``Tensor`` methods and operators (one place, so the surface is visible)."""

from __future__ import annotations

from . import _tensor
from ._tensor import Tensor, _bump, _check_fits, _check_inplace, _commit, _refresh_views
from .autograd import is_grad_enabled
from .ops import conv as CONV
from .ops import elementwise as E
from .ops import indexing as I
from .ops import linalg as L
from .ops import nn as NN
from .ops import random as RNG
from .ops import reduction as R
from .ops import shape as S
from .ops import sorting as SO
from .ops._registry import _py_scalar, apply

T = Tensor


def _rev(op):
    return lambda self, other: op(other, self)


# -- operators ---------------------------------------------------------------------
T.__add__ = T.__radd__ = lambda self, other: apply(E.add, (self, other), {})
T.__sub__ = lambda self, other: apply(E.sub, (self, other), {})
T.__rsub__ = _rev(E.sub)
T.__mul__ = T.__rmul__ = lambda self, other: apply(E.mul, (self, other), {})
T.__truediv__ = lambda self, other: apply(E.div, (self, other), {})
T.__rtruediv__ = _rev(E.div)
T.__pow__ = lambda self, other: E.pow(self, other)
T.__rpow__ = _rev(E.pow)
T.__neg__ = lambda self: E.neg(self)
T.__pos__ = lambda self: self
T.__matmul__ = lambda self, other: L.matmul(self, other)
T.__rmatmul__ = _rev(L.matmul)
T.__eq__ = lambda self, other: E.eq(self, other)
T.__ne__ = lambda self, other: E.ne(self, other)
T.__lt__ = lambda self, other: E.lt(self, other)
T.__le__ = lambda self, other: E.le(self, other)
T.__gt__ = lambda self, other: E.gt(self, other)
T.__ge__ = lambda self, other: E.ge(self, other)
T.__and__ = T.__rand__ = lambda self, other: E.logical_and(self, other)
T.__or__ = T.__ror__ = lambda self, other: E.logical_or(self, other)
T.__invert__ = lambda self: E.logical_not(self)
T.__hash__ = _tensor.Tensor.__hash__
T.__getitem__ = S.index


def _add_method(self, other, *, alpha=1):
    return E.add(self, other if alpha == 1 else other * alpha)


def _sub_method(self, other, *, alpha=1):
    return E.sub(self, other if alpha == 1 else other * alpha)


# -- methods -------------------------------------------------------------------------
T.add = _add_method
T.sub = _sub_method
T.mul = E.mul
T.div = E.div
T.pow = E.pow
T.neg = E.neg
T.exp = E.exp
T.log = E.log
T.tanh = E.tanh
T.sigmoid = E.sigmoid
T.relu = E.relu
T.eq = E.eq
T.ne = E.ne
T.lt = E.lt
T.le = E.le
T.gt = E.gt
T.ge = E.ge
T.clone = E.clone
T.matmul = L.matmul
T.sum = R.sum
T.mean = R.mean
T.max = R.max
T.amax = R.amax
T.reshape = S.reshape
T.view = S.view
T.permute = S.permute
T.transpose = S.transpose
T.t = S.t
T.expand = S.expand
T.unsqueeze = S.unsqueeze
T.squeeze = S.squeeze
T.flatten = S.flatten
T.T = property(lambda self: S.permute(self, *reversed(range(self.ndim))))
T.mT = property(lambda self: S.transpose(self, -2, -1))


def _expand_as(self, other):
    return S.expand(self, other.shape)


T.expand_as = _expand_as
T.view_as = lambda self, other: S.view(self, other.shape)
T.reshape_as = lambda self, other: S.reshape(self, other.shape)


def _where(self, condition, other):
    return E.where(condition, self, other)


T.where = _where


# -- in-place ops ----------------------------------------------------------------------
# Note [In-place ops on immutable arrays]
# Every in-place method computes its result out of place through the op
# registry (so promotion, checks and the graph are the usual ones) and then
# commits it into ``self`` with _tensor._commit, which writes the array on
# mutable backends and rebinds it on immutable ones (JAX), bumping the version.


def _inplace(name, compute, saves_self=None):
    """An in-place method from an out-of-place ``compute(self, *args)``.

    ``saves_self(self, *args)`` says when the op's gradient rule reads the old
    ``self``: the rule then gets a snapshot of it, since the write bumps the
    version of ``self`` itself (PyTorch saves ``original_self`` the same way).
    """

    def method(self, *args, **kwargs):
        _check_inplace(self, name)
        src = self
        if saves_self is not None and is_grad_enabled() and saves_self(self, *args):
            src = _snapshot(self)
        return _commit(self, compute(src, *args, **kwargs), name)

    method.__name__ = name
    return method


def _snapshot(t):
    """``t``'s current value and graph position, safe from the write about to happen."""
    if t._grad_fn is None and t._requires_grad:
        return t  # a leaf's gradient must reach the leaf itself
    data = t._data
    backend = t._device._impl[1]
    if backend.mutable:
        data = backend.xp.asarray(data, copy=True)
    out = _tensor._wrap(data, t._device, t._dtype)
    out._grad_fn, out._requires_grad = t._grad_fn, t._requires_grad
    return out


def _other_requires_grad(self, other=None, *args, **kwargs):
    return isinstance(other, Tensor) and other._requires_grad


def _any_requires_grad(self, *args, **kwargs):
    """Self or any tensor argument (``clamp_(min, max)``, ``lerp_(end, weight)``) needs a grad."""
    return self._requires_grad or any(
        isinstance(a, Tensor) and a._requires_grad for a in (*args, *kwargs.values())
    )


def _self_requires_grad(self, *args, **kwargs):
    return self._requires_grad


T.add_ = _inplace("add_", _add_method)
T.sub_ = _inplace("sub_", _sub_method)
T.mul_ = _inplace("mul_", E.mul, _other_requires_grad)
T.div_ = _inplace("div_", E.div, _other_requires_grad)
T.pow_ = _inplace("pow_", E.pow, _any_requires_grad)
T.neg_ = _inplace("neg_", E.neg)
T.exp_ = _inplace("exp_", E.exp)
T.log_ = _inplace("log_", E.log, _self_requires_grad)
T.tanh_ = _inplace("tanh_", E.tanh)
T.sigmoid_ = _inplace("sigmoid_", E.sigmoid)
T.relu_ = _inplace("relu_", E.relu)
T.__iadd__ = T.add_
T.__isub__ = T.sub_
T.__imul__ = T.mul_
T.__itruediv__ = T.div_


# Overwrites (zero_, fill_, copy_) compute the new value ``src`` and, when a
# graph is recorded, go through the ``overwrite`` op, so that the old value's
# graph gets a zero gradient (not a stale one) and ``src``'s graph the gradient.


def _overwriting(name, compute):
    def method(self, *args, **kwargs):
        _check_inplace(self, name)
        src = compute(self, *args, **kwargs)
        if is_grad_enabled() and (self._requires_grad or src._requires_grad):
            src = E.overwrite(self, src)
        return _commit(self, src, name)

    method.__name__ = name
    return method


def _filled_like(self, value):
    from ._creation import full

    return full(tuple(self.shape), value, dtype=self._dtype, device=self._device)


def _zero(self):
    return _filled_like(self, 0)


def _fill(self, value):
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                f"fill_ only supports 0-dimension value tensor but got tensor with "
                f"{value.ndim} dimensions."
            )
        return S.expand(value.to(self._dtype), self.shape)
    return _filled_like(self, value)


def _copy(self, src, non_blocking=False):
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'src' must be Tensor, not {type(src).__name__}")
    if src._device != self._device:
        src = src.to(self._device)
    if src._dtype is not self._dtype:
        src = src.to(self._dtype)
    if src.shape != self.shape:
        try:
            src = S.expand(src, self.shape)
        except RuntimeError:
            _check_fits(self, _broadcast_shape(self._data.shape, src._data.shape), "copy_")
            raise
    return src


def _broadcast_shape(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    return tuple(y if x == 1 else x for x, y in zip(a, b))


T.zero_ = _overwriting("zero_", _zero)
T.fill_ = _overwriting("fill_", _fill)
T.copy_ = _overwriting("copy_", _copy)


def _setitem(self, key, value):
    _check_inplace(self, "__setitem__")
    if not I._is_basic(key):
        # Advanced keys (index tensors, lists, masks): index_put through the basic part.
        _commit(self, I.put(self, key, value), "__setitem__")
        return
    key = S.normalize_key(key, self._data.shape)
    if isinstance(value, Tensor):
        if value._device != self._device:
            raise RuntimeError(
                f"Expected all tensors to be on the same device, but found at least two devices, "
                f"{self._device} and {value._device}! (in __setitem__)"
            )
        target = S.getitem_op(self.detach(), key=key).shape
        if value.shape != target:
            try:
                value = S.expand(value, target)
            except RuntimeError:
                raise RuntimeError(
                    f"shape mismatch: value tensor of shape {list(value.shape)} cannot be "
                    f"broadcast to indexing result of shape {list(target)}"
                ) from None
    elif isinstance(value, (int, float, bool, complex)):
        value = _py_scalar(value, self._dtype)
    else:
        raise TypeError(f"can't assign a {type(value).__name__} to a polytorch tensor")
    backend = self._device._impl[1]
    tracked = is_grad_enabled() and (
        self._requires_grad or isinstance(value, Tensor) and value._requires_grad)
    if not tracked and (self._view is None or backend.mutable
                        and not _tensor._non_aliasing(self._view[1])):
        # No graph to record: write only the indexed elements (in place where the
        # array is mutable; a functional update on JAX), not a copy of the whole.
        if isinstance(value, Tensor):
            value = value._data if value._dtype is self._dtype else \
                backend.xp.astype(value._data, backend.native_dtype(self._dtype))
        self._data = backend.setitem(self._data, key, value)
        if self._views:
            _refresh_views(self, backend)
        elif self._view is not None:
            _refresh_views(self._view[0], backend, skip=self)  # views that do not alias
        _bump(self)
        return
    _commit(self, S.setitem_op(self, value, key=key), "__setitem__")


T.__setitem__ = _setitem


# -- the families' own tables ------------------------------------------------------------
# Each ops module lists the Tensor methods it adds: TENSOR_METHODS (name -> function),
# INPLACE_METHODS (name -> (out-of-place function, saves_self)) with saves_self one of
# None, "self", "other", "any" (when the gradient rule reads the old self: see
# _inplace), and OVERWRITE_METHODS (name -> compute(self, *args) -> the new value,
# for fill-like writes such as uniform_). They are bound after the methods above.

_SAVES_SELF = {None: None, "self": _self_requires_grad, "other": _other_requires_grad,
               "any": _any_requires_grad}

for _family in (E, R, S, L, I, SO, RNG, NN, CONV):
    for _name, _fn in getattr(_family, "TENSOR_METHODS", {}).items():
        setattr(T, _name, _fn)
    for _name, (_fn, _saves) in getattr(_family, "INPLACE_METHODS", {}).items():
        setattr(T, _name, _inplace(_name, _fn, _SAVES_SELF[_saves]))
    for _name, _compute in getattr(_family, "OVERWRITE_METHODS", {}).items():
        setattr(T, _name, _overwriting(_name, _compute))
