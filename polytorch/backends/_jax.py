"""JAX/XLA: CPU, GPU and TPU, with 64-bit types enabled.

JAX arrays are immutable: in-place tensor methods rebind the tensor's array
(Note [In-place ops on immutable arrays] in polytorch/_tensor.py).
"""

from __future__ import annotations

import numpy as np

from ._numpy import NumpyLikeBackend

# polytorch device type -> JAX platform name
_PLATFORMS = {"cpu": "cpu", "cuda": "gpu", "tpu": "tpu"}


class JaxBackend(NumpyLikeBackend):
    name = "jax"
    device_types = ("cpu", "cuda", "tpu")
    mutable = False
    has_bfloat16 = True

    def _load_namespace(self):
        import jax

        # polytorch has float64 and int64 tensors; JAX truncates them unless told.
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        self._jax = jax
        self._counts = {}
        return jnp

    def device_count(self, type_):
        n = self._counts.get(type_)
        if n is None:
            try:
                n = len(self._jax.devices(_PLATFORMS[type_]))
            except RuntimeError:  # JAX raises when a platform has no devices
                n = 0
            self._counts[type_] = n
        return n

    def native_device(self, type_, index):
        return self._jax.devices(_PLATFORMS[type_])[index]

    def asarray(self, obj, dtype, native_device):
        return self._jax.device_put(np.asarray(obj, dtype=self._to_native[dtype]), native_device)

    def from_numpy(self, array, native_device, copy=False):
        return self._jax.device_put(array, native_device)

    def to_numpy(self, array):
        return np.asarray(array)

    def move(self, array, native_device):
        return self._jax.device_put(array, native_device)

    def from_dlpack(self, obj, native_device):
        return self._jax.device_put(self.xp.from_dlpack(obj), native_device)

    def device_of(self, array):
        (dev,) = array.devices()
        type_ = {v: k for k, v in _PLATFORMS.items()}.get(dev.platform, dev.platform)
        return type_, dev.id
