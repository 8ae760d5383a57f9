"""Make the fashion-mnist task's data for one run.

Copies train-images, train-labels and t10k-images (gzipped idx) into the
workspace's data/ and writes the test labels as labels.csv (id, label) into
the private directory.
"""
import argparse
import gzip
import os
import shutil

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True, help="directory with the four Fashion-MNIST .gz files")
ap.add_argument("--workspace", required=True)
ap.add_argument("--private", required=True)
args = ap.parse_args()

out = os.path.join(args.workspace, "data")
os.makedirs(out, exist_ok=True)
for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
    shutil.copyfile(os.path.join(args.data, name), os.path.join(out, name))

with gzip.open(os.path.join(args.data, "t10k-labels-idx1-ubyte.gz"), "rb") as f:
    raw = f.read()
if int.from_bytes(raw[:4], "big") != 2049:
    raise SystemExit("t10k-labels-idx1-ubyte.gz is not an idx1 label file")
labels = np.frombuffer(raw, dtype=np.uint8, offset=8)
with open(os.path.join(args.private, "labels.csv"), "w") as f:
    f.write("id,label\n")
    for i, y in enumerate(labels):
        f.write(f"{i},{y}\n")
print(f"fashion-mnist: data copied, {len(labels)} test labels held out")
