"""A polytorch backend over ``array_api_strict``, serving the device type ``strictdev``.

``strictdev:0`` .. ``strictdev:4`` are array_api_strict's devices, in the
order ``__array_namespace_info__().devices()`` lists them (the CPU device,
two more, one without float64, one without 64-bit types). polytorch imports
this module the first time a ``strictdev`` device is used.

Example:
    >>> import polytorch
    >>> polytorch.ones(3, device="strictdev")
    tensor([1., 1., 1.], device='strictdev:0')
"""

from __future__ import annotations

import numpy as np

from polytorch.backends import InfoBackend

__all__ = ["StrictPluginBackend"]


class StrictPluginBackend(InfoBackend):
    """array_api_strict as a polytorch device; everything else is inherited."""

    name = "strictplug"  # the entry point's name
    device_types = ("strictdev",)
    mutable = True  # arrays support in-place __setitem__

    # array_api_strict computes with NumPy, which warns on 1/0 and log(-1);
    # PyTorch never does, so ops that may do this run under this context.
    @staticmethod
    def quiet_context():
        return np.errstate(all="ignore")

    # Conformance tests this backend is known to fail: test id or pattern -> reason.
    expected_failures: dict[str, str] = {}

    def _load_namespace(self):
        # Imported here, not at module level: nothing is imported until the device is used.
        import array_api_strict

        return array_api_strict
