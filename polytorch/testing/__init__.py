"""Testing helpers: ``assert_close``, ``gradcheck``, ``gradgradcheck``, the strict backend."""

from ._asserts import assert_close
from ._gradcheck import GradcheckError, gradcheck, gradgradcheck

# The spec tables first: the family modules (_specs_nn, ...) and _specs import each
# other, and importing a family module before _specs would build the tables from a
# half-initialised family (an empty FUNCTIONAL).
from . import _specs  # noqa: E402, F401  isort: skip

__all__ = ["assert_close", "gradcheck", "gradgradcheck", "GradcheckError",
           "register_strict_backend"]


def register_strict_backend() -> None:
    """Register the test-only backend over ``array_api_strict`` as device type ``strict``.

    Devices ``strict:0`` .. ``strict:4`` are array_api_strict's ``CPU_DEVICE``,
    ``device1``, ``device2``, ``no_float64`` and ``no_x64``: several devices and
    missing dtypes, without a GPU.
    """
    from .. import backends
    from ._strict import StrictBackend

    if "strict" not in backends.names():
        backends.register("strict", StrictBackend, types=("strict",))
