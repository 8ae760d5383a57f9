import numpy as np
import baselines

print('train')
