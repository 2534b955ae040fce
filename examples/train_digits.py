"""The main job: train a small CNN on handwritten digits, written as ordinary PyTorch code.

The bundled UCI digits (examples/data/digits.csv.gz: 1797 images of 8x8 pixels,
see examples/data/README.md) are split by a fixed permutation into 80% for
training and the last 20% held out. A Conv2d-BatchNorm2d-ReLU-MaxPool2d network
is trained with Adam and its test accuracy printed. Apart from the first import
line, this is a PyTorch script: ``import torch`` runs it unchanged.

Run:  python examples/train_digits.py [--device cpu@jax] [--epochs 6] [--seed 0]
The device defaults to POLYTORCH_DEFAULT_DEVICE, else "cpu".
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import polytorch as torch
import polytorch.nn as nn
import polytorch.nn.functional as F
from polytorch.utils.data import DataLoader, TensorDataset

DATA = Path(__file__).resolve().parent / "data" / "digits.csv.gz"


def load_digits(test_fraction: float = 0.2):
    """(x_train, y_train, x_test, y_test): images scaled to [0, 1] as (N, 1, 8, 8) float32."""
    table = np.loadtxt(DATA, delimiter=",", dtype=np.float32)  # NumPy reads .gz itself
    x = (table[:, :64] / 16.0).reshape(-1, 1, 8, 8)
    y = table[:, 64].astype(np.int64)
    order = np.random.default_rng(0).permutation(len(x))  # the same split for every --seed
    n_test = int(round(test_fraction * len(x)))
    train, test = order[:-n_test], order[-n_test:]
    return x[train], y[train], x[test], y[test]


class DigitNet(nn.Module):
    """Two conv blocks (8x8 -> 4x4 -> 2x2) and a two-layer classifier."""

    def __init__(self, channels: int = 16, classes: int = 10) -> None:
        super().__init__()
        c = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c, kernel_size=3, padding=1),
            nn.BatchNorm2d(c),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c, 2 * c, kernel_size=3, padding=1),
            nn.BatchNorm2d(2 * c),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(2 * c * 2 * 2, 64),
            nn.ReLU(),
            nn.Linear(64, classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def progress(epoch: int, epochs: int, done: int, total: int, text: str, end: str = "") -> None:
    """One line per epoch: redrawn in place on a terminal, printed once when piped."""
    if not end and not sys.stdout.isatty():
        return
    width = 20
    bar = "#" * (width * done // total) + "." * (width - width * done // total)
    print(f"\repoch {epoch:2d}/{epochs} [{bar}] {done:3d}/{total} {text}", end=end, flush=True)


def evaluate(model, loader, device) -> float:
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            correct += (model(x).argmax(dim=1) == y).sum().item()
            total += y.numel()
    return correct / total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="e.g. cpu, cpu@jax, cuda")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    device = torch.device(args.device) if args.device else torch.get_default_device()
    x_train, y_train, x_test, y_test = load_digits()
    train_loader = DataLoader(TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train)),
                              batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(TensorDataset(torch.from_numpy(x_test), torch.from_numpy(y_test)),
                             batch_size=512)

    model = DigitNet().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"training a {n_params}-parameter CNN on {len(x_train)} digits "
          f"({len(x_test)} held out), device {device}")

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        seen = loss_sum = 0.0
        for step, (x, y) in enumerate(train_loader, 1):
            x, y = x.to(device), y.to(device)
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(y)
            seen += len(y)
            progress(epoch, args.epochs, step, len(train_loader), f"loss {loss_sum / seen:.4f}")
        accuracy = evaluate(model, test_loader, device)
        progress(epoch, args.epochs, len(train_loader), len(train_loader),
                 f"loss {loss_sum / seen:.4f}  test accuracy {100 * accuracy:.1f}%  "
                 f"({time.perf_counter() - start:.1f} s)", end="\n")
    print(f"test accuracy: {100 * evaluate(model, test_loader, device):.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
