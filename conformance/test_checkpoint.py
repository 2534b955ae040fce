"""The checkpoint layer: save on the device, load on cpu and back bit for bit; bad files refused."""

LAYER = "checkpoint"


def test_checkpoint(result):
    assert result.status == "pass", result.message
