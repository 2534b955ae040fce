"""The Optimizer base: param groups, state, zero_grad, state_dict."""

from __future__ import annotations


class Optimizer:
    pass
