"""``polytorch.utils.data``: datasets, samplers and the DataLoader, as in ``torch.utils.data``.

Example:
    >>> from polytorch.utils.data import DataLoader, TensorDataset
    >>> ds = TensorDataset(polytorch.arange(10.), polytorch.arange(10))
    >>> for x, y in DataLoader(ds, batch_size=4, shuffle=True):
    ...     pass
"""

from ._collate import default_collate, default_convert
from .dataloader import DataLoader, WorkerInfo, get_worker_info
from .dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset",
    "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset",
    "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler", "WorkerInfo",
    "default_collate", "default_convert", "get_worker_info", "random_split",
]
