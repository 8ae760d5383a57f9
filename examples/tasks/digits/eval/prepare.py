"""Make the digits task's data for one run.

Writes data/train.csv (id, p0..p63, label) and data/test.csv (id, p0..p63)
into the workspace and the test labels (id, label) into the private
directory. The 70/30 split is fixed (random_state=0), whatever the run's
seed, so scores are comparable across runs and seeds. scikit-learn's own
copy of the digits is hidden from experiments (task.yaml, hide).
"""
import argparse
import os

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

ap = argparse.ArgumentParser()
ap.add_argument("--workspace", required=True)
ap.add_argument("--private", required=True)
args = ap.parse_args()

digits = load_digits()
X = pd.DataFrame(digits.data.astype(int), columns=[f"p{i}" for i in range(digits.data.shape[1])])
# Ids are a fixed random permutation, so an id says nothing about where the
# image sits in scikit-learn's copy of the data.
X.insert(0, "id", np.random.RandomState(0).permutation(len(X)) + 1000)
y = pd.Series(digits.target, name="label")
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)

data = os.path.join(args.workspace, "data")
os.makedirs(data, exist_ok=True)
X_train.assign(label=y_train.values).to_csv(os.path.join(data, "train.csv"), index=False)
X_test.to_csv(os.path.join(data, "test.csv"), index=False)
pd.DataFrame({"id": X_test["id"].values, "label": y_test.values}).to_csv(os.path.join(args.private, "labels.csv"), index=False)
print(f"digits: {len(X_train)} training rows, {len(X_test)} test rows")
