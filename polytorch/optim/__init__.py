"""``polytorch.optim``: PyTorch's optimizers and learning-rate schedulers."""

from . import lr_scheduler  # noqa: F401
from .optimizer import Optimizer  # noqa: F401
