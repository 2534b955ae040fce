"""Recurrent layers: RNN, LSTM, GRU and their cells; packed sequences.

``PackedSequence``, ``pack_padded_sequence``, ``pad_packed_sequence``,
``pad_sequence`` and ``pack_sequence`` (PyTorch's ``torch.nn.utils.rnn``) live here,
next to the layers that run them, and are not in ``__all__`` (``polytorch.nn``
does not export them; ``polytorch.nn.utils.rnn`` is their public home).

Note [Recurrences are composed]
Each layer and direction projects the whole input sequence with one matmul
(``x @ W_ih.T + b``), then loops over time for the recurrent part only
(``h @ W_hh.T`` and the gates), and stacks the step outputs once. Everything is
polytorch ops, so gradients, double backward and every backend come for free.
For RNN and LSTM both biases are folded into the input projection; GRU keeps
``b_hn`` inside ``r * (W_hn h + b_hn)``, as PyTorch's gate formula requires.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections import namedtuple

import polytorch

from ..._tensor import Tensor
from ...autograd import Function
from .._functional_core import dropout as _dropout
from ..parameter import Parameter
from .module import Module

__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _param(shape, device, dtype) -> Parameter:
    return Parameter(polytorch.empty(shape, device=device, dtype=dtype))


class _Pieces(Function):
    """``x.unbind(dim)`` (``sizes`` None) or ``x.split(sizes, dim)``, joined back in one op.

    A slice's gradient is a zero tensor of the whole input with the slice filled in,
    so T time steps taken by indexing cost T full-size tensors in backward
    (quadratic in T); here the pieces' gradients are stacked (or concatenated) once.
    """

    @staticmethod
    def forward(ctx, x, dim, sizes):
        ctx.dim, ctx.sizes = dim, sizes
        return x.unbind(dim) if sizes is None else x.split(sizes, dim)

    @staticmethod
    def backward(ctx, *grads):
        join = polytorch.stack if ctx.sizes is None else polytorch.cat
        return join(grads, dim=ctx.dim), None, None


def _gates(x: Tensor, hidden: int, n: int) -> tuple:
    """The ``n`` gate blocks of ``(B, n * hidden)`` pre-activations."""
    return _Pieces.apply(x, 1, [hidden] * n)


class RNNBase(Module):
    """The shared machinery of :class:`RNN`, :class:`LSTM` and :class:`GRU`."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        name = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(mode, mode)
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError(
                f"{name}: dropout should be a number in range [0, 1] representing the "
                "probability of an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}", stacklevel=2)
        for what, value in (("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(
                    f"{name}: {what} should be of type int, got: {type(value).__name__}")
            if value <= 0:
                raise ValueError(f"{name}: {what} must be greater than zero")
        if proj_size < 0:
            raise ValueError(
                f"{name}: proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size has to be smaller than hidden_size")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else real_hidden * num_directions
            for direction in range(num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                names = []
                for base, shape in shapes:
                    setattr(self, base + suffix, _param(shape, device, dtype))
                    names.append(base + suffix)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias uniform on ``(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        with polytorch.no_grad():
            for weight in self.parameters():
                weight.uniform_(-stdv, stdv)

    def flatten_parameters(self) -> None:
        """A no-op kept for PyTorch code (cuDNN's flat weight buffer does not exist here)."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """The parameters grouped per layer and direction, as PyTorch's."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += ", bias=False"
        if self.batch_first is not False:
            s += ", batch_first=True"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional=True"
        return s

    # -- checks -------------------------------------------------------------------------

    @property
    def _name(self) -> str:
        return type(self).__name__

    def _check_input(self, input: Tensor, ndim: int = 3) -> None:
        dtype = getattr(self, self._flat_weights_names[0]).dtype
        if input.dtype != dtype:
            raise ValueError(
                f"{self._name}: input must have the type {dtype}, got type {input.dtype}")
        if input.ndim != ndim:
            raise RuntimeError(
                f"{self._name}: input must have {ndim} dimensions, got {input.ndim}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"{self._name}: input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {input.shape[-1]}")

    def _check_hidden(self, hx: Tensor, expected: tuple, what: str = "hidden") -> None:
        if tuple(hx.shape) != expected:
            raise RuntimeError(
                f"{self._name}: Expected {what} size {expected}, got {list(hx.shape)}")

    def _prepare(self, input: Tensor, hx, n_states: int):
        """Check and normalise ``input``/``hx``: time-major batched input and state tuple."""
        if input.ndim not in (2, 3):
            raise ValueError(
                f"{self._name}: Expected input to be 2D or 3D, got {input.ndim}D tensor instead")
        is_batched = input.ndim == 3
        batch_dim = 0 if self.batch_first else 1
        states = None if hx is None else ((hx,) if n_states == 1 else tuple(hx))
        want = 3 if is_batched else 2
        if states is not None and any(s.ndim != want for s in states):
            dims = ", ".join(f"{s.ndim}-D" for s in states)
            kind = "batched 3-D" if is_batched else "unbatched 2-D"
            what = "hx" if n_states == 1 else "hx and cx"
            raise RuntimeError(
                f"{self._name}: For {kind} input, {what} should also be {want}-D but got "
                f"({dims}) tensor" + ("s" if n_states > 1 else ""))
        if not is_batched:
            input = input.unsqueeze(batch_dim)
            if states is not None:
                states = tuple(s.unsqueeze(1) for s in states)
        if self.batch_first:
            input = input.transpose(0, 1)
        self._check_input(input)
        num_directions = 2 if self.bidirectional else 1
        batch = input.shape[1]
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        sizes = [real_hidden, self.hidden_size][:n_states]
        if states is None:
            states = tuple(
                polytorch.zeros((self.num_layers * num_directions, batch, size),
                                dtype=input.dtype, device=input.device) for size in sizes)
        else:
            for i, (s, size) in enumerate(zip(states, sizes)):
                what = "hidden" if n_states == 1 else f"hidden[{i}]"
                self._check_hidden(s, (self.num_layers * num_directions, batch, size), what)
        return input, states, is_batched

    # -- the recurrence -----------------------------------------------------------------

    def _forward_packed(self, input: PackedSequence, hx, n_states: int):
        """The layer over a ``PackedSequence``: packed output and final states (batch order)."""
        data, batch_sizes, sorted_indices, unsorted_indices = input
        self._check_input(data, ndim=2)
        sizes = [int(b) for b in batch_sizes.tolist()]  # a host tensor, as in PyTorch
        num_directions = 2 if self.bidirectional else 1
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        expected = [(self.num_layers * num_directions, sizes[0], size)
                    for size in [real_hidden, self.hidden_size][:n_states]]
        if hx is None:
            states = tuple(polytorch.zeros(e, dtype=data.dtype, device=data.device)
                           for e in expected)
        else:
            states = (hx,) if n_states == 1 else tuple(hx)
            for i, (st, e) in enumerate(zip(states, expected)):
                self._check_hidden(st, e, "hidden" if n_states == 1 else f"hidden[{i}]")
            if sorted_indices is not None:  # the caller's batch order -> sorted by length
                states = tuple(st.index_select(1, sorted_indices) for st in states)
        out, states = self._run(data, states, sizes)
        if unsorted_indices is not None:
            states = tuple(st.index_select(1, unsorted_indices) for st in states)
        return PackedSequence(out, batch_sizes, sorted_indices, unsorted_indices), states

    def _run(self, x: Tensor, states: tuple, batch_sizes: list | None = None):
        """All layers over time-major ``x`` ``(T, B, I)``, or packed data ``(sum, I)``
        with ``batch_sizes``; returns the output and the final states."""
        num_directions = 2 if self.bidirectional else 1
        finals: list[list[Tensor]] = [[] for _ in states]
        for layer in range(self.num_layers):
            outs = []
            for direction in range(num_directions):
                k = layer * num_directions + direction
                weights = [getattr(self, n) for n in self._all_weights[k]]
                init_states = tuple(s[k] for s in states)
                out, last = self._direction(x, weights, init_states, direction == 1, batch_sizes)
                outs.append(out)
                for f, s in zip(finals, last):
                    f.append(s)
            x = outs[0] if num_directions == 1 else polytorch.cat(outs, dim=-1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout, training=True)
        return x, tuple(polytorch.stack(f) for f in finals)

    def _step_fn(self, w_hh: Tensor, b_hh: Tensor | None, w_hr: Tensor | None):
        """``step(x_t, states) -> states`` for this mode; ``states[0]`` is the output."""
        w_hh_t = w_hh.T
        H = self.hidden_size
        if self.mode == "LSTM":
            w_hr_t = None if w_hr is None else w_hr.T

            def step(xt, states):
                h, c = states
                i, f, g, o = _gates(xt + h @ w_hh_t, H, 4)
                c = f.sigmoid() * c + i.sigmoid() * g.tanh()
                h = o.sigmoid() * c.tanh()
                return (h if w_hr_t is None else h @ w_hr_t, c)

        elif self.mode == "GRU":

            def step(xt, states):
                (h,) = states
                hh = h @ w_hh_t
                if b_hh is not None:
                    hh = hh + b_hh
                x_rz, x_n = _Pieces.apply(xt, 1, [2 * H, H])
                h_rz, h_n = _Pieces.apply(hh, 1, [2 * H, H])
                r, z = _gates((x_rz + h_rz).sigmoid(), H, 2)
                n = (x_n + r * h_n).tanh()
                return (n + z * (h - n),)  # (1 - z) * n + z * h

        else:
            act = polytorch.tanh if self.mode == "RNN_TANH" else polytorch.relu

            def step(xt, states):
                return (act(xt + states[0] @ w_hh_t),)

        return step

    def _direction(self, x: Tensor, weights: list, states: tuple, reverse: bool,
                   batch_sizes: list | None):
        if self.bias:
            w_ih, w_hh, b_ih, b_hh, *rest = weights
        else:
            (w_ih, w_hh, *rest), b_ih, b_hh = weights, None, None
        gru = self.mode == "GRU"
        # One matmul for the input side of every step (Note [Recurrences are composed]).
        xi = x @ w_ih.T
        if b_ih is not None:
            xi = xi + (b_ih if gru else b_ih + b_hh)
        step = self._step_fn(w_hh, b_hh if gru else None, rest[0] if rest else None)
        steps = _Pieces.apply(xi, 0, batch_sizes)
        T = len(steps)
        outs: list = [None] * T
        if batch_sizes is None:
            for t in (reversed(range(T)) if reverse else range(T)):
                states = step(steps[t], states)
                outs[t] = states[0]
            return polytorch.stack(outs), states
        # Packed (Note [Packed sequences]): sequences are sorted by length, so the batch
        # shrinks over time; forward, a sequence's final state is set aside as it ends;
        # backward, a sequence joins with its initial state at its last step.
        if not reverse:
            ended: list[tuple] = []
            cur = states
            for t in range(T):
                b = batch_sizes[t]
                if b < cur[0].shape[0]:
                    ended.append(tuple(s[b:] for s in cur))
                    cur = tuple(s[:b] for s in cur)
                cur = step(steps[t], cur)
                outs[t] = cur[0]
            ended.append(cur)
            last = tuple(polytorch.cat([e[i] for e in reversed(ended)]) if len(ended) > 1
                         else ended[0][i] for i in range(len(states)))
        else:
            cur = tuple(s[:batch_sizes[-1]] for s in states)
            for t in reversed(range(T)):
                b = batch_sizes[t]
                if b > cur[0].shape[0]:
                    cur = tuple(polytorch.cat([c, s[c.shape[0]:b]]) for c, s in zip(cur, states))
                cur = step(steps[t], cur)
                outs[t] = cur[0]
            last = cur
        return polytorch.cat(outs), last

    def _finish(self, out: Tensor, states: tuple, is_batched: bool):
        if self.batch_first:
            out = out.transpose(0, 1)
        if not is_batched:
            out = out.squeeze(0 if self.batch_first else 1)
            states = tuple(s.squeeze(1) for s in states)
        return out, states


class RNN(RNNBase):
    """Elman RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``, act tanh or relu.

    Args as ``torch.nn.RNN``: ``input_size, hidden_size, num_layers=1, nonlinearity='tanh',
    bias=True, batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None``.

    Example:
        >>> rnn = RNN(10, 20, 2)
        >>> out, h = rnn(polytorch.randn(5, 3, 10))
        >>> out.shape, h.shape
        (polytorch.Size([5, 3, 20]), polytorch.Size([2, 3, 20]))
    """

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError(
                "proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        modes = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}
        if self.nonlinearity not in modes:
            raise ValueError(
                f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(modes[self.nonlinearity], *args, **kwargs)

    def forward(self, input, hx: Tensor | None = None):
        if isinstance(input, PackedSequence):
            out, (h,) = self._forward_packed(input, hx, 1)
            return out, h
        x, states, is_batched = self._prepare(input, hx, 1)
        out, states = self._run(x, states)
        out, (h,) = self._finish(out, states, is_batched)
        return out, h


class LSTM(RNNBase):
    """Long short-term memory, gates ``i, f, g, o`` in PyTorch's order; optional projection.

    Args as ``torch.nn.LSTM``: ``input_size, hidden_size, num_layers=1, bias=True,
    batch_first=False, dropout=0.0, bidirectional=False, proj_size=0, device=None,
    dtype=None``. Returns ``output, (h_n, c_n)``.

    Example:
        >>> lstm = LSTM(10, 20, batch_first=True)
        >>> out, (h, c) = lstm(polytorch.randn(3, 5, 10))
        >>> out.shape, h.shape, c.shape
        (polytorch.Size([3, 5, 20]), polytorch.Size([1, 3, 20]), polytorch.Size([1, 3, 20]))
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def forward(self, input, hx: tuple[Tensor, Tensor] | None = None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx, 2)
        x, states, is_batched = self._prepare(input, hx, 2)
        out, states = self._run(x, states)
        out, (h, c) = self._finish(out, states, is_batched)
        return out, (h, c)


class GRU(RNNBase):
    """Gated recurrent unit, gates ``r, z, n`` with ``n = tanh(W_in x + b_in + r*(W_hn h + b_hn))``.

    Args as ``torch.nn.GRU``: ``input_size, hidden_size, num_layers=1, bias=True,
    batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None``.

    Example:
        >>> gru = GRU(10, 20, bidirectional=True)
        >>> out, h = gru(polytorch.randn(5, 10))
        >>> out.shape, h.shape
        (polytorch.Size([5, 40]), polytorch.Size([2, 20]))
    """

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError(
                "proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx: Tensor | None = None):
        if isinstance(input, PackedSequence):
            out, (h,) = self._forward_packed(input, hx, 1)
            return out, h
        x, states, is_batched = self._prepare(input, hx, 1)
        out, states = self._run(x, states)
        out, (h,) = self._finish(out, states, is_batched)
        return out, h


# -- cells --------------------------------------------------------------------------------


class RNNCellBase(Module):
    """The shared parameters and checks of the cells."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = _param((num_chunks * hidden_size, input_size), device, dtype)
        self.weight_hh = _param((num_chunks * hidden_size, hidden_size), device, dtype)
        if bias:
            self.bias_ih = _param((num_chunks * hidden_size,), device, dtype)
            self.bias_hh = _param((num_chunks * hidden_size,), device, dtype)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias uniform on ``(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        with polytorch.no_grad():
            for weight in self.parameters():
                weight.uniform_(-stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += ", bias=False"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s

    def _prepare(self, input: Tensor, hx, n_states: int):
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        states = None if hx is None else ((hx,) if n_states == 1 else tuple(hx))
        if states is not None:
            for i, s in enumerate(states):
                if s.ndim not in (1, 2):
                    what = "hidden" if n_states == 1 else f"hx[{i}]"
                    raise ValueError(
                        f"{name}: Expected {what} to be 1D or 2D, got {s.ndim}D instead")
        is_batched = input.ndim == 2
        if not is_batched:
            input = input.unsqueeze(0)
            if states is not None:
                states = tuple(s.unsqueeze(0) for s in states)
        if input.shape[1] != self.input_size:
            raise RuntimeError(
                f"{name}: input has inconsistent input_size: got {input.shape[1]} expected "
                f"{self.input_size}")
        if states is None:
            states = tuple(polytorch.zeros((input.shape[0], self.hidden_size), dtype=input.dtype,
                                           device=input.device) for _ in range(n_states))
        for i, s in enumerate(states):
            if s.shape[0] != input.shape[0]:
                raise RuntimeError(
                    f"{name}: Input batch size {input.shape[0]} doesn't match hidden{i} batch "
                    f"size {s.shape[0]}")
            if s.shape[1] != self.hidden_size:
                raise RuntimeError(
                    f"{name}: hidden{i} has inconsistent hidden_size: got {s.shape[1]}, "
                    f"expected {self.hidden_size}")
        return input, states, is_batched

    def _projections(self, input: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
        xi, hh = input @ self.weight_ih.T, h @ self.weight_hh.T
        if self.bias:
            xi, hh = xi + self.bias_ih, hh + self.bias_hh
        return xi, hh


class RNNCell(RNNCellBase):
    """One Elman RNN step: ``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``.

    Example:
        >>> cell = RNNCell(10, 20)
        >>> cell(polytorch.randn(3, 10)).shape
        polytorch.Size([3, 20])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", device=None, dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (h,), is_batched = self._prepare(input, hx, 1)
        xi, hh = self._projections(input, h)
        out = xi + hh
        out = out.tanh() if self.nonlinearity == "tanh" else out.relu()
        return out if is_batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step; returns ``(h', c')``.

    Example:
        >>> cell = LSTMCell(10, 20)
        >>> h, c = cell(polytorch.randn(3, 10))
        >>> h.shape, c.shape
        (polytorch.Size([3, 20]), polytorch.Size([3, 20]))
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None):
        input, (h, c), is_batched = self._prepare(input, hx, 2)
        xi, hh = self._projections(input, h)
        i, f, g, o = _gates(xi + hh, self.hidden_size, 4)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        return (h, c) if is_batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: gates ``r, z, n`` in PyTorch's order.

    Example:
        >>> cell = GRUCell(10, 20)
        >>> cell(polytorch.randn(10)).shape
        polytorch.Size([20])
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        input, (h,), is_batched = self._prepare(input, hx, 1)
        xi, hh = self._projections(input, h)
        H = self.hidden_size
        x_rz, x_n = _Pieces.apply(xi, 1, [2 * H, H])
        h_rz, h_n = _Pieces.apply(hh, 1, [2 * H, H])
        r, z = _gates((x_rz + h_rz).sigmoid(), H, 2)
        n = (x_n + r * h_n).tanh()
        h = n + z * (h - n)
        return h if is_batched else h.squeeze(0)


# -- packed sequences -----------------------------------------------------------------------

# Note [Packed sequences]
# A PackedSequence holds the time steps of a batch of sequences sorted by length
# (longest first), concatenated: ``data[sum(batch_sizes[:t]):][:batch_sizes[t]]`` is
# step t of the ``batch_sizes[t]`` sequences still running. The RNN layers run the
# packed data directly (RNNBase._direction); ``sorted_indices`` maps the caller's
# batch order to the sorted one and ``unsorted_indices`` back. ``batch_sizes`` and
# the lengths live on the host (PyTorch keeps them on the CPU too): packing is a
# data-dependent layout. These are PyTorch's ``torch.nn.utils.rnn`` functions.

_PackedSequenceBase = namedtuple(
    "PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_PackedSequenceBase):
    """Sequences of several lengths packed for the RNN layers (Note [Packed sequences]).

    Example:
        >>> packed = pack_sequence([polytorch.ones(3, 2), polytorch.ones(1, 2)])
        >>> packed.batch_sizes.tolist()
        [2, 1, 1]
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = polytorch.argsort(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """``data`` (and the indices) moved or cast; ``batch_sizes`` stays on the host."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        idx = [None if t is None else t.to(data.device)
               for t in (self.sorted_indices, self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, *idx)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda


def _lengths(lengths) -> list[int]:
    if isinstance(lengths, Tensor):
        return [int(v) for v in lengths.tolist()]
    return [int(v) for v in lengths]


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded ``(T, B, *)`` batch (``(B, T, *)`` with ``batch_first``) of ``lengths``.

    Example:
        >>> x = polytorch.randn(4, 2, 3)
        >>> pack_padded_sequence(x, [4, 2]).data.shape
        polytorch.Size([6, 3])
    """
    lengths = _lengths(lengths)
    batch_dim = 0 if batch_first else 1
    if len(lengths) != input.shape[batch_dim]:
        raise RuntimeError(
            f"pack_padded_sequence: expected {input.shape[batch_dim]} lengths (the batch "
            f"size), got {len(lengths)}")
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability.")
        sorted_indices = None
    else:
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
        sorted_indices = polytorch.tensor(order, dtype=polytorch.int64, device=input.device)
        input = input.index_select(batch_dim, sorted_indices)
        lengths = [lengths[i] for i in order]
    if lengths and lengths[-1] <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in "
            "'lengths' that is <= 0")
    if batch_first:
        input = input.transpose(0, 1)
    if lengths[0] > input.shape[0]:
        raise RuntimeError(
            f"pack_padded_sequence: the longest length ({lengths[0]}) exceeds the padded "
            f"sequence length ({input.shape[0]})")
    sizes = [sum(1 for n in lengths if n > t) for t in range(lengths[0])]
    steps = _Pieces.apply(input[:lengths[0]], 0, None)
    data = polytorch.cat([st[:b] if b < st.shape[0] else st for st, b in zip(steps, sizes)])
    batch_sizes = polytorch.tensor(sizes, dtype=polytorch.int64)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Undo ``pack_padded_sequence``: the padded batch and the lengths (int64, host).

    Example:
        >>> packed = pack_padded_sequence(polytorch.randn(4, 2, 3), [4, 2])
        >>> padded, lengths = pad_packed_sequence(packed)
        >>> padded.shape, lengths.tolist()
        (polytorch.Size([4, 2, 3]), [4, 2])
    """
    data = sequence.data
    sizes = [int(b) for b in sequence.batch_sizes.tolist()]
    B, T = sizes[0], len(sizes)
    if total_length is not None and total_length < T:
        raise ValueError(
            "Expected total_length to be at least the length of the longest sequence in "
            f"input, but got total_length={total_length} and max sequence length being {T}")
    rest = tuple(data.shape[1:])
    rows = []
    for piece, b in zip(_Pieces.apply(data, 0, sizes), sizes):
        if b < B:
            pad = polytorch.full((B - b, *rest), padding_value, dtype=data.dtype,
                                 device=data.device)
            piece = polytorch.cat([piece, pad])
        rows.append(piece)
    for _ in range(T, total_length or T):
        rows.append(polytorch.full((B, *rest), padding_value, dtype=data.dtype,
                                   device=data.device))
    out = polytorch.stack(rows)
    lengths = [sum(1 for b in sizes if b > i) for i in range(B)]
    if sequence.unsorted_indices is not None:
        out = out.index_select(1, sequence.unsorted_indices)
        lengths = [lengths[j] for j in sequence.unsorted_indices.tolist()]
    if batch_first:
        out = out.transpose(0, 1)
    return out, polytorch.tensor(lengths, dtype=polytorch.int64)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack ``(L_i, *)`` tensors into ``(max L, B, *)`` (``(B, max L, *)``), padding.

    Example:
        >>> pad_sequence([polytorch.ones(3), polytorch.ones(1)], batch_first=True).tolist()
        [[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]]
    """
    if padding_side not in ("left", "right"):
        raise ValueError(
            f"Expected padding_side to be one of left or right, but got {padding_side}.")
    sequences = list(sequences)
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            pad = polytorch.full((missing, *s.shape[1:]), padding_value, dtype=s.dtype,
                                 device=s.device)
            s = polytorch.cat([s, pad] if padding_side == "right" else [pad, s])
        padded.append(s)
    return polytorch.stack(padded, dim=0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of ``(L_i, *)`` tensors (longest first unless ``enforce_sorted=False``).

    Example:
        >>> pack_sequence([polytorch.ones(1, 2), polytorch.ones(3, 2)],
        ...               enforce_sorted=False).data.shape
        polytorch.Size([4, 2])
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)
