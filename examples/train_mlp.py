"""The main job: train a small MLP classifier on generated data, on the default device.

Two interleaved spirals (generated with NumPy, no download) are classified by a
two-layer MLP written with polytorch tensors and plain SGD. The loss is printed
as it goes down.

Run:  python examples/train_mlp.py [--device cpu@jax] [--steps 300]
The device defaults to POLYTORCH_DEFAULT_DEVICE, else "cpu".
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np

import polytorch as torch


def spirals(n_per_class: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.sqrt(rng.uniform(0.05, 1.0, n_per_class)) * 3 * math.pi
    xs, ys = [], []
    for label, phase in enumerate((0.0, math.pi)):
        pts = np.stack([t * np.cos(t + phase), t * np.sin(t + phase)], axis=1) / (3 * math.pi)
        xs.append(pts + rng.normal(0, 0.02, pts.shape))
        ys.append(np.full(n_per_class, label))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int64)


def init_linear(rng, fan_in: int, fan_out: int, device):
    # PyTorch's default Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    bound = 1 / math.sqrt(fan_in)
    w = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
    b = rng.uniform(-bound, bound, fan_out).astype(np.float32)
    return (torch.tensor(w, device=device, requires_grad=True),
            torch.tensor(b, device=device, requires_grad=True))


def log_softmax(z):
    z = z - z.max(dim=1, keepdim=True).values
    return z - z.exp().sum(dim=1, keepdim=True).log()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="e.g. cpu, cpu@jax, cuda")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.5)
    args = parser.parse_args()

    device = torch.device(args.device) if args.device else torch.get_default_device()
    x_np, y_np = spirals(256)
    x = torch.tensor(x_np, device=device)
    onehot = torch.tensor(np.eye(2, dtype=np.float32)[y_np], device=device)

    rng = np.random.default_rng(0)
    w1, b1 = init_linear(rng, 2, args.hidden, device)
    w2, b2 = init_linear(rng, args.hidden, args.hidden, device)
    w3, b3 = init_linear(rng, args.hidden, 2, device)
    params = [w1, b1, w2, b2, w3, b3]

    print(f"training a 2-{args.hidden}-{args.hidden}-2 MLP on {len(x_np)} points, "
          f"device {device}")
    start = time.perf_counter()
    for step in range(args.steps + 1):
        h = (x @ w1.T + b1).tanh()
        h = (h @ w2.T + b2).tanh()
        logits = h @ w3.T + b3
        loss = -(log_softmax(logits) * onehot).sum(dim=1).mean()
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= args.lr * p.grad
                p.grad = None
        if step % (args.steps // 10 or 1) == 0:
            acc = (logits[:, 1] > logits[:, 0]).to(torch.int64)
            accuracy = (acc == torch.tensor(y_np, device=device)).to(torch.float32).mean()
            print(f"step {step:4d}  loss {loss.item():.4f}  accuracy {accuracy.item():.3f}")
    print(f"done in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
