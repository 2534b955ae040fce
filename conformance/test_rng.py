"""The rng layer: random streams on the device are the reference's, bit for bit."""

LAYER = "rng"


def test_rng(result):
    assert result.status == "pass", result.message
