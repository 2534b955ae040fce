"""``polytorch.utils``: PyTorch's ``torch.utils`` helpers (``data``)."""

from . import data
