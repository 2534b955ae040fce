"""Convolution, pooling, padding, resampling, fold/unfold: against PyTorch, forward and gradients.

Every function is checked on cpu over a grid of arguments (float64, so that any
difference is a bug, not rounding); cpu@jax and strict:1 see a few representative
cases (JAX compiles per shape). The primitives are gradchecked directly, and the
native NumPy and JAX kernels are compared with the reference written over ``xp``.
"""

from __future__ import annotations

import inspect
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from helpers import host

import polytorch
import polytorch.nn as nn
import polytorch.nn.functional as F
from polytorch.ops.conv import col2im_op, im2col_op
from polytorch.testing import gradcheck, gradgradcheck


def _run(fn_name, shapes, kwargs, device="cpu", *, seed=0, dtype=np.float64, prep=None,
         rtol=1e-10, atol=1e-10, first_only=False):
    """Call ``F.<fn_name>`` on random inputs of ``shapes`` in polytorch and torch; compare
    results (indices exactly) and the gradients of every input."""
    rng = np.random.RandomState(seed)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    ours = [polytorch.tensor(a, device=device, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ins_o, ins_t = ours, theirs
    if prep is not None:
        ins_o, ins_t = prep(ours, polytorch), prep(theirs, torch)
    out_o = getattr(F, fn_name)(*ins_o, **kwargs)
    with warnings.catch_warnings():  # PyTorch's notes on its own kernels ('same' copies)
        warnings.simplefilter("ignore")
        out_t = getattr(TF, fn_name)(*ins_t, **kwargs)
    if isinstance(out_t, tuple):
        assert isinstance(out_o, tuple) and len(out_o) == len(out_t)
        np.testing.assert_array_equal(host(out_o[1]), out_t[1].numpy(), f"{fn_name} indices")
        assert out_o[1].dtype == polytorch.int64
        out_o, out_t = out_o[0], out_t[0]
    assert tuple(out_o.shape) == tuple(out_t.shape), (fn_name, kwargs)
    np.testing.assert_allclose(host(out_o), out_t.detach().numpy(), rtol, atol,
                               err_msg=f"{fn_name} {kwargs}")
    g = rng.standard_normal(tuple(out_t.shape)).astype(dtype)
    (out_o * polytorch.tensor(g, device=device)).sum().backward()
    (out_t * torch.tensor(g)).sum().backward()
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if first_only and i:
            break
        np.testing.assert_allclose(host(a.grad), b.grad.numpy(), rtol, atol,
                                   err_msg=f"{fn_name} {kwargs} grad of input {i}")


# -- convolutions -------------------------------------------------------------------------

CONV2D = [
    dict(),
    dict(stride=2),
    dict(stride=(2, 1), padding=(1, 2)),
    dict(padding=1, dilation=2),
    dict(dilation=(1, 2), stride=(1, 3)),
    dict(padding="same"),
    dict(padding="same", dilation=2),
    dict(padding="valid", stride=2),
    dict(groups=2, padding=1),
    dict(groups=4, stride=2, padding=2, dilation=2),
]


@pytest.mark.parametrize("kw", CONV2D, ids=str)
def test_conv2d_matches_pytorch(kw):
    groups = kw.get("groups", 1)
    _run("conv2d", [(2, 4, 9, 8), (6 if groups != 4 else 8, 4 // groups, 3, 2),
                    (6 if groups != 4 else 8,)], kw)


def test_conv2d_even_kernel_same_padding_and_no_bias():
    # 'same' with an even kernel pads one more on the right, as PyTorch
    _run("conv2d", [(1, 2, 6, 7), (3, 2, 4, 2)], dict(padding="same"))


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1), dict(dilation=3),
                                dict(groups=3, padding="same")], ids=str)
def test_conv1d_matches_pytorch(kw):
    _run("conv1d", [(2, 3, 11), (6, 3 // kw.get("groups", 1), 3), (6,)], kw)


@pytest.mark.parametrize("kw", [dict(), dict(stride=(1, 2, 2), padding=1),
                                dict(dilation=(2, 1, 1), groups=2)], ids=str)
def test_conv3d_matches_pytorch(kw):
    _run("conv3d", [(2, 2, 5, 6, 5), (4, 2 // kw.get("groups", 1), 2, 3, 2), (4,)], kw)


CONV_T = [
    dict(),
    dict(stride=2),
    dict(stride=2, padding=1, output_padding=1),
    dict(stride=(3, 2), padding=(2, 0), output_padding=(2, 1)),
    dict(dilation=2, padding=1),
    dict(stride=1, dilation=2, output_padding=1),  # output padding below the dilation
    dict(groups=2, stride=2, output_padding=1),
]


@pytest.mark.parametrize("kw", CONV_T, ids=str)
def test_conv_transpose2d_matches_pytorch(kw):
    _run("conv_transpose2d", [(2, 4, 4, 5), (4, 3, 3, 2), (3 * kw.get("groups", 1),)], kw)


def test_conv_transpose1d_and_3d_match_pytorch():
    _run("conv_transpose1d", [(2, 3, 6), (3, 2, 4), (2,)], dict(stride=3, padding=1,
                                                               output_padding=2))
    _run("conv_transpose3d", [(1, 2, 3, 2, 3), (2, 2, 2, 2, 2), (2,)],
         dict(stride=(2, 1, 2), padding=(0, 1, 1)))


def test_unbatched_inputs_match_pytorch():
    _run("conv2d", [(3, 7, 7), (4, 3, 3, 3), (4,)], dict(padding=1))
    _run("conv1d", [(3, 7), (4, 3, 3)], dict(stride=2))
    _run("conv_transpose2d", [(3, 4, 4), (3, 2, 3, 3)], dict(stride=2))
    _run("max_pool2d", [(3, 7, 7)], dict(kernel_size=3, stride=2, return_indices=True))
    _run("avg_pool1d", [(3, 7)], dict(kernel_size=2))
    _run("adaptive_avg_pool2d", [(3, 7, 5)], dict(output_size=(2, 3)))
    _run("adaptive_max_pool2d", [(3, 7, 5)], dict(output_size=(2, 3), return_indices=True))


def test_conv2d_float32_and_top_level_names():
    _run("conv2d", [(2, 3, 8, 8), (4, 3, 3, 3), (4,)], dict(padding=1), dtype=np.float32,
         rtol=1e-5, atol=1e-5)
    for name in ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                 "conv_transpose3d", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d",
                 "adaptive_avg_pool1d", "adaptive_max_pool1d", "pixel_shuffle",
                 "pixel_unshuffle"):
        assert getattr(polytorch, name) is getattr(F, name), name


# -- pooling ------------------------------------------------------------------------------

MAX_POOL = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, ceil_mode=True),
    dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 1), ceil_mode=True),
    dict(kernel_size=2, dilation=2, padding=1),
    dict(kernel_size=(2, 3), stride=1, dilation=(3, 1), ceil_mode=True),
]


@pytest.mark.parametrize("kw", MAX_POOL, ids=str)
def test_max_pool2d_matches_pytorch(kw):
    _run("max_pool2d", [(2, 3, 9, 8)], dict(kw, return_indices=True))
    _run("max_pool2d", [(2, 3, 9, 8)], kw, seed=1)


def test_max_pool_ties_give_the_gradient_to_the_first_maximum():
    # After a ReLU whole windows are zero: PyTorch routes each window's gradient to its
    # first element, not shared among the ties.
    _run("max_pool2d", [(2, 3, 6, 6)], dict(kernel_size=2, return_indices=True),
         prep=lambda ts, lib: [ts[0].relu() - 0.5 * (ts[0].relu() > 100)])
    _run("max_pool1d", [(2, 8)], dict(kernel_size=3, stride=1, padding=1),
         prep=lambda ts, lib: [ts[0].round()])


def test_max_pool1d_3d_match_pytorch():
    _run("max_pool1d", [(2, 3, 11)], dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                          return_indices=True))
    _run("max_pool1d", [(2, 3, 11)], dict(kernel_size=2, dilation=3, return_indices=True))
    _run("max_pool3d", [(1, 2, 5, 6, 5)], dict(kernel_size=2, stride=(1, 2, 2), padding=1,
                                               return_indices=True))
    _run("max_pool3d", [(1, 2, 5, 6, 5)], dict(kernel_size=3, stride=2, ceil_mode=True))


AVG_POOL = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
    dict(kernel_size=(2, 3), stride=(3, 2), ceil_mode=True),
    dict(kernel_size=3, padding=1, divisor_override=2),
]


@pytest.mark.parametrize("kw", AVG_POOL, ids=str)
def test_avg_pool2d_matches_pytorch(kw):
    _run("avg_pool2d", [(2, 3, 9, 8)], kw)


def test_avg_pool1d_3d_match_pytorch():
    _run("avg_pool1d", [(2, 3, 10)], dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                          count_include_pad=False))
    _run("avg_pool3d", [(1, 2, 5, 6, 5)], dict(kernel_size=2, stride=(1, 2, 2), padding=1))
    _run("avg_pool3d", [(1, 2, 5, 6, 5)], dict(kernel_size=3, stride=2, ceil_mode=True,
                                               divisor_override=5))


@pytest.mark.parametrize("size", [(3, 4), (1, 1), (4, 2), (9, 8), (None, 3), (13, 5)], ids=str)
def test_adaptive_pools_2d_match_pytorch(size):
    _run("adaptive_avg_pool2d", [(2, 3, 9, 8)], dict(output_size=size))
    _run("adaptive_max_pool2d", [(2, 3, 9, 8)], dict(output_size=size, return_indices=True))


def test_adaptive_pools_1d_3d_match_pytorch():
    _run("adaptive_avg_pool1d", [(2, 3, 10)], dict(output_size=4))
    _run("adaptive_max_pool1d", [(2, 3, 10)], dict(output_size=3, return_indices=True))
    _run("adaptive_avg_pool3d", [(1, 2, 5, 6, 7)], dict(output_size=(2, 3, 4)))
    _run("adaptive_max_pool3d", [(1, 2, 5, 6, 7)], dict(output_size=(2, 4, 3),
                                                        return_indices=True))


def test_lp_pool_and_max_unpool_match_pytorch():
    positive = lambda ts, lib: [ts[0].abs() + 0.1]  # noqa: E731
    _run("lp_pool2d", [(2, 3, 7, 6)], dict(norm_type=2, kernel_size=2), prep=positive)
    _run("lp_pool1d", [(2, 3, 7)], dict(norm_type=3.0, kernel_size=3, stride=2, ceil_mode=True),
         prep=positive)

    def unpool(lib):
        def f(ts, _):
            v, i = lib.nn.functional.max_pool2d(ts[0], 2, return_indices=True)
            return [v, i]
        return f

    for lib_o in (polytorch,):
        x = np.random.RandomState(0).standard_normal((2, 3, 5, 5))
        v, i = lib_o.nn.functional.max_pool2d(polytorch.tensor(x), 2, return_indices=True)
        tv, ti = TF.max_pool2d(torch.tensor(x), 2, return_indices=True)
        ours = F.max_unpool2d(v, i, 2, output_size=(5, 5))
        theirs = TF.max_unpool2d(tv, ti, 2, output_size=(5, 5))
        np.testing.assert_array_equal(host(ours), theirs.numpy())
        v, i = F.max_pool1d(polytorch.tensor(x[0]), 2, return_indices=True)
        tv, ti = TF.max_pool1d(torch.tensor(x[0]), 2, return_indices=True)
        np.testing.assert_array_equal(host(F.max_unpool1d(v, i, 2)),
                                      TF.max_unpool1d(tv, ti, 2).numpy())


# -- padding ------------------------------------------------------------------------------

PADS = [(1, 2), (2, 1, 0, 3), (1, 1, 2, 2), (0, 2, 1, 0)]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", PADS, ids=str)
def test_pad_matches_pytorch(mode, pad):
    shape = (3, 5, 4)[3 - len(pad) // 2:]  # non-constant modes: batched or not, no more
    _run("pad", [(2,) + shape], dict(pad=pad, mode=mode))
    _run("pad", [(3,) + shape], dict(pad=pad, mode=mode), seed=1)


@pytest.mark.parametrize("mode,pad", [("constant", (-1, 2, 3, -2)),
                                      ("constant", (1, 1, 1, 1, 1, 1)),
                                      ("replicate", (2, -1)), ("circular", (-1, 3)),
                                      ("circular", (2, -1, 1, -2)), ("reflect", (-1, 3)),
                                      ("reflect", (1, 2, 2, 1, 1, 0))], ids=str)
def test_pad_negative_and_3d_match_pytorch(mode, pad):
    _run("pad", [(2, 4, 5, 4)[2 - len(pad) // 2:] if len(pad) < 6 else (1, 2, 4, 5, 4)],
         dict(pad=pad, mode=mode))


def test_pad_constant_value():
    _run("pad", [(2, 3)], dict(pad=(1, 2), value=-1.5))
    x = polytorch.arange(6).reshape(2, 3)
    out = F.pad(x, (1, 0, 0, 1), value=7)
    assert out.dtype == polytorch.int64
    np.testing.assert_array_equal(host(out), TF.pad(torch.arange(6).reshape(2, 3),
                                                    (1, 0, 0, 1), value=7).numpy())


# -- interpolation ------------------------------------------------------------------------

INTERP = [
    ("nearest", dict(scale_factor=2)),
    ("nearest", dict(size=(5, 11))),
    ("nearest", dict(scale_factor=(0.6, 1.7))),
    ("nearest-exact", dict(size=(5, 11))),
    ("nearest-exact", dict(scale_factor=1.5)),
    ("bilinear", dict(size=(7, 3))),
    ("bilinear", dict(scale_factor=1.7)),
    ("bilinear", dict(scale_factor=1.7, recompute_scale_factor=True)),
    ("bilinear", dict(size=(7, 3), align_corners=True)),
    ("bilinear", dict(size=(1, 9), align_corners=True)),
    ("bicubic", dict(size=(7, 3))),
    ("bicubic", dict(scale_factor=2.5, align_corners=True)),
    ("bicubic", dict(size=(4, 6))),
    ("area", dict(size=(3, 4))),
]


@pytest.mark.parametrize("mode,kw", INTERP, ids=str)
def test_interpolate_2d_matches_pytorch(mode, kw):
    _run("interpolate", [(2, 3, 4, 6)], dict(kw, mode=mode))


def test_interpolate_1d_3d_match_pytorch():
    _run("interpolate", [(2, 3, 5)], dict(size=8, mode="linear"))
    _run("interpolate", [(2, 3, 5)], dict(scale_factor=2.2, mode="linear", align_corners=True))
    _run("interpolate", [(2, 3, 5)], dict(scale_factor=3, mode="nearest"))
    _run("interpolate", [(1, 2, 3, 4, 5)], dict(size=(5, 3, 7), mode="trilinear"))
    _run("interpolate", [(1, 2, 3, 4, 5)], dict(scale_factor=2, mode="nearest"))


def test_upsample_aliases_match_pytorch_and_warn_as_it_does():
    x = np.random.RandomState(0).standard_normal((1, 2, 3, 4))
    deprecated = r"is deprecated\. Use `nn\.functional\.interpolate` instead"
    with pytest.warns(UserWarning, match="`nn.functional.upsample_nearest` " + deprecated):
        near = F.upsample_nearest(polytorch.tensor(x), scale_factor=2)
    with pytest.warns(UserWarning, match="`nn.functional.upsample_bilinear` " + deprecated):
        bil = F.upsample_bilinear(polytorch.tensor(x), size=(5, 7))
    with pytest.warns(UserWarning, match="`nn.functional.upsample` " + deprecated):
        up = F.upsample(polytorch.tensor(x), scale_factor=2)
    for ours, theirs in [(near, TF.interpolate(torch.tensor(x), scale_factor=2)),
                         (bil, TF.interpolate(torch.tensor(x), size=(5, 7), mode="bilinear",
                                              align_corners=True)),
                         (up, TF.interpolate(torch.tensor(x), scale_factor=2))]:
        np.testing.assert_allclose(host(ours), theirs.numpy(), 1e-12, 1e-12)


# -- unfold / fold / pixel shuffle ------------------------------------------------------------

UNFOLD = [dict(kernel_size=2), dict(kernel_size=(2, 3), dilation=(2, 1), padding=1,
                                    stride=(1, 2)), dict(kernel_size=3, padding=2, stride=3)]


@pytest.mark.parametrize("kw", UNFOLD, ids=str)
def test_unfold_fold_match_pytorch(kw):
    _run("unfold", [(2, 3, 7, 8)], kw)
    blocks = [(s + 2 * p - d * (k - 1) - 1) // st + 1 for s, k, d, p, st in zip(
        (7, 8), *(np.broadcast_to(kw.get(n, dflt), 2) for n, dflt in
                  (("kernel_size", 1), ("dilation", 1), ("padding", 0), ("stride", 1))))]
    k = int(np.prod(np.broadcast_to(kw["kernel_size"], 2)))
    _run("fold", [(2, 3 * k, blocks[0] * blocks[1])], dict(kw, output_size=(7, 8)))
    _run("fold", [(3 * k, blocks[0] * blocks[1])], dict(kw, output_size=(7, 8)))


def test_pixel_shuffle_matches_pytorch():
    _run("pixel_shuffle", [(2, 12, 3, 4)], dict(upscale_factor=2))
    _run("pixel_shuffle", [(2, 2, 9, 3, 2)], dict(upscale_factor=3))
    _run("pixel_unshuffle", [(2, 3, 6, 4)], dict(downscale_factor=2))


# -- other devices --------------------------------------------------------------------------


def test_representative_cases_on_every_device(device):
    # JAX compiles every op once per shape (seconds here): it gets a grouped convolution
    # (its im2col kernel runs the pools too, checked in test_native_kernels_...).
    kw = dict(device=device, dtype=np.float32, rtol=2e-5, atol=2e-5)
    _run("conv2d", [(2, 4, 6, 6), (4, 2, 3, 3), (4,)], dict(stride=2, padding=1, groups=2), **kw)
    if "jax" in device:
        return
    _run("max_pool2d", [(2, 4, 6, 6)], dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                                            return_indices=True), **kw)
    _run("conv_transpose2d", [(2, 4, 3, 3), (4, 2, 3, 3), (2,)],
         dict(stride=2, padding=1, output_padding=1), **kw)
    _run("avg_pool2d", [(2, 4, 6, 6)], dict(kernel_size=3, stride=2, padding=1,
                                            count_include_pad=False), **kw)
    _run("adaptive_avg_pool2d", [(2, 4, 6, 6)], dict(output_size=(4, 3)), **kw)
    _run("adaptive_max_pool2d", [(2, 4, 6, 6)], dict(output_size=4, return_indices=True), **kw)
    _run("pad", [(2, 4, 6, 6)], dict(pad=(1, 2, 2, 1), mode="reflect"), **kw)
    _run("interpolate", [(2, 4, 6, 6)], dict(scale_factor=1.5, mode="bilinear"), **kw)


# -- the primitives ------------------------------------------------------------------------

PRIMITIVE = [
    dict(kernel_size=(2, 3), dilation=(1, 2), padding=((1, 0), (2, 1)), stride=(2, 1)),
    dict(kernel_size=(3,), dilation=(2,), padding=((1, -1),), stride=(2,)),  # crop at the end
]


@pytest.mark.parametrize("params", PRIMITIVE, ids=str)
def test_primitives_gradcheck_and_gradgradcheck(params):
    rng = np.random.RandomState(0)
    nd = len(params["kernel_size"])
    shape = (1, 2) + (5, 4)[:nd]
    x = polytorch.tensor(rng.standard_normal(shape), requires_grad=True)

    def im2col(t):
        return im2col_op(t, fill=0.0, **params)

    assert gradcheck(im2col, (x,))
    assert gradgradcheck(im2col, (x,))
    cols = polytorch.tensor(rng.standard_normal(tuple(im2col(x).shape)), requires_grad=True)

    def col2im(t):
        return col2im_op(t, output_size=shape[2:], **params)

    assert gradcheck(col2im, (cols,))
    assert gradgradcheck(col2im, (cols,))


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_native_kernels_match_the_reference(backend):
    be = polytorch.backends.load(backend)
    rng = np.random.RandomState(0)
    cases = [((2, 3, 7, 6), (3, 2), (1, 2), ((1, 1), (0, 2)), (2, 1)),
             ((1, 2, 5), (2,), (2,), ((2, -1),), (1,)),
             ((2, 2, 6, 6), (3, 3), (1, 1), ((0, -1), (1, -1)), (2, 2))]
    dtypes = [(np.float64, 0.0), (np.float32, -math.inf), (np.int64, -math.inf)]
    if backend == "jax":  # the eager reference compiles every slice: one case is plenty
        cases, dtypes = cases[1:2], dtypes[1:]
    for shape, k, d, p, s in cases:
        for dt, fill in dtypes:
            x = be.from_numpy((rng.standard_normal(shape) * 5).astype(dt), None)
            kw = dict(kernel_size=k, dilation=d, padding=p, stride=s)
            ref = np.asarray(im2col_op.forward(be.xp, x, fill=fill, **kw))
            nat = np.asarray(im2col_op.kernels[backend](be.xp, x, fill=fill, **kw))
            assert ref.dtype == nat.dtype
            np.testing.assert_array_equal(ref, nat, f"im2col {shape} {dt}")
            cols = be.from_numpy(rng.standard_normal(ref.shape), None)
            ref = np.asarray(col2im_op.forward(be, cols, output_size=shape[2:], **kw))
            nat = np.asarray(col2im_op.kernels[backend](be, cols, output_size=shape[2:], **kw))
            assert ref.shape == nat.shape == shape
            np.testing.assert_allclose(ref, nat, 1e-12, 1e-12, err_msg=f"col2im {shape}")


# -- errors ---------------------------------------------------------------------------------

ERRORS = [
    (lambda: F.conv2d(polytorch.ones(3, 5), polytorch.ones(6, 3, 3, 3)), RuntimeError,
     r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but got input of size: "
     r"\[3, 5\]"),
    (lambda: F.conv2d(polytorch.ones(1, 4, 5, 5), polytorch.ones(6, 3, 3, 3)), RuntimeError,
     r"expected input\[1, 4, 5, 5\] to have 3 channels, but got 4 channels instead"),
    (lambda: F.conv2d(polytorch.ones(1, 3, 2, 2), polytorch.ones(6, 3, 3, 3)), RuntimeError,
     r"Calculated padded input size per channel: \(2 x 2\). Kernel size: \(3 x 3\). Kernel "
     r"size can't be greater than actual input size"),
    (lambda: F.conv2d(polytorch.ones(1, 4, 5, 5), polytorch.ones(6, 2, 3, 3), groups=3),
     RuntimeError, "channels"),
    (lambda: F.conv2d(polytorch.ones(1, 3, 5, 5), polytorch.ones(6, 3, 3, 3), stride=2,
                      padding="same"), RuntimeError, "padding='same' is not supported"),
    (lambda: F.conv2d(polytorch.ones(1, 3, 5, 5), polytorch.ones(6, 3, 3, 3),
                      stride=(1, 2, 3)), RuntimeError, "expected stride to be a single integer"),
    (lambda: F.conv_transpose2d(polytorch.ones(1, 3, 5, 5), polytorch.ones(3, 2, 3, 3),
                                output_padding=2), RuntimeError,
     "output padding must be smaller than either stride or dilation"),
    (lambda: F.conv2d(polytorch.ones(1, 3, 5, 5, dtype=polytorch.float64),
                      polytorch.ones(6, 3, 3, 3)), RuntimeError,
     r"conv2d: Input type \(polytorch.float64\) and weight type \(polytorch.float32\) should "
     r"be the same"),
    (lambda: F.conv_transpose1d(polytorch.ones(1, 3, 5), polytorch.ones(3, 2, 3),
                                polytorch.ones(2, dtype=polytorch.float64)), RuntimeError,
     "conv_transpose1d: Input type .* and bias type .* should be the same"),
    (lambda: F.max_pool2d(polytorch.ones(1, 1, 2, 2), 3), RuntimeError,
     r"Given input size: \(1x2x2\). Calculated output size: \(1x0x0\). Output size is too "
     r"small"),
    (lambda: F.max_pool2d(polytorch.ones(1, 1, 5, 5), 2, padding=2), RuntimeError,
     "pad should be at most half of effective kernel size"),
    (lambda: F.avg_pool2d(polytorch.ones(5, 5), 2), RuntimeError,
     r"Expected 3D \(unbatched\) or 4D \(batched\) input to avg_pool2d"),
    (lambda: F.pad(polytorch.ones(1, 2, 3), (1,)), RuntimeError,
     "Padding length must be divisible by 2"),
    (lambda: F.pad(polytorch.ones(1, 2, 3), (3, 3), mode="reflect"), RuntimeError,
     "Padding size should be less than the corresponding input dimension"),
    (lambda: F.pad(polytorch.ones(1, 1, 2, 3), (1, 1), mode="reflect"), NotImplementedError,
     "Padding size 2 is not supported for 4D input tensor"),
    (lambda: F.pad(polytorch.ones(1, 2, 3), (1, 1), mode="foo"), NotImplementedError,
     "Unrecognised padding mode foo"),
    (lambda: F.pad(polytorch.ones(1, 2, 3), (-2, -2)), RuntimeError, "negative output size"),
    (lambda: F.interpolate(polytorch.ones(1, 1, 3), size=4, mode="bilinear"),
     NotImplementedError, "Got 3D input, but bilinear mode needs 4D input"),
    (lambda: F.interpolate(polytorch.ones(1, 1, 3)), ValueError,
     "either size or scale_factor should be defined"),
    (lambda: F.interpolate(polytorch.ones(1, 1, 3), size=4, scale_factor=2.0), ValueError,
     "only one of size or scale_factor should be defined"),
    (lambda: F.interpolate(polytorch.ones(1, 1, 3), size=4, align_corners=True), ValueError,
     "align_corners option can only be set with the interpolating modes"),
    (lambda: F.fold(polytorch.ones(1, 10, 9), (4, 4), 2), RuntimeError,
     r"divisible by the product of kernel_size, but got input.size\(1\)=10"),
    (lambda: F.fold(polytorch.ones(1, 12, 8), (4, 4), 2), RuntimeError,
     r"calculated number of sliding blocks 3 \* 3 = 9, but got input.size\(2\)=8"),
    (lambda: F.pixel_shuffle(polytorch.ones(1, 6, 2, 2), 2), RuntimeError,
     "divisible by the square of upscale_factor"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors_name_the_function_and_shapes(i):
    fn, exc, pattern = ERRORS[i]
    with pytest.raises(exc, match=pattern):
        fn()


def test_signatures_match_pytorch():
    names = ["pad", "interpolate", "unfold", "fold", "upsample", "upsample_nearest",
             "upsample_bilinear", "lp_pool1d", "lp_pool2d", "max_unpool2d"]
    for name in names:
        ours = list(inspect.signature(getattr(F, name)).parameters)
        theirs = list(inspect.signature(getattr(TF, name)).parameters)
        assert ours == theirs, name
    # PyTorch's C++ builtins have no Python signature: their documented parameter lists
    documented = {
        "conv2d": ["input", "weight", "bias", "stride", "padding", "dilation", "groups"],
        "conv_transpose2d": ["input", "weight", "bias", "stride", "padding", "output_padding",
                             "groups", "dilation"],
        "avg_pool2d": ["input", "kernel_size", "stride", "padding", "ceil_mode",
                       "count_include_pad", "divisor_override"],
        "max_pool2d": ["input", "kernel_size", "stride", "padding", "dilation", "ceil_mode",
                       "return_indices"],
        "adaptive_max_pool2d": ["input", "output_size", "return_indices"],
        "pixel_shuffle": ["input", "upscale_factor"],
    }
    for name, params in documented.items():
        assert list(inspect.signature(getattr(F, name)).parameters) == params, name


# -- modules ----------------------------------------------------------------------------------

MODULES = [
    ("Conv1d", (3, 4, 3), dict(stride=2, padding=1)),
    ("Conv2d", (3, 6, 3), dict(padding="same", bias=False)),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=(2, 1), dilation=2, groups=2, padding_mode="reflect",
                                    padding=(2, 1))),
    ("Conv3d", (2, 4, 2), dict(padding_mode="circular", padding=1)),
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, output_padding=1, groups=2)),
    ("ConvTranspose1d", (3, 2, 4), dict(dilation=2, bias=False)),
]


@pytest.mark.parametrize("name,args,kw", MODULES, ids=lambda v: str(v))
def test_conv_modules_match_pytorch(name, args, kw):
    ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for k, v in theirs.state_dict().items():
        assert tuple(ours.state_dict()[k].shape) == tuple(v.shape), k
    ours.load_state_dict({k: polytorch.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    nd = len(ours.kernel_size)
    shape = (2, args[0]) + (7, 6, 5)[:nd]
    x = np.random.RandomState(0).standard_normal(shape).astype(np.float32)
    out_o, out_t = ours(polytorch.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(host(out_o), out_t.detach().numpy(), 1e-5, 1e-5)


def test_conv_default_init_statistics():
    # kaiming_uniform_(a=sqrt(5)) is U(-1/sqrt(fan_in), 1/sqrt(fan_in)); bias alike.
    polytorch.manual_seed(0)
    m = nn.Conv2d(16, 64, 3)
    bound = 1 / math.sqrt(16 * 9)
    w, b = host(m.weight), host(m.bias)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert abs(w.mean()) < 0.05 * bound
    assert m.weight.requires_grad and m.weight.dtype == polytorch.float32
    t = nn.ConvTranspose2d(16, 8, 3)  # fan_in is weight.size(1) * k * k, as in PyTorch
    assert np.abs(host(t.bias)).max() <= 1 / math.sqrt(8 * 9)
    assert abs(host(t.weight).std() - 1 / math.sqrt(8 * 9) / math.sqrt(3)) < 0.1 / math.sqrt(72)


def test_conv_module_errors_name_the_layer():
    m = nn.Conv2d(3, 4, 3)
    with pytest.raises(RuntimeError, match=r"Conv2d: expected input with 3 or 4 dimensions "
                                           r"\(C, H, W\) or \(N, C, H, W\), got shape \[5, 5\]"):
        m(polytorch.ones(5, 5))
    with pytest.raises(RuntimeError, match=r"Conv2d: expected input\[1, 4, 5, 5\] to have 3 "
                                           r"channels, but got 4 channels"):
        m(polytorch.ones(1, 4, 5, 5))
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported'):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")


def test_conv_transpose_output_size_argument():
    ours, theirs = nn.ConvTranspose2d(2, 3, 3, stride=2), torch.nn.ConvTranspose2d(2, 3, 3,
                                                                                   stride=2)
    ours.load_state_dict({k: polytorch.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.RandomState(0).standard_normal((1, 2, 4, 4)).astype(np.float32)
    out_o = ours(polytorch.tensor(x), output_size=[10, 10])
    out_t = theirs(torch.tensor(x), output_size=[10, 10])
    np.testing.assert_allclose(host(out_o), out_t.detach().numpy(), 1e-5, 1e-5)
    with pytest.raises(ValueError, match="valid sizes range from 9 to 10"):
        ours(polytorch.tensor(x), output_size=[12, 12])


OTHER_MODULES = [
    ("MaxPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True)),
    ("MaxPool1d", (2,), {}),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, count_include_pad=False)),
    ("AvgPool1d", (3,), dict(stride=2)),
    ("AvgPool3d", (2,), {}),
    ("AdaptiveAvgPool2d", ((2, 3),), {}),
    ("AdaptiveMaxPool2d", (2,), {}),
    ("AdaptiveAvgPool1d", (3,), {}),
    ("LPPool2d", (2, 2), {}),
    ("ZeroPad2d", ((1, 2, 0, 1),), {}),
    ("ConstantPad1d", (2, 3.5), {}),
    ("ConstantPad2d", ((1, 0, 2, 1), -1.0), {}),
    ("ReflectionPad2d", (2,), {}),
    ("ReplicationPad1d", ((1, 3),), {}),
    ("ReplicationPad2d", (1,), {}),
    ("CircularPad2d", ((1, 2, 2, 1),), {}),
    ("ReflectionPad1d", (2,), {}),
    ("Upsample", (), dict(scale_factor=2, mode="bilinear")),
    ("Upsample", (), dict(size=(5, 7), mode="nearest")),
    ("UpsamplingNearest2d", (), dict(scale_factor=2)),
    ("UpsamplingBilinear2d", (), dict(size=(5, 5))),
    ("PixelShuffle", (2,), {}),
    ("PixelUnshuffle", (2,), {}),
    ("Unfold", (2,), dict(padding=1)),
]


@pytest.mark.parametrize("name,args,kw", OTHER_MODULES, ids=lambda v: str(v))
def test_other_modules_match_pytorch(name, args, kw):
    ours, theirs = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == []
    shape = (2, 4, 6, 6) if not name.endswith("1d") else (2, 4, 6)
    if name.endswith("3d"):
        shape = (1, 2, 4, 4, 4)
    x = np.abs(np.random.RandomState(0).standard_normal(shape)) + 0.1
    out_o, out_t = ours(polytorch.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(host(out_o), out_t.numpy(), 1e-10, 1e-10)
    init_o = inspect.signature(type(ours).__init__).parameters
    init_t = inspect.signature(type(theirs).__init__).parameters
    assert list(init_o) == list(init_t), name


def test_fold_module_and_signatures():
    ours, theirs = nn.Fold((4, 5), 2), torch.nn.Fold((4, 5), 2)
    assert repr(ours) == repr(theirs)
    x = np.random.RandomState(0).standard_normal((2, 12, 12))
    np.testing.assert_allclose(host(ours(polytorch.tensor(x))),
                               theirs(torch.tensor(x)).numpy(), 1e-12, 1e-12)
    for name in ("Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "Fold", "Unfold",
                 "Upsample", "AdaptiveMaxPool2d", "MaxUnpool2d", "LPPool1d"):
        ours_p = list(inspect.signature(getattr(nn, name).__init__).parameters)
        theirs_p = list(inspect.signature(getattr(torch.nn, name).__init__).parameters)
        assert ours_p == theirs_p, name


def test_lenet_trains_like_pytorch():
    # A LeNet-style network loaded with torch's weights gives torch's loss and gradients.
    def build(lib):
        m = lib.nn
        return m.Sequential(m.Conv2d(1, 4, 5, padding=2), m.ReLU(), m.MaxPool2d(2),
                            m.Conv2d(4, 6, 3), m.ReLU(), m.AdaptiveAvgPool2d(2),
                            m.Flatten(), m.Linear(24, 10))

    torch.manual_seed(0)
    theirs, ours = build(torch), build(polytorch)
    ours.load_state_dict({k: polytorch.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.RandomState(0).standard_normal((8, 1, 12, 12)).astype(np.float32)
    loss_t = theirs(torch.tensor(x)).square().mean()
    loss_o = ours(polytorch.tensor(x)).square().mean()
    loss_t.backward()
    loss_o.backward()
    np.testing.assert_allclose(float(loss_o), loss_t.item(), 1e-5)
    grads_o = {k: host(p.grad) for k, p in ours.named_parameters()}
    for k, p in theirs.named_parameters():
        np.testing.assert_allclose(grads_o[k], p.grad.numpy(), 1e-4, 1e-6, err_msg=k)


def test_docstring_examples_run():
    import doctest

    from polytorch.nn import _functional_conv
    from polytorch.nn.modules import conv, fold, padding, pixelshuffle, pooling, upsampling
    from polytorch.ops import conv as ops_conv

    for module in (ops_conv, _functional_conv, conv, fold, padding, pixelshuffle, pooling,
                   upsampling):
        with warnings.catch_warnings():  # the upsample aliases' deprecation, as PyTorch's
            warnings.filterwarnings("ignore", "`nn.functional.upsample")
            result = doctest.testmod(module, extraglobs={"polytorch": polytorch, "F": F,
                                                         "nn": nn})
        assert result.failed == 0, module.__name__


def test_empty_batch_non_contiguous_input_and_double_backward():
    w = np.random.RandomState(1).standard_normal((4, 3, 3, 3))
    for fn, weight in ((F.conv2d, w), (F.conv_transpose2d, w[:3].transpose(1, 0, 2, 3))):
        out = fn(polytorch.zeros(0, 3, 5, 5, dtype=polytorch.float64), polytorch.tensor(weight))
        ref = getattr(TF, fn.__name__)(torch.zeros(0, 3, 5, 5, dtype=torch.float64),
                                       torch.tensor(weight))
        assert tuple(out.shape) == tuple(ref.shape)
    _run("conv2d", [(2, 3, 6, 5), (4, 3, 3, 3)], dict(padding=1),
         prep=lambda ts, lib: [ts[0].transpose(2, 3), ts[1]])
    _run("max_pool2d", [(2, 3, 6, 5)], dict(kernel_size=2),
         prep=lambda ts, lib: [ts[0].transpose(2, 3)])
    # second derivatives: d/dw of sum(d/dx of sum(conv(x, w) ** 2))
    x = np.random.RandomState(0).standard_normal((2, 3, 6, 5))
    grads = []
    for lib, make in ((polytorch, polytorch.tensor), (torch, torch.tensor)):
        xs, ws = make(x, requires_grad=True), make(w, requires_grad=True)
        y = lib.nn.functional.conv2d(xs, ws, stride=2, padding=1)
        (g,) = lib.autograd.grad(y.square().sum(), xs, create_graph=True)
        g.square().sum().backward()
        grads.append(host(ws.grad))
    np.testing.assert_allclose(grads[0], grads[1], 1e-9, 1e-9)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_grid_sample_matches_pytorch(mode, padding_mode, align_corners):
    # The grid reaches past [-1, 1] so that every padding mode matters.
    _run("grid_sample", [(2, 3, 5, 6), (2, 4, 3, 2)],
         dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners),
         prep=lambda ts, lib: [ts[0], ts[1].tanh() * 1.3], first_only=mode == "nearest")


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_matches_pytorch(align_corners):
    _run("affine_grid", [(2, 2, 3)], dict(size=(2, 3, 4, 5), align_corners=align_corners))
    with pytest.raises(ValueError, match="Expected a batch of 2D affine matrices"):
        F.affine_grid(polytorch.ones(2, 3, 3), (2, 3, 4, 5))
