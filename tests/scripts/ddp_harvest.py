"""Harvest the micro model's activations into one store, in one process or under torchrun (tests/test_distributed.py).

    torchrun --nproc_per_node 2 tests/scripts/ddp_harvest.py STORE
"""
import sys
from sparse_nb.core import init_distributed
from sparse_nb.lm import load_model, load_corpus
from sparse_nb.activations import harvest

rank, world = init_distributed()
lm = load_model('micro-pythia', progress=False)      # built and cached by the test before it launches this
harvest(lm, ['blocks.0.hook_resid_post', 'blocks.1.hook_mlp_out'], load_corpus(progress=False)['text'], 3000,
        sys.argv[1], seq_len=64, chunk_rows=8, progress=False)
print(f"rank {rank} of {world} done")
