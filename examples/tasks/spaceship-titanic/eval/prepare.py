"""Make the spaceship-titanic task's data for one run.

Copies train.csv, test.csv and task_descriptor.txt into the workspace's data/
and answer.csv (PassengerId, Transported of the test passengers) into the
private directory.
"""
import argparse
import os
import shutil

ap = argparse.ArgumentParser()
ap.add_argument("--data", required=True, help="directory with train.csv, test.csv, task_descriptor.txt, answer.csv")
ap.add_argument("--workspace", required=True)
ap.add_argument("--private", required=True)
args = ap.parse_args()

out = os.path.join(args.workspace, "data")
os.makedirs(out, exist_ok=True)
for name in ("train.csv", "test.csv", "task_descriptor.txt"):
    shutil.copyfile(os.path.join(args.data, name), os.path.join(out, name))
shutil.copyfile(os.path.join(args.data, "answer.csv"), os.path.join(args.private, "answer.csv"))
print("spaceship-titanic: data copied")
