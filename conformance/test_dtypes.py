"""The dtypes layer: every declared dtype works; every undeclared one is refused clearly."""

LAYER = "dtypes"


def test_dtypes(result):
    assert result.status == "pass", result.message
