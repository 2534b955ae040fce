"""InstanceNorm1d/2d/3d: per-sample, per-channel statistics (running ones only if tracked)."""

from __future__ import annotations

import warnings

from ..._tensor import Tensor
from .. import _functional_core as F
from .batchnorm import _NormBase

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


class _InstanceNorm(_NormBase):
    _dims: tuple[int, ...] = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        unbatched = input.ndim == self._dims[0]
        feature_dim = 0 if unbatched else 1
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(
                    f"expected input's size at dim={feature_dim} to match num_features "
                    f"({self.num_features}), but got: {input.shape[feature_dim]}.")
            warnings.warn(
                f"input's size at dim={feature_dim} does not match num_features. You can "
                f"silence this warning by not passing in num_features, which is not used "
                f"because affine=False", stacklevel=2)
        x = input.unsqueeze(0) if unbatched else input
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              self.training or not self.track_running_stats,
                              self.momentum if self.momentum is not None else 0.0, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization over a ``(N, C, L)`` or ``(C, L)`` input.

    Example:
        >>> nn.InstanceNorm1d(3)(polytorch.randn(2, 3, 5)).shape
        polytorch.Size([2, 3, 5])
    """

    _dims = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization over a ``(N, C, H, W)`` or ``(C, H, W)`` input.

    Example:
        >>> nn.InstanceNorm2d(3)(polytorch.randn(2, 3, 4, 4)).shape
        polytorch.Size([2, 3, 4, 4])
    """

    _dims = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization over a ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input.

    Example:
        >>> nn.InstanceNorm3d(3)(polytorch.randn(2, 3, 2, 2, 2)).shape
        polytorch.Size([2, 3, 2, 2, 2])
    """

    _dims = (4, 5)
