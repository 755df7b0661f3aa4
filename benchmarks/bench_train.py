"""Speed of SAE training, as ratios measured in one process (interleaved rounds, medians).

1. dense ReLU step: sparse_nb's whole loop body (encode, loss, backward, decoder-norm projection, Adam,
   renormalisation, dead-latent bookkeeping) against a minimal plain-torch step of the same shapes, and
   against dictionary_learning's StandardTrainer step where it imports.
2. TopK step, sparse path against dense path, at k = 32 and k = d_sae / 4, and against sparsify's step
   (its fused encoder and embedding_bag decoder) where it imports.
3. An 8-member stack against 8 separate single-SAE runs, end to end.
3b. The dense ReLU step and the sparse TopK step in fp32 and in bf16 (`TrainConfig.precision`).
3c. The optimiser step: `core.adam` (torch's fused kernel) against torch's default Adam, on an 8-member stack.
4. Achieved GFLOP/s of the dense step against a measured matmul of the same shapes.
5. Profiles: where the dense ReLU step and a step of bench_peers.py's stacked TopK sweep spend their time.

Peers are imported from `$SPARSE_NB_PEERS_PATH` (see RESULTS.md).

Run: .venv/bin/python benchmarks/bench_train.py [--quick]
"""
import argparse, json
import torch
from common import compare, import_peers, machine
from sparse_nb.toy import ToySource
from sparse_nb.saes import make_sae
from sparse_nb.train import train, TrainConfig
from sparse_nb.core import adam


def sparse_nb_step(variant:str, x:torch.Tensor, d_sae:int, steps:int, sparse_path:str='auto', precision:str='fp32',
                   **knob):
    "A function running `steps` training steps of sparse_nb on the fixed batch `x` (logging once)."
    sae = make_sae(variant, d_in=x.shape[1], d_sae=d_sae, **knob)
    cfg = TrainConfig(steps=steps, batch_size=len(x), log_every=10**9, sparse_path=sparse_path, lr_decay_steps=0,
                      precision=precision)
    return lambda: train(sae, lambda b: x, cfg, progress=False)

def plain_relu_step(x:torch.Tensor, d_sae:int, steps:int):
    "A minimal plain-torch ReLU SAE step: encode, mse + l1, backward, Adam."
    d_in = x.shape[1]
    W_enc = torch.nn.Parameter(torch.randn(d_in, d_sae) / d_in ** 0.5)
    W_dec = torch.nn.Parameter(torch.randn(d_sae, d_in) / d_sae ** 0.5)
    b_enc, b_dec = torch.nn.Parameter(torch.zeros(d_sae)), torch.nn.Parameter(torch.zeros(d_in))
    opt = torch.optim.Adam([W_enc, W_dec, b_enc, b_dec], lr=1e-3)
    def run():
        for _ in range(steps):
            f = torch.relu((x - b_dec) @ W_enc + b_enc)
            loss = ((f @ W_dec + b_dec - x) ** 2).sum(-1).mean() + 1e-3 * f.sum(-1).mean()
            opt.zero_grad(); loss.backward(); opt.step()
    return run

def dictionary_learning_step(x:torch.Tensor, d_sae:int, steps:int):
    "dictionary_learning's StandardTrainer.update (AutoEncoder, ConstrainedAdam, its schedules)."
    from dictionary_learning.trainers.standard import StandardTrainer
    tr = StandardTrainer(steps=10**6, activation_dim=x.shape[1], dict_size=d_sae, layer=0, lm_name='bench',
                         device='cpu')
    state = {'step': 0}
    def run():
        for _ in range(steps): tr.update(state['step'], x); state['step'] += 1
    return run

def sparsify_step(x:torch.Tensor, d_sae:int, k:int, steps:int):
    "sparsify's TopK step: its fused encoder and embedding_bag decoder, fvu loss, decoder-norm care, torch Adam."
    from sparsify import SparseCoder, SparseCoderConfig
    sae = SparseCoder(x.shape[1], SparseCoderConfig(num_latents=d_sae, k=k))
    opt = torch.optim.Adam(sae.parameters(), lr=1e-3)
    def run():
        for _ in range(steps):
            out = sae(x, dead_mask=None)
            opt.zero_grad(); out.fvu.backward(); sae.remove_gradient_parallel_to_decoder_directions()
            opt.step(); sae.set_decoder_norm_to_unit_norm()
    return run

def dense_step(d_in, d_sae, batch, steps, rounds, peers)->dict:
    "Tokens/s of the dense ReLU step: sparse_nb, plain torch, dictionary_learning."
    x = torch.randn(batch, d_in, generator=torch.Generator().manual_seed(0))
    fns = {'sparse_nb': sparse_nb_step('relu', x, d_sae, steps, l1_coeff=1e-3),
           'plain': plain_relu_step(x, d_sae, steps)}
    if 'dictionary_learning' in peers: fns['dictionary_learning'] = dictionary_learning_step(x, d_sae, steps)
    t = compare(fns, rounds)
    return {name: batch * steps / s for name, s in t.items()}

def topk_step(d_in, d_sae, batch, k, steps, rounds, peers)->dict:
    "Tokens/s of the TopK step: sparse path, dense path, sparsify."
    x = torch.randn(batch, d_in, generator=torch.Generator().manual_seed(0))
    fns = {'sparse': sparse_nb_step('topk', x, d_sae, steps, 'on', k=k),
           'dense': sparse_nb_step('topk', x, d_sae, steps, 'off', k=k)}
    if 'sparsify' in peers: fns['sparsify'] = sparsify_step(x, d_sae, k, steps)
    t = compare(fns, rounds)
    auto = make_sae('topk', d_in=d_in, d_sae=d_sae, k=k).sparse_faster(batch)
    return {'k': k, 'auto_picks': 'sparse' if auto else 'dense', **{name: batch * steps / s for name, s in t.items()}}

def precision_steps(d_in, d_sae, batch, k, steps, rounds)->dict:
    "Tokens/s of the dense ReLU step and the sparse TopK step, each in fp32 and bf16 (`TrainConfig.precision`)."
    x = torch.randn(batch, d_in, generator=torch.Generator().manual_seed(0))
    steps_ = (('dense_relu', 'relu', 'off', {'l1_coeff': 1e-3}), ('sparse_topk', 'topk', 'on', {'k': k}))
    fns = {f'{step}_{p}': sparse_nb_step(v, x, d_sae, steps, path, p, **knob)
           for step, v, path, knob in steps_ for p in ('fp32', 'bf16')}
    return {'k': k, **{name: batch * steps / s for name, s in compare(fns, rounds).items()}}

def stack_vs_separate(members, steps, n_features, d_in, d_sae, batch_size, rounds)->dict:
    "Seconds for one E-member stack vs E separate E=1 runs over identical batches, end to end (sampling included)."
    l1 = [0.03 * 1.5 ** i for i in range(members)]
    cfg = TrainConfig(steps=steps, batch_size=batch_size, log_every=steps)
    def stack():
        train(make_sae('relu', d_in=d_in, d_sae=d_sae, members=members, l1_coeff=l1),
              ToySource(n_features=n_features, d_in=d_in, seed=0), cfg, progress=False)
    def separate():
        for c in l1:
            train(make_sae('relu', d_in=d_in, d_sae=d_sae, l1_coeff=[c]),
                  ToySource(n_features=n_features, d_in=d_in, seed=0), cfg, progress=False)
    t = compare({'stack': stack, 'separate': separate}, rounds)
    return {'stack_s': t['stack'], 'separate_s': t['separate'], 'speedup': t['separate'] / t['stack']}

def adam_step(members, d_in, d_sae, steps, rounds)->dict:
    "Milliseconds per optimiser step over a TopK stack's parameters: `core.adam` (fused) against torch's default Adam."
    def stepper(make):
        params = list(make_sae('topk', d_in=d_in, d_sae=d_sae, members=members, k=[8] * members).parameters())
        for p in params: p.grad = torch.randn_like(p)
        opt = make(params)
        return lambda: [opt.step() for _ in range(steps)]
    t = compare({'fused': stepper(lambda p: adam(p, lr=1e-3)),
                 'default': stepper(lambda p: torch.optim.Adam(p, lr=1e-3))}, rounds)
    return {'members': members, 'd_in': d_in, 'd_sae': d_sae, **{k: 1e3 * v / steps for k, v in t.items()},
            'speedup': t['default'] / t['fused']}

def gflops(d_in, d_sae, batch, relu_tok_s, rounds)->dict:
    ("Achieved GFLOP/s of the dense ReLU step (5 matmuls of batch x d_in x d_sae) "
     "against one measured matmul of those shapes.")
    x, W = torch.randn(batch, d_in), torch.randn(d_in, d_sae)
    t = compare({'matmul': lambda: x @ W}, rounds)['matmul']
    flop = 2 * batch * d_in * d_sae
    return {'matmul_gflops': flop / t / 1e9, 'step_gflops': 5 * flop * relu_tok_s / batch / 1e9}

def profile_dense_step(d_in, d_sae, batch, steps)->list:
    ("Where the dense ReLU step's time goes: the ops with the largest self CPU time, "
     "as (op, input shapes, share of the total).")
    from torch.profiler import profile, ProfilerActivity
    step = sparse_nb_step('relu', torch.randn(batch, d_in), d_sae, steps, l1_coeff=1e-3)
    step()
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof: step()
    ops = [e for e in prof.key_averages(group_by_input_shape=True)
           if not e.key.startswith(('autograd::', 'Optimizer.'))]
    total = sum(e.self_cpu_time_total for e in ops)
    top = sorted(ops, key=lambda e: -e.self_cpu_time_total)[:10]
    return [(e.key, str(e.input_shapes)[:60], e.self_cpu_time_total / total) for e in top]

def profile_sweep_step(members, d_in, d_sae, batch, steps)->list:
    ("Where one step of a stacked TopK sweep (k = 4, 8, ... per member, 'auto' precision) spends its time, as in "
     "bench_peers.py's sweep: the ops with the largest self CPU time, as (op, share of the total).")
    from torch.profiler import profile, ProfilerActivity
    x = torch.randn(batch, d_in, generator=torch.Generator().manual_seed(0))
    sae = make_sae('topk', d_in=d_in, d_sae=d_sae, members=members, k=[4 * (i + 1) for i in range(members)],
                   member_seeds=list(range(members)))
    cfg = TrainConfig(steps=steps, batch_size=batch, log_every=10**9, lr_decay_steps=0)
    train(sae, lambda b: x, cfg, progress=False)
    with profile(activities=[ProfilerActivity.CPU]) as prof: train(sae, lambda b: x, cfg, progress=False)
    ops = [e for e in prof.key_averages() if not e.key.startswith(('autograd::', 'Optimizer.'))]
    total = sum(e.self_cpu_time_total for e in ops)
    return [(e.key, e.self_cpu_time_total / total) for e in sorted(ops, key=lambda e: -e.self_cpu_time_total)[:8]]

def run(quick:bool=False, peers:list|None=None)->dict:
    "Every training benchmark at full size, or at small sizes when `quick`."
    peers = import_peers() if peers is None else peers
    d_in, d_sae, batch, steps, rounds = (32, 256, 256, 2, 2) if quick else (512, 4096, 4096, 4, 5)
    out = {'machine': machine(), 'peers': peers,
           'shapes': {'d_in': d_in, 'd_sae': d_sae, 'batch': batch, 'steps_per_round': steps, 'rounds': rounds}}
    out['dense_relu'] = dense_step(d_in, d_sae, batch, steps, rounds, peers)
    out['topk'] = [topk_step(d_in, d_sae, batch, k, steps, rounds, peers) for k in (4 if quick else 32, d_sae // 4)]
    out['precision'] = precision_steps(d_in, d_sae, batch, 4 if quick else 32, steps, rounds)
    out['stack'] = (stack_vs_separate(8, 5, 64, 32, 64, 64, 2) if quick
                    else stack_vs_separate(8, 300, 512, 256, 512, 256, 3))
    out['adam'] = adam_step(8, 16, 64, 2, 2) if quick else adam_step(8, 256, 2048, 10, 5)
    out['gflops'] = gflops(d_in, d_sae, batch, out['dense_relu']['sparse_nb'], rounds)
    out['dense_profile'] = profile_dense_step(d_in, d_sae, batch, steps)
    out['sweep_profile'] = (profile_sweep_step(8, 16, 64, 64, 2) if quick
                            else profile_sweep_step(8, 256, 2048, 1024, 20))
    return out

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--quick', action='store_true', help='tiny sizes (smoke test)')
    print(json.dumps(run(p.parse_args().quick), indent=1))
