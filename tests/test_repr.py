"""``repr`` of CPU tensors against PyTorch's, character for character.

Both tensors are built from the same NumPy array; the only allowed difference is the
module name in dtypes (``polytorch.float64`` vs ``torch.float64``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import polytorch


def _nan_inf(a: np.ndarray) -> np.ndarray:
    a = a.copy()
    flat = a.reshape(-1)
    flat[::3] = np.nan
    flat[1::5] = np.inf
    flat[2::7] = -np.inf
    return a


def _cases():
    r = np.random.default_rng(1234)
    normal = lambda shape, scale=1.0, dt=np.float32: (r.standard_normal(shape) * scale).astype(dt)  # noqa: E731
    ints = lambda shape, lo, hi, dt: r.integers(lo, hi, shape).astype(dt)  # noqa: E731
    c = {}
    # floats of various magnitudes and shapes
    for shape in [(), (5,), (3, 4), (2, 3, 4), (50, 50), (2000,), (2, 3, 200), (3, 40)]:
        tag = "x".join(map(str, shape)) or "0d"
        c[f"normal-{tag}"] = normal(shape)
        c[f"tiny-{tag}"] = normal(shape, 1e-6)
        c[f"huge-{tag}"] = normal(shape, 1e9)
        c[f"intvalued-{tag}"] = ints(shape, -1000, 1000, np.float32)
        c[f"float64-{tag}"] = normal(shape, 1e3, np.float64)
        c[f"float16-{tag}"] = normal(shape, 100.0, np.float16)
        c[f"int64-{tag}"] = ints(shape, -10**12, 10**12, np.int64)
        c[f"bool-{tag}"] = ints(shape, 0, 2, bool)
        c[f"complex64-{tag}"] = (normal(shape) + 1j * normal(shape)).astype(np.complex64)
    c["mixed-magnitudes"] = (normal((4, 6), 1.0, np.float64) * 10.0 ** r.integers(-8, 9, (4, 6)))
    c["negatives"] = -np.abs(normal((3, 5)))
    c["nan-inf"] = _nan_inf(normal((4, 5)))
    c["nan-inf-intvalued"] = _nan_inf(ints((3, 7), -5, 5, np.float32))
    c["nan-inf-sci"] = _nan_inf(normal((10,), 1e-7))
    c["nan-inf-summarized"] = _nan_inf(normal((40, 40)))
    c["nan-only"] = np.full((3,), np.nan, np.float32)
    c["zeros"] = np.zeros((2, 3), np.float32)
    c["neg-zeros"] = np.array([-0.0, 1.5, 0.0], np.float32)
    c["neg-zero-intvalued"] = np.array([-0.0, 2.0], np.float32)
    for v in [0.0, -0.0, 1.0, -1.5, 1e-5, 1e10, np.nan, np.inf, -np.inf, 123456789.0]:
        c[f"scalar-{v}"] = np.array(v, np.float32)
    c["scalar-int"] = np.array(7)
    c["scalar-bool"] = np.array(False)
    c["scalar-complex"] = np.array(1.5 - 2j, np.complex64)
    c["long-int"] = np.arange(2000)
    c["long-float"] = np.arange(2000, dtype=np.float32)
    c["wide-wrap"] = (np.arange(30.0) / 7).astype(np.float32)
    c["int32"] = ints((3, 4), -1000, 1000, np.int32)
    c["int16"] = ints((5,), -1000, 1000, np.int16)
    c["int8"] = ints((5,), -100, 100, np.int8)
    c["uint8"] = ints((2, 6), 0, 256, np.uint8)
    c["uint8-summarized"] = ints((40, 40), 0, 256, np.uint8)
    c["bool-all-true"] = np.ones((2, 3), bool)
    c["complex128"] = (normal((3, 3)) + 1j * normal((3, 3), 1e5)).astype(np.complex128)
    c["complex-intvalued"] = (ints((4,), -9, 9, np.float64)
                              + 1j * ints((4,), -9, 9, np.float64)).astype(np.complex64)
    c["complex-nan-inf"] = np.array([complex(1, np.nan), complex(np.inf, -1), complex(0, -0.0)],
                                    np.complex64)
    c["complex-summarized"] = (normal(3000, 1e4) + 1j * normal(3000)).astype(np.complex64)
    c["4d-summarized"] = normal((2, 8, 2, 40))
    c["sci-ratio-boundary"] = np.array([1.0, 1000.0], np.float32)
    c["sci-ratio-over"] = np.array([1.0, 1000.5], np.float32)
    c["sci-max-boundary"] = np.array([1e8, 1.0], np.float64)
    c["sci-min-boundary"] = np.array([1e-4, 1e-3], np.float64)
    c["rounding-widens"] = np.array([9.99996, 0.5, -99.99995], np.float64)
    for shape in [(0,), (0, 3), (2, 0, 3)]:
        for dt in (np.float32, np.float64, np.int64, bool, np.complex64, np.uint8):
            c[f"empty-{shape}-{np.dtype(dt).name}"] = np.zeros(shape, dt)
    return c


CASES = _cases()
GRAD_CASES = [k for k, v in CASES.items() if v.dtype in (np.float32, np.float64)]


def _same_repr(ours, theirs):
    assert repr(ours).replace("polytorch.", "torch.") == repr(theirs)


@pytest.mark.parametrize("name", list(CASES))
def test_repr_matches_torch(name):
    a = CASES[name]
    _same_repr(polytorch.tensor(a), torch.tensor(a))
    assert str(polytorch.tensor(a)) == repr(polytorch.tensor(a))


@pytest.mark.parametrize("name", GRAD_CASES[::3])
def test_repr_requires_grad(name):
    a = CASES[name]
    _same_repr(polytorch.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True))


@pytest.mark.parametrize("name", GRAD_CASES[::3])
def test_repr_grad_fn(name):
    a = CASES[name]
    ours = repr(polytorch.tensor(a, requires_grad=True) * 2).replace("polytorch.", "torch.")
    theirs = repr(torch.tensor(a, requires_grad=True) * 2)
    # grad_fn names are the autograd engine's business; the layout up to it must agree
    assert ours.split("grad_fn=<")[0] == theirs.split("grad_fn=<")[0]
    assert ("grad_fn=<" in ours) and ours.endswith(">)")


@pytest.fixture
def default_float64():
    old_torch, old_ours = torch.get_default_dtype(), polytorch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    polytorch.set_default_dtype(polytorch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old_torch)
        polytorch.set_default_dtype(old_ours)


@pytest.mark.parametrize("name", [k for k in CASES if k.startswith(
    ("normal-3x4", "float64-", "complex64-5", "complex128", "empty-(0,)", "empty-(0, 3)-float",
     "intvalued-5", "int64-5", "scalar-1.0", "scalar-complex"))])
def test_repr_with_default_float64(name, default_float64):
    a = CASES[name]
    _same_repr(polytorch.tensor(a), torch.tensor(a))
