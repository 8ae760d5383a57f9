import numpy as np
import torch
from encode import rle_encode

print('train')
