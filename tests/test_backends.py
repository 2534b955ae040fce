"""The backend registry (ARCHITECTURE §3): listing, lazy imports, entry points, plugins."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points

import numpy as np
import pytest

import polytorch
from polytorch.backends._numpy import NumpyBackend

HAS_CUPY = importlib.util.find_spec("cupy") is not None


def _run(code: str, env_extra=None, pythonpath=None) -> str:
    env = {k: v for k, v in os.environ.items()
           if k not in ("POLYTORCH_BACKENDS", "POLYTORCH_DEFAULT_DEVICE")}
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), env.get("PYTHONPATH", "")])
    env.update(env_extra or {})
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.strip()


# -- listing -------------------------------------------------------------------------------


def _rows():
    return {row["name"]: row for row in polytorch.backends.available()}


def test_available_rows():
    rows = _rows()
    assert {"numpy", "jax", "cupy"} <= set(rows)
    for row in rows.values():
        assert {"name", "devices", "error"} <= set(row)
        assert isinstance(row["devices"], list)
    assert rows["numpy"]["error"] is None
    assert rows["numpy"]["devices"] == ["cpu"]
    assert rows["jax"]["error"] is None
    assert "cpu@jax" in rows["jax"]["devices"]
    assert [row["name"] for row in polytorch.backends.available()] == sorted(rows)


def test_available_devices_are_usable():
    for spec in polytorch.backends.available_devices():
        t = polytorch.ones(2, device=spec)
        assert t.device == polytorch.device(spec)
        assert t.tolist() == [1.0, 1.0]


def test_strict_rows_list_its_devices():
    import array_api_strict

    n = len(array_api_strict.__array_namespace_info__().devices())
    assert _rows()["strict"]["devices"] == [f"strict:{i}" for i in range(n)]


@pytest.mark.skipif(HAS_CUPY, reason="cupy is installed here")
def test_cupy_row_when_cupy_is_absent():
    row = _rows()["cupy"]
    assert row["devices"] == []
    assert row["error"] and "cupy" in row["error"]
    try:
        import cupy  # noqa: F401
    except ImportError as e:
        assert type(e).__name__ in row["error"]


def test_names_and_known_types():
    names = polytorch.backends.names()
    assert {"numpy", "jax", "cupy", "strict"} <= set(names)
    assert names == sorted(names)
    assert {"cpu", "cuda", "tpu", "strict"} <= set(polytorch.backends.known_types())


def test_load_unknown_backend_is_an_error():
    with pytest.raises(RuntimeError) as info:
        polytorch.backends.load("nosuchbackend")
    assert "nosuchbackend" in str(info.value) and "numpy" in str(info.value)


# -- lazy imports --------------------------------------------------------------------------


def test_import_polytorch_imports_no_optional_array_library():
    out = _run(
        """
        import sys
        import polytorch
        heavy = ("jax", "cupy", "torch", "array_api_strict", "ml_dtypes")
        print("after-import", *[m for m in heavy if m in sys.modules])
        t = polytorch.ones(3, device="cpu") * 2
        assert t.tolist() == [2.0, 2.0, 2.0]
        d = polytorch.device("cuda:1@jax")  # parsing imports nothing either
        print("after-cpu", *[m for m in ("jax", "cupy", "torch") if m in sys.modules])
        polytorch.zeros(1, device="cpu@jax")
        print("after-jax", "jax" in sys.modules)
        """
    )
    lines = out.splitlines()
    assert lines[0] == "after-import", out
    assert lines[1] == "after-cpu", out
    assert lines[2] == "after-jax True", out


def test_listing_is_only_metadata_until_a_device_is_used():
    out = _run(
        """
        import sys
        import polytorch
        names = polytorch.backends.names()
        print("jax" in sys.modules, "cupy" in sys.modules, "jax" in names, "cupy" in names)
        """
    )
    assert out.split() == ["False", "False", "True", "True"]


# -- entry points --------------------------------------------------------------------------


def test_builtin_backends_are_entry_points():
    eps = {ep.name: ep for ep in entry_points(group="polytorch.backends")}
    assert {"numpy", "jax", "cupy"} <= set(eps)
    assert eps["numpy"].load() is NumpyBackend
    for name in ("numpy", "jax", "cupy"):
        assert eps[name].value.startswith("polytorch.backends.")
        assert _rows()[name]["source"] == "polytorch"


def test_entry_point_plugin_in_a_fresh_process(tmp_path):
    """A third-party distribution registers a working and a broken backend by entry point."""
    (tmp_path / "myplug.py").write_text(textwrap.dedent(
        """
        from polytorch.backends._numpy import NumpyBackend

        class PlugBackend(NumpyBackend):
            name = "plug"
            device_types = ("plugdev",)

            def device_count(self, type_):
                return 1 if type_ == "plugdev" else 0
        """
    ))
    (tmp_path / "badplug.py").write_text("raise ImportError('badplug is broken on purpose')\n")
    dist = tmp_path / "myplug-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: myplug\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[polytorch.backends]\nplug = myplug:PlugBackend\nbadplug = badplug:Backend\n"
    )
    out = _run(
        """
        import sys
        import polytorch
        assert "badplug" not in sys.modules and "myplug" not in sys.modules
        rows = {r["name"]: r for r in polytorch.backends.available()}
        print(rows["plug"]["devices"], rows["plug"]["error"], rows["plug"]["source"])
        print("broken" if "badplug is broken" in rows["badplug"]["error"] else "??")
        t = polytorch.arange(3, device="plugdev")
        print(t.device.type, t.device.backend, t.tolist())
        try:
            polytorch.zeros(1, device="cpu@badplug")
        except RuntimeError as e:
            print(type(e.__cause__).__name__, "badplug is broken" in str(e.__cause__))
        """,
        pythonpath=tmp_path,
    )
    lines = out.splitlines()
    assert lines[0] == "['plugdev:0'] None myplug", out
    assert lines[1] == "broken", out
    assert lines[2] == "plugdev plug [0, 1, 2]", out
    assert lines[3] == "ImportError True", out


# -- registration in code --------------------------------------------------------------------


class _BoomError(Exception):
    pass


def test_broken_backend_is_listed_and_raises_on_use():
    original = _BoomError("factory exploded")

    def factory():
        raise original

    polytorch.backends.register("broken", factory, types=("brokendev",))
    try:
        row = _rows()["broken"]
        assert row["devices"] == []
        assert "factory exploded" in row["error"]
        assert "_BoomError" in row["error"]
        # Other backends keep working.
        assert polytorch.ones(2, device="cpu").tolist() == [1.0, 1.0]
        for spec in ("brokendev", "brokendev:0"):
            with pytest.raises(RuntimeError) as info:
                polytorch.zeros(1, device=spec)
            assert info.value.__cause__ is original
            assert "broken" in str(info.value)
        with pytest.raises(RuntimeError) as info:
            polytorch.zeros(1, device="cpu@broken")
        assert info.value.__cause__ is original
    finally:
        polytorch.backends.unregister("broken")
    assert "broken" not in polytorch.backends.names()
    with pytest.raises(RuntimeError):
        polytorch.zeros(1, device="brokendev")


def test_broken_backend_registered_before_first_use_in_a_fresh_process():
    """Registered before any device is resolved, a broken backend leaves the others working."""
    out = _run(
        """
        import polytorch
        def bad():
            raise ValueError("nope")
        polytorch.backends.register("broken", bad, types=("brokendev",))
        print(polytorch.zeros(1).tolist(), polytorch.ones(1, device="cpu@jax").tolist())
        rows = {r["name"]: r for r in polytorch.backends.available()}
        print(rows["broken"]["error"])
        """
    )
    assert out.splitlines() == ["[0.0] [1.0]", "ValueError: nope"]


class _AltBackend(NumpyBackend):
    name = "alt"


class _OwnTypeBackend(NumpyBackend):
    name = "owntype"
    device_types = ("owndev",)

    def device_count(self, type_):
        return 2 if type_ == "owndev" else 0


def test_plugin_for_an_existing_type():
    polytorch.backends.register("alt", _AltBackend)
    try:
        t = polytorch.arange(4, device="cpu@alt")
        assert t.device.backend == "alt" and t.device.type == "cpu"
        assert str(t.device) == "cpu@alt"
        assert "cpu@alt" in polytorch.backends.available_devices()
        u = t.to("cpu")
        assert u.device == polytorch.device("cpu") and u.tolist() == [0, 1, 2, 3]
        np.testing.assert_array_equal((t * 2).numpy(), np.arange(4) * 2)
    finally:
        polytorch.backends.unregister("alt")


def test_plugin_with_its_own_type_discovered_on_use():
    polytorch.backends.register("owntype", _OwnTypeBackend)  # no types declared up front
    try:
        t = polytorch.ones(2, device="owndev:1")
        assert (t.device.type, t.device.index, t.device.backend) == ("owndev", 1, "owntype")
        assert str(t.device) == "owndev:1"
        with pytest.raises(RuntimeError, match="2"):
            polytorch.ones(2, device="owndev:2")
        assert {"owndev:0", "owndev:1"} <= set(polytorch.backends.available_devices())
    finally:
        polytorch.backends.unregister("owntype")
