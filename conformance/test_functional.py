"""The functional layer: every nn.functional spec's forward (per dtype) and float64 gradients."""

LAYER = "functional"


def test_functional(result):
    assert result.status == "pass", result.message
