"""A test-only backend over ``array_api_strict``: strict semantics and fake devices."""

from __future__ import annotations

import numpy as np

from ..backends._base import InfoBackend


class StrictBackend(InfoBackend):
    name = "strict"
    device_types = ("strict",)
    mutable = True

    @staticmethod
    def quiet_context():
        return np.errstate(all="ignore")  # array_api_strict computes with NumPy

    def _load_namespace(self):
        import array_api_strict

        return array_api_strict

    def asarray(self, obj, dtype, native_device):
        host = np.asarray(obj, dtype=dtype.name)
        return self.xp.asarray(host, dtype=self._to_native[dtype], device=native_device)

    def from_numpy(self, array, native_device, copy=False):
        return self.xp.asarray(np.array(array, copy=True), device=native_device)

    def to_numpy(self, array):
        # array_api_strict hides its buffer; go through the CPU device and DLPack.
        cpu = self._devices[0]
        if array.device != cpu:
            array = self.xp.asarray(array, device=cpu, copy=True)
        return np.from_dlpack(array)

    def move(self, array, native_device):
        return self.xp.asarray(array, device=native_device, copy=True)
