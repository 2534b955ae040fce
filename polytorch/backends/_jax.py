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
    kernels = {}  # filled below the class

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

    # Note [device_put may alias host memory]
    # On the CPU, jax.device_put can wrap a suitably aligned NumPy buffer without
    # copying it, so a later write to that buffer (a cpu tensor updated in place)
    # would show through an "immutable" JAX array. Wherever polytorch promises a
    # copy, the host array is copied first.

    def asarray(self, obj, dtype, native_device):
        return self._jax.device_put(np.array(obj, dtype=self._to_native[dtype]), native_device)

    def from_numpy(self, array, native_device, copy=False):
        if copy:
            array = np.array(array, copy=True)
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


# -- native kernels of the conv family (Note [Convolution as im2col] in polytorch/ops/conv.py)
# Each is the reference itself (polytorch/ops/conv.py) compiled once per set of
# parameters (and, by jax.jit, per shape and dtype): eagerly, its K slices would be
# K dispatches.


def _jitted(build):
    """A kernel ``(xp_or_backend, *arrays, **params)`` running ``jax.jit(build(**params))``."""
    cache = {}

    def kernel(_, *arrays, **params):
        key = tuple(sorted(params.items()))
        fn = cache.get(key)
        if fn is None:
            import jax

            fn = cache[key] = jax.jit(build(**params))
        return fn(*arrays)

    return kernel


def _traced_full(shape, value, like):
    import jax.numpy as jnp

    return jnp.full(shape, value, dtype=like.dtype)  # a tracer has no .device


def _build_im2col(**params):
    import jax.numpy as jnp

    from ..ops.conv import im2col_array

    return lambda x: im2col_array(jnp, x, full=_traced_full, **params)


def _build_col2im(**params):
    import jax.numpy as jnp

    from ..ops.conv import col2im_array

    return lambda cols: col2im_array(jnp, cols, full=_traced_full,
                                     setitem=lambda a, key, v: a.at[key].set(v), **params)


JaxBackend.kernels = {"im2col": _jitted(_build_im2col), "col2im": _jitted(_build_col2im)}
