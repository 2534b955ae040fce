"""Loss modules: thin wrappers over ``polytorch.nn.functional`` losses, as in PyTorch.

Constructor signatures, attributes and buffers follow ``torch.nn.modules.loss``:
a class weight (and BCEWithLogitsLoss's ``pos_weight``) is a buffer, so it moves
with ``.to()`` and is saved in ``state_dict`` under PyTorch's key.
"""

from __future__ import annotations

from collections.abc import Callable

from ..._tensor import Tensor
from .. import _functional_loss as F
from . import distance as _distance
from .module import Module

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "CTCLoss", "CosineEmbeddingLoss", "CrossEntropyLoss",
    "GaussianNLLLoss", "HingeEmbeddingLoss", "HuberLoss", "KLDivLoss", "L1Loss", "MSELoss",
    "MarginRankingLoss", "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss",
    "NLLLoss", "PoissonNLLLoss", "SmoothL1Loss", "SoftMarginLoss", "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
]


class _Loss(Module):
    """A loss with a ``reduction``; the legacy ``size_average``/``reduce`` pair overrides it."""

    reduction: str

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            self.reduction = F._legacy_reduction(size_average, reduce)
        else:
            self.reduction = reduction


class _WeightedLoss(_Loss):
    """A loss with a per-class ``weight`` buffer (None when not given, as in PyTorch)."""

    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class L1Loss(_Loss):
    """The mean absolute error (``F.l1_loss``).

    Example:
        >>> nn.L1Loss()(polytorch.tensor([1., 2.]), polytorch.tensor([1., 4.]))
        tensor(1.)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """The mean squared error (``F.mse_loss``).

    Example:
        >>> nn.MSELoss()(polytorch.tensor([1., 2.]), polytorch.tensor([1., 4.]))
        tensor(2.)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class NLLLoss(_WeightedLoss):
    """The negative log likelihood of log-probabilities at class indices (``F.nll_loss``).

    Example:
        >>> logp = polytorch.tensor([[0.5, 0.5]]).log()
        >>> nn.NLLLoss()(logp, polytorch.tensor([1]))
        tensor(0.6931)
    """

    def __init__(self, weight: Tensor | None = None, size_average=None,
                 ignore_index: int = -100, reduce=None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy of logits against class indices or probabilities (``F.cross_entropy``).

    Example:
        >>> nn.CrossEntropyLoss()(polytorch.tensor([[2.0, 0.0, 0.0]]), polytorch.tensor([0]))
        tensor(0.2395)
    """

    def __init__(self, weight: Tensor | None = None, size_average=None,
                 ignore_index: int = -100, reduce=None, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(input, target, weight=self.weight,
                               ignore_index=self.ignore_index, reduction=self.reduction,
                               label_smoothing=self.label_smoothing)


class PoissonNLLLoss(_Loss):
    """The Poisson negative log likelihood (``F.poisson_nll_loss``).

    Example:
        >>> nn.PoissonNLLLoss()(polytorch.tensor([0.0]), polytorch.tensor([1.0]))
        tensor(1.)
    """

    def __init__(self, log_input: bool = True, full: bool = False, size_average=None,
                 eps: float = 1e-8, reduce=None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return F.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full,
                                  eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """The Gaussian negative log likelihood (``F.gaussian_nll_loss``).

    Example:
        >>> nn.GaussianNLLLoss()(polytorch.tensor([0.0]), polytorch.tensor([2.0]),
        ...                      polytorch.tensor([1.0]))
        tensor(2.)
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6,
                 reduction: str = "mean") -> None:
        super().__init__(None, None, reduction)
        self.full = full
        self.eps = eps

    def forward(self, input: Tensor, target: Tensor, var: Tensor | float) -> Tensor:
        return F.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                   reduction=self.reduction)


class KLDivLoss(_Loss):
    """The Kullback-Leibler divergence of log-probabilities (``F.kl_div``).

    Example:
        >>> loss = nn.KLDivLoss(reduction="batchmean")
        >>> loss(polytorch.tensor([[0.5, 0.5]]).log(), polytorch.tensor([[1.0, 0.0]]))
        tensor(0.6931)
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class BCELoss(_WeightedLoss):
    """Binary cross entropy of probabilities (``F.binary_cross_entropy``).

    Example:
        >>> nn.BCELoss()(polytorch.tensor([0.5]), polytorch.tensor([1.0]))
        tensor(0.6931)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight,
                                      reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross entropy of logits, computed stably (``F.binary_cross_entropy_with_logits``).

    Example:
        >>> nn.BCEWithLogitsLoss()(polytorch.tensor([0.0]), polytorch.tensor([1.0]))
        tensor(0.6931)
    """

    def __init__(self, weight: Tensor | None = None, size_average=None, reduce=None,
                 reduction: str = "mean", pos_weight: Tensor | None = None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  pos_weight=self.pos_weight,
                                                  reduction=self.reduction)


class HingeEmbeddingLoss(_Loss):
    """``x`` where the target is 1, ``max(0, margin - x)`` where it is -1.

    Example:
        >>> nn.HingeEmbeddingLoss()(polytorch.tensor([0.3, 0.3]), polytorch.tensor([1., -1.]))
        tensor(0.5000)
    """

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.hinge_embedding_loss(input, target, margin=self.margin,
                                      reduction=self.reduction)


class MultiLabelMarginLoss(_Loss):
    """The multi-label hinge loss (``F.multilabel_margin_loss``).

    Example:
        >>> nn.MultiLabelMarginLoss()(polytorch.tensor([[0.1, 0.2, 0.4, 0.8]]),
        ...                           polytorch.tensor([[3, 0, -1, 1]]))
        tensor(0.8500)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multilabel_margin_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """A squared error below ``beta``, an absolute one above (``F.smooth_l1_loss``).

    Example:
        >>> nn.SmoothL1Loss()(polytorch.tensor([0., 0.]), polytorch.tensor([0.5, 3.]))
        tensor(1.3125)
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """A squared error below ``delta``, a ``delta``-scaled absolute one above.

    Example:
        >>> nn.HuberLoss(delta=2.0)(polytorch.tensor([0., 0.]), polytorch.tensor([0.5, 3.]))
        tensor(2.0625)
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        if not isinstance(delta, (float, int)):
            raise TypeError(f"delta must be a float or int, got: {type(delta)}")
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SoftMarginLoss(_Loss):
    """The two-class logistic loss ``log(1 + exp(-y x))``.

    Example:
        >>> nn.SoftMarginLoss()(polytorch.tensor([0.0]), polytorch.tensor([1.0]))
        tensor(0.6931)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """The one-versus-all logistic loss (``F.multilabel_soft_margin_loss``).

    Example:
        >>> nn.MultiLabelSoftMarginLoss()(polytorch.tensor([[0.0, 0.0]]),
        ...                               polytorch.tensor([[1.0, 0.0]]))
        tensor(0.6931)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multilabel_soft_margin_loss(input, target, weight=self.weight,
                                             reduction=self.reduction)


class _PairMarginLoss(_Loss):
    """A loss of two inputs against a target of ±1, with a ``margin`` (``_fn`` set per class)."""

    _fn = None

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1: Tensor, input2: Tensor, target: Tensor) -> Tensor:
        return type(self)._fn(input1, input2, target, margin=self.margin,
                              reduction=self.reduction)


class CosineEmbeddingLoss(_PairMarginLoss):
    """``1 - cos(x1, x2)`` for target 1, ``max(0, cos(x1, x2) - margin)`` for -1.

    Example:
        >>> a = polytorch.tensor([[1.0, 0.0]])
        >>> nn.CosineEmbeddingLoss()(a, a, polytorch.tensor([-1.0]))
        tensor(1.)
    """

    _fn = staticmethod(F.cosine_embedding_loss)


class MarginRankingLoss(_PairMarginLoss):
    """``max(0, -y (x1 - x2) + margin)`` (``F.margin_ranking_loss``).

    Example:
        >>> nn.MarginRankingLoss()(polytorch.tensor([1.]), polytorch.tensor([2.]),
        ...                        polytorch.tensor([1.]))
        tensor(1.)
    """

    _fn = staticmethod(F.margin_ranking_loss)


class MultiMarginLoss(_WeightedLoss):
    """The multi-class hinge loss (``F.multi_margin_loss``).

    Example:
        >>> nn.MultiMarginLoss()(polytorch.tensor([[0.1, 0.2, 0.4]]), polytorch.tensor([2]))
        tensor(0.5000)
    """

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Tensor | None = None,
                 size_average=None, reduce=None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        if p != 1 and p != 2:
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.dim() != 1:
            raise ValueError("MultiMarginLoss: expected weight to be None or 1D tensor, got "
                             f"{weight.dim()}D instead")
        self.p = p
        self.margin = margin

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.multi_margin_loss(input, target, p=self.p, margin=self.margin,
                                   weight=self.weight, reduction=self.reduction)


class TripletMarginLoss(_Loss):
    """``max(0, d(a, p) - d(a, n) + margin)`` with the p-norm distance.

    Example:
        >>> a, q = polytorch.tensor([[0.0, 0.0]]), polytorch.tensor([[3.0, 4.0]])
        >>> nn.TripletMarginLoss()(a, a, q)
        tensor(0.)
    """

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, size_average=None, reduce=None,
                 reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: expected margin to be greater than 0, got "
                             f"{margin} instead")
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p,
                                     eps=self.eps, swap=self.swap, reduction=self.reduction)


class TripletMarginWithDistanceLoss(_Loss):
    """``TripletMarginLoss`` with any distance function (default: ``nn.PairwiseDistance()``).

    Example:
        >>> a, q = polytorch.tensor([[0.0, 0.0]]), polytorch.tensor([[3.0, 4.0]])
        >>> nn.TripletMarginWithDistanceLoss(margin=6.0)(a, a, q)
        tensor(1.0000)
    """

    def __init__(self, *, distance_function: Callable[[Tensor, Tensor], Tensor] | None = None,
                 margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> None:
        super().__init__(size_average=None, reduce=None, reduction=reduction)
        if margin <= 0:
            raise ValueError("TripletMarginWithDistanceLoss: expected margin to be greater "
                             f"than 0, got {margin} instead")
        if distance_function is None:
            # PyTorch keeps a PairwiseDistance module here (a child in repr and modules()).
            pairwise = getattr(_distance, "PairwiseDistance", None)
            distance_function = pairwise() if pairwise is not None else None
        self.distance_function = distance_function
        self.margin = margin
        self.swap = swap

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return F.triplet_margin_with_distance_loss(
            anchor, positive, negative, distance_function=self.distance_function,
            margin=self.margin, swap=self.swap, reduction=self.reduction)


class CTCLoss(_Loss):
    """The connectionist temporal classification loss (``F.ctc_loss``).

    Example:
        >>> lp = polytorch.full((2, 1, 2), 0.5).log()
        >>> nn.CTCLoss(reduction="sum")(lp, polytorch.tensor([[1]]), [2], [1])
        tensor(0.2877)
    """

    def __init__(self, blank: int = 0, reduction: str = "mean",
                 zero_infinity: bool = False) -> None:
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs: Tensor, targets: Tensor, input_lengths: Tensor,
                target_lengths: Tensor) -> Tensor:
        return F.ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                          self.reduction, self.zero_infinity)
