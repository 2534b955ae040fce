"""``DataLoader``: batches from a dataset, in this process or in worker processes.

Note [Tensors across worker processes]
Worker processes send batches back through multiprocessing queues. polytorch
tensors refuse ordinary pickling (they are not saved that way), so this module
registers a reducer with multiprocessing's ``ForkingPickler`` only, as
``torch.multiprocessing`` does: a tensor crosses as a NumPy array plus its dtype,
device string and ``requires_grad``, and is re-wrapped on the receiving side (on
the same device). The same reducer carries tensors inside a dataset to workers
started with "spawn" or "forkserver".

Workers are forked where that is safe (the platform's default start method),
but once JAX has started its runtime in this process -- JAX is multithreaded and
warns that a fork may deadlock -- the default becomes "spawn". Pass
``multiprocessing_context`` to choose.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import queue
import random
import sys
import time
import traceback
from multiprocessing.reduction import ForkingPickler

import numpy as np

from ..._tensor import Tensor, _wrap
from ._collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler

__all__ = ["DataLoader", "WorkerInfo", "get_worker_info"]

_POLL_S = 2.0  # how often a waiting loader checks that its workers are alive


# -- tensors through multiprocessing (Note [Tensors across worker processes]) -----------


def _rebuild_tensor(array, dtype_name, device, requires_grad):
    from ... import _dtype as D
    from ..._device import resolve

    dev, backend = resolve(device)
    t = _wrap(backend.from_numpy(array, dev._native, copy=False), dev, getattr(D, dtype_name))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _reduce_tensor(t: Tensor):
    arr = np.asarray(t._device._impl[1].to_numpy(t.detach()._data))
    return _rebuild_tensor, (arr, t.dtype.name, str(t.device), t.requires_grad)


ForkingPickler.register(Tensor, _reduce_tensor)


# -- worker side -----------------------------------------------------------------------


class WorkerInfo:
    """What a worker process knows about itself: ``id``, ``num_workers``, ``seed``, ``dataset``."""

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            object.__setattr__(self, k, v)
        object.__setattr__(self, "_keys", tuple(kwargs))

    def __setattr__(self, key, val):
        raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")

    def __repr__(self):
        items = ", ".join(f"{k}={getattr(self, k)}" for k in self._keys)
        return f"{self.__class__.__name__}({items})"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker process, its ``WorkerInfo``; in the main process, None.

    Example:
        >>> class Shard(IterableDataset):
        ...     def __iter__(self):
        ...         info = get_worker_info()
        ...         k, n = (0, 1) if info is None else (info.id, info.num_workers)
        ...         return iter(range(k, 100, n))
    """
    return _worker_info


class _ExceptionWrapper:
    """An exception raised in a worker, re-raised in the main process naming the worker."""

    def __init__(self, exc: BaseException, where: str):
        self.exc_type = type(exc)
        self.msg = f"Caught {type(exc).__name__} {where}.\nOriginal {traceback.format_exc()}"

    def reraise(self):
        try:
            exc = self.exc_type(self.msg)
        except Exception:  # an exception type that takes other arguments
            raise RuntimeError(self.msg) from None
        raise exc


class _WorkerDone:
    """A worker's answer once its IterableDataset copy is exhausted."""

    def __init__(self, worker_id: int):
        self.worker_id = worker_id


class _Fetcher:
    def __init__(self, dataset, iterable: bool, auto_collation: bool, collate_fn, drop_last):
        self.dataset = dataset
        self.iterable = iterable
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.it = None
        self.ended = False

    def reset(self):
        self.it = None
        self.ended = False

    def fetch(self, index):
        """The next batch; StopIteration when an iterable dataset is exhausted."""
        if not self.iterable:
            if self.auto_collation:
                getitems = getattr(self.dataset, "__getitems__", None)
                data = getitems(index) if callable(getitems) else [self.dataset[i] for i in index]
            else:
                data = self.dataset[index]
            return self.collate_fn(data)
        if self.ended:
            raise StopIteration
        if self.it is None:
            self.it = iter(self.dataset)
        if self.auto_collation:
            data = []
            for _ in index:
                try:
                    data.append(next(self.it))
                except StopIteration:
                    self.ended = True
                    break
            if not data or (self.drop_last and len(data) < len(index)):
                self.ended = True
                raise StopIteration
        else:
            try:
                data = next(self.it)
            except StopIteration:
                self.ended = True
                raise
        return self.collate_fn(data)


def _worker_loop(fetcher: _Fetcher, index_queue, result_queue, seed, init_fn, worker_id,
                 num_workers):
    global _worker_info
    from ... import manual_seed

    random.seed(seed)
    manual_seed(seed)
    _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                              dataset=fetcher.dataset)
    where = f"in DataLoader worker process {worker_id}"
    init_error = None
    try:
        if init_fn is not None:
            init_fn(worker_id)
    except Exception as e:
        init_error = _ExceptionWrapper(e, where)
    parent, epoch = os.getppid(), None
    try:
        while True:
            try:
                task = index_queue.get(timeout=_POLL_S)
            except queue.Empty:
                if os.getppid() != parent:  # the loader's process is gone
                    break
                continue
            if task is None:
                break
            task_epoch, idx, index = task
            if task_epoch != epoch:  # a new epoch restarts an iterable dataset
                epoch = task_epoch
                fetcher.reset()
            if init_error is not None:
                data, init_error = init_error, None
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    data = _WorkerDone(worker_id)
                except Exception as e:
                    data = _ExceptionWrapper(e, where)
            result_queue.put((task_epoch, idx, data))
            del data
    except KeyboardInterrupt:
        pass
    result_queue.cancel_join_thread()
    result_queue.close()


# -- the loader ------------------------------------------------------------------------


class _InfiniteConstantSampler:
    """The sampler of an IterableDataset: ``None`` forever (the dataset decides)."""

    def __iter__(self):
        while True:
            yield None


def _jax_started() -> bool:
    xb = sys.modules.get("jax._src.xla_bridge")
    return bool(xb is not None and getattr(xb, "_backends", None))


class DataLoader:
    """Iterate over ``dataset`` in batches, as ``torch.utils.data.DataLoader``.

    Args mirror PyTorch's: ``batch_size`` (None disables batching), ``shuffle``
    (a ``RandomSampler`` drawing from ``generator``), ``sampler``, ``batch_sampler``,
    ``num_workers`` (worker processes; Note [Tensors across worker processes]),
    ``collate_fn`` (``default_collate``), ``drop_last``, ``timeout``,
    ``worker_init_fn``, ``multiprocessing_context``, ``prefetch_factor``,
    ``persistent_workers``. ``pin_memory`` and ``pin_memory_device`` are accepted and
    do nothing: array-API backends have no pinned host memory to use.

    Example:
        >>> ds = TensorDataset(polytorch.randn(100, 3), polytorch.randint(0, 2, (100,)))
        >>> loader = DataLoader(ds, batch_size=32, shuffle=True,
        ...                     generator=polytorch.Generator().manual_seed(0))
        >>> len(loader)
        4
    """

    _initialized = False

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None and num_workers == 0:
            raise ValueError(f"multiprocessing_context can only be used with multi-process "
                             f"loading (num_workers > 0), but got num_workers={num_workers}")
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in {False, None}:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._iterator = None
        self._initialized = True

    def __setattr__(self, attr, val):
        if self._initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last",
                                          "dataset", "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after "
                             f"{self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def _fetcher(self) -> _Fetcher:
        return _Fetcher(self.dataset, self._iterable, self._auto_collation, self.collate_fn,
                        self.drop_last)

    def _base_seed(self) -> int:
        from ... import int64, randint

        return int(randint(0, 2**63 - 1, (), dtype=int64, generator=self.generator).item())

    def _mp_context(self):
        ctx = self.multiprocessing_context
        if ctx is None:
            return multiprocessing.get_context("spawn" if _jax_started() else None)
        if isinstance(ctx, str):
            return multiprocessing.get_context(ctx)
        return ctx

    def __iter__(self):
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if self.persistent_workers:
            if self._iterator is None:
                self._iterator = _MultiProcessIter(self)
            else:
                self._iterator._reset(self)
            return self._iterator
        return _MultiProcessIter(self)

    def __len__(self) -> int:
        if self._iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                if self.drop_last:
                    length = length // self.batch_size
                else:
                    length = -(-length // self.batch_size)
            return length
        return len(self._index_sampler)


class _SingleProcessIter:
    def __init__(self, loader: DataLoader):
        loader._base_seed()  # drawn as PyTorch does, so shuffles match num_workers > 0
        self._sampler_iter = iter(loader._index_sampler)
        self._fetcher = loader._fetcher()

    def __iter__(self):
        return self

    def __next__(self):
        index = next(self._sampler_iter)
        return self._fetcher.fetch(index)


class _MultiProcessIter:
    """Workers fetch and collate; results are handed out in sampler order."""

    def __init__(self, loader: DataLoader):
        ctx = loader._mp_context()
        self._num_workers = n = loader.num_workers
        self._prefetch = loader.prefetch_factor
        self._timeout = loader.timeout
        self._persistent = loader.persistent_workers
        self._result_queue = ctx.Queue()
        self._index_queues, self._workers = [], []
        self._shutdown_done = False
        self._epoch = 0
        seed = loader._base_seed()
        fetcher = loader._fetcher()
        try:
            for i in range(n):
                q = ctx.Queue()
                q.cancel_join_thread()
                w = ctx.Process(target=_worker_loop, daemon=True,
                                args=(fetcher, q, self._result_queue, seed + i,
                                      loader.worker_init_fn, i, n))
                w.start()
                self._index_queues.append(q)
                self._workers.append(w)
        except BaseException:
            self._shutdown()
            raise
        self._reset(loader, first=True)

    def _reset(self, loader, first=False):
        if not first:
            loader._base_seed()
        self._epoch += 1
        self._sampler_iter = iter(loader._index_sampler)
        self._send_idx = 0
        self._rcvd_idx = 0
        self._tasks = {}  # send index -> [worker id] or [worker id, data]
        self._active = [True] * self._num_workers
        self._cycle = itertools.cycle(range(self._num_workers))
        for _ in range(self._prefetch * self._num_workers):
            self._put_index()

    def _put_index(self):
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):
            wid = next(self._cycle)
            if self._active[wid]:
                break
        else:
            return
        self._index_queues[wid].put((self._epoch, self._send_idx, index))
        self._tasks[self._send_idx] = [wid]
        self._send_idx += 1

    def __iter__(self):
        return self

    def __next__(self):
        while True:
            while self._rcvd_idx < self._send_idx:
                task = self._tasks.get(self._rcvd_idx)
                if task is not None and (len(task) == 2 or self._active[task[0]]):
                    break
                self._tasks.pop(self._rcvd_idx, None)  # its worker's dataset ran out
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown()
                raise StopIteration
            task = self._tasks[self._rcvd_idx]
            if len(task) == 2:
                del self._tasks[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._hand_out(task[1])
            epoch, idx, data = self._get()
            if epoch != self._epoch or idx not in self._tasks:
                continue  # a stale answer from an abandoned epoch
            if isinstance(data, _WorkerDone):
                self._active[data.worker_id] = False
                del self._tasks[idx]
                continue
            if idx != self._rcvd_idx:
                self._tasks[idx].append(data)
                continue
            del self._tasks[idx]
            self._rcvd_idx += 1
            return self._hand_out(data)

    def _hand_out(self, data):
        self._put_index()
        if isinstance(data, _ExceptionWrapper):
            data.reraise()
        return data

    def _get(self):
        start = time.monotonic()
        while True:
            wait = _POLL_S if not self._timeout else min(_POLL_S, self._timeout)
            try:
                return self._result_queue.get(timeout=wait)
            except queue.Empty:
                pass
            if self._timeout and time.monotonic() - start >= self._timeout:
                self._shutdown()
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
            dead = [str(w.pid) for w in self._workers if not w.is_alive()]
            if dead:
                self._shutdown()
                raise RuntimeError(f"DataLoader worker (pid(s) {', '.join(dead)}) exited "
                                   f"unexpectedly")

    def _shutdown(self):
        if self._shutdown_done:
            return
        self._shutdown_done = True
        for q in self._index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        for w in self._workers:
            w.join(timeout=5)
            if w.is_alive():
                w.terminate()
                w.join(timeout=5)
        for q in self._index_queues:
            q.close()
        self._result_queue.cancel_join_thread()
        self._result_queue.close()

    def __del__(self):
        try:
            self._shutdown()
        except Exception:  # interpreter teardown: nothing left to clean
            pass
