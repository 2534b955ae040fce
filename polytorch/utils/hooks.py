"""``RemovableHandle``: what registering a module hook returns (PyTorch's ``torch.utils.hooks``)."""

from __future__ import annotations

import weakref
from typing import Any

__all__ = ["RemovableHandle"]


class RemovableHandle:
    """A handle whose ``remove()`` takes a hook out of the dict(s) it was registered in.

    Args:
        hooks_dict: the dict (hook id -> hook) the hook lives in.
        extra_dict: further dicts keyed by the same id (flags such as ``with_kwargs``).

    Example:
        >>> import polytorch as torch
        >>> m = torch.nn.Module()
        >>> h = m.register_forward_hook(lambda mod, args, out: None)
        >>> h.remove()
    """

    id: int
    next_id: int = 0

    def __init__(self, hooks_dict: Any, *, extra_dict: Any = None) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        self.extra_dict_ref: tuple = ()
        if isinstance(extra_dict, dict):
            self.extra_dict_ref = (weakref.ref(extra_dict),)
        elif isinstance(extra_dict, list):
            self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        hooks_dict = self.hooks_dict_ref()
        if hooks_dict is not None and self.id in hooks_dict:
            del hooks_dict[self.id]
        for ref in self.extra_dict_ref:
            extra = ref()
            if extra is not None and self.id in extra:
                del extra[self.id]

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()
