"""``polytorch.nn.utils``: gradient clipping and parameter/vector conversion."""

from .clip_grad import *  # noqa: F403
from .convert_parameters import *  # noqa: F403
