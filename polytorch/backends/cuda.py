"""``torch.backends.cuda``: the matmul and attention flags PyTorch scripts set.

``matmul.allow_tf32`` is tied to ``polytorch.set_float32_matmul_precision`` as in
PyTorch (True means ``"high"``, False ``"highest"``). The flags are recorded, not
acted on: polytorch's matmuls and attention run the backend's own kernels.

Example:
    >>> import polytorch.backends.cuda
    >>> polytorch.backends.cuda.matmul.allow_tf32 = True
    >>> polytorch.get_float32_matmul_precision()
    'high'
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["enable_flash_sdp", "enable_math_sdp", "enable_mem_efficient_sdp",
           "flash_sdp_enabled", "is_built", "math_sdp_enabled", "matmul",
           "mem_efficient_sdp_enabled", "sdp_kernel"]


def is_built() -> bool:
    """Whether a backend serving ``cuda`` devices is installed (CuPy, or JAX when configured)."""
    from ..cuda import _cuda_backend_installed

    return _cuda_backend_installed()


class _Matmul:
    """``torch.backends.cuda.matmul``: precision flags of float32 and half matmuls."""

    allow_fp16_reduced_precision_reduction: bool = True
    allow_bf16_reduced_precision_reduction: bool = True

    @property
    def allow_tf32(self) -> bool:
        from .._compat import get_float32_matmul_precision

        return get_float32_matmul_precision() != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        from .._compat import set_float32_matmul_precision

        set_float32_matmul_precision("high" if value else "highest")


matmul = _Matmul()

_sdp = {"flash": True, "mem_efficient": True, "math": True}


def enable_flash_sdp(enabled: bool) -> None:
    """Record whether the flash attention kernel may be used (polytorch has none)."""
    _sdp["flash"] = bool(enabled)


def enable_mem_efficient_sdp(enabled: bool) -> None:
    """Record whether the memory-efficient attention kernel may be used (polytorch has none)."""
    _sdp["mem_efficient"] = bool(enabled)


def enable_math_sdp(enabled: bool) -> None:
    """Record whether the math attention kernel may be used (polytorch always uses it)."""
    _sdp["math"] = bool(enabled)


def flash_sdp_enabled() -> bool:
    return _sdp["flash"]


def mem_efficient_sdp_enabled() -> bool:
    return _sdp["mem_efficient"]


def math_sdp_enabled() -> bool:
    return _sdp["math"]


@contextlib.contextmanager
def sdp_kernel(enable_flash: bool = True, enable_math: bool = True,
               enable_mem_efficient: bool = True, enable_cudnn: bool = True) -> Iterator[None]:
    """Set the attention kernel flags for a block and restore them after it."""
    saved = dict(_sdp)
    _sdp.update(flash=bool(enable_flash), math=bool(enable_math),
                mem_efficient=bool(enable_mem_efficient))
    try:
        yield
    finally:
        _sdp.update(saved)
