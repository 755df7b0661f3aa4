"""Speed of SAE training, as ratios measured in one process.

1. An 8-member stack against 8 separate single-SAE runs over the same batches, end to end (sampling the
   toy data plus training), through the same `train` loop.
2. One dense ReLU training step of `sparse_nb` (encode, loss, backward, decoder-norm projection, Adam,
   renormalisation, dead-latent bookkeeping) against a minimal plain-torch step of the same shapes
   (d_in 512, d_sae 4096, batch 4096 by default), on one fixed batch.

Run: .venv/bin/python benchmarks/bench_train.py [--quick]
"""
import argparse
import torch
from common import timed
from sparse_nb.toy import ToySource
from sparse_nb.saes import make_sae
from sparse_nb.train import train, TrainConfig


def stack_vs_separate(members:int, steps:int, n_features:int, d_in:int, d_sae:int, batch_size:int)->dict:
    "Seconds for one E-member stack vs E separate E=1 runs, each sampling its own (identical) batches."
    l1 = [0.03 * 1.5 ** i for i in range(members)]
    def stack():
        train(make_sae('relu', d_in=d_in, d_sae=d_sae, members=members, l1_coeff=l1), ToySource(n_features=n_features, d_in=d_in, seed=0),
              TrainConfig(steps=steps, batch_size=batch_size, log_every=steps), progress=False)
    def separate():
        for c in l1:
            train(make_sae('relu', d_in=d_in, d_sae=d_sae, members=1, l1_coeff=[c]), ToySource(n_features=n_features, d_in=d_in, seed=0),
                  TrainConfig(steps=steps, batch_size=batch_size, log_every=steps), progress=False)
    stack(); t_stack = timed(stack); t_sep = timed(separate)
    return {'stack_s': t_stack, 'separate_s': t_sep, 'speedup': t_sep / t_stack}

def ours_vs_plain(d_in:int, d_sae:int, batch_size:int, steps:int)->dict:
    "Tokens/s of sparse_nb's training step vs a minimal plain-torch ReLU SAE step, same shapes."
    x = torch.randn(batch_size, d_in)
    sae = make_sae('relu', d_in=d_in, d_sae=d_sae, members=1, l1_coeff=[1e-3])
    ours = lambda: train(sae, lambda b: x, TrainConfig(steps=steps, batch_size=batch_size, log_every=10**9), progress=False)
    W_enc = torch.nn.Parameter(torch.randn(d_in, d_sae) / d_in ** 0.5); W_dec = torch.nn.Parameter(torch.randn(d_sae, d_in) / d_sae ** 0.5)
    b_enc, b_dec = torch.nn.Parameter(torch.zeros(d_sae)), torch.nn.Parameter(torch.zeros(d_in))
    opt = torch.optim.Adam([W_enc, W_dec, b_enc, b_dec], lr=1e-3)
    def plain():
        for _ in range(steps):
            f = torch.relu((x - b_dec) @ W_enc + b_enc)
            loss = ((f @ W_dec + b_dec - x) ** 2).sum(-1).mean() + 1e-3 * f.sum(-1).mean()
            opt.zero_grad(); loss.backward(); opt.step()
    ours(); plain()                                   # warm up
    t_ours, t_plain = timed(ours), timed(plain)
    tok = batch_size * steps
    return {'ours_tok_s': tok / t_ours, 'plain_tok_s': tok / t_plain, 'plain_over_ours': t_ours / t_plain}

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--quick', action='store_true', help='tiny sizes (smoke test)')
    a = p.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    if a.quick: s = stack_vs_separate(members=8, steps=5, n_features=64, d_in=32, d_sae=64, batch_size=64)
    else: s = stack_vs_separate(members=8, steps=300, n_features=512, d_in=256, d_sae=512, batch_size=256)
    print(f"8-member stack vs 8 separate runs (end to end): stack {s['stack_s']:.1f}s, separate {s['separate_s']:.1f}s, speedup {s['speedup']:.2f}x")
    if a.quick: o = ours_vs_plain(d_in=32, d_sae=64, batch_size=64, steps=3)
    else: o = ours_vs_plain(d_in=512, d_sae=4096, batch_size=4096, steps=10)
    print(f"dense ReLU step: sparse_nb {o['ours_tok_s']:,.0f} tok/s, plain torch {o['plain_tok_s']:,.0f} tok/s, sparse_nb takes {o['plain_over_ours']:.2f}x the plain time")
