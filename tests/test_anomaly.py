"""Anomaly detection, inference mode, graph-node hooks and ``autograd.grad`` options, with
PyTorch as the oracle.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import host, ours, theirs

import polytorch as pt

A = np.array([[0.0, 1.0, 4.0], [9.0, 0.5, 2.0]])


def _nan_graph(m, x):
    return (x.log() * 0.0).sum()  # log'(0) = inf, times 0 is nan in MulBackward's output


def test_detect_anomaly_names_the_backward_and_the_forward_line(device):
    x, tx = ours(A, device, True), theirs(A, True)
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        mode = pt.autograd.detect_anomaly()
    with mode:
        assert pt.autograd.is_anomaly_enabled()
        y = _nan_graph(pt, x)
        with pytest.raises(RuntimeError) as exc:
            y.backward()
    assert not pt.autograd.is_anomaly_enabled()
    with pytest.warns(UserWarning):
        with torch.autograd.detect_anomaly():
            ty = _nan_graph(torch, tx)
            with pytest.raises(RuntimeError) as exc_t:
                ty.backward()
    assert str(exc.value) == str(exc_t.value)  # Function 'LogBackward0' returned nan ...
    note = "\n".join(exc.value.__notes__)
    assert "Traceback of forward call" in note and "return (x.log() * 0.0).sum()" in note
    assert x.grad is None


def test_anomaly_mode_off_records_nothing_and_lets_nan_through(device):
    x = ours(A, device, True)
    y = _nan_graph(pt, x)
    assert y.grad_fn.trace is None
    y.backward()
    assert np.isnan(host(x.grad)).any()


def test_set_detect_anomaly_check_nan_and_decorator(device):
    x = ours(A, device, True)
    with pt.autograd.set_detect_anomaly(True, check_nan=False):
        assert pt.autograd.is_anomaly_enabled()
        assert not pt.autograd.is_anomaly_check_nan_enabled()
        _nan_graph(pt, x).backward()  # no NaN check
    assert not pt.autograd.is_anomaly_enabled()
    pt.autograd.set_detect_anomaly(True)
    try:
        assert _nan_graph(pt, x).grad_fn.trace is not None
    finally:
        pt.autograd.set_detect_anomaly(False)
    with pytest.warns(UserWarning):
        deco = pt.autograd.detect_anomaly()

    @deco
    def run():
        _nan_graph(pt, x).backward()

    with pytest.raises(RuntimeError, match="returned nan values in its 0th output"):
        run()
    assert not pt.autograd.is_anomaly_enabled()


def test_anomaly_mode_annotates_other_backward_errors(device):
    x = ours(A, device, True)
    with pt.autograd.set_detect_anomaly(True):
        h = x * 1.0
        y = (h * h).sum()
        with pt.no_grad():
            h.add_(1.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation") as exc:
            y.backward()
    assert "Error detected in MulBackward0" in exc.value.__notes__[0]


# -- inference mode -------------------------------------------------------------------------


def test_inference_mode(device):
    x, tx = ours(A, device, True), theirs(A, True)
    for m, a in ((pt, x), (torch, tx)):
        assert not m.is_inference_mode_enabled()
        with m.inference_mode():
            assert m.is_inference_mode_enabled() and not m.is_grad_enabled()
            y = a * 2
        assert y.is_inference() and not y.requires_grad and y.grad_fn is None
        assert not a.is_inference() and m.is_grad_enabled()
        with m.inference_mode(False):
            assert not m.is_inference_mode_enabled() and m.is_grad_enabled()
            assert not (a * 2).is_inference()

        @m.inference_mode
        def bare(a=a, m=m):
            return a * 2, m.is_grad_enabled()

        @m.inference_mode()
        def called(a=a):
            return a * 2

        out, enabled = bare()
        assert out.is_inference() and not enabled and called().is_inference()
    with pt.no_grad():
        with pt.inference_mode(False):
            assert not pt.is_grad_enabled()  # mode=False leaves grad mode alone


# -- graph nodes: hooks, prehooks, names -----------------------------------------------------


def test_node_hooks_and_prehooks_match_pytorch(device):
    x, tx = ours(A, device, True), theirs(A, True)
    calls = {}
    for m, a in ((pt, x), (torch, tx)):
        log = calls.setdefault(m.__name__, [])
        y = a * 2
        z = y.exp()
        y.grad_fn.register_prehook(lambda go, log=log: log.append(("pre", host(go[0]))) or (
            go[0] + 1,))
        handle = y.grad_fn.register_hook(
            lambda gi, go, log=log: log.append(("post", host(gi[0]), gi[1] is None)) or (
                gi[0] * 3, None))
        z.grad_fn.register_hook(lambda gi, go, log=log: log.append(("exp", len(gi), len(go))))
        assert y.grad_fn.name() == "MulBackward0"
        z.sum().backward(retain_graph=True)
        handle.remove()
        z.sum().backward()
    np.testing.assert_allclose(host(x.grad), host(tx.grad))
    ours_log, theirs_log = calls["polytorch"], calls["torch"]
    assert [e[0] for e in ours_log] == [e[0] for e in theirs_log]
    for a, b in zip(ours_log, theirs_log):
        for u, v in zip(a[1:], b[1:]):
            np.testing.assert_allclose(u, v)


def test_node_hook_returning_the_wrong_count(device):
    x, tx = ours(A, device, True), theirs(A, True)
    for a in (x, tx):
        y = a * 2
        y.grad_fn.register_hook(lambda gi, go: (gi[0],))
        with pytest.raises(RuntimeError, match="incorrect number of values"):
            y.sum().backward()


def test_post_accumulate_grad_hook(device):
    x, tx = ours(A, device, True), theirs(A, True)
    seen = []
    for a in (x, tx):
        a.register_post_accumulate_grad_hook(lambda t: seen.append(host(t.grad)))
        (a * a).sum().backward()
        (a * 3).sum().backward()
    np.testing.assert_allclose(seen[0], seen[2])
    np.testing.assert_allclose(seen[1], seen[3])
    with pytest.raises(RuntimeError, match="non-leaf"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)


def test_grad_allow_unused_and_materialize_grads(device):
    x, y = ours(A, device, True), ours(A, device, True)
    tx, ty = theirs(A, True), theirs(A, True)
    gx, gy = pt.autograd.grad((x * 2).sum(), (x, y), materialize_grads=True)
    tgx, tgy = torch.autograd.grad((tx * 2).sum(), (tx, ty), materialize_grads=True)
    np.testing.assert_allclose(host(gy), host(tgy))
    np.testing.assert_allclose(host(gx), host(tgx))
    assert pt.autograd.grad((x * 2).sum(), (x, y), allow_unused=True)[1] is None
    for m, a, b in ((pt, x, y), (torch, tx, ty)):
        with pytest.raises(ValueError, match="allow_unused to be True or not passed"):
            m.autograd.grad((a * 2).sum(), (a, b), allow_unused=False, materialize_grads=True)
        with pytest.raises(RuntimeError, match="appears to not have been used"):
            m.autograd.grad((a * 2).sum(), (a, b))
