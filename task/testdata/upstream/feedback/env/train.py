import numpy as np
import pandas as pd

DIMENSIONS = ["cohesion", "syntax"]

def compute_metrics_for_regression(y_test, y_test_pred):
    metrics = {}
    for i, task in enumerate(DIMENSIONS):
        metrics["rmse_" + task] = float(np.sqrt(np.mean((y_test[:, i] - y_test_pred[:, i]) ** 2)))
    return metrics

if __name__ == "__main__":
    train = pd.read_csv("train.csv")
    test = pd.read_csv("test.csv")
    sub = pd.DataFrame({"text_id": test["text_id"]})
    for d in DIMENSIONS:
        sub[d] = train[d].mean()
    sub.to_csv("submission.csv", index=False)
