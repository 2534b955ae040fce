"""``polytorch.nn``: modules, parameters, ``functional``, ``init`` and ``utils``, as in PyTorch."""

from . import functional, init, utils  # noqa: F401
from .modules import *  # noqa: F403
from .parameter import *  # noqa: F403
