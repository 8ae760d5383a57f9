import numpy as np
import pandas as pd
import keras

print('train')
