"""Baseline for Spaceship Titanic: logistic regression on a few one-hot columns.

Reads data/train.csv and data/test.csv, reports accuracy on a validation
split of the training data, refits on all of it and writes submission.csv
(PassengerId,Transported). Randomness comes from MLRC_SEED (default 0).
"""
import os

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

SEED = int(os.environ.get("MLRC_SEED", "0"))
CATEGORICAL = ["HomePlanet", "CryoSleep", "Destination", "VIP", "Deck", "Side"]


def features(df):
    df = df.copy()
    cabin = df["Cabin"].fillna("//").str.split("/", expand=True)
    df["Deck"], df["Side"] = cabin[0], cabin[2]
    return pd.get_dummies(df[CATEGORICAL].astype(str))


train = pd.read_csv("data/train.csv")
test = pd.read_csv("data/test.csv")
X = features(train)
X_test = features(test).reindex(columns=X.columns, fill_value=0)
y = train["Transported"].astype(bool)

X_tr, X_val, y_tr, y_val = train_test_split(X, y, test_size=0.2, random_state=SEED)
model = LogisticRegression(max_iter=1000, random_state=SEED)
model.fit(X_tr, y_tr)
print(f"Train accuracy: {model.score(X_tr, y_tr):.4f}")
print(f"Validation accuracy: {model.score(X_val, y_val):.4f}")

model.fit(X, y)
pd.DataFrame({"PassengerId": test["PassengerId"], "Transported": model.predict(X_test)}).to_csv("submission.csv", index=False)
print(f"wrote submission.csv ({len(test)} rows)")
