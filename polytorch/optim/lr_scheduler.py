"""Learning-rate schedulers."""

from __future__ import annotations
