"""Make the semrel task's data for one run.

Copies eng_train.csv and eng_dev.csv to data/train.csv and data/dev.csv in the
workspace, writes the test pairs with an id and without their scores to
data/test.csv, and the test scores (id, label) to the private directory.
"""
import argparse
import os

import pandas as pd

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True, help="directory with eng_train.csv, eng_dev.csv, eng_test.csv")
ap.add_argument("--workspace", required=True)
ap.add_argument("--private", required=True)
args = ap.parse_args()

out = os.path.join(args.workspace, "data")
os.makedirs(out, exist_ok=True)
cols = ["sentence1", "sentence2", "label"]
for src, dst in (("eng_train.csv", "train.csv"), ("eng_dev.csv", "dev.csv")):
    df = pd.read_csv(os.path.join(args.data, src), keep_default_na=False)
    df[cols].to_csv(os.path.join(out, dst), index=False)

test = pd.read_csv(os.path.join(args.data, "eng_test.csv"), keep_default_na=False)
test.insert(0, "id", range(len(test)))
test[["id", "sentence1", "sentence2"]].to_csv(os.path.join(out, "test.csv"), index=False)
test[["id", "label"]].to_csv(os.path.join(args.private, "labels.csv"), index=False)
print(f"semrel: train/dev copied, {len(test)} test pairs")
