"""Baseline for Fashion-MNIST: a small fully connected network, two epochs.

Reads the gzipped idx files in data/, trains a 784-256-10 MLP with Adam on a
CPU, reports accuracy on the last 5,000 training images (held out as a
validation set) and writes predictions.csv (id,label) for the 10,000 test
images. Randomness comes from MLRC_SEED (default 0).
"""
import gzip
import os
import time

import numpy as np
import torch
from torch import nn

SEED = int(os.environ.get("MLRC_SEED", "0"))
torch.manual_seed(SEED)
np.random.seed(SEED)
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))


def images(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    n, rows, cols = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, rows * cols).astype(np.float32) / 255.0


def labels(path):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=8).astype(np.int64)


X = torch.from_numpy(images("data/train-images-idx3-ubyte.gz"))
y = torch.from_numpy(labels("data/train-labels-idx1-ubyte.gz"))
X_test = torch.from_numpy(images("data/t10k-images-idx3-ubyte.gz"))
X_tr, y_tr, X_val, y_val = X[:-5000], y[:-5000], X[-5000:], y[-5000:]

model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = nn.CrossEntropyLoss()


def accuracy(X, y):
    with torch.no_grad():
        return (model(X).argmax(1) == y).float().mean().item()


start = time.time()
for epoch in range(2):
    model.train()
    perm = torch.randperm(len(X_tr))
    for i in range(0, len(perm), 128):
        idx = perm[i:i + 128]
        opt.zero_grad()
        loss = loss_fn(model(X_tr[idx]), y_tr[idx])
        loss.backward()
        opt.step()
    model.eval()
    print(f"epoch {epoch + 1}: loss {loss.item():.4f}, validation accuracy {accuracy(X_val, y_val):.4f} ({time.time() - start:.1f} s)")

with torch.no_grad():
    pred = model(X_test).argmax(1).numpy()
with open("predictions.csv", "w") as f:
    f.write("id,label\n")
    for i, p in enumerate(pred):
        f.write(f"{i},{p}\n")
print(f"wrote predictions.csv ({len(pred)} rows)")
