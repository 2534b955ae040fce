"""polytorch.save / polytorch.load: round trips, PyTorch interop through safetensors, and
every bad file (truncated, flipped bytes, forged header length, pickles, failed saves)."""

from __future__ import annotations

import collections
import io
import os
import pickle
import tracemalloc

import numpy as np
import pytest
import torch
from helpers import PT, TO, host, supported_dtypes
from safetensors.torch import load_file, save_file

import polytorch
from polytorch.serialization import CheckpointError

INTERCHANGE = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
               "float32", "float64", "complex64"]


def _values(name, shape, seed=0):
    rng = np.random.default_rng(seed)
    if name == "bool":
        return rng.random(shape) > 0.5
    if name in ("uint8",):
        return rng.integers(0, 255, shape).astype(name)
    if name.startswith("int"):
        return rng.integers(-100, 100, shape).astype(name)
    if name.startswith("complex"):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(name)
    if name == "bfloat16":
        return rng.standard_normal(shape).astype("float32")
    return rng.standard_normal(shape).astype(name)


def _state_dict(device, names):
    sd = collections.OrderedDict()
    shapes = [(3, 4), (), (0, 2), (5,)]
    for i, name in enumerate(names):
        sd[f"layer{i}.weight"] = polytorch.tensor(_values(name, shapes[i % 4], i), dtype=PT[name],
                                                  device=device)
    return sd


def _same(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, polytorch.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape and a.device == b.device
        assert a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(host(a), host(b))
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b)
    else:
        assert a == b


def _names(device):
    have = supported_dtypes(device)
    return [n for n in INTERCHANGE + ["complex128"] if n in have]


# -- round trips -----------------------------------------------------------------------


def test_state_dict_round_trip(device, tmp_path):
    sd = _state_dict(device, _names(device))
    path = tmp_path / "model.safetensors"
    polytorch.save(sd, path)
    back = polytorch.load(path, map_location=device)
    assert isinstance(back, collections.OrderedDict)
    _same(sd, back)
    # A file object works as well as a path; a plain dict stays a plain dict.
    buf = io.BytesIO()
    polytorch.save(dict(sd), buf)
    buf.seek(0)
    back = polytorch.load(buf, map_location=polytorch.device(device))
    assert type(back) is dict
    _same(dict(sd), back)


def test_nested_structure_round_trip(device, tmp_path):
    w = polytorch.ones(2, 3, device=device, requires_grad=True)
    step = polytorch.tensor(3.0, device=device)
    shared = polytorch.arange(4, device=device)
    state = {
        "state": {0: {"step": step, "exp_avg": w.detach() * 2, "idx": shared},
                  1: {"momentum_buffer": None, "idx": shared}},
        "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-8, "amsgrad": False,
                          "foreach": None, "params": [0, 1], "name": "group-é",
                          "inf": float("inf"), "nan": float("nan"), "big": 2**70,
                          "z": 1 - 2j, "dtype": polytorch.float16}],
        "weights": [w, (np.arange(6, dtype=np.uint16).reshape(2, 3), np.float32(0.25),
                        np.complex128(1j), np.array(1.5j), np.array([], dtype=np.int8))],
        "size": polytorch.Size([2, 3]),
        "empty": {}, "nothing": [], "unit": (),
    }
    path = tmp_path / "optim.safetensors"
    polytorch.save(state, str(path))
    back = polytorch.load(path, map_location=device)
    _same(state, back)
    assert type(back["size"]) is polytorch.Size
    assert back["weights"][0].requires_grad and back["weights"][0].is_leaf
    # one tensor referenced twice loads as one tensor
    assert back["state"][0]["idx"] is back["state"][1]["idx"]
    # scalars and empty containers at the top level
    for obj in (polytorch.tensor(7, device=device), 3, "text", None, [], {"a": 1.5}):
        polytorch.save(obj, path)
        _same(obj, polytorch.load(path, map_location=device))


def test_tied_state_dict_keeps_every_key(device, tmp_path):
    # Tied weights: PyTorch's loader must still see each key; polytorch restores the tie.
    w = polytorch.ones(2, 2, device=device)
    path = tmp_path / "tied.safetensors"
    polytorch.save({"emb.weight": w, "head.weight": w}, path)
    assert sorted(load_file(path)) == ["emb.weight", "head.weight"]
    back = polytorch.load(path, map_location=device)
    assert back["emb.weight"] is back["head.weight"]


def test_map_location_forms(device, tmp_path):
    path = tmp_path / "m.safetensors"
    polytorch.save({"a": polytorch.ones(2, device=device)}, path)
    assert polytorch.load(path)["a"].device == polytorch.device("cpu")  # the default device
    polytorch.set_default_device(device)
    assert polytorch.load(path)["a"].device == polytorch.device(device)
    polytorch.set_default_device(None)
    assert polytorch.load(path, map_location={"cpu": device})["a"].device == \
        polytorch.device(device)
    seen = []

    def to_device(t, location):
        seen.append(location)
        return t.to(device)

    assert polytorch.load(path, map_location=to_device)["a"].device == polytorch.device(device)
    assert seen == ["cpu"]
    assert polytorch.load(path, map_location=lambda t, loc: device)["a"].device == \
        polytorch.device(device)
    with pytest.raises(TypeError, match="map_location"):
        polytorch.load(path, map_location=3)


# -- PyTorch interop -------------------------------------------------------------------


def test_state_dict_loads_in_pytorch(device, tmp_path):
    names = [n for n in _names(device) if n in INTERCHANGE]
    sd = _state_dict(device, names)
    path = tmp_path / "to_torch.safetensors"
    polytorch.save(sd, path)
    theirs = load_file(path)
    assert sorted(theirs) == sorted(sd)
    for k, v in sd.items():
        assert theirs[k].dtype == TO[str(v.dtype).split(".")[-1]]
        assert tuple(theirs[k].shape) == tuple(v.shape)
        np.testing.assert_array_equal(host(theirs[k]), host(v))


def test_pytorch_file_loads_in_polytorch(device, tmp_path):
    have = supported_dtypes(device)
    names = [n for n in INTERCHANGE if n in have]
    theirs = {}
    for i, n in enumerate(names):
        v = torch.tensor(_values(n, (2, 3), i))
        theirs[f"block.{i}.w"] = v.to(TO[n])
    model = torch.nn.Linear(3, 2)
    theirs.update({f"lin.{k}": v for k, v in model.state_dict().items()})
    path = tmp_path / "from_torch.safetensors"
    save_file(theirs, path)
    ours = polytorch.load(path, map_location=device)
    assert sorted(ours) == sorted(theirs)
    for k, v in theirs.items():
        assert ours[k].dtype == PT[str(v.dtype).split(".")[-1]]
        assert ours[k].device == polytorch.device(device)
        np.testing.assert_array_equal(host(ours[k]), host(v))


def test_bfloat16_round_trip_and_cpu_refusal(tmp_path):
    x = polytorch.tensor([1.5, -2.25, 3e38], dtype=polytorch.bfloat16, device="cpu@jax")
    path = tmp_path / "bf16.safetensors"
    polytorch.save({"x": x}, path)
    assert load_file(path)["x"].dtype == torch.bfloat16
    np.testing.assert_array_equal(host(load_file(path)["x"]), host(x))
    _same({"x": x}, polytorch.load(path, map_location="cpu@jax"))
    with pytest.raises(CheckpointError, match="bf16.safetensors.*'x'.*bfloat16"):
        polytorch.load(path, map_location="cpu")  # the NumPy backend has no bfloat16


# -- bad files -----------------------------------------------------------------------


def _good_file(device, tmp_path):
    path = tmp_path / "good.safetensors"
    polytorch.save({"w": polytorch.ones(2, 2, device=device),
                    "meta": {"step": 3, "name": "x"}}, path)
    return path, path.read_bytes()


def test_truncated_files(device, tmp_path):
    path, data = _good_file(device, tmp_path)
    bad = tmp_path / "bad.safetensors"
    for n in sorted({0, 3, 7, 8, 9, 20, len(data) // 2, len(data) - 9, len(data) - 1}):
        bad.write_bytes(data[:n])
        with pytest.raises(CheckpointError, match="bad.safetensors"):
            polytorch.load(bad, map_location=device)


def test_every_flipped_byte_is_caught(device, tmp_path):
    path, data = _good_file(device, tmp_path)
    for i in range(len(data)):
        for mask in (0x01, 0xFF):
            flipped = bytearray(data)
            flipped[i] ^= mask
            src = io.BytesIO(bytes(flipped)) if i % 2 else _write(path, flipped)
            with pytest.raises(CheckpointError, match="BytesIO" if i % 2 else "good.safe"):
                polytorch.load(src, map_location=device)
    path.write_bytes(data)
    polytorch.load(path, map_location=device)  # the original still loads


def _write(path, data):
    path.write_bytes(bytes(data))
    return path


def test_forged_header_length_allocates_nothing(device, tmp_path):
    path, data = _good_file(device, tmp_path)
    forged = tmp_path / "forged.safetensors"
    for claim in (2**33, 2**63, len(data)):  # gigabytes, absurd, just past the end
        forged.write_bytes(claim.to_bytes(8, "little") + data[8:])
        tracemalloc.start()
        try:
            with pytest.raises(CheckpointError, match="forged.safetensors.*header"):
                polytorch.load(forged, map_location=device)
            assert tracemalloc.get_traced_memory()[1] < 1 << 20
        finally:
            tracemalloc.stop()
    # A header that forges a huge tensor shape is refused before any allocation too.
    n = int.from_bytes(data[:8], "little")
    header = data[8:8 + n].replace(b'"shape":[2,2]', b'"shape":[9999999999,99999]')
    head = header.ljust(n) if len(header) <= n else header
    forged.write_bytes(len(head).to_bytes(8, "little") + head + data[8 + n:])
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match="forged.safetensors"):
            polytorch.load(forged, map_location=device)
        assert tracemalloc.get_traced_memory()[1] < 1 << 20
    finally:
        tracemalloc.stop()


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch " + _Evil.marker,))


def test_pickles_are_refused_never_run(device, tmp_path):
    marker = tmp_path / "pwned"
    _Evil.marker = str(marker)
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps({"x": _Evil()}, protocol=2))
    zipped = tmp_path / "zipped.pt"
    torch.save({"w": torch.ones(2)}, zipped)
    for path in (raw, zipped):
        with pytest.raises(CheckpointError, match=f"{path.name}.*(pickle|zip)") as e:
            polytorch.load(path, map_location=device, weights_only=False)
        assert "never unpickles" in str(e.value)
    for proto in (0, 1):  # old protocols have no magic: refused as not safetensors
        raw.write_bytes(pickle.dumps({"x": _Evil()}, protocol=proto))
        with pytest.raises(CheckpointError, match="raw.pt"):
            polytorch.load(raw, map_location=device)
    assert not marker.exists()


def test_unknown_dtype_names_the_tensor(tmp_path):
    path = tmp_path / "u16.safetensors"
    save_file({"ok": torch.ones(2), "odd": torch.ones(2, dtype=torch.uint16)}, path)
    with pytest.raises(CheckpointError, match="u16.safetensors.*'odd'.*U16"):
        polytorch.load(path)


# -- atomic writes ----------------------------------------------------------------------


def _dir_listing(path):
    return sorted(os.listdir(path.parent))


def test_failed_save_leaves_previous_file(device, tmp_path, monkeypatch):
    path, data = _good_file(device, tmp_path)
    before = _dir_listing(path)
    # an unserializable object found late in the structure
    late = {"w": polytorch.ones(3, device=device), "z": [1, 2, {"f": lambda: 0}]}
    with pytest.raises(TypeError, match=r"function.*\['z'\]\['2'\]\['f'\]"):
        polytorch.save(late, path)
    assert path.read_bytes() == data and _dir_listing(path) == before
    with pytest.raises(TypeError, match="cannot store"):
        polytorch.save({"w": polytorch.ones(3, device=device), 1.5: object()}, path)
    assert path.read_bytes() == data and _dir_listing(path) == before
    # a write error halfway (disk full at fsync, then at the rename)
    import polytorch.serialization as S

    def fail(*args):
        raise OSError(28, "No space left on device")

    for name in ("fsync", "replace"):
        with monkeypatch.context() as m:
            m.setattr(S.os, name, fail)
            with pytest.raises(OSError, match="No space"):
                polytorch.save({"w": polytorch.zeros(3, device=device)}, path)
        assert path.read_bytes() == data and _dir_listing(path) == before
    polytorch.load(path, map_location=device)
    # and a successful save replaces it, leaving no temporary file either
    polytorch.save({"w": polytorch.zeros(3, device=device)}, path)
    assert _dir_listing(path) == before
    assert host(polytorch.load(path, map_location=device)["w"]).tolist() == [0, 0, 0]


def test_counter_round_trips_as_a_counter(tmp_path):
    """PyTorch's MultiStepLR state holds its milestones in a collections.Counter."""
    import collections

    state = {"milestones": collections.Counter({3: 1, 6: 2}), "od": collections.OrderedDict(a=1)}
    polytorch.save(state, tmp_path / "s.pt")
    back = polytorch.load(tmp_path / "s.pt")
    assert type(back["milestones"]) is collections.Counter
    assert back["milestones"] == state["milestones"]
    assert type(back["od"]) is collections.OrderedDict
    with pytest.raises(TypeError, match="defaultdict"):
        polytorch.save({"x": collections.defaultdict(int)}, tmp_path / "t.pt")
