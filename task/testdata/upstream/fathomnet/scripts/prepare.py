import subprocess
import pandas as pd

taskname = "fathomnet-out-of-sample-detection"
download_dir = "../env"

input(f"Accept the rules of https://www.kaggle.com/competitions/{taskname}/data, then press a key")
subprocess.run(["kaggle", "competitions", "download", "-c", taskname], cwd=download_dir)
subprocess.run(["unzip", "-n", f"{taskname}.zip"], cwd=download_dir)
subprocess.run(["rm", f"{taskname}.zip"], cwd=download_dir)
