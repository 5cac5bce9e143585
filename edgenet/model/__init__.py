"""Stage 2, the model: lower a graph to tensors (:mod:`.compile`, :mod:`.tensors`,
:mod:`.source`) and run it as a ``torch.nn.Module``: one surface (:mod:`.base`) shared
by the DAG model (:mod:`.dag`) and the recurrent model (:mod:`.recurrent`), changed in
place by :mod:`.rewire` and the sparse-training schedulers (:mod:`.schedulers`)."""
