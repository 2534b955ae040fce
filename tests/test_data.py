"""polytorch.utils.data against torch.utils.data: datasets, samplers, collation, DataLoader
(same batches for deterministic settings, same structure and dtypes), and worker processes.

torch is imported inside the tests: worker processes started with "spawn" import this
module to find its dataset classes, and should not pay for importing torch.
"""

from __future__ import annotations

import collections
import itertools
import os

import numpy as np
import pytest

import polytorch
from polytorch.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    StackDataset,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    get_worker_info,
    random_split,
)

Point = collections.namedtuple("Point", ["x", "y"])


def _host(v):
    t = v.detach()
    return np.asarray(t.cpu().numpy())


def _same(ours, theirs, device=None):
    """Same structure, container types, dtypes and values (torch result as the oracle)."""
    import torch

    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, polytorch.Tensor), type(ours)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        assert tuple(ours.shape) == tuple(theirs.shape)
        if device is not None:
            assert ours.device == polytorch.device(device)
        np.testing.assert_array_equal(_host(ours), theirs.numpy())
    elif isinstance(theirs, dict):
        assert type(ours).__name__ == type(theirs).__name__ and list(ours) == list(theirs)
        for k in theirs:
            _same(ours[k], theirs[k], device)
    elif isinstance(theirs, (list, tuple)):
        assert type(ours).__name__ == type(theirs).__name__, (type(ours), type(theirs))
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b, device)
    else:
        assert type(ours) is type(theirs) and ours == theirs


# -- datasets --------------------------------------------------------------------------


def test_datasets_match_torch(device):
    import torch
    import torch.utils.data as tud

    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    ours = TensorDataset(polytorch.tensor(x, device=device), polytorch.tensor(y, device=device))
    theirs = tud.TensorDataset(torch.tensor(x), torch.tensor(y))
    assert len(ours) == len(theirs) == 10
    for i in (0, 3, -1):
        _same(ours[i], theirs[i], device)
    _same(Subset(ours, [4, 1, 7])[1], tud.Subset(theirs, [4, 1, 7])[1], device)
    assert Subset(ours, [4, 1, 7]).__getitems__([0, 2])[1][1].item() == 7
    cat_o, cat_t = ConcatDataset([ours, Subset(ours, [9, 8])]), tud.ConcatDataset(
        [theirs, tud.Subset(theirs, [9, 8])])
    assert len(cat_o) == len(cat_t) == 12 and cat_o.cumulative_sizes == cat_t.cumulative_sizes
    for i in (0, 9, 10, 11, -1, -12):
        _same(cat_o[i], cat_t[i], device)
    _same((ours + ours)[15], (theirs + theirs)[15], device)
    stack_o = StackDataset(a=ours, b=range(10))
    assert stack_o[2]["b"] == 2 and len(stack_o) == 10
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(polytorch.zeros(3), polytorch.zeros(4))
    with pytest.raises(AssertionError, match="should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(ValueError, match="absolute value of index"):
        cat_o[-13]
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(range(3), range(4))


class Count(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        k, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(k, self.n, step))

    def __len__(self):
        return self.n


def test_iterable_and_chain_datasets():
    chain = ChainDataset([Count(3), Count(2)])
    assert list(chain) == [0, 1, 2, 0, 1] and len(chain) == 5
    assert list(Count(2) + Count(1)) == [0, 1, 0]
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([Count(2)])


def test_random_split():
    import torch
    import torch.utils.data as tud

    for lengths in ([3, 7], [0.3, 0.3, 0.4], [0.5, 0.5], [1 / 3] * 3):
        ours = random_split(range(10), lengths, generator=polytorch.Generator().manual_seed(1))
        theirs = tud.random_split(range(10), lengths, generator=torch.Generator().manual_seed(1))
        assert [len(s) for s in ours] == [len(s) for s in theirs]
        assert sorted(itertools.chain.from_iterable(ours)) == list(range(10))
        again = random_split(range(10), lengths, generator=polytorch.Generator().manual_seed(1))
        assert [list(s) for s in ours] == [list(s) for s in again]
    polytorch.manual_seed(3)
    a = [list(s) for s in random_split(range(6), [3, 3])]
    polytorch.manual_seed(3)
    assert a == [list(s) for s in random_split(range(6), [3, 3])]
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 1 is not between 0 and 1"):
        random_split(range(10), [0.5, 1.5, -1.0])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(2), [0.9, 0.1])


# -- samplers --------------------------------------------------------------------------


def test_samplers_match_torch():
    import torch.utils.data as tud

    for n, bs, drop in itertools.product((0, 1, 7, 9), (1, 3, 9), (False, True)):
        ours = BatchSampler(SequentialSampler(range(n)), bs, drop)
        theirs = tud.BatchSampler(tud.SequentialSampler(range(n)), bs, drop)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="batch_size should be a positive integer"):
            BatchSampler(range(3), bad, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value"):
        BatchSampler(range(3), 2, 1)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        RandomSampler(range(3), replacement=1)
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        WeightedRandomSampler([[1.0]], 2)
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        WeightedRandomSampler([1.0], 0)


def test_random_samplers():
    g = polytorch.Generator().manual_seed(0)
    perm = list(RandomSampler(range(10), generator=g))
    assert sorted(perm) == list(range(10))
    assert list(RandomSampler(range(10), generator=polytorch.Generator().manual_seed(0))) == perm
    assert list(RandomSampler(range(10), generator=g)) != perm  # the generator moved on
    more = list(RandomSampler(range(4), num_samples=10, generator=g))
    assert len(more) == 10 and sorted(more[:8]) == sorted(list(range(4)) * 2)
    assert set(more[8:]) <= set(range(4)) and len(set(more[8:])) == 2
    drawn = list(RandomSampler(range(5), replacement=True, num_samples=70, generator=g))
    assert len(drawn) == 70 and set(drawn) <= set(range(5)) and len(set(drawn)) == 5
    # lazy: a huge number of samples costs nothing until drawn
    huge = RandomSampler(range(3), replacement=True, num_samples=10**15, generator=g)
    assert len(huge) == 10**15 and len(list(itertools.islice(iter(huge), 40))) == 40
    polytorch.manual_seed(5)
    a = list(RandomSampler(range(8)))
    polytorch.manual_seed(5)
    assert list(RandomSampler(range(8))) == a
    sub = list(SubsetRandomSampler([10, 20, 30], generator=g))
    assert sorted(sub) == [10, 20, 30]
    w = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200, generator=g))
    assert set(w) == {1, 3} and w.count(3) > w.count(1)
    w = list(WeightedRandomSampler([1.0, 0.0, 1.0, 1.0], 3, replacement=False, generator=g))
    assert sorted(w) == [0, 2, 3]


# -- collation -------------------------------------------------------------------------


def _samples(lib, device=None):
    t = (lambda a: lib.tensor(a, device=device)) if device else lib.tensor
    return [
        {"img": t(np.full((2, 2), i, np.float32)), "label": i, "score": i / 2, "flag": i % 2 == 0,
         "name": f"s{i}", "raw": b"r", "arr": np.arange(3, dtype=np.int16) + i,
         "np32": np.float32(i), "np64": np.float64(i), "npi": np.int32(i),
         "pair": (i, float(i)), "lst": [t(float(i)), i], "pt": Point(i, t(i)),
         "nested": {"a": [i, i + 1]}, "od": collections.OrderedDict(z=i)}
        for i in range(3)
    ]


def test_default_collate_matches_torch(device):
    import torch
    import torch.utils.data as tud

    ours = default_collate(_samples(polytorch, device))
    theirs = tud.default_collate(_samples(torch))
    _same(ours, theirs)
    assert ours["img"].device == polytorch.device(device)
    _same(default_collate([(1, 2.0), (3, 4.0)]), tud.default_collate([(1, 2.0), (3, 4.0)]))
    _same(default_collate([[1, 2], [3, 4]]), tud.default_collate([[1, 2], [3, 4]]))
    _same(default_collate([True, False]), tud.default_collate([True, False]))
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([np.array(["a"]), np.array(["b"])])


def test_default_convert_matches_torch():
    import torch
    import torch.utils.data as tud

    sample = {"a": np.arange(3, dtype=np.float32), "b": (np.int64(2), [np.float64(1.5)]),
              "p": Point(np.int8(1), "s"), "s": np.array(["x"]), "n": 3}
    _same(default_convert(sample), tud.default_convert(sample))
    x = torch.ones(2)
    assert tud.default_convert(x) is x and default_convert(polytorch.ones(2)) is not None


# -- the DataLoader --------------------------------------------------------------------


class Squares(Dataset):
    def __init__(self, n, fail_at=None):
        self.n, self.fail_at = n, fail_at

    def __getitem__(self, i):
        if i == self.fail_at:
            raise ValueError(f"bad sample {i}")
        return {"x": np.array([i, i * i], dtype=np.float32), "y": i, "pid": os.getpid()}

    def __len__(self):
        return self.n


def _loaders(ours_ds, theirs_ds):
    """Pairs of (our kwargs, their kwargs) with deterministic batches."""
    import torch.utils.data as tud

    def collate_first(batch):
        return batch[0]

    yield {}, {}
    yield {"batch_size": 3}, {"batch_size": 3}
    yield {"batch_size": 3, "drop_last": True}, {"batch_size": 3, "drop_last": True}
    yield {"batch_size": None}, {"batch_size": None}
    yield {"batch_size": 4, "collate_fn": collate_first}, {"batch_size": 4,
                                                           "collate_fn": collate_first}
    order = [5, 0, 3, 3, 9]
    yield {"batch_size": 2, "sampler": order}, {"batch_size": 2, "sampler": order}
    batches = [[1, 2], [0], [9, 8, 7]]
    yield {"batch_sampler": batches}, {"batch_sampler": batches}
    yield ({"batch_sampler": BatchSampler(SequentialSampler(ours_ds), 4, False)},
           {"batch_sampler": tud.BatchSampler(tud.SequentialSampler(theirs_ds), 4, False)})


def test_dataloader_matches_torch(device):
    import torch
    import torch.utils.data as tud

    x = np.random.default_rng(0).standard_normal((10, 3)).astype(np.float32)
    y = np.arange(10)
    ours_ds = TensorDataset(polytorch.tensor(x, device=device), polytorch.tensor(y, device=device))
    theirs_ds = tud.TensorDataset(torch.tensor(x), torch.tensor(y))
    for ours_kw, theirs_kw in _loaders(ours_ds, theirs_ds):
        ours, theirs = DataLoader(ours_ds, **ours_kw), tud.DataLoader(theirs_ds, **theirs_kw)
        assert len(ours) == len(theirs), ours_kw
        got, want = list(ours), list(theirs)
        assert len(got) == len(want), ours_kw
        for a, b in zip(got, want):
            _same(a, b, device)
    # samples of numbers, arrays, dicts; an iterable dataset with and without batching
    ours = list(DataLoader(Squares(5), batch_size=2))
    theirs = list(tud.DataLoader(Squares(5), batch_size=2))
    for a, b in zip(ours, theirs):
        _same(a, b)
    class TorchCount(tud.IterableDataset):
        __iter__, __len__, __init__ = Count.__iter__, Count.__len__, Count.__init__

    for kw in ({"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None}):
        ours, theirs = DataLoader(Count(7), **kw), tud.DataLoader(TorchCount(7), **kw)
        assert len(ours) == len(theirs)
        _same(list(ours), list(theirs))


def test_dataloader_shuffle_generator():
    ds = TensorDataset(polytorch.arange(10))

    def epoch(loader):
        return [b[0].tolist() for b in loader]

    a = epoch(DataLoader(ds, batch_size=3, shuffle=True,
                         generator=polytorch.Generator().manual_seed(7)))
    b = epoch(DataLoader(ds, batch_size=3, shuffle=True,
                         generator=polytorch.Generator().manual_seed(7)))
    assert a == b and sorted(sum(a, [])) == list(range(10)) and [len(x) for x in a] == [3, 3, 3, 1]
    loader = DataLoader(ds, batch_size=3, shuffle=True, generator=polytorch.Generator())
    assert epoch(loader) != epoch(loader)  # each epoch reshuffles
    polytorch.manual_seed(1)
    c = epoch(DataLoader(ds, batch_size=3, shuffle=True))
    polytorch.manual_seed(1)
    assert epoch(DataLoader(ds, batch_size=3, shuffle=True)) == c


def test_dataloader_argument_errors():
    import torch.utils.data as tud

    cases = [
        ({"num_workers": -1}, ValueError),
        ({"timeout": -1}, ValueError),
        ({"prefetch_factor": 2}, ValueError),
        ({"persistent_workers": True}, ValueError),
        ({"sampler": [0], "shuffle": True}, ValueError),
        ({"batch_sampler": [[0]], "batch_size": 2}, ValueError),
        ({"batch_size": None, "drop_last": True}, ValueError),
        ({"multiprocessing_context": "spawn"}, ValueError),
    ]
    for kw, exc in cases:
        with pytest.raises(exc) as ours:
            DataLoader(range(3), **kw)
        with pytest.raises(exc) as theirs:
            tud.DataLoader(range(3), **kw)
        assert str(ours.value) == str(theirs.value), kw
    class TorchCount(tud.IterableDataset):
        __iter__, __len__, __init__ = Count.__iter__, Count.__len__, Count.__init__

    for kw in ({"shuffle": True}, {"sampler": [0]}, {"batch_sampler": [[0]]}):
        with pytest.raises(ValueError) as ours:
            DataLoader(Count(3), **kw)
        with pytest.raises(ValueError) as theirs:
            tud.DataLoader(TorchCount(3), **kw)
        assert str(ours.value).split(", but")[0] == str(theirs.value).split(", but")[0]
    loader = DataLoader(range(3))
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 2
    DataLoader(range(3), pin_memory=True, pin_memory_device="cuda")  # accepted, no effect


# -- worker processes ------------------------------------------------------------------
# Workers are forked here (fast), although JAX has usually started in this process by now:
# they never touch JAX, so its warning that a fork may deadlock does not apply. The loader's
# own default in that case, "spawn", is tested once (test_persistent_workers_and_spawn).
FORK = {"multiprocessing_context": "fork", "num_workers": 2}
forking = pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")


def _init_worker(worker_id):
    info = get_worker_info()
    assert info.id == worker_id and info.num_workers == 2
    os.environ["POLYTORCH_TEST_WORKER"] = str(worker_id)


class WorkerView(Dataset):
    def __getitem__(self, i):
        info = get_worker_info()
        return {"i": i, "worker": info.id, "seed": info.seed,
                "env": int(os.environ.get("POLYTORCH_TEST_WORKER", -1)),
                "rand": polytorch.rand(1), "pid": os.getpid()}

    def __len__(self):
        return 8


@forking
def test_workers_give_the_same_batches():
    x = polytorch.arange(24.0).reshape(12, 2)
    ds = TensorDataset(x, polytorch.arange(12))
    kw = {"batch_size": 5, "shuffle": True}
    single = list(DataLoader(ds, generator=polytorch.Generator().manual_seed(3), **kw))
    multi = list(DataLoader(ds, generator=polytorch.Generator().manual_seed(3), **FORK, **kw))
    assert len(single) == len(multi) == 3
    for a, b in zip(single, multi):
        assert a[0].dtype == b[0].dtype and a[0].device == b[0].device
        np.testing.assert_array_equal(_host(a[0]), _host(b[0]))
        np.testing.assert_array_equal(_host(a[1]), _host(b[1]))
    # workers see their info, init function and distinct seeds; batches come back in order
    got = list(DataLoader(WorkerView(), batch_size=2, worker_init_fn=_init_worker, **FORK))
    assert [b["i"].tolist() for b in got] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert [b["worker"].tolist() for b in got] == [[0, 0], [1, 1], [0, 0], [1, 1]]
    assert all(b["env"].tolist() == b["worker"].tolist() for b in got)
    seeds = {b["seed"][0].item() for b in got}
    assert len(seeds) == 2 and max(seeds) - min(seeds) == 1
    assert got[0]["rand"][0].item() != got[1]["rand"][0].item()
    assert os.getpid() not in {b["pid"][0].item() for b in got}


@forking
def test_iterable_dataset_with_workers():
    got = [b.tolist() for b in DataLoader(Count(10), batch_size=3, **FORK)]
    # each worker yields its share (0, 2, 4... and 1, 3, 5...); batches alternate workers
    assert got == [[0, 2, 4], [1, 3, 5], [6, 8], [7, 9]]
    got = list(DataLoader(Count(5), batch_size=None, **FORK))
    assert got == [0, 1, 2, 3, 4]


@forking
def test_worker_errors_name_the_worker():
    loader = DataLoader(Squares(6, fail_at=3), batch_size=2, **FORK)
    with pytest.raises(ValueError, match=r"(?s)in DataLoader worker process 1.*bad sample 3"):
        list(loader)


@forking
def test_persistent_workers_and_spawn():
    loader = DataLoader(Squares(6), batch_size=2, persistent_workers=True, **FORK)
    first = [b["pid"].tolist() for b in loader]
    second = [b["pid"].tolist() for b in loader]
    assert first == second  # the same worker processes serve every epoch
    half = iter(loader)
    next(half)  # an abandoned epoch...
    assert [b["y"].tolist() for b in loader] == [[0, 1], [2, 3], [4, 5]]  # ...then a full one
    ds = TensorDataset(polytorch.arange(6.0), polytorch.arange(6))
    spawned = list(DataLoader(ds, batch_size=4, num_workers=1, multiprocessing_context="spawn"))
    assert [b[1].tolist() for b in spawned] == [[0, 1, 2, 3], [4, 5]]
    assert spawned[0][0].dtype == polytorch.float32


class Dies(Dataset):
    def __getitem__(self, i):
        os._exit(3)

    def __len__(self):
        return 4


@forking
def test_dead_worker_is_reported():
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) .*exited unexpected"):
        list(DataLoader(Dies(), batch_size=2, **FORK))
