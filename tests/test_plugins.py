"""Third-party backends (issue 5): loading rules, broken plugins, conflicts, the example plugin.

Plugins are simulated the way pip installs them: a ``*.dist-info`` directory
with ``entry_points.txt`` on ``sys.path`` of a fresh subprocess. One test
installs ``examples/strict_plugin`` into a fresh virtual environment with pip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import numpy as np
import pytest

import polytorch
from polytorch.backends import BackendConflictWarning, InfoBackend
from polytorch.backends._numpy import NumpyBackend
from polytorch.conformance import LAYERS

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "examples" / "strict_plugin"


def _env(pythonpath=(), **extra) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("POLYTORCH_") and k != "PYTHONPATH"}
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(map(str, pythonpath))
    env.update(extra)
    return env


def _run(code: str, pythonpath=(), python=sys.executable, **extra) -> str:
    proc = subprocess.run([str(python), "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=_env(pythonpath, **extra), timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout.strip()


def _dist(root: Path, name: str, backends: dict, types: dict | None = None) -> None:
    """Fake an installed distribution ``name`` declaring entry points (what pip writes)."""
    info = root / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    text = "[polytorch.backends]\n" + "".join(f"{k} = {v}\n" for k, v in backends.items())
    if types:
        text += "\n[polytorch.device_types]\n" + "".join(f"{k} = {v}\n" for k, v in types.items())
    (info / "entry_points.txt").write_text(text)


_PLUGS = """
from polytorch.backends import InfoBackend


class _Base(InfoBackend):
    def _load_namespace(self):
        import array_api_strict
        return array_api_strict


class Alpha(_Base):
    name = "alpha"
    device_types = ("shared", "alphadev")


class Beta(_Base):
    name = "beta"
    device_types = ("shared",)
"""


@pytest.fixture
def site(tmp_path) -> Path:
    """A directory of fake distributions: good, broken, conflicting plugins."""
    (tmp_path / "plugs.py").write_text(_PLUGS)
    (tmp_path / "broken_plug.py").write_text(
        "def helper():\n    raise ImportError('broken_plug cannot find its driver')\n\nhelper()\n")
    _dist(tmp_path, "alpha_dist", {"alpha": "plugs:Alpha"},
          {"alphadev": "alpha", "shared": "alpha"})
    _dist(tmp_path, "beta_dist", {"beta": "plugs:Beta"}, {"shared": "beta"})
    _dist(tmp_path, "broken_dist", {"broken": "broken_plug:Backend"}, {"brokendev": "broken"})
    return tmp_path


def test_broken_plugin_never_breaks_polytorch(site):
    out = _run(
        """
        import json, sys, traceback
        import polytorch
        print(polytorch.ones(2).tolist())                      # import and cpu work
        print("broken_plug" in sys.modules, "plugs" in sys.modules)
        print(sorted(polytorch.backends.known_types()))       # metadata only
        print("broken_plug" in sys.modules, "plugs" in sys.modules)
        t = polytorch.arange(3, device="alphadev:2")          # imported on first use
        print("plugs" in sys.modules, "broken_plug" in sys.modules, t.device, t.tolist())
        row = {r["name"]: r for r in polytorch.backends.available()}["broken"]
        print(json.dumps([row["error"], row["devices"], row["source"],
                          "helper" in row["traceback"]]))
        for spec in ("brokendev", "brokendev:0", "cpu@broken"):
            try:
                polytorch.zeros(1, device=spec)
            except RuntimeError as e:
                frames = [f.name for f in traceback.extract_tb(e.__cause__.__traceback__)]
                print(type(e).__name__, type(e.__cause__).__name__, "helper" in frames,
                      "broken_plug cannot find its driver" in str(e))
        """,
        pythonpath=[site],
    )
    lines = out.splitlines()
    assert lines[0] == "[1.0, 1.0]"
    assert lines[1] == "False False"
    assert {"alphadev", "brokendev", "cpu", "shared"} <= set(eval(lines[2]))
    assert lines[3] == "False False", "listing types must not import plugins"
    assert lines[4] == "True False alphadev:2 [0, 1, 2]"
    error, devices, source, has_frame = json.loads(lines[5])
    assert error == "ImportError: broken_plug cannot find its driver"
    assert devices == [] and source == "broken_dist" and has_frame
    assert lines[6:] == ["BackendUnavailableError ImportError True True"] * 3


def test_autoload_disabled_keeps_builtins(site):
    out = _run(
        """
        import polytorch
        print(polytorch.backends.names())
        print(polytorch.ones(2, device="cpu").tolist(), polytorch.device("cpu@jax"))
        try:
            polytorch.ones(1, device="alphadev")
        except RuntimeError as e:
            print("unknown device type 'alphadev'" in str(e))
        """,
        pythonpath=[site], POLYTORCH_BACKEND_AUTOLOAD="0",
    )
    assert out.splitlines() == ["['cupy', 'jax', 'numpy']", "[1.0, 1.0] cpu@jax", "True"]


def test_autoload_accepts_common_spellings(monkeypatch):
    from polytorch.backends import autoload_enabled

    for value, enabled in (("0", False), ("false", False), ("OFF", False), ("1", True),
                           ("", True)):
        monkeypatch.setenv("POLYTORCH_BACKEND_AUTOLOAD", value)
        assert autoload_enabled() is enabled


def test_conflicting_plugins_rule_warning_and_overrides(site):
    code = """
        import warnings
        import polytorch
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            print(polytorch.device("shared").backend)
            print(polytorch.device("shared:1").backend)  # warned once per type
        print(len(caught), caught[0].category.__name__ if caught else None)
        if caught:
            print(caught[0].message)
        b = polytorch.ones(1, device="shared@beta")
        print(polytorch.device("shared@beta").backend, b.device)
        polytorch.backends.set_type_backend("shared", "beta")
        print(polytorch.device("shared").backend, polytorch.ones(1, device="shared").device)
    """
    lines = _run(code, pythonpath=[site]).splitlines()
    assert lines[:3] == ["alpha", "alpha", "1 BackendConflictWarning"]
    assert all(s in lines[3] for s in ("'alpha'", "'beta'", "POLYTORCH_BACKENDS",
                                       "set_type_backend"))
    assert lines[4] == "beta shared:0@beta"
    assert lines[5] == "beta shared:0"
    # The environment chooses too, and then nothing is ambiguous: no warning.
    lines = _run(code, pythonpath=[site], POLYTORCH_BACKENDS="shared=beta").splitlines()
    assert lines[:3] == ["beta", "beta", "0 None"]


def test_undeclared_types_are_learned_by_loading(tmp_path):
    """A plugin without ``polytorch.device_types`` metadata is loaded when its type is used."""
    (tmp_path / "plugs.py").write_text(_PLUGS)
    _dist(tmp_path, "alpha_dist", {"alpha": "plugs:Alpha"})
    out = _run(
        """
        import sys
        import polytorch
        print("plugs" in sys.modules, polytorch.ones(1, device="alphadev").device)
        """,
        pythonpath=[tmp_path],
    )
    assert out == "False alphadev:0"


def test_builtin_type_is_never_taken_over_implicitly():
    class Cpu2(NumpyBackend):
        name = "cpu2"

    polytorch.backends.register("cpu2", Cpu2, types=("cpu",))
    try:
        assert polytorch.device("cpu").backend == "numpy"
        assert polytorch.ones(1, device="cpu@cpu2").device.backend == "cpu2"
    finally:
        polytorch.backends.unregister("cpu2")


def test_conflict_in_code_warns(recwarn):
    class A(NumpyBackend):
        name = "conf_a"
        device_types = ("confdev",)

        def device_count(self, type_):
            return 1

    class B(A):
        name = "conf_b"

    polytorch.backends.register("conf_b", B, types=("confdev",))
    polytorch.backends.register("conf_a", A, types=("confdev",))
    try:
        with pytest.warns(BackendConflictWarning, match="'conf_a', 'conf_b'"):
            assert polytorch.device("confdev").backend == "conf_a"
    finally:
        polytorch.backends.unregister("conf_a")
        polytorch.backends.unregister("conf_b")


def test_not_a_backend_is_a_load_error():
    polytorch.backends.register("notabackend", lambda: object(), types=("nadev",))
    try:
        with pytest.raises(RuntimeError, match="not a polytorch backend") as info:
            polytorch.zeros(1, device="nadev")
        assert isinstance(info.value.__cause__, TypeError)
    finally:
        polytorch.backends.unregister("notabackend")


# -- capabilities ----------------------------------------------------------------------------


def test_capabilities_are_data():
    caps = polytorch.backends.load("numpy").capabilities("cpu")
    assert caps["mutable"] is True and caps["dlpack"] is True
    assert "float64" in caps["dtypes"] and "bfloat16" not in caps["dtypes"]
    jax_caps = polytorch.backends.load("jax").capabilities("cpu")
    assert jax_caps["mutable"] is False and "bfloat16" in jax_caps["dtypes"]


def test_undeclared_dtypes_are_refused_everywhere():
    from polytorch.testing import register_strict_backend

    register_strict_backend()
    makers = (lambda spec, dtype: polytorch.zeros(2, dtype=dtype, device=spec),
              lambda spec, dtype: polytorch.tensor([1, 2], dtype=dtype, device=spec),
              lambda spec, dtype: polytorch.ones(2, device=spec).to(dtype))
    for spec, dtype in (("strict:1", polytorch.float16), ("strict:3", polytorch.float64),
                        ("strict:3", polytorch.complex128), ("strict:4", polytorch.int64),
                        ("cpu", polytorch.bfloat16)):
        for make in makers:
            with pytest.raises(TypeError, match=f"{dtype}.*not supported on device '{spec}'"):
                make(spec, dtype)
    # Results an op would produce in an undeclared dtype are refused too.
    with pytest.raises(TypeError, match="int64"):
        polytorch.ones(2, dtype=polytorch.int32, device="strict:4").sum()


class _KernelBackend(InfoBackend):
    name = "kern"
    device_types = ("kerndev",)

    @staticmethod
    def _exp(xp, x):
        return xp.exp(x) + 0  # a "native" kernel (same result)

    def _load_namespace(self):
        import array_api_strict

        return array_api_strict


def test_native_kernels_declared_as_data():
    calls = []

    def exp(xp, x):
        calls.append(x.shape)
        return xp.exp(x)

    class K(_KernelBackend):
        kernels = {"exp": exp}

    polytorch.backends.register("kern", K, types=("kerndev",))
    try:
        t = polytorch.tensor([0.0, 1.0], device="kerndev").exp()
        assert calls == [(2,)]
        np.testing.assert_allclose(t.numpy(), np.exp([0.0, 1.0]), rtol=1e-6)
        assert polytorch.backends.load("kern").capabilities("kerndev")["kernels"] == ["exp"]
    finally:
        polytorch.backends.unregister("kern")
        from polytorch.ops._registry import REGISTRY

        REGISTRY["exp"].kernels.pop("kern", None)

    class Bad(_KernelBackend):
        kernels = {"no_such_op": exp}

    polytorch.backends.register("kern", Bad, types=("kerndev",))
    try:
        with pytest.raises(RuntimeError, match="no_such_op"):
            polytorch.zeros(1, device="kerndev")
    finally:
        polytorch.backends.unregister("kern")


# -- the example plugin ---------------------------------------------------------------------


def test_example_plugin_is_about_fifty_lines():
    code = (PLUGIN / "src" / "strict_plugin" / "__init__.py").read_text().splitlines()
    assert len(code) <= 60
    readme = (PLUGIN / "README.md").read_text()
    for step in ("pip install -e examples/strict_plugin", 'device="strictdev"',
                 "python -m polytorch.conformance strictdev"):
        assert step in readme


@pytest.mark.slow
def test_example_plugin_installed_with_pip_passes_conformance(tmp_path):
    """pip-install the example into a fresh venv; its device works and passes the kit."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages",
                    str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # The fresh venv sees this environment's packages (numpy, polytorch, pip, setuptools).
    site_dir = Path(_run("import sysconfig; print(sysconfig.get_path('purelib'))",
                         python=python))
    (site_dir / "_outer.pth").write_text(sysconfig.get_path("purelib") + "\n")
    proc = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps",
                           "--no-build-isolation", "--no-index", "-e", str(PLUGIN)],
                          capture_output=True, text=True, timeout=300, env=_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The whole kit, every layer and every case, as two commands that split the layers
    # (the ops layer alone, the seven others), running side by side and beside the
    # tour below: about 70 s of CPU on CI's two cores, so half that in wall time.
    shards = {"ops": ["ops"], "rest": [name for name in LAYERS if name != "ops"]}
    kits = {}
    for shard, layers in shards.items():
        args = [arg for name in layers for arg in ("--layer", name)]
        kits[shard] = subprocess.Popen(
            [str(python), "-m", "polytorch.conformance", "strictdev", *args,
             "--report", str(tmp_path / shard)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT)
    try:
        # The README tour's model trains on the plugin's device as on cpu.
        readme = (ROOT / "README.md").read_text()
        tour = readme.split("## A short tour", 1)[1].split("```python", 1)[1].split("```", 1)[0]
        tour = "\n".join(line for line in tour.splitlines() if not line.startswith("print("))
        out = _run(
            tour + textwrap.dedent(
                """
                import polytorch
                x = polytorch.ones(3, device="strictdev")
                print(x.device, train("strictdev:1") == train("cpu"))
                """),
            python=python,
        )
        assert out == "strictdev:0 True"
        outputs = {shard: kit.communicate(timeout=900) for shard, kit in kits.items()}
    finally:
        for kit in kits.values():
            if kit.poll() is None:
                kit.kill()
                kit.communicate()
    summary = {}
    for shard, kit in kits.items():
        stdout, stderr = outputs[shard]
        assert kit.returncode == 0, stdout[-5000:] + stderr
        report = json.loads((tmp_path / shard / "report.json").read_text())
        assert report["device"] == "strictdev:0" and report["backend"] == "strictplug"
        summary.update(report["summary"])
    del summary["total"]
    assert set(summary) == set(LAYERS)
    for layer, row in summary.items():
        assert row["fail"] == 0 and row["pass"] > 0, (layer, row)
