import torch
from torch_geometric.loader import NeighborLoader
from ogb.nodeproppred import PygNodePropPredDataset
