"""polytorch: a PyTorch-style deep learning framework over the Python array API.

The same model code runs on any device string: ``"cpu"`` (NumPy), ``"cuda"``
(CuPy), ``"cpu@jax"``, ``"cuda@jax"``, ``"tpu"`` (JAX), or a plugin's device.

Example:
    >>> import polytorch as torch
    >>> x = torch.ones(2, 3, device="cpu@jax", requires_grad=True)
    >>> (x * 2).sum().backward()
"""

from __future__ import annotations

from . import (
    _tensor_methods,  # noqa: F401 (binds ops to Tensor; first, so the rest sees the methods)
    amp,
    autograd,
    backends,
    cuda,  # imports backends.cudnn, backends.cuda and backends.mps too
    linalg,
    nn,
    optim,
    utils,
)
from ._compat import *  # compile, set_float32_matmul_precision, ... (accepted, documented)
from ._creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_dlpack,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from ._device import DeviceError, device, get_default_device, set_default_device
from ._dtype import (
    bfloat16,
    bool,
    can_cast,
    complex64,
    complex128,
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    promote_types,
    result_type,
    set_default_dtype,
    uint8,
)
from ._random import *
from ._tensor import Size, Tensor
from .autograd._grad_mode import *
from .ops.conv import *
from .ops.elementwise import *
from .ops.indexing import *
from .ops.linalg import *
from .ops.nn import *
from .ops.random import *
from .ops.reduction import *
from .ops.shape import *
from .ops.sorting import *
from .serialization import load, save

# PyTorch's aliases for dtypes.
half, float, double = float16, float32, float64  # noqa: A001
long, int, short, cfloat, cdouble = int64, int32, int16, complex64, complex128  # noqa: A001

__version__ = "0.1.0"


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    return input.numel()
