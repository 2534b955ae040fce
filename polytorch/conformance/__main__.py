"""``python -m polytorch.conformance DEVICE``: see ``polytorch.conformance``."""

from ._cli import main

raise SystemExit(main())
