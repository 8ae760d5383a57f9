"""Baseline for house prices: a random forest on 25 numeric features.

Reads data/train.csv and data/test.csv, reports the MAE on a validation split
of the training data, refits on all of it and writes submission.csv
(Id,SalePrice). Randomness comes from MLRC_SEED (default 0).
"""
import os

import pandas as pd
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mean_absolute_error
from sklearn.model_selection import train_test_split

SEED = int(os.environ.get("MLRC_SEED", "0"))

train = pd.read_csv("data/train.csv")
y = train["SalePrice"]

features = ["MSSubClass", "LotArea", "OverallQual", "OverallCond", "YearBuilt", "YearRemodAdd", "1stFlrSF",
            "2ndFlrSF", "LowQualFinSF", "GrLivArea", "FullBath", "HalfBath", "BedroomAbvGr", "KitchenAbvGr",
            "TotRmsAbvGrd", "Fireplaces", "WoodDeckSF", "OpenPorchSF", "EnclosedPorch", "3SsnPorch",
            "ScreenPorch", "PoolArea", "MiscVal", "MoSold", "YrSold"]
X = train[features]

train_X, valid_X, train_y, valid_y = train_test_split(X, y, random_state=SEED)
model = RandomForestRegressor(n_estimators=100, random_state=SEED)
model.fit(train_X, train_y)
print(f"Train MAE: {mean_absolute_error(train_y, model.predict(train_X)):,.0f}")
print(f"Validation MAE: {mean_absolute_error(valid_y, model.predict(valid_X)):,.0f}")

model.fit(X, y)
test = pd.read_csv("data/test.csv")
pd.DataFrame({"Id": test["Id"], "SalePrice": model.predict(test[features])}).to_csv("submission.csv", index=False)
print(f"wrote submission.csv ({len(test)} rows)")
