"""``polytorch.utils``: PyTorch's ``torch.utils`` helpers (``data``, ``hooks``)."""

from . import data, hooks  # noqa: F401
