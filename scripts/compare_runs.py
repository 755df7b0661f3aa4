"""Compare every number two run roots' latest summaries hold, experiment by experiment (a "same numbers" check).

Usage: python scripts/compare_runs.py RUNS_BEFORE RUNS_AFTER   (each: <root>/<experiment>/<run id>/summary.json)
Timing and provenance keys and the headline are left out; paths into a cache compare by their entry's kind.
"""
import json, math, sys
from pathlib import Path

SKIP = {'seconds', 'sparse_nb_version', 'torch_version', 'git_commit', 'headline', 'caveat'}

def leaves(x, path=''):
    "Every scalar in `x` with its path."
    if isinstance(x, dict):
        for k, v in x.items():
            if k not in SKIP: yield from leaves(v, f'{path}.{k}')
    elif isinstance(x, list):
        for i, v in enumerate(x): yield from leaves(v, f'{path}[{i}]')
    elif isinstance(x, str) and '/cache' in x: yield path, 'cache:' + x.rstrip('/').split('/')[-1].split('-')[0]
    else: yield path, x

def latest(root:Path, name:str)->dict|None:
    "The newest run's summary of experiment `name` under `root`."
    runs = sorted((root/name).glob('*/summary.json'))
    return json.loads(runs[-1].read_text()) if runs else None

def differs(a, b)->bool:
    "Whether two scalars differ (NaN equals NaN)."
    both_nan = isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    return a != b and not both_nan

def main(before:Path, after:Path):
    print('| experiment | values compared | identical | max abs difference |\n|---|---|---|---|')
    for d in sorted(p for p in before.iterdir() if p.is_dir()):
        a, b = latest(before, d.name), latest(after, d.name)
        if a is None or b is None: print(f'| {d.name} | missing run | | |'); continue
        la, lb = dict(leaves(a)), dict(leaves(b))
        common = sorted(set(la) & set(lb))
        diffs = [abs(la[k] - lb[k]) for k in common if differs(la[k], lb[k])
                 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (la[k], lb[k]))]
        same = sum(not differs(la[k], lb[k]) for k in common)
        print(f'| {d.name} | {len(common)} | {same} | {max(diffs, default=0):.3g} |')

if __name__ == '__main__': main(Path(sys.argv[1]), Path(sys.argv[2]))
