"""CosineSimilarity and PairwiseDistance."""

from __future__ import annotations

from ..._tensor import Tensor
from .. import _functional_core as F
from .module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class PairwiseDistance(Module):
    """``||x1 - x2 + eps||_p`` along the last dimension.

    Example:
        >>> nn.PairwiseDistance()(polytorch.zeros(2, 3), polytorch.ones(2, 3)).shape
        polytorch.Size([2])
    """

    __constants__ = ["norm", "eps", "keepdim"]

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm = p
        self.eps = eps
        self.keepdim = keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """Cosine similarity along ``dim``.

    Example:
        >>> nn.CosineSimilarity()(polytorch.ones(2, 3), polytorch.ones(2, 3))
        tensor([1.0000, 1.0000])
    """

    __constants__ = ["dim", "eps"]

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
