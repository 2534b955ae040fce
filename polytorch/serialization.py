"""Checkpoints: ``save`` and ``load`` over safetensors, never pickle (ARCHITECTURE §7).

Note [Checkpoint format]
A checkpoint is a plain safetensors file. Every tensor (and NumPy array) is one
safetensors entry; everything else -- nesting, Python numbers, strings, None,
dtypes, which entries are NumPy arrays, ``requires_grad``, which references share
one tensor -- is JSON in the header's ``__metadata__`` under ``"polytorch"``:

* a top-level dict of tensors with string keys (a state dict) stores each tensor
  under its own key, so ``safetensors.torch.load_file`` returns the same dict;
  any other object stores its tensors under dotted paths (``state.0.exp_avg``);
* each value is encoded as a JSON scalar (null, true/false, an int, a finite
  float, a string) or as a one-key object whose key is a tag: ``T``/``A``
  (a tensor or NumPy array: the entry's name), ``d``/``od``/``ctr``
  (dict/OrderedDict/Counter as ``[key, value]`` pairs, keys encoded like values;
  Counter because PyTorch's scheduler state holds one), ``l``/``t`` (list/tuple),
  ``f`` (a non-finite float), ``c`` (a complex number), ``s`` (``Size``),
  ``dt`` (a polytorch dtype), ``n`` (a NumPy scalar);
* dtypes safetensors lacks are stored in one it has, with the true dtype in the
  metadata: complex128 as float64 with a trailing dimension of 2. bfloat16 is
  safetensors' own BF16 (raw bytes; it loads on backends that have bfloat16).

No device is written: ``load`` puts tensors on ``map_location`` (default: the
default device). ``"polytorch.sha256"`` is the SHA-256 of the whole file with
those 64 hex digits read as zeros, so a flipped byte anywhere -- length prefix,
header, padding or data -- is caught. ``load`` checks the header length against
the file's size before reading the header, and every entry's dtype, shape and
offsets against the data section, before it allocates anything per tensor.
"""

from __future__ import annotations

import collections
import hashlib
import json
import math
import os
import tempfile
from typing import Any

import numpy as np

from . import _dtype as D
from ._device import device as Device
from ._device import resolve
from ._tensor import Tensor, _wrap
from .ops.transfer import _check_dtype_supported

__all__ = ["save", "load", "CheckpointError"]

_FORMAT = 1
_MAX_HEADER = 100_000_000  # safetensors' own limit
_DIGEST_KEY = "polytorch.sha256"
_ZERO_DIGEST = "0" * 64

# safetensors dtype code -> (NumPy dtype or None for bfloat16, element size)
_CODES = {
    "BOOL": (np.dtype(np.bool_), 1), "U8": (np.dtype(np.uint8), 1), "I8": (np.dtype(np.int8), 1),
    "I16": (np.dtype(np.int16), 2), "U16": (np.dtype(np.uint16), 2),
    "I32": (np.dtype(np.int32), 4), "U32": (np.dtype(np.uint32), 4),
    "I64": (np.dtype(np.int64), 8), "U64": (np.dtype(np.uint64), 8),
    "F16": (np.dtype(np.float16), 2), "BF16": (None, 2), "F32": (np.dtype(np.float32), 4),
    "F64": (np.dtype(np.float64), 8), "C64": (np.dtype(np.complex64), 8),
}
# NumPy dtype name -> the name safetensors' TensorSpec takes
_SPEC_NAMES = {"bool": "bool", "uint8": "uint8", "int8": "int8", "int16": "int16",
               "uint16": "uint16", "int32": "int32", "uint32": "uint32", "int64": "int64",
               "uint64": "uint64", "float16": "float16", "bfloat16": "bfloat16",
               "float32": "float32", "float64": "float64", "complex64": "complex64"}
_CODE_TO_PT = {"BOOL": D.bool, "U8": D.uint8, "I8": D.int8, "I16": D.int16, "I32": D.int32,
               "I64": D.int64, "F16": D.float16, "BF16": D.bfloat16, "F32": D.float32,
               "F64": D.float64, "C64": D.complex64}


class CheckpointError(RuntimeError):
    """A file that is not a readable polytorch/safetensors checkpoint (names the file)."""


# -- save ----------------------------------------------------------------------------


class _Encoder:
    """Turns an object into (JSON structure, {entry name: host array}, per-entry info)."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self.info: dict[str, dict] = {}
        self._seen: dict[int, str] = {}  # id of a tensor/array -> its entry name
        self._keep: list = []  # keeps encoded objects alive so ids stay unique

    def _name(self, path) -> str:
        base = ".".join(path) if path else "tensor"
        name, n = base, 1
        while name in self.arrays:
            n += 1
            name = f"{base}#{n}"
        return name

    def array(self, obj, path, force_name=None):
        tag = "T" if isinstance(obj, Tensor) else "A"
        first = self._seen.get(id(obj))
        if first is not None and force_name is None:
            return {tag: first}
        host, info = _to_host(obj, path)
        name = force_name if force_name is not None else self._name(path)
        self.arrays[name] = host
        if info:
            self.info[name] = info
        if first is not None:  # a state dict key aliasing an earlier one: keep both entries
            return {tag: first}
        self._seen[id(obj)] = name
        self._keep.append(obj)
        return {tag: name}

    def encode(self, obj, path=()):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, (Tensor, np.ndarray)):
            return self.array(obj, path)
        if isinstance(obj, np.generic):
            return {"n": [obj.dtype.name, _plain(obj.item(), path)]}
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            v = float(obj)
            return v if math.isfinite(v) else {"f": repr(v)}
        if isinstance(obj, complex):
            return {"c": [repr(obj.real), repr(obj.imag)]}
        if isinstance(obj, D.dtype):
            return {"dt": obj.name}
        if isinstance(obj, dict):
            tag = _DICT_TAGS.get(type(obj))
            if tag is None:
                _refuse(obj, path)
            return {tag: [[self.encode(k, path + ("<key>",)), self.encode(v, path + (str(k),))]
                          for k, v in obj.items()]}
        if type(obj) is list:
            return {"l": [self.encode(v, path + (str(i),)) for i, v in enumerate(obj)]}
        if type(obj) is tuple:
            return {"t": [self.encode(v, path + (str(i),)) for i, v in enumerate(obj)]}
        if type(obj).__name__ == "Size" and isinstance(obj, tuple):
            return {"s": [int(v) for v in obj]}
        _refuse(obj, path)


_DICT_TYPES = {"d": dict, "od": collections.OrderedDict, "ctr": collections.Counter}
_DICT_TAGS = {cls: tag for tag, cls in _DICT_TYPES.items()}


def _plain(v, path):
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)
    if isinstance(v, complex):
        return [repr(v.real), repr(v.imag)]
    if isinstance(v, (bool, int, float)):
        return v
    _refuse(v, path)


def _refuse(obj, path):
    where = "".join(f"[{p!r}]" for p in path) or "the object"
    raise TypeError(
        f"polytorch.save cannot store an object of type {type(obj).__module__}."
        f"{type(obj).__qualname__} (at {where}): checkpoints hold tensors, NumPy arrays, "
        f"numbers, strings, None, dtypes and dicts/lists/tuples of them (never pickles)"
    )


def _to_host(obj, path) -> tuple[np.ndarray, dict]:
    info = {}
    if isinstance(obj, Tensor):
        t = obj.detach()
        host = np.asarray(t._device._impl[1].to_numpy(t._data))
        dt = obj.dtype
        if obj.requires_grad:
            info["rg"] = True
        if type(obj) is not Tensor and type(obj).__name__ == "Parameter":
            info["param"] = True
        if dt is D.complex128:
            info["dtype"] = "complex128"
    else:
        host = obj
        if host.dtype.name == "complex128":
            info["dtype"] = "complex128"
        elif host.dtype.byteorder == ">":
            host = host.astype(host.dtype.newbyteorder("<"))
        if host.dtype.name not in _SPEC_NAMES and host.dtype.name != "complex128":
            raise TypeError(
                f"polytorch.save cannot store a NumPy array of dtype {host.dtype} (at "
                f"{''.join(f'[{p!r}]' for p in path) or 'the object'})"
            )
    if not host.flags.c_contiguous:  # (np.ascontiguousarray would make 0-d arrays 1-d)
        host = host.copy(order="C")
    if "dtype" in info:  # complex128: float64 pairs
        host = host.reshape(host.shape + (1,)).view(np.float64)
    return host, info


def _serialize(obj) -> bytes:
    import safetensors

    enc = _Encoder()
    flat = (type(obj) in (dict, collections.OrderedDict) and len(obj) > 0
            and all(type(k) is str and k != "__metadata__" and isinstance(v, Tensor)
                    for k, v in obj.items()))
    if flat:
        tag = "od" if isinstance(obj, collections.OrderedDict) else "d"
        root = {tag: [[k, enc.array(v, (k,), force_name=k)] for k, v in obj.items()]}
    else:
        root = enc.encode(obj)
    structure = {"version": _FORMAT, "root": root, "info": enc.info}
    try:
        text = json.dumps(structure, allow_nan=False, separators=(",", ":"))
    except ValueError as e:  # a non-finite float where only JSON numbers go
        raise TypeError(f"polytorch.save: cannot encode the object: {e}") from None
    specs = {}
    for name, host in enc.arrays.items():
        specs[name] = safetensors.TensorSpec(
            dtype=_SPEC_NAMES[host.dtype.name], shape=list(host.shape),
            data_ptr=host.ctypes.data, data_len=host.nbytes)
    metadata = {"format": "pt", "polytorch": text, _DIGEST_KEY: _ZERO_DIGEST}
    data = bytearray(safetensors.serialize(specs, metadata=metadata))
    del enc  # the arrays had to stay alive through serialize (raw pointers)
    start = _digest_position(data, len(data))
    data[start:start + 64] = hashlib.sha256(data).hexdigest().encode()
    return bytes(data)


def _digest_position(buf, size) -> int:
    """Where the checksum's 64 hex digits start in the header (or -1)."""
    n = int.from_bytes(buf[:8], "little")
    key = f'"{_DIGEST_KEY}":"'.encode()
    header = bytes(buf[8:8 + n])
    i = header.find(key)
    if i < 0 or header.find(key, i + 1) >= 0:
        return -1
    return 8 + i + len(key)


def save(obj: Any, f) -> None:
    """Save ``obj`` (tensors, state dicts, optimizer state, nested containers) to ``f``.

    ``f`` is a path or a writable binary file object. A path is written atomically:
    a temporary file in the same directory, flushed and fsync'ed, then renamed over
    ``f``, so a save that fails leaves the previous file as it was. The file is a
    safetensors file (Note [Checkpoint format]); nothing is pickled.

    Example:
        >>> polytorch.save({"w": polytorch.ones(2)}, "ckpt.safetensors")
        >>> polytorch.load("ckpt.safetensors")
        {'w': tensor([1., 1.])}
    """
    data = _serialize(obj)
    if hasattr(f, "write") and not isinstance(f, (str, bytes, os.PathLike)):
        f.write(data)
        if hasattr(f, "flush"):
            f.flush()
        return
    path = os.fspath(f)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


# -- load ----------------------------------------------------------------------------


def _read(f, name) -> bytes:
    """The file's bytes, refusing before reading the header when its length is forged."""
    if hasattr(f, "read") and not isinstance(f, (str, bytes, os.PathLike)):
        head = f.read(8)
        _check_head(head, None, name)
        return head + f.read()
    with open(os.fspath(f), "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(8)
        _check_head(head, size, name)
        return head + fh.read()


def _check_head(head: bytes, size, name) -> None:
    if head[:2] == b"PK":
        raise CheckpointError(
            f"{name} is a zip archive (torch.save's format, which holds pickles); polytorch "
            f"never unpickles. Convert it with safetensors.torch.save_file(state_dict, path)")
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        raise CheckpointError(
            f"{name} is a Python pickle; polytorch never unpickles. Save tensors with "
            f"safetensors (safetensors.torch.save_file) or polytorch.save instead")
    if len(head) < 8:
        raise CheckpointError(
            f"{name} is truncated: {len(head)} bytes, shorter than a safetensors header")
    n = int.from_bytes(head, "little")
    if n > _MAX_HEADER or (size is not None and n > size - 8):
        have = "" if size is None else f" but the file has {size} bytes"
        raise CheckpointError(
            f"{name} is not a valid checkpoint: its header claims {n} bytes{have} "
            f"(truncated, corrupted or not a safetensors file)")


def _parse(buf: bytes, name):
    """Validate the whole layout: (metadata dict, {entry: (code, shape, begin, end)})."""
    n = int.from_bytes(buf[:8], "little")
    if n > len(buf) - 8:
        raise CheckpointError(f"{name} is truncated: its header claims {n} bytes but only "
                              f"{len(buf) - 8} follow")
    try:
        header = json.loads(buf[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{name} has a corrupted header ({e})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{name} has a corrupted header (not a JSON object)")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise CheckpointError(f"{name} has a corrupted header (__metadata__ is not str->str)")
    data_len = len(buf) - 8 - n
    entries, spans = {}, []
    for key, e in header.items():
        try:
            code, shape, (begin, end) = e["dtype"], e["shape"], e["data_offsets"]
            ok = (code in _CODES and isinstance(shape, list)
                  and all(type(s) is int and s >= 0 for s in shape)
                  and type(begin) is int and type(end) is int and 0 <= begin <= end)
        except (TypeError, KeyError, ValueError):
            ok = False
        if not ok:
            raise CheckpointError(f"{name} has a corrupted header entry for {key!r}: {e!r}"[:500])
        if end - begin != math.prod(shape) * _CODES[code][1]:
            raise CheckpointError(
                f"{name} is corrupted: tensor {key!r} of shape {shape} and dtype {code} "
                f"has {end - begin} bytes of data")
        entries[key] = (code, shape, begin, end)
        spans.append((begin, end))
    pos = 0
    for begin, end in sorted(spans):
        if begin != pos:
            raise CheckpointError(f"{name} is corrupted: tensor data overlaps or has holes")
        pos = end
    if pos != data_len:
        what = "truncated" if pos > data_len else "corrupted (trailing bytes)"
        raise CheckpointError(
            f"{name} is {what}: its header describes {pos} bytes of tensor data, "
            f"the file has {data_len}")
    return meta, entries, 8 + n


def _verify(buf: bytes, meta, name) -> None:
    digest = meta.get(_DIGEST_KEY)
    if digest is None:
        if "polytorch" in meta:  # ours, so the checksum must be there
            raise CheckpointError(f"{name} has a corrupted header (no checksum)")
        return  # written by another safetensors writer: the layout checks are all we have
    start = _digest_position(buf, len(buf))
    if start < 0 or buf[start:start + 64].decode("ascii", "replace") != digest:
        raise CheckpointError(f"{name} has a corrupted header (checksum field)")
    h = hashlib.sha256()
    h.update(memoryview(buf)[:start])
    h.update(_ZERO_DIGEST.encode())
    h.update(memoryview(buf)[start + 64:])
    if h.hexdigest() != digest:
        raise CheckpointError(
            f"{name} is corrupted: its SHA-256 checksum does not match its contents")


def _move(t: Tensor, dev) -> Tensor:
    return t if t.device == dev else t.to(dev)


def _build(host: np.ndarray, dt, dev, key, name) -> Tensor:
    backend = dev._impl[1]
    try:
        _check_dtype_supported(dt, dev)
    except TypeError as e:
        raise CheckpointError(
            f"{name}: tensor {key!r} cannot be loaded on '{dev}': {e}; pass map_location= "
            f"a device that has {dt.name}") from None
    return _wrap(backend.from_numpy(host, dev._native, copy=False), dev, dt)


def load(f, map_location=None, weights_only: bool = True, **kwargs) -> Any:
    """Load an object saved by ``save`` (or any safetensors file) from ``f``.

    ``map_location`` is a device (string or ``polytorch.device``), a dict mapping the
    saved location (always ``"cpu"``: no device is recorded) to a device, or a
    callable ``(tensor, "cpu") -> tensor | device | None``; by default tensors go to
    the default device. ``weights_only`` is accepted for PyTorch compatibility:
    polytorch never unpickles, whatever its value.

    Raises:
        CheckpointError: the file is truncated, corrupted (checksum), oversized,
            a pickle or a ``torch.save`` archive.

    Example:
        >>> sd = polytorch.load("model.safetensors", map_location="cpu@jax")
    """
    name = repr(os.fspath(f)) if isinstance(f, (str, bytes, os.PathLike)) else \
        f"checkpoint {getattr(f, 'name', type(f).__name__)!r}"
    if isinstance(f, (bytes, bytearray)):
        raise TypeError("load() expects a path or a binary file object, not bytes; wrap them "
                        "in io.BytesIO")
    buf = _read(f, name)
    meta, entries, base = _parse(buf, name)
    _verify(buf, meta, name)
    text = meta.get("polytorch")
    structure = None
    if text is not None:
        try:
            structure = json.loads(text)
            info = structure["info"]
            if structure.get("version") != _FORMAT or not isinstance(info, dict):
                raise ValueError("unknown version")
        except (ValueError, KeyError, TypeError) as e:
            raise CheckpointError(f"{name} has corrupted polytorch metadata ({e})") from None
    else:
        info = {}
    if not (map_location is None or isinstance(map_location, (str, Device, dict))
            or callable(map_location)):
        raise TypeError(f"map_location should be a device, a device string, a dict or a "
                        f"callable, got {type(map_location).__name__}")
    default_dev = resolve(None)[0]
    mapped = callable(map_location) and not isinstance(map_location, (str, Device, dict))
    hosts: dict[str, np.ndarray] = {}

    def host_of(key):
        if key not in hosts:
            if key not in entries:
                raise CheckpointError(f"{name}: metadata refers to a missing tensor {key!r}")
            code, shape, begin, end = entries[key]
            raw = buf[base + begin:base + end]
            if code == "BF16":
                import ml_dtypes

                arr = np.frombuffer(raw, dtype=ml_dtypes.bfloat16)
            else:
                arr = np.frombuffer(raw, dtype=_CODES[code][0].newbyteorder("<"))
            arr = arr.reshape(shape).copy()  # a writable array of its own
            if info.get(key, {}).get("dtype") == "complex128":
                if code != "F64" or not shape or shape[-1] != 2:
                    raise CheckpointError(f"{name}: tensor {key!r} is not float64 pairs")
                arr = arr.view(np.complex128).reshape(shape[:-1])
            hosts[key] = arr
        return hosts[key]

    tensors: dict[str, Tensor] = {}

    def tensor_of(key):
        if key not in tensors:
            arr = host_of(key)
            code = entries[key][0]
            dt = D.complex128 if arr.dtype == np.complex128 else _CODE_TO_PT.get(code)
            if dt is None:
                raise CheckpointError(
                    f"{name}: tensor {key!r} has dtype {code}, which polytorch does not have")
            if mapped:
                t = _build(arr, dt, _host_device(dt), key, name)
                out = map_location(t, "cpu")
                if isinstance(out, Tensor):
                    t = out
                else:
                    t = _move(t, default_dev if out is None else resolve(out)[0])
            else:
                t = _build(arr, dt, _target_device(map_location, default_dev), key, name)
            meta_t = info.get(key, {})
            if meta_t.get("rg"):
                t.requires_grad_(True)
            if meta_t.get("param"):
                t = _as_parameter(t)
            tensors[key] = t
        return tensors[key]

    if structure is None:
        return {key: tensor_of(key) for key in entries}
    try:
        return _decode(structure["root"], tensor_of, host_of)
    except CheckpointError:
        raise
    except (ValueError, KeyError, TypeError, IndexError) as e:
        raise CheckpointError(f"{name} has corrupted polytorch metadata ({e!r})") from None


def _target_device(map_location, default_dev):
    if map_location is None:
        return default_dev
    if isinstance(map_location, dict):
        target = map_location.get("cpu")
        return resolve(target)[0] if target is not None else default_dev
    return resolve(map_location)[0]


def _host_device(dt):
    """Where a tensor is built before a map_location callable sees it."""
    cpu = resolve("cpu")[0]
    if dt in cpu._dtypes:
        return cpu
    return resolve("cpu@jax")[0]  # bfloat16: the CPU backend that has it


def _as_parameter(t: Tensor) -> Tensor:
    try:
        from .nn import Parameter
    except ImportError:
        return t
    return Parameter(t, requires_grad=t.requires_grad)


def _decode(v, tensor_of, host_of):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, dict) and len(v) == 1:
        ((tag, x),) = v.items()
        if tag == "T":
            return tensor_of(x)
        if tag == "A":
            return host_of(x)
        if tag in _DICT_TYPES:
            pairs = {_decode(k, tensor_of, host_of): _decode(val, tensor_of, host_of)
                     for k, val in x}
            return pairs if tag == "d" else _DICT_TYPES[tag](pairs)
        if tag == "l":
            return [_decode(e, tensor_of, host_of) for e in x]
        if tag == "t":
            return tuple(_decode(e, tensor_of, host_of) for e in x)
        if tag == "f":
            return float(x)
        if tag == "c":
            return complex(float(x[0]), float(x[1]))
        if tag == "s":
            from ._tensor import Size

            return Size(int(e) for e in x)
        if tag == "dt":
            return D.BY_NAME[x] if x in D.BY_NAME else getattr(D, x)
        if tag == "n":
            dt, val = x
            if isinstance(val, list):
                val = complex(float(val[0]), float(val[1]))
            elif isinstance(val, str):
                val = float(val)
            return np.dtype(dt).type(val)
    raise ValueError(f"unknown value {v!r}"[:200])
