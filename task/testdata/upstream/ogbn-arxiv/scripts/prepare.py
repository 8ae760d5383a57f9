from ogb.nodeproppred import PygNodePropPredDataset
target_dataset = "ogbn-arxiv"
download_dir = "../env"
dataset = PygNodePropPredDataset(name=target_dataset, root=download_dir + "/networks")
