"""Speed of the activation pipeline, as ratios measured in one process (interleaved rounds, medians).

1. `harvest` (hooks cached, chunks written to disk as Arrow) of token rows against a bare forward pass of
   the same model over the same rows and batch size, both at a hook in the middle of the model (where `harvest` stops
   the forward pass after the last hooked block) and at the last block (no early stop: the fair cost of
   caching and writing). Tokenizing the text into rows is timed on its own (`tokenize_tok_s`): both
   sides need the rows.
2. Harvesting with the model's forward in bf16 (`precision='bf16'`) against fp32, at the middle hook: the speed
   ratio, and how far the stored activations move in what an SAE fits: the difference over the centred activations'
   norm (squared, the share of their variance the difference carries, on fvu's scale), the total variance (fvu's
   denominator), and the mean's shift.
3. Reading: tokens/s that `StoreSource` serves from the store against tokens/s of an SAE training step
   (ReLU, dict_ratio 4) on the same batch size. Reading must not be the bottleneck.

Run: .venv/bin/python benchmarks/bench_harvest.py [--quick]   (--quick: the micro model, fewer tokens)
"""
import argparse, json, tempfile, time
from pathlib import Path
import torch
from common import compare, timed
from sparse_nb.lm import load_model, load_corpus
from sparse_nb.activations import harvest, harvest_rows, ActivationStore, StoreSource
from sparse_nb.saes import make_sae
from sparse_nb.train import train, TrainConfig


def harvest_vs_forward(lm, texts, hook:str, n_tokens:int, seq_len:int, batch_size:int)->dict:
    "Seconds to harvest `n_tokens` at `hook` vs a bare forward pass over the same rows."
    t_tok = timed(lambda: harvest_rows(lm.tokenizer, texts, n_tokens, seq_len))
    rows = harvest_rows(lm.tokenizer, texts, n_tokens, seq_len)
    def bare():
        with torch.no_grad():
            for b in rows.split(batch_size): lm(b)
    def harv():
        with tempfile.TemporaryDirectory() as d:
            harvest(lm, [hook], rows, n_tokens, Path(d)/'s', batch_size=batch_size, progress=False)
    t = compare({'bare': bare, 'harvest': harv}, rounds=3); t_bare, t_harv = t['bare'], t['harvest']
    return {'hook': hook, 'tokens': n_tokens, 'tokenize_tok_s': n_tokens / t_tok, 'bare_tok_s': n_tokens / t_bare,
            'harvest_tok_s': n_tokens / t_harv, 'slowdown': t_harv / t_bare}

def store_acts(folder:Path, hook:str)->torch.Tensor:
    "Every activation of `hook` in a store, float32 `[n_tokens, d_in]`."
    store = ActivationStore(folder, hook)
    return torch.cat([store.chunk(i) for i in range(store.n_chunks)])

def harvest_bf16_vs_fp32(lm, texts, hook:str, n_tokens:int, seq_len:int, batch_size:int)->dict:
    "Harvest in bf16 against fp32: the speed ratio, and how far the stored activations move in what an SAE fits."
    rows = harvest_rows(lm.tokenizer, texts, n_tokens, seq_len)
    with tempfile.TemporaryDirectory() as d:
        run = lambda p: lambda: harvest(lm, [hook], rows, n_tokens, Path(d)/f'{p}-{time.perf_counter_ns()}',
                                        batch_size=batch_size, precision=p, progress=False)
        t = compare({'fp32': run('fp32'), 'bf16': run('bf16')}, rounds=3)
        a, b = (store_acts(run(p)(), hook) for p in ('fp32', 'bf16'))
    centred = (a - a.mean(0)).norm()
    from sparse_nb.core import machine
    return {'hook': hook, 'tokens': n_tokens, 'cpu': machine()['cpu'], 'native_bf16': machine()['bf16'],
            'threads': torch.get_num_threads(), 'speedup': t['fp32'] / t['bf16'],
            'off': ((b - a).norm() / centred).item(),                 # squared: a share of variance, as fvu
            'variance': (b.var(0).sum() / a.var(0).sum() - 1).item(),  # fvu's denominator
            'mean_shift': ((b.mean(0) - a.mean(0)).norm() / centred * len(a) ** 0.5).item()}

def read_vs_train(store:ActivationStore, batch_size:int, steps:int)->dict:
    "Tokens/s served by a StoreSource vs tokens/s of ReLU SAE training steps (dict_ratio 4) on that batch size."
    src = StoreSource(store)
    sae = make_sae('relu', d_in=src.d_in, d_sae=4 * src.d_in, members=1, l1_coeff=[1.0])
    x = src(batch_size)
    t = compare({'read': lambda: [src(batch_size) for _ in range(steps)],
                 'train': lambda: train(sae, lambda b: x,
                                        TrainConfig(steps=steps, batch_size=batch_size, log_every=10**9),
                                        progress=False)}, rounds=3)
    t_read, t_train = t['read'], t['train']
    return {'read_tok_s': batch_size * steps / t_read, 'train_tok_s': batch_size * steps / t_train,
            'read_over_train': t_train / t_read}

def run(quick:bool=False)->dict:
    "Every activation-pipeline benchmark; the tiny model and fewer tokens if `quick`."
    name, n_tok, seq_len = ('micro-pythia', 20_000, 64) if quick else ('tiny-pythia', 100_000, 128)
    lm = load_model(name, progress=False)
    texts = load_corpus(progress=False)['text']
    n = lm.cfg.n_layers
    out = {'model': name, 'threads': torch.get_num_threads(),
           'harvest_middle': harvest_vs_forward(lm, texts, f'blocks.{n // 2 - 1}.hook_resid_post', n_tok, seq_len, 32),
           'harvest_last': harvest_vs_forward(lm, texts, f'blocks.{n - 1}.hook_resid_post', n_tok, seq_len, 32),
           'bf16': harvest_bf16_vs_fp32(lm, texts, f'blocks.{n // 2 - 1}.hook_resid_post', n_tok, seq_len, 32)}
    with tempfile.TemporaryDirectory() as d:
        harvest(lm, [f'blocks.{n // 2 - 1}.hook_resid_post'], texts, n_tok, Path(d)/'s', seq_len=seq_len,
                progress=False)
        out['read_vs_train'] = read_vs_train(ActivationStore(Path(d)/'s'), 4096, 5 if quick else 20)
    return out

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true', help='micro model, fewer tokens')
    print(json.dumps(run(ap.parse_args().quick), indent=1))
