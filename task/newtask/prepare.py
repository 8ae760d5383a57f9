"""Split a CSV into the agent's train/test files and held-out labels.

Written by `mlrc task new`. The split is fixed (seeded), so every run and
every seed scores against the same test rows.
"""
import argparse
import os

import numpy as np
import pandas as pd

ap = argparse.ArgumentParser()
ap.add_argument("--csv", required=True)
ap.add_argument("--target", required=True)
ap.add_argument("--id", default="")
ap.add_argument("--test-size", type=float, default=0.2)
ap.add_argument("--workspace", required=True)
ap.add_argument("--private", required=True)
args = ap.parse_args()

df = pd.read_csv(args.csv)
if args.target not in df.columns:
    raise SystemExit(f"the CSV has no column {args.target!r}; its columns: {', '.join(map(str, df.columns))}")
df = df[df[args.target].notna()].reset_index(drop=True)
idcol = args.id or "row_id"
if not args.id:
    df.insert(0, idcol, np.arange(len(df)))
elif idcol not in df.columns:
    raise SystemExit(f"the CSV has no id column {idcol!r}")
order = np.random.RandomState(20240101).permutation(len(df))
n_test = max(1, int(round(len(df) * args.test_size)))
test, train = df.iloc[order[:n_test]], df.iloc[order[n_test:]]
train.to_csv(os.path.join(args.workspace, "train.csv"), index=False)
test.drop(columns=[args.target]).to_csv(os.path.join(args.workspace, "test.csv"), index=False)
test[[idcol, args.target]].to_csv(os.path.join(args.private, "labels.csv"), index=False)
print(f"{len(train)} training rows, {len(test)} test rows")
