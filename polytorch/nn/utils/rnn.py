"""``polytorch.nn.utils.rnn``: packed and padded sequences for the recurrent layers."""

from __future__ import annotations

from ..modules.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
)

__all__ = ["PackedSequence", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence",
           "pad_sequence"]
