import pandas as pd

train_data = pd.read_csv("train.csv")
# ***********************************************
# In this part of the code, write and train the model on the above dataset.
# ***********************************************
output = pd.DataFrame({"Id": test_ids, "Pred": test_preds})
output.to_csv("submission.csv", index=False)
