"""polytorch dtypes and PyTorch's type-promotion rules.

Note [Type promotion lives here]
Every backend gets its arrays already cast to the dtype the frontend decided, so
all backends agree on result dtypes. The rules are PyTorch's: dtypes are ordered
in categories bool < integer < floating < complex; among tensors with dimensions
the usual lattice applies; zero-dim tensors and Python scalars only take part
when they are of a higher category than the dimensioned operands, and Python
scalars then contribute the *default* dtype of their category.
"""

from __future__ import annotations

__all__ = [
    "dtype",
    "bool",
    "uint8",
    "int8",
    "int16",
    "int32",
    "int64",
    "float16",
    "bfloat16",
    "float32",
    "float64",
    "complex64",
    "complex128",
    "get_default_dtype",
    "set_default_dtype",
    "promote_types",
    "result_type",
    "can_cast",
]

_builtin_bool = bool


class dtype:
    """A tensor element type, named as in PyTorch (``polytorch.float32``)."""

    __slots__ = (
        "name", "itemsize", "kind", "is_floating_point", "is_complex", "is_signed", "_rank",
    )

    def __init__(self, name: str, itemsize: int, kind: str, rank: int):
        self.name = name
        self.itemsize = itemsize
        self.kind = kind  # "b" bool, "u"/"i" integer, "f" floating, "c" complex
        self.is_floating_point = kind == "f"
        self.is_complex = kind == "c"
        self.is_signed = kind in "ifc"
        self._rank = rank

    def __repr__(self) -> str:
        return f"polytorch.{self.name}"

    def __reduce__(self):
        return self.name  # pickles as the module-level singleton

    @property
    def category(self) -> int:
        return _CATEGORY[self.kind]

    def to_real(self) -> dtype:
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    def to_complex(self) -> dtype:
        return {"float16": complex64, "bfloat16": complex64, "float32": complex64,
                "float64": complex128}.get(self.name, self)


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}

bool = dtype("bool", 1, "b", 0)  # noqa: A001 (PyTorch's public name)
uint8 = dtype("uint8", 1, "u", 1)
int8 = dtype("int8", 1, "i", 1)
int16 = dtype("int16", 2, "i", 2)
int32 = dtype("int32", 4, "i", 3)
int64 = dtype("int64", 8, "i", 4)
float16 = dtype("float16", 2, "f", 5)
bfloat16 = dtype("bfloat16", 2, "f", 5)
float32 = dtype("float32", 4, "f", 6)
float64 = dtype("float64", 8, "f", 7)
complex64 = dtype("complex64", 8, "c", 8)
complex128 = dtype("complex128", 16, "c", 9)

ALL_DTYPES = (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64,
              complex64, complex128)
BY_NAME = {d.name: d for d in ALL_DTYPES}
# PyTorch's aliases.
BY_NAME.update(half=float16, float=float32, double=float64, long=int64, int=int32,
               short=int16, cfloat=complex64, cdouble=complex128)

_default_float = float32


def get_default_dtype() -> dtype:
    """Return the default floating dtype (``float32`` unless changed)."""
    return _default_float


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype used for Python floats and new float tensors.

    Example:
        >>> polytorch.set_default_dtype(polytorch.float64)
    """
    global _default_float
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating-point dtypes are allowed, got {d!r}")
    _default_float = d
    _RESULT_CACHE.clear()


def _promote_pair(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a.kind == b.kind:
        if a.kind == "f" and a._rank == b._rank:  # float16 with bfloat16
            return float32
        return a if a._rank > b._rank else b
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca == cb:  # uint8 with a signed integer: the smallest signed type holding both
        signed = b if a is uint8 else a
        return int16 if signed is int8 else signed
    hi, lo = (a, b) if ca > cb else (b, a)
    if hi.kind == "c" and lo.kind == "f" and lo is float64:
        return complex128
    return hi


_PROMOTE = {(a, b): _promote_pair(a, b) for a in ALL_DTYPES for b in ALL_DTYPES}


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both ``a`` and ``b`` can be cast to (PyTorch's table).

    Example:
        >>> polytorch.promote_types(polytorch.uint8, polytorch.int8)
        polytorch.int16
    """
    return _PROMOTE[a, b]


def scalar_dtype(value) -> dtype:
    """The dtype a Python scalar contributes to promotion (the category's default)."""
    if isinstance(value, _builtin_bool):
        return bool
    if isinstance(value, int):
        return int64
    if isinstance(value, float):
        return _default_float
    if isinstance(value, complex):
        return complex128 if _default_float is float64 else complex64
    raise TypeError(f"expected a Python number, got {type(value).__name__}")


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    # PyTorch's combine_categories: a lower-priority group only matters when it
    # is of a higher category than the higher-priority group.
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.kind == "c":
        return higher
    if lower.kind == "c":
        return higher.to_complex() if higher.kind == "f" else lower
    if higher.kind == "f":
        return higher
    if higher is bool or lower.kind == "f":
        return _PROMOTE[higher, lower]
    return higher


_RESULT_CACHE: dict = {}


def _scalar_key(value):
    if isinstance(value, _builtin_bool):
        return "b"
    if isinstance(value, int):
        return "i"
    if isinstance(value, float):
        return "f"
    if isinstance(value, complex):
        return "c"
    raise TypeError(f"expected a tensor or a Python number, got {type(value).__name__}")


def result_type_of(keys) -> dtype:
    """Promote a tuple of operand keys: (dtype, ndim>0) pairs or scalar kind letters."""
    out = _RESULT_CACHE.get(keys)
    if out is None:
        dim = zero = wrapped = None
        for k in keys:
            if isinstance(k, str):
                d = scalar_dtype({"b": True, "i": 0, "f": 0.0, "c": 0j}[k])
                wrapped = d if wrapped is None else _PROMOTE[wrapped, d]
            elif k[1]:
                dim = k[0] if dim is None else _PROMOTE[dim, k[0]]
            else:
                zero = k[0] if zero is None else _PROMOTE[zero, k[0]]
        out = _combine(dim, _combine(zero, wrapped))
        _RESULT_CACHE[keys] = out
    return out


def result_type(*operands) -> dtype:
    """The dtype PyTorch would give an elementwise op over ``operands``.

    Operands are tensors, dtypes or Python numbers.

    Example:
        >>> polytorch.result_type(polytorch.tensor([1, 2]), 2.5)
        polytorch.float32
    """
    keys = []
    for o in operands:
        if isinstance(o, dtype):
            keys.append((o, True))
        elif hasattr(o, "_dtype") and hasattr(o, "_data"):
            keys.append((o._dtype, len(o.shape) > 0))
        else:
            keys.append(_scalar_key(o))
    return result_type_of(tuple(keys))


def can_cast(from_: dtype, to: dtype) -> _builtin_bool:
    """Whether PyTorch's same-kind casting allows ``from_`` to ``to`` (used by in-place ops)."""
    return _CATEGORY[from_.kind] <= _CATEGORY[to.kind]


def as_dtype(value, *, argname: str = "dtype") -> dtype | None:
    """Resolve a dtype argument: a polytorch dtype, a PyTorch-style name, or None."""
    if value is None or isinstance(value, dtype):
        return value
    if isinstance(value, str) and \
            value.removeprefix("polytorch.").removeprefix("torch.") in BY_NAME:
        return BY_NAME[value.removeprefix("polytorch.").removeprefix("torch.")]
    if value is float:
        return float64  # PyTorch: the Python type float means double
    if value is int:
        return int64
    if value is _builtin_bool:
        return bool
    if value is complex:
        return complex128
    name = getattr(value, "name", None) or getattr(value, "__name__", None)
    if isinstance(name, str) and name in BY_NAME:  # numpy dtypes and scalar types
        return BY_NAME[name]
    raise TypeError(f"{argname} must be a polytorch dtype, got {value!r}")
