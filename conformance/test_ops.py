"""The ops layer: every registered op's forward (per dtype) and float64 gradients."""

LAYER = "ops"


def test_ops(result):
    assert result.status == "pass", result.message
