"""Device strings (ARCHITECTURE §2): the parser, its errors, and the default device.

PyTorch's own ``torch.device`` is the oracle for the plain PyTorch spellings.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

import polytorch
from polytorch import DeviceError

HAS_CUPY = importlib.util.find_spec("cupy") is not None


def _strict_device_count() -> int:
    import array_api_strict

    return len(array_api_strict.__array_namespace_info__().devices())


# -- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, type_, index, backend",
    [
        ("cpu", "cpu", None, "numpy"),
        ("cuda", "cuda", None, "cupy"),
        ("cuda:0", "cuda", 0, "cupy"),
        ("cuda:1", "cuda", 1, "cupy"),
        ("tpu", "tpu", None, "jax"),
        ("tpu:3", "tpu", 3, "jax"),
        ("cpu@jax", "cpu", None, "jax"),
        ("cuda@jax", "cuda", None, "jax"),
        ("cuda:1@jax", "cuda", 1, "jax"),
        ("cpu@numpy", "cpu", None, "numpy"),
        ("strict:2", "strict", 2, "strict"),
    ],
)
def test_parse(spec, type_, index, backend):
    d = polytorch.device(spec)
    assert (d.type, d.index, d.backend) == (type_, index, backend)


@pytest.mark.parametrize("spec", ["cpu", "cuda", "cuda:0", "cuda:1", "cuda:12"])
def test_plain_pytorch_spellings_mean_what_they_mean_in_pytorch(spec):
    ours, theirs = polytorch.device(spec), torch.device(spec)
    assert (ours.type, ours.index) == (theirs.type, theirs.index)
    assert str(ours) == str(theirs)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("type_, index", [("cuda", 1), ("cuda", 0), ("cpu", None), ("cpu", 0)])
def test_type_and_index_arguments_like_torch(type_, index):
    ours, theirs = polytorch.device(type_, index), torch.device(type_, index)
    assert (ours.type, ours.index) == (theirs.type, theirs.index)
    assert str(ours) == str(theirs)


def test_device_of_device_and_backend_keyword():
    d = polytorch.device("cuda:1@jax")
    assert polytorch.device(d) is d
    k = polytorch.device("cuda", 1, backend="jax")
    assert k == d and str(k) == "cuda:1@jax"


@pytest.mark.parametrize(
    "spec",
    ["cpu", "cuda", "cuda:1", "cpu@jax", "cuda:1@jax", "cuda@jax", "tpu:0", "strict:3",
     "cpu@numpy"],
)
def test_str_round_trips_through_the_parser(spec):
    d = polytorch.device(spec)
    again = polytorch.device(str(d))
    assert again == d
    assert (again.type, again.index, again.backend) == (d.type, d.index, d.backend)
    assert str(again) == str(d)
    assert pickle.loads(pickle.dumps(d)) == d


def test_str_keeps_an_explicit_backend():
    assert str(polytorch.device("cpu@jax")) == "cpu@jax"
    assert str(polytorch.device("cuda:1@jax")) == "cuda:1@jax"
    assert str(polytorch.device("cuda:1")) == "cuda:1"


def test_str_round_trip_when_the_type_backend_is_configured():
    # With "cpu" served by jax, a device on cpu@numpy must still print as something that
    # parses back to cpu@numpy (not to bare "cpu", which now means cpu@jax).
    polytorch.backends.set_type_backend("cpu", "jax")
    try:
        d = polytorch.device("cpu@numpy")
        assert d.backend == "numpy"
        again = polytorch.device(str(d))
        assert again.backend == "numpy", f"str(device('cpu@numpy')) = {str(d)!r}"
        assert again == d
        j = polytorch.device("cpu")
        assert j.backend == "jax"
        assert polytorch.device(str(j)) == j
    finally:
        polytorch.backends.set_type_backend("cpu", None)


def test_equality_and_hashing():
    a, b = polytorch.device("cuda:1@jax"), polytorch.device("cuda", 1, backend="jax")
    assert a == b and not (a != b) and hash(a) == hash(b)
    assert polytorch.device("cpu") == polytorch.device("cpu@numpy")
    assert hash(polytorch.device("cpu")) == hash(polytorch.device("cpu@numpy"))
    assert polytorch.device("cpu") != polytorch.device("cpu@jax")
    assert polytorch.device("cuda:1") != polytorch.device("cuda:0")
    assert polytorch.device("cuda:1") != polytorch.device("cuda:1@jax")
    # As in PyTorch, "cuda" (no index) and "cuda:0" are different device objects.
    assert (polytorch.device("cuda") == polytorch.device("cuda:0")) == (
        torch.device("cuda") == torch.device("cuda:0")
    )
    table = {polytorch.device("cpu"): 1, polytorch.device("cpu@jax"): 2}
    assert table[polytorch.device("cpu@numpy")] == 1
    assert table[polytorch.device("cpu@jax")] == 2
    assert len({polytorch.device("cuda:1"), polytorch.device("cuda", 1)}) == 1


def test_tensor_device_is_the_parsed_device():
    t = polytorch.zeros(2, device="cpu@jax")
    assert isinstance(t.device, polytorch.device)
    assert t.device == polytorch.device("cpu@jax")
    assert t.device != polytorch.device("cpu")
    assert polytorch.zeros(2, device=polytorch.device("strict", 2)).device == polytorch.device(
        "strict:2")


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    ["", "cpu:", ":0", "cpu:x", "cuda:-1", "cpu@", "cpu@@jax", "cuda:1:2", "cu da", "cpu:0:jax",
     "@jax", "cuda 1"],
)
def test_invalid_string_is_an_error_naming_it(spec):
    with pytest.raises(RuntimeError) as info:  # torch.device raises RuntimeError too
        polytorch.device(spec)
    assert repr(spec) in str(info.value) or f"'{spec}'" in str(info.value)


def test_invalid_strings_are_also_invalid_in_torch():
    # The grammar is PyTorch's for plain spellings: torch rejects these as well.
    for spec in ["cpu:", ":0", "cpu:x", "cuda:1:2", "cuda 1"]:
        with pytest.raises(RuntimeError):
            torch.device(spec)


def test_index_given_twice_or_negative():
    with pytest.raises(RuntimeError):
        polytorch.device("cuda:1", 2)
    with pytest.raises(RuntimeError):
        polytorch.device("cuda", -1)
    with pytest.raises(RuntimeError):
        torch.device("cuda", -1)


def test_non_string_spec_is_a_type_error():
    with pytest.raises(TypeError):
        polytorch.device(1.5)
    with pytest.raises(TypeError):
        polytorch.device(["cpu"])


def test_unknown_type_lists_known_types():
    with pytest.raises(RuntimeError) as info:
        polytorch.device("nosuchtype:0")
    msg = str(info.value)
    assert "nosuchtype" in msg
    for known in ("cpu", "cuda", "tpu"):
        assert known in msg


def test_unknown_type_on_use():
    with pytest.raises(RuntimeError) as info:
        polytorch.zeros(1, device="nosuchtype")
    assert "nosuchtype" in str(info.value) and "cpu" in str(info.value)


def test_backend_not_registered_lists_registered():
    with pytest.raises(RuntimeError) as info:
        polytorch.device("cpu@nosuchbackend")
    msg = str(info.value)
    assert "nosuchbackend" in msg
    for name in ("numpy", "jax", "cupy"):
        assert name in msg


def test_index_out_of_range_on_use_lists_the_count():
    n = _strict_device_count()
    d = polytorch.device(f"strict:{n + 4}")  # parsing alone does not check the index
    assert d.index == n + 4
    with pytest.raises(RuntimeError) as info:
        polytorch.zeros(1, device=f"strict:{n + 4}")
    msg = str(info.value)
    assert str(n + 4) in msg
    assert str(n) in msg
    assert "strict" in msg


def test_index_just_past_the_end():
    n = _strict_device_count()
    polytorch.zeros(1, device=f"strict:{n - 1}")
    with pytest.raises(RuntimeError, match=str(n)):
        polytorch.zeros(1, device=f"strict:{n}")


def test_cpu_index_out_of_range():
    with pytest.raises(RuntimeError) as info:
        polytorch.zeros(1, device="cpu:3")
    assert "3" in str(info.value)


@pytest.mark.skipif(HAS_CUPY, reason="cupy is installed here")
@pytest.mark.parametrize("spec", ["cuda", "cuda:0", "cuda:1"])
def test_unavailable_backend_lists_devices_and_chains_import_error(spec):
    with pytest.raises(RuntimeError) as info:
        polytorch.zeros(1, device=spec)
    msg = str(info.value)
    assert spec in msg
    assert "cupy" in msg
    # The listing names the devices that do work here.
    assert "cpu" in msg and "cpu@jax" in msg
    assert isinstance(info.value.__cause__, ImportError)
    assert "cupy" in str(info.value.__cause__)


@pytest.mark.skipif(HAS_CUPY, reason="cupy is installed here")
def test_unavailable_backend_error_is_repeatable():
    for _ in range(2):
        with pytest.raises(RuntimeError) as info:
            polytorch.ones(2, device="cuda")
        assert isinstance(info.value.__cause__, ImportError)


def test_device_error_is_a_runtime_error():
    assert issubclass(DeviceError, RuntimeError)


# -- configuration -------------------------------------------------------------------------


def _run(code: str, **env) -> str:
    full = {k: v for k, v in os.environ.items()
            if k not in ("POLYTORCH_BACKENDS", "POLYTORCH_DEFAULT_DEVICE")}
    full.update(env)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=full, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_env_polytorch_backends_in_a_fresh_process():
    out = _run(
        "import polytorch\n"
        "d = polytorch.device('cpu')\n"
        "t = polytorch.zeros(2, device='cpu')\n"
        "u = polytorch.ones(2)\n"
        "n = polytorch.zeros(2, device='cpu@numpy')\n"
        "print(d.backend, t.device.backend, u.device.backend, n.device.backend)\n",
        POLYTORCH_BACKENDS="cpu=jax",
    )
    assert out.split() == ["jax", "jax", "jax", "numpy"]


def test_env_polytorch_default_device_in_a_fresh_process():
    out = _run(
        "import polytorch\n"
        "t = polytorch.zeros(2)\n"
        "print(t.device.type, t.device.backend, polytorch.get_default_device().backend)\n",
        POLYTORCH_DEFAULT_DEVICE="cpu@jax",
    )
    assert out.split() == ["cpu", "jax", "jax"]


def test_default_device_is_cpu_without_configuration():
    d = polytorch.get_default_device()
    assert d == polytorch.device("cpu")
    assert polytorch.zeros(1).device == polytorch.device("cpu")


def test_set_default_device():
    polytorch.set_default_device("cpu@jax")
    try:
        assert polytorch.get_default_device() == polytorch.device("cpu@jax")
        for t in (polytorch.zeros(2), polytorch.ones(2), polytorch.tensor([1.0]),
                  polytorch.arange(3), polytorch.full((2,), 3.0), polytorch.eye(2)):
            assert t.device == polytorch.device("cpu@jax")
        # An explicit device still wins.
        assert polytorch.zeros(1, device="cpu").device == polytorch.device("cpu")
        polytorch.set_default_device(polytorch.device("strict:2"))
        assert polytorch.zeros(1).device == polytorch.device("strict:2")
    finally:
        polytorch.set_default_device(None)
    assert polytorch.zeros(1).device == polytorch.device("cpu")


def test_device_context_manager():
    before = polytorch.get_default_device()
    with polytorch.device("cpu@jax") as d:
        assert d == polytorch.device("cpu@jax")
        assert polytorch.zeros(2).device == polytorch.device("cpu@jax")
        assert polytorch.tensor([1, 2]).device == polytorch.device("cpu@jax")
        with polytorch.device("strict:1"):
            assert polytorch.ones(1).device == polytorch.device("strict:1")
        assert polytorch.ones(1).device == polytorch.device("cpu@jax")
        assert polytorch.zeros(1, device="cpu").device == polytorch.device("cpu")
    assert polytorch.get_default_device() == before
    assert polytorch.zeros(2).device == polytorch.device("cpu")


def test_device_context_manager_restores_after_an_exception():
    with pytest.raises(ValueError):
        with polytorch.device("cpu@jax"):
            raise ValueError("inside")
    assert polytorch.zeros(1).device == polytorch.device("cpu")


def test_same_device_object_entered_twice():
    d = polytorch.device("cpu@jax")
    with d:
        with d:
            assert polytorch.zeros(1).device == d
        assert polytorch.zeros(1).device == d
    assert polytorch.zeros(1).device == polytorch.device("cpu")


def test_set_type_backend_and_restore():
    polytorch.backends.set_type_backend("cpu", "jax")
    try:
        assert polytorch.device("cpu").backend == "jax"
        t = polytorch.zeros(2, device="cpu")
        assert t.device.backend == "jax" and t.device.type == "cpu"
        assert polytorch.tensor([1.0, 2.0], device="cpu").device.backend == "jax"
    finally:
        polytorch.backends.set_type_backend("cpu", None)
    assert polytorch.device("cpu").backend == "numpy"
    assert polytorch.zeros(2, device="cpu").device.backend == "numpy"


def test_set_type_backend_applies_to_the_default_device():
    # A script that names no device at all uses "cpu"; configuring which backend
    # serves "cpu" must apply to it as well, even if a tensor was created before.
    polytorch.zeros(1)
    polytorch.backends.set_type_backend("cpu", "jax")
    try:
        assert polytorch.zeros(2).device.backend == "jax"
    finally:
        polytorch.backends.set_type_backend("cpu", None)
    assert polytorch.zeros(2).device.backend == "numpy"


def test_set_type_backend_unknown_backend():
    with pytest.raises(RuntimeError) as info:
        polytorch.backends.set_type_backend("cpu", "nosuchbackend")
    assert "nosuchbackend" in str(info.value) and "numpy" in str(info.value)
    assert polytorch.device("cpu").backend == "numpy"


def test_tensor_device_index_is_filled_in_like_torch():
    # torch.zeros(1, device="cuda").device is cuda:0; a cpu tensor's device has no index.
    assert polytorch.zeros(1, device="strict").device.index == 0
    assert polytorch.zeros(1, device="strict").device == polytorch.device("strict:0")
    assert polytorch.zeros(1, device="cpu").device.index is None
    assert torch.zeros(1, device="cpu").device.index is None
    assert polytorch.zeros(1, device="cpu@jax").device.index is None


def test_copies_to_jax_never_share_the_host_buffer():
    """jax.device_put may alias an aligned NumPy buffer (Note [device_put may alias host
    memory] in polytorch/backends/_jax.py): writes to the source must not show through."""
    pytest.importorskip("jax")
    for n in (1000, 4096, 100_000) * 10:  # aliasing is intermittent: ~1 in 3 without the fix
        src = polytorch.zeros(n)
        moved = src.to("cpu@jax")
        arr = np.zeros(n, dtype=np.float32)
        made = polytorch.tensor(arr, device="cpu@jax")
        src.add_(1)
        arr += 1
        assert float(moved.sum()) == 0.0 and float(made.sum()) == 0.0
