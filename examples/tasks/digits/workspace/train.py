"""Baseline for the digits task: logistic regression on raw pixels.

Reads data/train.csv and data/test.csv, writes predictions.csv (id,label).
Randomness comes from the MLRC_SEED environment variable (default 0).
"""
import os

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEED = int(os.environ.get("MLRC_SEED", "0"))
np.random.seed(SEED)

train = pd.read_csv("data/train.csv")
test = pd.read_csv("data/test.csv")
features = [c for c in train.columns if c.startswith("p")]

# A validation split of the training data, to see progress without the test labels.
X_tr, X_val, y_tr, y_val = train_test_split(train[features], train["label"], test_size=0.2, random_state=SEED)
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=SEED))
model.fit(X_tr, y_tr)
print(f"validation accuracy: {model.score(X_val, y_val):.4f}")

model.fit(train[features], train["label"])
pd.DataFrame({"id": test["id"], "label": model.predict(test[features])}).to_csv("predictions.csv", index=False)
print(f"wrote predictions.csv ({len(test)} rows)")
