"""The session GNN (SR-GNN): graphs, layer and model, streamed training pairs, the training
loop, blocked top-k scoring."""
