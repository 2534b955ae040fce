"""The recorded graph as PyTorch's ``torch.autograd.graph`` shows it: ``Node`` objects.

``tensor.grad_fn`` is a ``Node``: ``name()``, ``next_functions``, ``register_hook``
(after it ran: ``hook(grad_inputs, grad_outputs)``) and ``register_prehook``
(before: ``hook(grad_outputs)``).
"""

from ._engine import Node

__all__ = ["Node"]
