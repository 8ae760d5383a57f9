"""Baseline written by `mlrc task new`: a linear model on the numeric
columns, one-hot categories and (if any) TF-IDF of a text column. Writes
predictions.csv: the id, the prediction and, for classification, the
probability of each class as p_<class>."""
import os

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

ID, TARGET, TEXT, KIND = "{{ID}}", "{{TARGET}}", "{{TEXT}}", "{{KIND}}"
seed = int(os.environ.get("MLRC_SEED", "0"))

train = pd.read_csv("train.csv")
test = pd.read_csv("test.csv")
X = train.drop(columns=[TARGET, ID])
y = train[TARGET]
numeric = [c for c in X.columns if c != TEXT and pd.api.types.is_numeric_dtype(X[c])]
categorical = [c for c in X.columns if c != TEXT and c not in numeric and X[c].nunique() <= 50]
parts = [
    ("num", make_pipeline(SimpleImputer(), StandardScaler()), numeric),
    ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")), categorical),
]
if TEXT:
    parts.append(("text", TfidfVectorizer(max_features=20000), TEXT))
    X[TEXT] = X[TEXT].fillna("")
    test[TEXT] = test[TEXT].fillna("")
features = ColumnTransformer([p for p in parts if p[2]])
if KIND == "classification":
    model = make_pipeline(features, LogisticRegression(max_iter=1000, random_state=seed))
    model.fit(X, y.astype(str))
    out = pd.DataFrame({ID: test[ID], "prediction": model.predict(test)})
    for c, col in zip(model.classes_, model.predict_proba(test).T):
        out[f"p_{c}"] = col
else:
    model = make_pipeline(features, Ridge(random_state=seed))
    model.fit(X, y.astype(float))
    out = pd.DataFrame({ID: test[ID], "prediction": model.predict(test)})
out.to_csv("predictions.csv", index=False)
print(f"wrote predictions.csv ({len(out)} rows)")
