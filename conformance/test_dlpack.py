"""The dlpack layer: exchange with NumPy through DLPack, both ways."""

LAYER = "dlpack"


def test_dlpack(result):
    assert result.status == "pass", result.message
