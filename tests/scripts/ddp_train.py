"""Train a small TopK stack on toy data, in one process or under torchrun (tests/test_distributed.py).

    python tests/scripts/ddp_train.py OUT [--resume] [--crash-at STEP]
    torchrun --nproc_per_node 2 tests/scripts/ddp_train.py OUT [--resume] [--crash-at STEP]
"""
import argparse
import torch
from sparse_nb.core import RunDir, init_distributed
from sparse_nb.saes import make_sae
from sparse_nb.toy import ToySource
from sparse_nb.train import train, TrainConfig

p = argparse.ArgumentParser()
p.add_argument('out'); p.add_argument('--resume', action='store_true')
p.add_argument('--crash-at', type=int, default=-1)
p.add_argument('--variant', default='topk')
p.add_argument('--track', default=None)
a = p.parse_args()
rank, world = init_distributed()
torch.manual_seed(0)
src = ToySource(n_features=64, d_in=32, mean_active=3, seed=1)
sae = make_sae(a.variant, d_in=32, d_sae=128, members=2,
               **({'k': [4, 8]} if a.variant == 'topk' else {'l1_coeff': [0.01, 0.03]}), seed=0)
sae.init_b_dec(src(1024))
def crash(step, sae):
    if step == a.crash_at: raise SystemExit(f"crash on purpose at step {step}")
cfg = TrainConfig(steps=60, batch_size=128, checkpoint_every=20, resample_every=25, dead_window=256, lr=3e-3,
                  precision='fp32')   # the same weights to float32 rounding: bf16 rounds a split batch differently
train(sae, src, cfg, run=RunDir(a.out), resume=a.resume, callback=crash, progress=False, track=a.track)
print(f"rank {rank} of {world} done")
