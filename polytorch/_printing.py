"""A PyTorch-like ``repr`` for tensors.

The output follows PyTorch's tensor printing rules (``torch/_tensor_str.py``) so that
``repr(polytorch.tensor(x))`` reads the same as ``repr(torch.tensor(x))`` with
``torch.`` spelled ``polytorch.``; the work is done on a NumPy copy of the data.

Rules, in short:

* One formatter per tensor (two for complex: real and imaginary parts) decides, from
  the nonzero finite values, between *int mode* (every value integral: ``3.``),
  *fixed* (``3.1416``) and *scientific* (``3.1416e+00``) notation, and the column
  width every element is right-aligned to.
* More than ``threshold`` elements: only ``edgeitems`` entries at each end of every
  dimension are shown, with ``...`` between, and only those feed the formatter.
* Rows are wrapped at ``linewidth`` columns, continuation lines indented to line up
  under the opening bracket; sub-tensors of a k-dim tensor are separated by k-1
  newlines.
* Suffixes: ``device=`` off the CPU, ``dtype=`` for non-default dtypes, then
  ``grad_fn=<...>`` or ``requires_grad=True``; an empty tensor also gets ``size=``
  unless it is 1-D.
"""

from __future__ import annotations

import math

import numpy as np

from . import _dtype as D

# PyTorch's default print options.
PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80


class _Formatter:
    """Chooses notation and column width for every element of one real array."""

    def __init__(self, values: np.ndarray, floating: bool):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not floating:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(f"{v}"))
            return
        nz = flat[np.isfinite(flat) & (flat != 0)]
        if nz.size == 0:
            return
        mag = np.abs(nz).astype(np.float64)
        lo, hi = float(mag.min()), float(mag.max())
        self.int_mode = bool(np.all(nz == np.ceil(nz)))
        self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        if self.sci_mode:
            widths = (len(f"{v:.{PRECISION}e}") for v in nz.tolist())
        elif self.int_mode:
            widths = (len(f"{v:.0f}") + 1 for v in nz.tolist())  # + 1 for the "."
        else:
            widths = (len(f"{v:.{PRECISION}f}") for v in nz.tolist())
        self.max_width = max(self.max_width, max(widths))

    def width(self) -> int:
        return self.max_width

    def format(self, value) -> str:
        if self.floating:
            if self.sci_mode:
                text = f"{value:{self.max_width}.{PRECISION}e}"
            elif self.int_mode:
                text = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    text += "."
            else:
                text = f"{value:.{PRECISION}f}"
        else:
            text = f"{value}"
        return text.rjust(self.max_width)


def _complex_str(real_str: str, imag_str: str) -> str:
    imag_str = (imag_str + "j").lstrip()
    if imag_str[0] in "+-":  # negative numbers, -0.0 and nan/inf with a sign
        return real_str + imag_str
    return real_str + "+" + imag_str


def _summarized(a: np.ndarray) -> np.ndarray:
    """The entries that stay visible after summarisation (they alone set the format)."""
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        if a.shape[0] > 2 * EDGEITEMS:
            return np.concatenate((a[:EDGEITEMS], a[-EDGEITEMS:]))
        return a
    rows = range(a.shape[0])
    if a.shape[0] > 2 * EDGEITEMS:
        rows = list(range(EDGEITEMS)) + list(range(a.shape[0] - EDGEITEMS, a.shape[0]))
    return np.stack([_summarized(a[i]) for i in rows])


class _Printer:
    def __init__(self, summarize: bool, fmt: _Formatter, imag_fmt: _Formatter | None):
        self.summarize = summarize
        self.fmt = fmt
        self.imag_fmt = imag_fmt

    def value(self, v) -> str:
        if self.imag_fmt is None:
            return self.fmt.format(v)
        return _complex_str(self.fmt.format(v.real), self.imag_fmt.format(v.imag))

    def vector(self, a: np.ndarray, indent: int) -> str:
        element_length = self.fmt.width() + 2  # the ", " between elements
        if self.imag_fmt is not None:
            element_length += self.imag_fmt.width() + 1  # the "j"
        per_line = max(1, (LINEWIDTH - indent) // element_length)
        if self.summarize and a.shape[0] > 2 * EDGEITEMS:
            data = ([self.value(v) for v in a[:EDGEITEMS].tolist()] + [" ..."]
                    + [self.value(v) for v in a[-EDGEITEMS:].tolist()])
        else:
            data = [self.value(v) for v in a.tolist()]
        lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"

    def tensor(self, a: np.ndarray, indent: int) -> str:
        if a.ndim == 0:
            return self.value(a.item())
        if a.ndim == 1:
            return self.vector(a, indent)
        n = a.shape[0]
        if self.summarize and n > 2 * EDGEITEMS:
            parts = ([self.tensor(a[i], indent + 1) for i in range(EDGEITEMS)] + ["..."]
                     + [self.tensor(a[i], indent + 1) for i in range(n - EDGEITEMS, n)])
        else:
            parts = [self.tensor(a[i], indent + 1) for i in range(n)]
        return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _tensor_str(a: np.ndarray, dtype: D.dtype, indent: int) -> str:
    if a.size == 0:
        return "[]"
    summarize = a.size > THRESHOLD
    shown = _summarized(a) if summarize else a
    if dtype.kind == "c":
        fmt = _Formatter(shown.real, True)
        imag_fmt = _Formatter(shown.imag, True)
    else:
        fmt, imag_fmt = _Formatter(shown, dtype.kind == "f"), None
    return _Printer(summarize, fmt, imag_fmt).tensor(a, indent)


def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    out = [text]
    last_line_len = len(text) - text.rfind("\n") + 1  # PyTorch's arithmetic, kept exactly
    for suffix in suffixes:
        # Measured as PyTorch spells it ("torch.float64"), so that lines break where
        # PyTorch's do and the two reprs differ only in the dtype's module name.
        suffix_len = len(suffix.replace("polytorch.", "torch."))
        if last_line_len + suffix_len + 2 > LINEWIDTH:
            out.append(",\n" + " " * indent + suffix)
            last_line_len = indent + suffix_len
        else:
            out.append(", " + suffix)
            last_line_len += suffix_len + 2
    out.append(")")
    return "".join(out)


def _host_array(t) -> np.ndarray:
    a = np.asarray(t._device._impl[1].to_numpy(t._data))
    kind = t._dtype.kind
    if kind == "f" and a.dtype not in (np.float32, np.float64):
        a = a.astype(np.float32)  # float16 / bfloat16: exact in float32
    elif kind == "c" and a.dtype not in (np.complex64, np.complex128):
        a = a.astype(np.complex128)
    return a


def tensor_repr(t) -> str:
    prefix = "tensor("
    indent = len(prefix)
    a = _host_array(t)
    dtype = t._dtype
    default = D.get_default_dtype()
    default_complex = D.complex128 if default is D.float64 else D.complex64

    suffixes = []
    if str(t._device) != "cpu":
        suffixes.append(f"device='{t._device}'")
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if dtype is not default:
            suffixes.append(f"dtype={dtype!r}")
        body = "[]"
    else:
        if dtype not in (default, default_complex, D.int64, D.bool):
            suffixes.append(f"dtype={dtype!r}")
        body = _tensor_str(a, dtype, indent)
    if t._grad_fn is not None:
        suffixes.append(f"grad_fn=<{t._grad_fn[0].name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
