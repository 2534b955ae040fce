"""Helpers shared by the test modules: dtype tables, host copies, tensor pairs for the oracle."""

from __future__ import annotations

import numpy as np
import torch

import polytorch
from polytorch._device import resolve

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
         "float64", "complex64", "complex128"]
PT = {n: getattr(polytorch, n) for n in NAMES}
TO = {n: getattr(torch, n) for n in NAMES}


def dtype_name(dt) -> str:
    """``float32`` for ``polytorch.float32`` and ``torch.float32`` alike."""
    return str(dt).split(".")[-1]


def supported_dtypes(device) -> set[str]:
    """The names of the dtypes ``device`` has."""
    dev, be = resolve(device)
    return {d.name for d in be.supported_dtypes(dev.type, dev.index or 0)}


def host(t) -> np.ndarray:
    """A NumPy copy of a polytorch or torch tensor (bfloat16 widened to float32)."""
    t = t.detach()
    if t.dtype in (polytorch.bfloat16, torch.bfloat16):
        t = t.float()
    return np.array(t.cpu().numpy(), copy=True)


def ours(arr, device, requires_grad=False):
    """A polytorch tensor of ``arr`` on ``device``."""
    return polytorch.tensor(np.asarray(arr), device=device, requires_grad=requires_grad)


def theirs(arr, requires_grad=False):
    """The same values as a torch tensor (the oracle)."""
    return torch.tensor(np.asarray(arr), requires_grad=requires_grad)
