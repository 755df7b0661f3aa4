"""Speed and memory of one attribution graph (`circuits.attribute`) on the offline model, by prompt length.

The graph's cost depends on the model and on how many latents are active (k per layer and position), not on
what the transcoders learned, so untrained TopK transcoders of the attribution_graph experiment's default size
(d_sae 512 per layer, k 16) stand in for trained ones: nothing is trained here. For each prompt length (16, 32,
64 tokens, BOS first) and each replacement (per-layer, cross-layer), the median seconds of `attribute` over
interleaved rounds, and the peak resident memory it adds, measured in a fresh process (Linux's high-water mark,
reset just before the graph, minus the resident size then).

Run: .venv/bin/python benchmarks/bench_circuits.py [--quick]   (--quick: the micro model, shorter prompts)
"""
import argparse, json, subprocess, sys
from types import SimpleNamespace
import torch
from common import compare

LENGTHS, QUICK_LENGTHS = (16, 32, 64), (8, 16)

def replacements(w, d_sae:int=512, k:int=16)->dict:
    "Untrained per-layer and cross-layer TopK transcoders of `w`'s size, in raw units (scale 1)."
    from sparse_nb.saes import make_sae
    from sparse_nb.circuits import plt_replacement, clt_replacement
    L, d = w.n_layers, w.d_model
    one = SimpleNamespace(scale=1.0, scales=[1.0] * L)
    plts = [make_sae('topk', d_in=d, d_out=d, d_sae=d_sae, k=[k], seed=l) for l in range(L)]
    clt = make_sae('clt_topk', d_in=d * L, d_out=d * L, d_sae=d_sae * L, layers=L, k=[k], seed=0)
    pair = SimpleNamespace(x=one, y=one)
    return {'plt': plt_replacement(plts, [pair] * L), 'clt': clt_replacement(clt, pair)}

PEAK = '''
import json, sys, torch
sys.path.insert(0, sys.argv[1])
from bench_circuits import replacements
from sparse_nb.circuits import neox_weights, attribute
a = json.loads(sys.argv[2])
w = neox_weights(a['model']); rep = replacements(w, a['d_sae'], a['k'])[a['kind']]
ids = torch.randint(1, w.W_E.shape[0], (a['n'],), generator=torch.Generator().manual_seed(0)); ids[0] = 0
kb = lambda key: int(next(l.split()[1] for l in open('/proc/self/status') if l.startswith(key)))
open('/proc/self/clear_refs', 'w').write('5')       # reset the high-water mark to the current resident size
before = kb('VmRSS:')
g = attribute(w, rep, ids)
print(json.dumps({'peak_mb': (kb('VmHWM:') - before) / 1024, 'features': g.n_features, 'nodes': g.n_nodes}))
'''

def peak(model:str, kind:str, n:int, d_sae:int, k:int)->dict:
    "Peak memory the graph adds, its latents and nodes, from a fresh process."
    from pathlib import Path
    args = json.dumps(dict(model=model, kind=kind, n=n, d_sae=d_sae, k=k))
    r = subprocess.run([sys.executable, '-c', PEAK, str(Path(__file__).parent), args], capture_output=True, text=True,
                       check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])

def run(quick:bool=False)->dict:
    "Seconds (median of interleaved rounds) and peak memory of one graph per prompt length and replacement."
    from sparse_nb.circuits import neox_weights, attribute
    model, d_sae, k = ('micro-pythia', 64, 4) if quick else ('tiny-pythia', 512, 16)
    w = neox_weights(model)
    reps = replacements(w, d_sae, k)
    out = []
    for n in (QUICK_LENGTHS if quick else LENGTHS):
        ids = torch.randint(1, w.W_E.shape[0], (n,), generator=torch.Generator().manual_seed(0)); ids[0] = 0
        t = compare({kind: (lambda r=r: attribute(w, r, ids)) for kind, r in reps.items()}, rounds=3)
        for kind in reps:
            out.append({'tokens': n, 'replacement': kind, 'seconds': t[kind], **peak(model, kind, n, d_sae, k)})
    return {'model': model, 'd_sae': d_sae, 'k': k, 'graphs': out}

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true')
    print(json.dumps(run(ap.parse_args().quick), indent=1))
