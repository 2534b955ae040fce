"""``polytorch.nn.functional``: PyTorch's ``torch.nn.functional``, composed from polytorch ops.

Each group lives in its own private module; this module is the public surface.
"""

from . import _functional_attention, _functional_conv, _functional_core, _functional_loss
from ._functional_attention import *  # noqa: F403
from ._functional_conv import *  # noqa: F403
from ._functional_core import *  # noqa: F403
from ._functional_loss import *  # noqa: F403

__all__ = sorted({*_functional_attention.__all__, *_functional_conv.__all__,
                  *_functional_core.__all__, *_functional_loss.__all__})
