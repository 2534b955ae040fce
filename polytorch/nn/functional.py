"""``polytorch.nn.functional``: PyTorch's ``torch.nn.functional``, composed from polytorch ops.

Each group lives in its own private module; this module is the public surface.
"""

from ._functional_attention import *  # noqa: F403
from ._functional_conv import *  # noqa: F403
from ._functional_core import *  # noqa: F403
from ._functional_loss import *  # noqa: F403
