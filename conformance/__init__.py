"""polytorch's backend conformance suite, as pytest tests: ``pytest conformance --device DEVICE``.

The cases are those of ``python -m polytorch.conformance DEVICE`` (same ids);
a failure the backend declares is an xfail, an unsupported dtype a skip.
"""
