"""nn.functional: scaled_dot_product_attention and multi_head_attention_forward.

Note [Attention is composed]
Both functions are composites of polytorch ops (matmul, where, exp, sum), so they
get gradients, double backward and every backend for free. The one decision they
own is what a fully masked row gives: PyTorch 2.13's CPU ``scaled_dot_product_attention``
uses a "safe" softmax there (the row's weights are 0, so the output row is 0 and
so are its gradients), while ``multi_head_attention_forward`` with
``need_weights=True`` uses a plain softmax (NaN). ``_softmax(safe=...)`` gives both.
"""

from __future__ import annotations

import math

import polytorch

from .._tensor import Tensor
from ._functional_core import dropout, linear, softmax

__all__ = ["multi_head_attention_forward", "scaled_dot_product_attention"]


def _softmax(x: Tensor, safe: bool) -> Tensor:
    """Softmax over the last dim; with ``safe``, rows that are all ``-inf`` give zeros."""
    if not safe:
        return softmax(x, dim=-1)
    # The shift is only for range: softmax does not depend on it, so it is detached
    # (its gradient would be zero) and a row of -inf is shifted by 0, not by -inf.
    top = x.detach().amax(dim=-1, keepdim=True)
    top = polytorch.where(polytorch.isfinite(top), top, 0.0)
    e = (x - top).exp()
    total = e.sum(dim=-1, keepdim=True)
    return e / polytorch.where(total == 0, 1.0, total)


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """``softmax(query @ key.mT * scale + mask) @ value``, as ``torch.nn.functional``'s.

    Args:
        query: ``(..., Hq, L, E)``.
        key: ``(..., H, S, E)``; ``H`` divides ``Hq`` when ``enable_gqa``, else equals it.
        value: ``(..., H, S, Ev)``.
        attn_mask: broadcastable to ``(..., Hq, L, S)``: bool (True takes part) or
            float (added to the scores).
        dropout_p: dropout probability on the attention weights (always applied).
        is_causal: mask out keys after each query (top-left aligned lower triangle);
            an error with ``attn_mask``, as PyTorch's reference (math) kernel.
        scale: the score scale; default ``1 / sqrt(E)``.
        enable_gqa: grouped-query attention: each key/value head serves ``Hq // H``
            query heads.

    Rows whose keys are all masked out give zeros (PyTorch's CPU result), not NaN.

    Example:
        >>> q = k = v = polytorch.randn(2, 4, 5, 8)
        >>> scaled_dot_product_attention(q, k, v, is_causal=True).shape
        polytorch.Size([2, 4, 5, 8])
    """
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                           "set when is_causal=True")
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(
            "scaled_dot_product_attention: query, key and value must have at least 2 "
            f"dimensions, got {query.ndim}, {key.ndim} and {value.ndim}"
        )
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(
            "scaled_dot_product_attention: query.size(-1) must equal key.size(-1), got "
            f"{query.shape[-1]} and {key.shape[-1]}"
        )
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            "scaled_dot_product_attention: key.size(-2) must equal value.size(-2), got "
            f"{key.shape[-2]} and {value.shape[-2]}"
        )
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3:
        hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
        if hq % hk or hq % hv:
            raise RuntimeError(
                "scaled_dot_product_attention: with enable_gqa=True the number of query "
                f"heads ({hq}) must be a multiple of the key ({hk}) and value ({hv}) heads"
            )
        key = _repeat_heads(key, hq // hk)
        value = _repeat_heads(value, hq // hv)
    L, S = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    # Scaling the (L, E) query costs less than scaling the (L, S) scores.
    scores = (query * scale) @ key.transpose(-2, -1)
    # Only a given mask can empty a row (the causal one keeps key 0 for every query);
    # without one, the plain softmax primitive is enough.
    may_empty_rows = attn_mask is not None
    if is_causal:
        attn_mask = polytorch.ones(L, S, dtype=polytorch.bool, device=query.device).tril()
    if attn_mask is not None:
        if attn_mask.dtype == polytorch.bool:
            scores = polytorch.where(attn_mask, scores, float("-inf"))
        elif attn_mask.dtype.is_floating_point:
            scores = scores + attn_mask
        else:
            raise RuntimeError(
                "scaled_dot_product_attention: attn_mask must be bool or floating point, "
                f"got {attn_mask.dtype}"
            )
    weights = _softmax(scores, safe=may_empty_rows)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p)
    return weights @ value


def _repeat_heads(x: Tensor, n: int) -> Tensor:
    """``x.repeat_interleave(n, dim=-3)`` as a broadcast and a reshape."""
    if n == 1:
        return x
    shape = tuple(x.shape)
    big = x.unsqueeze(-3).expand(*shape[:-3], shape[-3], n, *shape[-2:])
    return big.reshape(*shape[:-3], shape[-3] * n, *shape[-2:])


def _canonical_mask(mask: Tensor | None, name: str, dtype) -> Tensor | None:
    """A bool mask (True = masked out) as an additive float mask; a float mask as is."""
    if mask is None:
        return None
    if mask.dtype == polytorch.bool:
        return polytorch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(
            mask, float("-inf"))
    if not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return mask


def _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """Whether the inputs are batched; errors name what is wrong, as PyTorch's."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                f"{key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D "
                f"but found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                f"but found {attn_mask.ndim}-D tensor instead")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                f"{key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D "
                f"but found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError(
                    "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or "
                    f"3-D but found {attn_mask.ndim}-D tensor instead")
            if attn_mask.ndim == 3:
                expected = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected:
                    raise AssertionError(
                        f"Expected `attn_mask` shape to be {expected} but got "
                        f"{tuple(attn_mask.shape)}")
        return False
    raise AssertionError(
        f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D "
        "query tensor")


def _pad_last(mask: Tensor) -> Tensor:
    """``F.pad(mask, (0, 1))``: one more (zero, i.e. not masked) key column."""
    zero = polytorch.zeros((*mask.shape[:-1], 1), dtype=mask.dtype, device=mask.device)
    return polytorch.cat([mask, zero], dim=-1)


def multi_head_attention_forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    embed_dim_to_check: int,
    num_heads: int,
    in_proj_weight: Tensor | None,
    in_proj_bias: Tensor | None,
    bias_k: Tensor | None,
    bias_v: Tensor | None,
    add_zero_attn: bool,
    dropout_p: float,
    out_proj_weight: Tensor,
    out_proj_bias: Tensor | None,
    training: bool = True,
    key_padding_mask: Tensor | None = None,
    need_weights: bool = True,
    attn_mask: Tensor | None = None,
    use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None,
    k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None,
    static_k: Tensor | None = None,
    static_v: Tensor | None = None,
    average_attn_weights: bool = True,
    is_causal: bool = False,
) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention over sequence-first inputs ``(L, N, E)`` (or unbatched ``(L, E)``).

    The same computation as ``torch.nn.functional.multi_head_attention_forward``:
    in-projections, optional ``bias_k``/``bias_v`` and zero-attention columns, masks
    (bool True = masked out, or additive float), scaled dot-product attention per
    head, the out-projection. Returns ``(output, weights)``, ``weights`` being None
    unless ``need_weights`` (averaged over heads if ``average_attn_weights``).

    Example:
        >>> E, H = 8, 2
        >>> x = polytorch.randn(5, 3, E)
        >>> w, b = polytorch.randn(3 * E, E), polytorch.zeros(3 * E)
        >>> out, wts = multi_head_attention_forward(
        ...     x, x, x, E, H, w, b, None, None, False, 0.0, polytorch.randn(E, E), None)
        >>> out.shape, wts.shape
        (polytorch.Size([5, 3, 8]), polytorch.Size([3, 5, 5]))
    """
    is_batched = _shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
            "module method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        # sdpa's is_causal replaces the mask (PyTorch trusts the hint the same way).
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", query.dtype)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(
                f"key's sequence and batch dims {tuple(key.shape[:2])} do not match value's "
                f"{tuple(value.shape[:2])}")
    elif tuple(key.shape) != tuple(value.shape):
        raise AssertionError(
            f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}")

    # -- in-projection
    if not use_separate_proj_weight:
        if key is value and query is key:  # self-attention: one matmul for q, k and v
            q, k, v = linear(query, in_proj_weight, in_proj_bias).chunk(3, dim=-1)
        else:
            w_q, w_k, w_v = in_proj_weight.chunk(3)
            b_q, b_k, b_v = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
            q, k, v = linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)
    else:
        b_q, b_k, b_v = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        q = linear(query, q_proj_weight, b_q)
        k = linear(key, k_proj_weight, b_k)
        v = linear(value, v_proj_weight, b_v)

    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(
                    f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be "
                    f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise RuntimeError(
                f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                f"{(bsz * num_heads, tgt_len, src_len)}.")

    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key/value.")
        k = polytorch.cat([k, bias_k.expand(1, bsz, embed_dim)])
        v = polytorch.cat([v, bias_v.expand(1, bsz, embed_dim)])
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k and bias_v must both be given or both be None")

    # -- heads: (L, N, E) -> (N * H, L, head_dim)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _heads(k, static_k, "static_k", bsz, num_heads, head_dim)
    v = _heads(v, static_v, "static_v", bsz, num_heads, head_dim)

    if add_zero_attn:
        zeros = polytorch.zeros((bsz * num_heads, 1, head_dim), dtype=q.dtype, device=q.device)
        k = polytorch.cat([k, zeros], dim=1)
        v = polytorch.cat([v, zeros], dim=1)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    src_len = k.shape[1]

    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(
                f"expecting key_padding_mask shape of {(bsz, src_len)}, but got "
                f"{tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
        kpm = kpm.reshape(bsz * num_heads, 1, src_len)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm

    if not training:
        dropout_p = 0.0

    if need_weights:
        scores = (q * (1.0 / math.sqrt(head_dim))) @ k.transpose(-2, -1)
        if attn_mask is not None:
            scores = scores + attn_mask
        weights = _softmax(scores, safe=False)
        if dropout_p > 0.0:
            weights = dropout(weights, dropout_p)
        out = (weights @ v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        if attn_mask.shape[0] == 1 and attn_mask.ndim == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    if not is_batched:
        out = out.squeeze(1)
    return out, None


def _heads(x: Tensor, static: Tensor | None, name: str, bsz: int, num_heads: int,
           head_dim: int) -> Tensor:
    """``(S, N, E)`` -> ``(N * H, S, head_dim)``, or the given ``static_k``/``static_v``."""
    if static is None:
        return x.reshape(x.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    if static.shape[0] != bsz * num_heads:
        raise AssertionError(
            f"expecting {name}.size(0) of {bsz * num_heads}, but got {static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(
            f"expecting {name}.size(2) of {head_dim}, but got {static.shape[2]}")
    return static
