"""The PyTorch compatibility layer: torch.cuda, torch.amp, torch.backends.* and process switches.

PyTorch (CPU build) is the oracle for signatures, defaults, warnings and what a
machine without CUDA answers; a fake backend serving device type ``cuda``
(array_api_strict's devices) stands in for a GPU so the device paths run here.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import polytorch
import polytorch._compat as compat
import polytorch.amp
import polytorch.cuda
import polytorch.cuda.amp
from polytorch import _random
from polytorch.testing._strict import StrictBackend

# -- helpers ---------------------------------------------------------------------------


def _default(value):
    """A default value comparable across libraries (dtypes by name)."""
    if isinstance(value, (torch.dtype, polytorch.dtype)):
        return str(value).split(".")[-1]
    return value


def assert_same_signature(ours, theirs):
    a, b = inspect.signature(ours).parameters, inspect.signature(theirs).parameters
    assert list(a) == list(b), (ours, list(a), list(b))
    for name in a:
        assert a[name].kind == b[name].kind, (ours, name)
        assert _default(a[name].default) == _default(b[name].default), (ours, name)


class FakeCudaBackend(StrictBackend):
    """array_api_strict's five devices, served as device type ``cuda``."""

    name = "fakecuda"
    device_types = ("cuda",)


@pytest.fixture
def fake_cuda():
    polytorch.backends.register("fakecuda", FakeCudaBackend, types=("cuda",))
    polytorch.backends.set_type_backend("cuda", "fakecuda")
    before = set(_random._defaults)
    try:
        yield
    finally:
        polytorch.cuda.set_device(0)
        for key in set(_random._defaults) - before:
            del _random._defaults[key]
        polytorch.backends.set_type_backend("cuda", None)
        polytorch.backends.unregister("fakecuda")


# -- torch.cuda ------------------------------------------------------------------------


def test_no_cuda_answers_like_a_cpu_build_of_pytorch():
    assert polytorch.cuda.is_available() is torch.cuda.is_available() is False
    assert polytorch.cuda.device_count() == torch.cuda.device_count() == 0
    assert polytorch.cuda.is_initialized() is False
    for fn in ("memory_allocated", "max_memory_allocated", "memory_reserved"):
        assert getattr(polytorch.cuda, fn)() == getattr(torch.cuda, fn)() == 0
    assert polytorch.cuda.is_bf16_supported() is torch.cuda.is_bf16_supported() is False
    # Seeding and emptying the cache are silent no-ops, as in PyTorch.
    polytorch.cuda.manual_seed(0)
    polytorch.cuda.manual_seed_all(0)
    polytorch.cuda.seed()
    polytorch.cuda.empty_cache()
    for fn in ("current_device", "synchronize", "get_device_name", "get_device_capability",
               "initial_seed", "mem_get_info", "init"):
        with pytest.raises(RuntimeError, match=rf"polytorch\.cuda\.{fn}\(\).*cupy.*not installed"):
            getattr(polytorch.cuda, fn)()
    with pytest.raises(RuntimeError, match="no CUDA device"):
        polytorch.cuda.set_device(0)


def test_is_available_imports_no_array_library():
    code = ("import sys, polytorch, polytorch.cuda\n"
            "assert not polytorch.cuda.is_available()\n"
            "polytorch.backends.cudnn.benchmark = True\n"
            "print(sorted(m for m in ('cupy', 'jax') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    assert out.strip() == "[]"


def test_signatures_match_pytorch():
    for name in ("is_available", "device_count", "current_device", "set_device",
                 "get_device_name", "get_device_capability", "synchronize", "empty_cache",
                 "manual_seed", "manual_seed_all", "memory_allocated", "max_memory_allocated",
                 "memory_reserved", "max_memory_reserved", "reset_peak_memory_stats",
                 "mem_get_info", "is_bf16_supported", "seed", "seed_all", "initial_seed",
                 "get_rng_state", "set_rng_state", "get_device_properties"):
        assert_same_signature(getattr(polytorch.cuda, name), getattr(torch.cuda, name))
    assert_same_signature(polytorch.amp.GradScaler.__init__, torch.amp.GradScaler.__init__)
    assert_same_signature(polytorch.cuda.amp.GradScaler.__init__,
                          torch.cuda.amp.GradScaler.__init__)
    assert_same_signature(polytorch.amp.autocast.__init__, torch.amp.autocast.__init__)
    assert_same_signature(polytorch.cuda.amp.autocast.__init__, torch.cuda.amp.autocast.__init__)
    for name in ("scale", "step", "update", "unscale_", "state_dict", "load_state_dict"):
        assert_same_signature(getattr(polytorch.amp.GradScaler, name),
                              getattr(torch.amp.GradScaler, name))
    assert_same_signature(polytorch.amp.custom_fwd, torch.amp.custom_fwd)
    assert_same_signature(polytorch.amp.custom_bwd, torch.amp.custom_bwd)
    assert_same_signature(polytorch.cuda.amp.custom_fwd, torch.cuda.amp.custom_fwd)
    for name in ("compile", "set_float32_matmul_precision", "use_deterministic_algorithms",
                 "get_float32_matmul_precision", "are_deterministic_algorithms_enabled"):
        assert_same_signature(getattr(compat, name), getattr(torch, name))
    assert_same_signature(polytorch.backends.cudnn.flags, torch.backends.cudnn.flags)


def test_a_backend_serving_cuda_answers(fake_cuda):
    cuda = polytorch.cuda
    assert cuda.is_available() and cuda.device_count() == 5
    assert cuda.current_device() == 0
    cuda.set_device("cuda:2")
    assert cuda.current_device() == 2
    with cuda.device(1):
        assert cuda.current_device() == 1
    assert cuda.current_device() == 2
    cuda.set_device(-1)  # PyTorch: a negative index is a no-op
    assert cuda.current_device() == 2
    cuda.set_device(polytorch.device("cuda", 0))
    assert cuda.current_device() == 0
    with pytest.raises(RuntimeError, match=r"set_device\(\): invalid device ordinal 7: 5"):
        cuda.set_device(7)
    with pytest.raises(ValueError, match="expected a cuda device, but got: cpu"):
        cuda.get_device_name("cpu")
    assert isinstance(cuda.get_device_name(), str) and cuda.get_device_name(1)
    cuda.synchronize()
    cuda.empty_cache()
    assert cuda.memory_allocated(0) == 0  # the strict arrays report no allocator statistics
    assert cuda.is_initialized()
    # bfloat16 is what the device holds: array_api_strict has no bfloat16.
    assert cuda.is_bf16_supported() is False


def test_cuda_seeding_drives_the_cuda_generators(fake_cuda):
    def draw(index):
        return polytorch.randn(6, device=f"cuda:{index}").cpu().numpy()

    expected = polytorch.randn(6, generator=polytorch.Generator("cuda:1").manual_seed(11),
                               device="cuda:1").cpu().numpy()
    polytorch.cuda.manual_seed_all(11)
    np.testing.assert_array_equal(draw(1), expected)
    polytorch.cuda.set_device(1)
    polytorch.cuda.manual_seed(11)  # the current device only
    np.testing.assert_array_equal(draw(1), expected)
    assert polytorch.cuda.initial_seed() == 11
    state = polytorch.cuda.get_rng_state("cuda:1")
    first = draw(1)
    polytorch.cuda.set_rng_state(state, "cuda:1")
    np.testing.assert_array_equal(draw(1), first)
    # The CPU generator is left alone.
    polytorch.manual_seed(3)
    cpu = polytorch.randn(6).numpy()
    polytorch.manual_seed(3)
    polytorch.cuda.manual_seed_all(5)
    np.testing.assert_array_equal(polytorch.randn(6).numpy(), cpu)


# -- torch.amp -------------------------------------------------------------------------


class CountingOptimizer:
    def __init__(self):
        self.steps = 0

    def step(self, closure=None):
        self.steps += 1
        return "stepped"


def _pair_scalers(enabled):
    """polytorch's and PyTorch's scaler, built under the same warnings filter."""
    with warnings.catch_warnings(record=True) as ours_w:
        warnings.simplefilter("always")
        ours = polytorch.amp.GradScaler("cuda", enabled=enabled)
    with warnings.catch_warnings(record=True) as theirs_w:
        warnings.simplefilter("always")
        theirs = torch.amp.GradScaler("cuda", enabled=enabled)
    return ours, theirs, ours_w, theirs_w


@pytest.mark.parametrize("enabled", [False, True])
def test_grad_scaler_passes_through_as_pytorch_without_cuda(enabled):
    ours, theirs, ours_w, theirs_w = _pair_scalers(enabled)
    assert [w.category for w in ours_w] == [w.category for w in theirs_w]
    if enabled:
        assert "Disabling" in str(ours_w[0].message) and ours_w[0].filename == __file__
    assert ours.is_enabled() is theirs.is_enabled() is False
    assert ours.state_dict() == theirs.state_dict() == {}
    assert ours.get_scale() == theirs.get_scale() == 1.0
    opt = CountingOptimizer()
    x = polytorch.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * x).sum()
    assert ours.scale(loss) is loss
    ours.scale(loss).backward()
    ours.unscale_(opt)
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])  # unscaled gradients
    assert ours.step(opt) == "stepped" and opt.steps == 1
    ours.update()
    ours.load_state_dict(ours.state_dict())
    assert ours.get_growth_interval() == 2000  # PyTorch's disabled scaler keeps none


def test_deprecated_cuda_amp_names_warn_as_pytorch():
    with pytest.warns(FutureWarning, match=r"polytorch\.amp\.GradScaler\('cuda'"):
        scaler = polytorch.cuda.amp.GradScaler(enabled=False)
    assert scaler.state_dict() == {}
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        polytorch.cuda.amp.GradScaler()
    assert [w.category for w in record] == [FutureWarning, UserWarning]
    messages = [str(w.message) for w in record]
    assert any("polytorch.cuda.amp.GradScaler is enabled" in m for m in messages), messages
    assert all(w.filename == __file__ for w in record)
    with pytest.warns(FutureWarning, match=r"polytorch\.amp\.autocast\('cuda'"):
        with polytorch.cuda.amp.autocast():
            pass


def test_autocast_is_an_accepted_no_op():
    x = polytorch.ones(2, 3)
    w = polytorch.ones(3, 4)
    with polytorch.amp.autocast("cuda", dtype=polytorch.float16):
        assert compat.is_autocast_enabled() is False
        assert (x @ w).dtype is polytorch.float32  # runs in the inputs' dtype

    @polytorch.amp.autocast("cpu")
    def f(a):
        return a * 2

    assert f(x).dtype is polytorch.float32
    assert compat.autocast is polytorch.amp.autocast
    assert polytorch.amp.autocast("cpu").fast_dtype is polytorch.bfloat16
    assert polytorch.amp.is_autocast_available("cuda") is False
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        polytorch.amp.autocast(0)
    with pytest.raises(ValueError, match="Expected `device_type` of type `str`"):
        torch.amp.autocast(0)
    with pytest.raises(TypeError, match="dtype must be a polytorch dtype"):
        polytorch.amp.autocast("cuda", dtype="float16")

    @polytorch.amp.custom_fwd(device_type="cuda")
    def g(a):
        return a

    assert g(1) == 1 and polytorch.amp.custom_bwd(g, device_type="cuda") is g


# -- torch.backends and process switches -----------------------------------------------


def test_backend_flags_are_accepted_and_restored():
    cudnn = polytorch.backends.cudnn
    for flag in ("enabled", "benchmark", "deterministic", "allow_tf32", "benchmark_limit"):
        assert getattr(cudnn, flag) == getattr(torch.backends.cudnn, flag), flag
    assert cudnn.is_available() is False and cudnn.version() is None
    cudnn.benchmark = True
    try:
        with cudnn.flags(enabled=True, deterministic=True):
            assert cudnn.deterministic and not cudnn.benchmark
        assert cudnn.benchmark and not cudnn.deterministic
    finally:
        cudnn.benchmark = False
    assert polytorch.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert polytorch.backends.cuda.is_built() is False
    with polytorch.backends.cuda.sdp_kernel(enable_flash=False):
        assert not polytorch.backends.cuda.flash_sdp_enabled()
    assert polytorch.backends.cuda.flash_sdp_enabled()


def test_matmul_precision_and_tf32_flag_agree_as_in_pytorch():
    ours_cuda, theirs_cuda = polytorch.backends.cuda, torch.backends.cuda
    try:
        for value in (True, False):
            ours_cuda.matmul.allow_tf32 = value
            theirs_cuda.matmul.allow_tf32 = value
            assert compat.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
        for precision in ("medium", "high", "highest"):
            compat.set_float32_matmul_precision(precision)
            torch.set_float32_matmul_precision(precision)
            assert ours_cuda.matmul.allow_tf32 == theirs_cuda.matmul.allow_tf32
            assert compat.get_float32_matmul_precision() == precision
        with pytest.warns(UserWarning, match="not one of 'highest', 'high', or 'medium'"):
            compat.set_float32_matmul_precision("low")
        assert compat.get_float32_matmul_precision() == "highest"
    finally:
        compat.set_float32_matmul_precision("highest")
        torch.set_float32_matmul_precision("highest")


def test_determinism_and_thread_switches():
    try:
        compat.use_deterministic_algorithms(True, warn_only=True)
        assert compat.are_deterministic_algorithms_enabled()
        assert compat.is_deterministic_algorithms_warn_only_enabled()
    finally:
        compat.use_deterministic_algorithms(False)
    assert not compat.are_deterministic_algorithms_enabled()
    assert compat.get_num_threads() >= 1
    saved = compat._state["num_threads"]
    try:
        compat.set_num_threads(3)
        assert compat.get_num_threads() == 3
    finally:
        compat._state["num_threads"] = saved
    for bad in (0, 1.5):
        with pytest.raises(RuntimeError) as theirs:
            torch.set_num_threads(bad)
        with pytest.raises(RuntimeError) as ours:
            compat.set_num_threads(bad)
        assert str(ours.value) == str(theirs.value)


def test_compile_returns_the_model_itself():
    def f(x):
        return x.sin()

    assert compat.compile(f) is f
    assert compat.compile(mode="max-autotune")(f) is f
    with pytest.raises(RuntimeError, match="must be callable"):
        compat.compile(3)


@pytest.mark.xfail(not hasattr(polytorch, "compile"), strict=True,
                   reason="polytorch/__init__.py does not import the compat layer yet")
def test_plain_import_exposes_the_compat_layer():
    code = ("import polytorch as torch\n"
            "torch.backends.cudnn.benchmark = True\n"
            "torch.backends.cuda.matmul.allow_tf32 = False\n"
            "assert torch.compile(print) is print and torch.autocast is torch.amp.autocast\n"
            "assert not torch.cuda.is_available() and not torch.backends.mps.is_available()\n"
            "torch.cuda.amp.GradScaler(enabled=False)\n"
            "torch.set_float32_matmul_precision('high')\n")
    subprocess.run([sys.executable, "-W", "ignore::FutureWarning", "-c", code], check=True,
                   timeout=120)
