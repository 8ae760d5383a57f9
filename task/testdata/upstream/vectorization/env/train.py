import time
import numpy as np

if __name__ == "__main__":
    start = time.time()
    x = np.ones((50, 50)) @ np.ones((50, 50))
    with open("submission.csv", "w") as f:
        f.write(str(time.time() - start + 0.001))
