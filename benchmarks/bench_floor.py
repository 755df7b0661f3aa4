"""How far sae_variants' members move in fp32 alone when its data are nudged by a relative 1e-6 or 2^-9.

Issue 27 asks bf16 to keep each member's fvu within 1% of fp32. A check is only as fine as the thing it measures:
this trains sae_variants (by default at its defaults: the notebook's own parameters, the same data in the same order)
in fp32, as is and with every batch drawn from the data (the training batches and the one that sets b_dec) multiplied
by `1 + eps * N(0, 1)`: eps 1e-6, about 2,000 times below bf16's typical rounding, and eps 2^-9, about that rounding
applied to the data alone, each in a few draws of the noise. Where the 1e-6 nudge alone moves a member's fvu by more
than 1%, a 1% check cannot tell that member's bf16 result from a nudge. It then trains `LONGER` times as many
steps, plain and with the 1e-6 nudge, to see whether a longer run makes the check finer.

Run: .venv/bin/python benchmarks/bench_floor.py [--quick] [-p name value ...] > floor.json
(--quick: two variants, 40 steps; -p: a notebook parameter, e.g. -p lr 1e-3); `run.py --render floor.json` puts it
on the page. `make bench` runs it at the defaults.
"""
import argparse, json
from pathlib import Path
import torch

HERE, NUDGES, DRAWS, LONGER = Path(__file__).resolve().parent, (1e-6, 2 ** -9), 2, 4

class Nudged:
    "`source`'s batches times `1 + nudge * N(0, 1)`, elementwise, from a generator of its own."
    def __init__(self, source, nudge:float, seed:int=123):
        self.source, self.nudge, self.gen = source, nudge, torch.Generator().manual_seed(seed)
    # everything else is the source's (its state_dict too: runs here are not resumed, so the noise's state is not kept)
    def __getattr__(self, name): return getattr(self.source, name)
    def __call__(self, n:int):
        x = self.source(n)
        return x * (1 + self.nudge * torch.randn(x.shape, generator=self.gen)) if self.nudge else x

def experiment():
    "sae_variants, read from its notebook."
    from sparse_nb.experiments import find_experiment
    return find_experiment('sae_variants', HERE.parent/'nbs'/'experiments')

def defaults()->dict:
    "sae_variants' default parameters."
    return {k: p.default for k, p in experiment().user_params.items()}

def changed(params:dict)->dict:
    "The `params` that differ from sae_variants' defaults (a default given again is still the default)."
    base = defaults()
    return {k: v for k, v in params.items() if v != base[k]}

def member_fvu(p:dict, nudge:float, draw:int=0)->list[dict]:
    "Each member's fvu after training sae_variants' sweep in fp32 with parameters `p`, data nudged by `nudge`."
    from sparse_nb.toy import ToySource
    from sparse_nb.train import sweep, TrainConfig
    src = ToySource(n_features=p['n_features'], d_in=p['d_in'], mean_active=p['mean_active'],
                    correlated=p['correlated'], seed=p['seed'])
    x_eval = src(4096)                                   # drawn first, as the notebook does
    cfg = TrainConfig(steps=p['steps'], batch_size=p['batch_size'], lr=p['lr'], seed=p['seed'], precision='fp32')
    knobs = {'l1_coeff': p['l1_coeffs'], 'l0_coeff': p['l0_coeffs'], 'k': p['ks']}
    sw = sweep(Nudged(src, nudge, 123 + draw), p['variants'], [p['dict_ratio']], knobs, x_eval, cfg, device='cpu',
               seed=p['seed'], seeds=p['seeds'], threshold_init=p['threshold_init'], progress=False)
    return sw.results[['variant', 'knob_value', 'seed', 'fvu']].to_dict('records')

def longer(p:dict)->dict:
    "Member fvu at `LONGER` times `p`'s steps, plain and with the smallest nudge in `DRAWS` draws."
    q = {**p, 'steps': LONGER * p['steps']}
    return {'steps': q['steps'], 'fp32': member_fvu(q, 0.0),
            'nudged': [{'nudge': NUDGES[0], 'draw': d, 'members': member_fvu(q, NUDGES[0], d)} for d in range(DRAWS)]}

def run(quick:bool=False, params:dict|None=None)->dict:
    "Member fvu of sae_variants in fp32, plain, nudged (each eps in `DRAWS` draws) and `LONGER`; `quick`: small."
    from sparse_nb.core import machine, ParameterError
    if fixed := {'precision', 'device'} & set(params or {}):
        raise ParameterError(f"the floor trains in fp32 on the CPU: {', '.join(sorted(fixed))} cannot be set")
    params = changed(params or {})
    p = {**defaults(), **({'variants': ['relu', 'topk'], 'steps': 40} if quick else {}), **params}
    return {'experiment': 'sae_variants', 'steps': p['steps'], 'defaults': not (quick or params),
            'quick': quick, 'params': params, 'machine': machine(), 'threads': torch.get_num_threads(),
            'fp32': member_fvu(p, 0.0),
            'nudged': [{'nudge': e, 'draw': d, 'members': member_fvu(p, e, d)} for e in NUDGES for d in range(DRAWS)],
            'longer': longer(p)}

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('-p', nargs=2, action='append', default=[], metavar=('NAME', 'VALUE'),
                    help="a notebook parameter other than its default")
    a = ap.parse_args()
    from sparse_nb.core import ParameterError
    from sparse_nb.experiments import given_params
    try: print(json.dumps({'precision_floor': run(a.quick, given_params(experiment(), a.p))}, indent=1))
    except ParameterError as err: raise SystemExit(f"bench_floor: {err}")
