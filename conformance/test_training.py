"""The training layer: an MLP and a CNN trained on the device give PyTorch's golden losses."""

LAYER = "training"


def test_training(result):
    assert result.status == "pass", result.message
