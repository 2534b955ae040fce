"""``polytorch.linalg``: PyTorch's ``torch.linalg``.

The functions live with their primitives in ``polytorch/ops/linalg.py``; this
module is the public namespace.

Example:
    >>> import polytorch
    >>> A = polytorch.tensor([[4.0, 2.0], [2.0, 3.0]])
    >>> L = polytorch.linalg.cholesky(A)
    >>> polytorch.allclose(L @ L.mT, A)
    True
"""

from __future__ import annotations

from .ops.linalg import (
    EighResult,
    LinAlgError,
    LstsqResult,
    QRResult,
    SlogdetResult,
    SVDResult,
    cholesky,
    det,
    eigh,
    eigvalsh,
    inv,
    lstsq,
    matmul,
    matrix_norm,
    matrix_power,
    matrix_rank,
    multi_dot,
    norm,
    pinv,
    qr,
    slogdet,
    solve,
    svd,
    svdvals,
    vecdot,
    vector_norm,
)
from .ops.linalg import linalg_cross as cross

__all__ = [
    "EighResult", "LinAlgError", "LstsqResult", "QRResult", "SVDResult", "SlogdetResult",
    "cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "lstsq", "matmul",
    "matrix_norm", "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet",
    "solve", "svd", "svdvals", "vecdot", "vector_norm",
]


def diagonal(A, *, offset: int = 0, dim1: int = -2, dim2: int = -1):
    """``torch.linalg.diagonal``: ``polytorch.diagonal`` with the last two dims as default."""
    from .ops import shape

    return shape.diagonal(A, offset=offset, dim1=dim1, dim2=dim2)
