"""The Optimizer base: param groups, per-parameter state, zero_grad, step hooks, state_dict.

Note [Optimizer updates]
    Every optimizer here follows PyTorch's single-tensor ("for-loop") algorithm, the one
    PyTorch runs on CPU, op for op, so results agree with PyTorch to rounding. Updates are
    in-place Tensor methods (``add_``, ``lerp_``, ``addcdiv_``, ...) run under ``no_grad``;
    on immutable backends (JAX) the Tensor rebinds its array, so user code that holds a
    parameter sees the new value. The step counter lives, as in PyTorch, in a float32
    tensor on ``"cpu"`` (NumPy), so reading it as a Python number never syncs a device.
    ``foreach``, ``fused``, ``capturable`` and ``differentiable`` are accepted for
    compatibility and type-checked, but every step takes the single-tensor path.
"""

from __future__ import annotations

import copy
import functools
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import Any

import polytorch

from .._tensor import Tensor

__all__ = [
    "Optimizer",
    "register_optimizer_step_post_hook",
    "register_optimizer_step_pre_hook",
    "required",
]

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]
StateDict = dict[str, Any]


class _RequiredParameter:
    """Singleton marking a hyperparameter a param group must give (PyTorch's ``required``)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()

_global_step_pre_hooks: OrderedDict = OrderedDict()
_global_step_post_hooks: OrderedDict = OrderedDict()


def _add_hook(hooks: OrderedDict, hook: Callable, prepend: bool = False) -> Any:
    """Put ``hook`` in ``hooks`` (first, with ``prepend``); its handle removes it."""
    from ..utils.hooks import RemovableHandle

    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def register_optimizer_step_pre_hook(hook: Callable) -> Any:
    """Register ``hook(optimizer, args, kwargs)`` to run before every optimizer's ``step``.

    Example:
        >>> h = polytorch.optim.optimizer.register_optimizer_step_pre_hook(lambda o, a, k: None)
        >>> h.remove()
    """
    return _add_hook(_global_step_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable) -> Any:
    """Register ``hook(optimizer, args, kwargs)`` to run after every optimizer's ``step``.

    Example:
        >>> h = polytorch.optim.optimizer.register_optimizer_step_post_hook(lambda o, a, k: None)
        >>> h.remove()
    """
    return _add_hook(_global_step_post_hooks, hook)


def _to_scalar(x):
    """A one-element tensor as a Python number, else ``x``.

    For tensor hyperparameters (lr, betas) and the step / mu_product counters (a host
    read of a cpu tensor: no device sync).
    """
    return x.item() if isinstance(x, Tensor) else x


def _new_scalar(value: float) -> Tensor:
    # PyTorch keeps step on the CPU in float32 unless capturable/fused; so do we.
    return polytorch.tensor(value, dtype=polytorch.float32, device="cpu")


def _real_only(name: str, param: Tensor) -> None:
    """Refuse complex parameters where PyTorch updates their real view (not supported yet)."""
    if param.is_complex():
        raise NotImplementedError(
            f"{name}: complex parameters are not supported (got one of dtype {param.dtype}); "
            "optimize its real and imaginary parts as separate real tensors")


def _check_flags(name: str, **flags) -> None:
    """``foreach``/``fused``/``capturable``/``differentiable`` must be bools (or None)."""
    for key, value in flags.items():
        if value is not None and not isinstance(value, bool):
            raise TypeError(f"{name}: {key} must be a bool or None, got {type(value).__name__}")
    # PyTorch's own contradictions between the flags stay errors here.
    if flags.get("fused") and flags.get("differentiable"):
        raise RuntimeError("`fused` does not support `differentiable`")
    if flags.get("fused") and flags.get("foreach"):
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def _check_lr(lr) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_betas(betas) -> None:
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def _check_nonneg(**values) -> None:
    """Each ``name=value`` must be >= 0 (PyTorch's "Invalid {name} value" errors, in order)."""
    for name, value in values.items():
        if not 0.0 <= value:
            raise ValueError(f"Invalid {name} value: {value}")


def _check_adam_args(lr, eps, betas, weight_decay) -> None:
    """The argument checks the Adam family shares, in PyTorch's order."""
    _check_lr(lr)
    _check_nonneg(epsilon=eps)
    _check_betas(betas)
    _check_nonneg(weight_decay=weight_decay)


def _closure_loss(closure: Callable[[], Any] | None) -> Any:
    """Evaluate ``closure`` with grad enabled (``step`` runs under ``no_grad``); None if absent."""
    if closure is None:
        return None
    with polytorch.enable_grad():
        return closure()


def _wrap_step(step: Callable) -> Callable:
    """``step`` run under ``no_grad`` between the global and per-optimizer step hooks."""

    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        if self.__dict__.get("_in_step", False):
            # A subclass's step calling super().step(): hooks run once, around the outer one.
            return step(self, *args, **kwargs)
        self._in_step = True
        try:
            return _hooked_step(self, args, kwargs)
        finally:
            self._in_step = False

    def _hooked_step(self, args, kwargs):
        for hook in chain(_global_step_pre_hooks.values(),
                          self._optimizer_step_pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        f"{hook} must return None or a tuple of (new_args, new_kwargs), "
                        f"but got {result}.")
                args, kwargs = result
        with polytorch.no_grad():
            out = step(self, *args, **kwargs)
        self._opt_called = True
        for hook in chain(self._optimizer_step_post_hooks.values(),
                          _global_step_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    wrapper._polytorch_step_wrapped = True
    return wrapper


class Optimizer:
    """Base class of all optimizers (PyTorch's ``torch.optim.Optimizer``).

    Args:
        params: tensors to optimize: an iterable of tensors, of ``(name, tensor)`` pairs,
            or of dicts (param groups, each with ``"params"`` and per-group options).
        defaults: default values of the optimization options (used by groups that do not
            give them).

    Example:
        >>> w = polytorch.zeros(3, requires_grad=True)
        >>> opt = polytorch.optim.SGD([w], lr=0.1)
        >>> (w - 1).pow(2).sum().backward()
        >>> opt.step()
        >>> opt.zero_grad()
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        # A subclass's own step runs under no_grad between the hooks (PyTorch patches it
        # the same way); a step inherited from a wrapped parent is already wrapped.
        if step is not None and not getattr(step, "_polytorch_step_wrapped", False):
            cls.step = _wrap_step(step)

    # Options a state saved by an older version may lack: ``__setstate__`` (and so
    # ``load_state_dict``) fills them in every group with these values.
    _flag_defaults: dict[str, Any] = {}

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {_typename(params)}")
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state,
                "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            if name not in self.__dict__:
                setattr(self, name, OrderedDict())
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:
            for name, default in self._flag_defaults.items():
                group.setdefault(name, default)

    def __repr__(self) -> str:
        out = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            out += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    out += f"    {key}: {group[key]}\n"
        return out + ")"

    # -- hooks ----------------------------------------------------------------------------

    def register_step_pre_hook(self, hook: Callable) -> Any:
        """Register ``hook(optimizer, args, kwargs) -> None | (args, kwargs)`` before ``step``.

        Example:
            >>> w = polytorch.zeros(1, requires_grad=True)
            >>> h = polytorch.optim.SGD([w]).register_step_pre_hook(lambda o, a, k: None)
        """
        return _add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable) -> Any:
        """Register ``hook(optimizer, args, kwargs)`` to run after ``step``.

        Example:
            >>> w = polytorch.zeros(1, requires_grad=True)
            >>> h = polytorch.optim.SGD([w]).register_step_post_hook(lambda o, a, k: None)
        """
        return _add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> Any:
        """Register ``hook(optimizer)`` to run before ``state_dict``."""
        return _add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> Any:
        """Register ``hook(optimizer, state_dict) -> None | state_dict`` after ``state_dict``."""
        return _add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> Any:
        """Register ``hook(optimizer, state_dict) -> None | state_dict`` before loading."""
        return _add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> Any:
        """Register ``hook(optimizer)`` to run after ``load_state_dict``."""
        return _add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # -- state dict -----------------------------------------------------------------------

    def state_dict(self) -> StateDict:
        """The optimizer's state as PyTorch lays it out: parameters replaced by integer ids.

        ``{"state": {id: {name: value}}, "param_groups": [{..., "params": [ids]}]}``; ids
        number the parameters in group order. Tensors in it are the live state tensors.

        Example:
            >>> w = polytorch.zeros(2, requires_grad=True)
            >>> polytorch.optim.SGD([w], lr=0.1).state_dict()["param_groups"][0]["params"]
            [0]
        """
        for pre_hook in self._optimizer_state_dict_pre_hooks.values():
            pre_hook(self)
        param_mappings: dict[int, int] = {}
        start_index = 0

        def pack_group(group: dict[str, Any]) -> dict[str, Any]:
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            param_mappings.update({id(p): i for i, p in enumerate(group["params"], start_index)
                                   if id(p) not in param_mappings})
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {(param_mappings[id(k)] if isinstance(k, Tensor) else k): v
                        for k, v in self.state.items()}
        state_dict = {"state": packed_state, "param_groups": param_groups}
        for post_hook in self._optimizer_state_dict_post_hooks.values():
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    @staticmethod
    def _process_value_according_to_param_policy(param: Tensor, value: Tensor, param_id,
                                                  param_groups, key=None) -> Tensor:
        """A copy of a state tensor on ``param``'s device (and dtype, if floating)."""
        if key == "step":
            # step goes (back) to the host, where a fresh optimizer creates it, so reading it
            # never syncs a device (PyTorch keeps a loaded step wherever it was mapped).
            out = value.to(device="cpu")
        elif param.is_floating_point():
            out = value.to(dtype=param.dtype, device=param.device)
        else:
            out = value.to(device=param.device)
        # load_state_dict deep-copies: never alias the caller's tensors. Always a fresh
        # copy, even after a move: cpu -> cpu@jax can share the NumPy buffer (JAX's
        # zero-copy device_put), which the source's later in-place updates would change.
        return out.clone()

    def load_state_dict(self, state_dict: StateDict) -> None:
        """Load a state (from ``state_dict``) into this optimizer, a deep copy of it.

        Parameters are matched by position (group by group), as in PyTorch; state tensors
        are moved to their parameter's device and cast to its dtype, except ``step``, which
        keeps its dtype and lives on the host (``"cpu"``).

        Raises:
            ValueError: the number of groups, or of parameters in a group, differs.

        Example:
            >>> w = polytorch.zeros(2, requires_grad=True)
            >>> opt = polytorch.optim.SGD([w], lr=0.1)
            >>> opt.load_state_dict(opt.state_dict())
        """
        state_dict = state_dict.copy()
        for pre_hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match "
                             "the size of optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def cast(param, value, param_id=None, key=None):
            if isinstance(value, Tensor):
                return Optimizer._process_value_according_to_param_policy(
                    param, value, param_id, state_dict["param_groups"], key)
            if isinstance(value, dict):
                return {k: cast(param, v, param_id, key=k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v, param_id) for v in value)
            return copy.deepcopy(value)

        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v, param_id=k)
            else:
                state[k] = copy.deepcopy(v)

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})
        for post_hook in self._optimizer_load_state_dict_post_hooks.values():
            post_hook(self)

    # -- gradients and steps -------------------------------------------------------------

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every optimized tensor (to None by default, else zeros).

        Example:
            >>> w = polytorch.ones(2, requires_grad=True)
            >>> (w * 2).sum().backward()
            >>> polytorch.optim.SGD([w]).zero_grad()
            >>> w.grad is None
            True
        """
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if grad.grad_fn is not None:
                        grad.detach_()
                    else:
                        grad.requires_grad_(False)
                    grad.zero_()

    def _init_state(self, state: dict[str, Any], param: Tensor, grad: Tensor | None,
                    group: dict[str, Any]) -> None:
        """Fill the empty ``state`` of ``param`` before its first update (subclasses)."""
        raise NotImplementedError

    def _params_with_grad(self, group: dict[str, Any], *, weight_decay: bool = False
                          ) -> Iterator[tuple[Tensor, Tensor, dict[str, Any]]]:
        """``(param, grad, state)`` for each parameter of ``group`` that has a gradient.

        The shared head of every single-tensor update: ``state`` is initialised by
        ``_init_state`` on first use; ``grad`` is negated under ``maximize``. With
        ``weight_decay=True`` (optimizers whose option it is: a group may hold keys its
        optimizer ignores) ``grad`` also carries the L2 penalty ``group["weight_decay"] *
        param``, or, under ``decoupled_weight_decay``, the parameter is shrunk in place by
        ``1 - lr * weight_decay`` instead (AdamW).
        """
        maximize = group["maximize"]
        decay = group["weight_decay"] if weight_decay else 0
        decoupled = decay != 0 and group.get("decoupled_weight_decay", False)
        shrink = 1 - _to_scalar(group["lr"]) * decay if decoupled else None
        for param in group["params"]:
            grad = param.grad
            if grad is None:
                continue
            state = self.state[param]
            if len(state) == 0:
                self._init_state(state, param, grad, group)
            if maximize:
                grad = -grad
            if decay != 0:
                if decoupled:
                    param.mul_(shrink)
                else:
                    grad = grad.add(param, alpha=decay)
            yield param, grad, state

    def step(self, closure: Callable[[], Any] | None = None):
        """Perform one optimization step (subclasses implement it).

        Args:
            closure: re-evaluates the model and returns the loss (optional for most).
        """
        raise NotImplementedError

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a param group (a dict with ``"params"`` and per-group options).

        Raises:
            TypeError: not a dict, params in a set, or a param that is not a Tensor.
            ValueError: a non-leaf tensor, a missing required option, or a parameter that
                is already in another group.

        Example:
            >>> a = polytorch.zeros(2, requires_grad=True)
            >>> b = polytorch.zeros(3, requires_grad=True)
            >>> opt = polytorch.optim.SGD([a], lr=0.1)
            >>> opt.add_param_group({"params": [b], "lr": 0.01})
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list "
                "instead.")
        else:
            params = list(params)
        names, tensors = [], []
        for param in params:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        group = dict(param_group)
        group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some "
                                 "param names are missing")
            group["param_names"] = names
        for param in tensors:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(param))
            if not self.defaults.get("differentiable", None) and not (
                    param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        if len({id(p) for p in tensors}) != len(tensors):
            import warnings

            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "in future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen: set[int] = set()
        for other in self.param_groups:
            seen.update(id(p) for p in other["params"])
            if ("param_names" in group) != ("param_names" in other):
                which = "with names" if "param_names" in group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if any(id(p) in seen for p in tensors):
            raise ValueError("some parameters appear in more than one parameter group")
        # Mutate the caller's dict as PyTorch does (it is the group the optimizer keeps).
        param_group.clear()
        param_group.update(group)
        self.param_groups.append(param_group)


def _typename(obj) -> str:
    if isinstance(obj, Tensor):
        return "polytorch.Tensor"
    cls = type(obj)
    return cls.__qualname__ if cls.__module__ == "builtins" else \
        f"{cls.__module__}.{cls.__qualname__}"
