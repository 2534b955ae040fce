"""The device layer: placement, transfers, cross-device errors, in-place semantics."""

LAYER = "device"


def test_device(result):
    assert result.status == "pass", result.message
