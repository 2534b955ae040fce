"""CuPy: NVIDIA CUDA and AMD ROCm GPUs, both served as device type ``cuda``."""

from __future__ import annotations

from ._numpy import NumpyLikeBackend


class CupyBackend(NumpyLikeBackend):
    name = "cupy"
    device_types = ("cuda",)
    mutable = True

    def _load_namespace(self):
        import array_api_compat.cupy as xp
        import cupy

        self._cupy = cupy
        return xp

    def device_count(self, type_):
        try:
            return self._cupy.cuda.runtime.getDeviceCount()
        except self._cupy.cuda.runtime.CUDARuntimeError:
            return 0

    def native_device(self, type_, index):
        return self._cupy.cuda.Device(index)

    def asarray(self, obj, dtype, native_device):
        with native_device:
            return self._cupy.asarray(obj, dtype=self._to_native[dtype])

    def from_numpy(self, array, native_device, copy=False):
        with native_device:
            return self._cupy.asarray(array)

    def to_numpy(self, array):
        return self._cupy.asnumpy(array)

    def move(self, array, native_device):
        with native_device:
            return self._cupy.array(array, copy=True)

    def from_dlpack(self, obj, native_device):
        with native_device:
            return self._cupy.from_dlpack(obj)

    def device_of(self, array):
        return "cuda", array.device.id
