"""Make the house-price task's data for one run.

Copies train.csv, test.csv and data_description.txt into the workspace's
data/ and answer.csv (Id, SalePrice of the test houses) into the private
directory.
"""
import argparse
import os
import shutil

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True, help="directory with train.csv, test.csv, data_description.txt, answer.csv")
ap.add_argument("--workspace", required=True)
ap.add_argument("--private", required=True)
args = ap.parse_args()

out = os.path.join(args.workspace, "data")
os.makedirs(out, exist_ok=True)
for name in ("train.csv", "test.csv", "data_description.txt"):
    shutil.copyfile(os.path.join(args.data, name), os.path.join(out, name))
shutil.copyfile(os.path.join(args.data, "answer.csv"), os.path.join(args.private, "answer.csv"))
print("house-price: data copied")
