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
# Each is the reference's algorithm compiled once per set of parameters (and, by
# jax.jit, per shape and dtype): eagerly, its K slices would be K dispatches.


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


def _offsets(kernel_size):
    import itertools

    return itertools.product(*(range(k) for k in kernel_size))


def _window(off, dilation, stride, blocks):
    return (slice(None), slice(None)) + tuple(
        slice(o * d, o * d + s * (n - 1) + 1, s)
        for o, d, s, n in zip(off, dilation, stride, blocks))


def _build_im2col(kernel_size, dilation, padding, stride, fill):
    import jax.numpy as jnp
    from jax import lax

    def im2col(x):
        if jnp.issubdtype(x.dtype, jnp.integer) and fill == -np.inf:
            value = jnp.iinfo(x.dtype).min
        else:
            value = fill if jnp.issubdtype(x.dtype, jnp.floating) else int(fill)
        # lax.pad crops where an amount is negative.
        x = lax.pad(x, jnp.asarray(value, x.dtype),
                    [(0, 0, 0)] * (x.ndim - len(padding)) + [(lo, hi, 0) for lo, hi in padding])
        blocks = [(n - d * (k - 1) - 1) // s + 1
                  for n, k, d, s in zip(x.shape[2:], kernel_size, dilation, stride)]
        return jnp.stack([x[_window(off, dilation, stride, blocks)]
                          for off in _offsets(kernel_size)], axis=2)

    return im2col


def _build_col2im(output_size, kernel_size, dilation, padding, stride):
    import jax.numpy as jnp
    from jax import lax

    def col2im(cols):
        blocks = cols.shape[3:]
        padded = tuple(o + lo + hi for o, (lo, hi) in zip(output_size, padding))
        out = jnp.zeros(cols.shape[:2] + padded, cols.dtype)
        for j, off in enumerate(_offsets(kernel_size)):
            out = out.at[_window(off, dilation, stride, blocks)].add(cols[:, :, j])
        return lax.pad(out, jnp.asarray(0, out.dtype),
                       [(0, 0, 0), (0, 0, 0)] + [(-lo, -hi, 0) for lo, hi in padding])

    return col2im


JaxBackend.kernels = {"im2col": _jitted(_build_im2col), "col2im": _jitted(_build_col2im)}
