"""Speed against SAELens, measured in one process of the peers' venv: SAELens and sparse_nb (imported from this
checkout) on that venv's torch, in interleaved rounds.

1. Matryoshka BatchTopK step: sparse_nb's sparse path and its dense path against SAELens's
   MatryoshkaBatchTopKTrainingSAE under its own SAETrainer (its whole step: forward, losses, dead-latent counts,
   gradient clipping, Adam, schedulers), same shapes and batch, in fp32 and in sparse_nb's 'auto' precision.
2. An 8-member TopK sweep end to end: one stacked `sweep` call (8 values of k, one stack) against 8 SAELens
   training runs (`SAETrainer.fit`, as `train_toy_sae` sets it up) of the same tokens each, all reading the same
   in-memory batches.

Run: $SPARSE_NB_PEERS_PYTHON benchmarks/bench_peers.py [--quick]   (prints JSON; `run.py` calls it)
"""
import argparse, itertools, json, sys
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))          # this checkout's sparse_nb
import torch
from common import compare, machine
from sparse_nb.core import bf16_fast
from sparse_nb.saes import make_sae
from sparse_nb.train import train, sweep, TrainConfig


def saelens_trainer(sae, batches, steps:int, batch:int):
    "SAELens's SAETrainer over `steps` batches cycling through `batches`, configured as `train_toy_sae` does."
    from sae_lens.config import LoggingConfig, SAETrainerConfig
    from sae_lens.training.sae_trainer import SAETrainer
    cfg = SAETrainerConfig(n_checkpoints=0, checkpoint_path=None, save_final_checkpoint=False,
                           total_training_samples=steps * batch, device='cpu', autocast=False, lr=1e-3, lr_end=1e-3,
                           lr_scheduler_name='constant', lr_warm_up_steps=0, adam_beta1=0.9, adam_beta2=0.999,
                           lr_decay_steps=0, n_restart_cycles=1, train_batch_size_samples=batch,
                           dead_feature_window=1000, feature_sampling_window=2000,
                           logger=LoggingConfig(log_to_wandb=False, eval_every_n_wandb_logs=2**31 - 1),
                           n_batches_for_norm_estimate=1000)
    return SAETrainer(cfg=cfg, sae=sae, data_provider=itertools.cycle(batches), save_checkpoint_fn=lambda p: None)

def saelens_matryoshka(d_in:int, d_sae:int, k:int, widths:list):
    "SAELens's Matryoshka BatchTopK training SAE."
    from sae_lens import MatryoshkaBatchTopKTrainingSAE, MatryoshkaBatchTopKTrainingSAEConfig
    return MatryoshkaBatchTopKTrainingSAE(MatryoshkaBatchTopKTrainingSAEConfig(
        d_in=d_in, d_sae=d_sae, k=k, matryoshka_widths=widths, device='cpu'))

def saelens_topk(d_in:int, d_sae:int, k:int):
    "SAELens's TopK training SAE."
    from sae_lens import TopKTrainingSAE, TopKTrainingSAEConfig
    return TopKTrainingSAE(TopKTrainingSAEConfig(d_in=d_in, d_sae=d_sae, k=k, device='cpu'))

def sparse_nb_matryoshka(x, d_sae:int, k:int, steps:int, sparse_path:str, precision:str):
    "`steps` sparse_nb training steps of a Matryoshka BatchTopK SAE on the fixed batch `x`."
    sae = make_sae('matryoshka', d_in=x.shape[1], d_sae=d_sae, k=k)
    cfg = TrainConfig(steps=steps, batch_size=len(x), log_every=10**9, sparse_path=sparse_path, lr_decay_steps=0,
                      precision=precision)
    return lambda: train(sae, lambda b: x, cfg, progress=False)

def matryoshka_step(d_in, d_sae, batch, k, steps, rounds)->dict:
    "Tokens/s of one Matryoshka BatchTopK step: sparse_nb sparse and dense paths (fp32 and auto), SAELens."
    x = torch.randn(batch, d_in, generator=torch.Generator().manual_seed(0))
    widths = sorted({max(d_sae // q, 1) for q in (16, 8, 4, 2, 1)})            # sparse_nb's default prefixes
    trainer = saelens_trainer(saelens_matryoshka(d_in, d_sae, k, widths), [x], 10**9, batch)
    def saelens():
        for _ in range(steps): trainer._train_step(trainer.sae, next(trainer.data_provider))
    fns = {'sparse_fp32': sparse_nb_matryoshka(x, d_sae, k, steps, 'on', 'fp32'),
           'dense_fp32': sparse_nb_matryoshka(x, d_sae, k, steps, 'off', 'fp32'),
           'sparse_auto': sparse_nb_matryoshka(x, d_sae, k, steps, 'on', 'auto'),
           'saelens': saelens}
    return {'k': k, 'widths': widths, **{n: batch * steps / s for n, s in compare(fns, rounds).items()}}

def sweep_vs_saelens(members, steps, d_in, d_sae, batch, n_batches, rounds)->dict:
    "Seconds of one stacked 8-member TopK `sweep` against 8 SAELens runs of the same tokens, same in-memory batches."
    gen = torch.Generator().manual_seed(0)
    batches = [torch.randn(batch, d_in, generator=gen) for _ in range(n_batches)]
    ks = [4 * (i + 1) for i in range(members)]
    class Batches:                                   # sparse_nb's source: the same batches in the same order
        d_in = batches[0].shape[1]
        def __init__(self): self.it = itertools.cycle(batches)
        def __call__(self, n): return next(self.it)
    cfg = TrainConfig(steps=steps, batch_size=batch, lr=1e-3, lr_decay_steps=0)
    def stacked():
        sweep(Batches(), ['topk'], [d_sae / d_in], {'k': ks}, batches[0], cfg, seeds=1, progress=False)
    def separate():
        for k in ks: saelens_trainer(saelens_topk(d_in, d_sae, k), batches, steps, batch).fit()
    t = compare({'stacked': stacked, 'saelens': separate}, rounds)
    return {'members': members, 'ks': ks, 'steps': steps, 'd_in': d_in, 'd_sae': d_sae, 'batch': batch,
            'stacked_s': t['stacked'], 'saelens_s': t['saelens'],
            'speedup': t['saelens'] / t['stacked']}

def run(quick:bool=False)->dict:
    "Both comparisons, at full size or at small sizes when `quick`."
    import sae_lens
    d_in, d_sae, batch, k, steps, rounds = (32, 512, 256, 4, 2, 2) if quick else (512, 4096, 4096, 32, 4, 5)
    out = {'machine': machine(), 'torch': torch.__version__, 'sae_lens': sae_lens.__version__, 'bf16': bf16_fast(),
           'shapes': {'d_in': d_in, 'd_sae': d_sae, 'batch': batch, 'steps_per_round': steps, 'rounds': rounds}}
    out['matryoshka'] = matryoshka_step(d_in, d_sae, batch, k, steps, rounds)
    out['sweep'] = (sweep_vs_saelens(8, 5, 16, 64, 64, 4, 1) if quick
                    else sweep_vs_saelens(8, 300, 256, 2048, 1024, 32, 3))
    return out

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--quick', action='store_true', help='tiny sizes (smoke test)')
    print(json.dumps(run(p.parse_args().quick), indent=1))
