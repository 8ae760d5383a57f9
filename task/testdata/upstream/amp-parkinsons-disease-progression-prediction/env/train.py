import numpy as np
import pandas as pd
from public_timeseries_testing_util import MockApi

def smapep1(y_true, y_pred):
    return 100.0

if __name__ == "__main__":
    pd.DataFrame({"prediction_id": [], "rating": []}).to_csv("submission.csv", index=False)
