import sys
import pandas as pd

if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "fail":
        sys.exit(1)
    test = pd.read_csv("data/eng/eng_test.csv")
    pd.DataFrame({"id": range(len(test)), "label": [0.5] * len(test)}).to_csv("submission.csv", index=False)
