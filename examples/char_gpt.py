"""A character-level GPT trained on Shakespeare's sonnets, written as ordinary PyTorch code.

Token and position embeddings, pre-norm transformer blocks (causal self-attention
through ``F.scaled_dot_product_attention``, a GELU MLP), a final LayerNorm and an
output layer tied to the token embedding. AdamW trains it on the bundled text
(examples/data/tiny_text.txt, public domain), the training and validation losses
are printed, and then text is sampled with temperature and top-k through
``torch.multinomial``. Apart from the first import line, this is a PyTorch script.

Run:  python examples/char_gpt.py [--device cpu@jax] [--steps 300] [--sample-chars 300]
The device defaults to POLYTORCH_DEFAULT_DEVICE, else "cpu".
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import polytorch as torch
import polytorch.nn as nn
import polytorch.nn.functional as F

TEXT = Path(__file__).resolve().parent / "data" / "tiny_text.txt"


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model: int, n_head: int, dropout: float) -> None:
        super().__init__()
        self.n_head = n_head
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.dropout = dropout

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        # (B, T, C) -> (B, heads, T, C // heads)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                           dropout_p=self.dropout if self.training else 0.0)
        return self.proj(y.transpose(1, 2).contiguous().view(B, T, C))


class Block(nn.Module):
    """Pre-norm: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, d_model: int, n_head: int, dropout: float) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_head, dropout)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, 4 * d_model),
            nn.GELU(approximate="tanh"),  # GPT-2's GELU
            nn.Linear(4 * d_model, d_model),
            nn.Dropout(dropout),
        )

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size: int, block_size: int, d_model: int = 64, n_head: int = 4,
                 n_layer: int = 2, dropout: float = 0.0) -> None:
        super().__init__()
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(block_size, d_model)
        self.blocks = nn.ModuleList(Block(d_model, n_head, dropout) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # weight tying
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight") or name.endswith("mlp.2.weight"):
                # GPT-2: residual projections scaled down with depth.
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))

    @staticmethod
    def _init_weights(module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx, targets=None):
        B, T = idx.shape
        pos = torch.arange(T, device=idx.device)
        x = self.tok_emb(idx) + self.pos_emb(pos)
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.ln_f(x))
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(logits.view(B * T, -1), targets.reshape(B * T))

    @torch.no_grad()
    def generate(self, idx, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None):
        for _ in range(max_new_tokens):
            logits, _ = self(idx[:, -self.block_size:])
            logits = logits[:, -1, :] / temperature
            if top_k is not None:
                kth = torch.topk(logits, min(top_k, logits.size(-1))).values[:, [-1]]
                logits = logits.masked_fill(logits < kth, float("-inf"))
            probs = F.softmax(logits, dim=-1)
            idx = torch.cat((idx, torch.multinomial(probs, num_samples=1)), dim=1)
        return idx


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="e.g. cpu, cpu@jax, cuda")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--block-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--eval-every", type=int, default=50)
    parser.add_argument("--sample-chars", type=int, default=300)
    parser.add_argument("--temperature", type=float, default=0.8)
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    device = torch.device(args.device) if args.device else torch.get_default_device()
    text = TEXT.read_text(encoding="utf-8")
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long, device=device)
    n_train = int(0.9 * len(data))
    splits = {"train": data[:n_train], "val": data[n_train:]}
    offsets = torch.arange(args.block_size + 1, device=device)

    def get_batch(split: str):
        d = splits[split]
        starts = torch.randint(len(d) - args.block_size - 1, (args.batch_size, 1), device=device)
        chunk = d[starts + offsets]  # (batch, block + 1) windows in one gather
        return chunk[:, :-1], chunk[:, 1:]

    model = GPT(len(chars), args.block_size).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.1)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"{len(text)} characters, vocabulary {len(chars)}; a {n_params}-parameter GPT, "
          f"device {device}")

    @torch.no_grad()
    def val_loss(batches: int = 4) -> float:
        model.eval()
        losses = [model(*get_batch("val"))[1].item() for _ in range(batches)]
        model.train()
        return sum(losses) / len(losses)

    start = time.perf_counter()
    for step in range(1, args.steps + 1):
        _, loss = model(*get_batch("train"))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if step == 1 or step % args.eval_every == 0 or step == args.steps:
            print(f"step {step:4d}  train loss {loss.item():.4f}  val loss {val_loss():.4f}  "
                  f"({time.perf_counter() - start:.1f} s)", flush=True)

    model.eval()
    prompt = torch.tensor([[stoi["\n"]]], dtype=torch.long, device=device)
    out = model.generate(prompt, args.sample_chars, temperature=args.temperature,
                         top_k=args.top_k)
    print("--- sample ---")
    print("".join(chars[i] for i in out[0].tolist()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
