"""`make bench`: every benchmark, one table of ratios, and benchmarks/RESULTS.md.

Each ratio is measured in one process: the functions compared run in interleaved rounds and the median of
each is taken. The speed goals are checked against the measured numbers; a miss is listed with its
measured reason. The times of the latest experiment runs at their defaults (`make demo`) are read from
`runs/*/*/run.json`. The raw measurements are kept beside RESULTS.md as RESULTS.json.

Run: .venv/bin/python benchmarks/run.py [--quick] [--out FILE]
"""
import argparse, json, sys
from pathlib import Path
import bench_train, bench_harvest, bench_circuits
from common import import_peers

HERE = Path(__file__).resolve().parent

def rows(train:dict, harv:dict)->list:
    "(measurement, value, goal, met) rows of the table."
    d, t = train['dense_relu'], train['topk']
    out = [('dense ReLU step: sparse_nb / plain torch', d['sparse_nb'] / d['plain'], '>= 0.95',
            d['sparse_nb'] / d['plain'] >= 0.95)]
    if 'dictionary_learning' in d:
        out.append(('dense ReLU step: sparse_nb / dictionary_learning', d['sparse_nb'] / d['dictionary_learning'],
                    '>= 1.0', d['sparse_nb'] >= d['dictionary_learning']))
    for x in t:
        faster = 'sparse' if x['sparse'] > x['dense'] else 'dense'
        out.append((f"TopK k={x['k']}: sparse / dense path (the rule picks {x['auto_picks']})",
                    x['sparse'] / x['dense'], 'rule picks the faster', x['auto_picks'] == faster))
    small = t[0]
    out.append((f"TopK k={small['k']}: sparse / dense path", small['sparse'] / small['dense'], '>= 3',
                small['sparse'] / small['dense'] >= 3))
    if 'sparsify' in small:
        out.append((f"TopK k={small['k']}: sparse path / sparsify", small['sparse'] / small['sparsify'], '>= 1.5',
                    small['sparse'] / small['sparsify'] >= 1.5))
    for x in t[1:]:
        if 'sparsify' in x:
            out.append((f"TopK k={x['k']}: the rule's path / sparsify", x[x['auto_picks']] / x['sparsify'], '', None))
    out.append(('8-member stack / 8 separate runs (end to end)', train['stack']['speedup'], '> 1',
                train['stack']['speedup'] > 1))
    out.append(('dense step GFLOP/s / matmul GFLOP/s',
                train['gflops']['step_gflops'] / train['gflops']['matmul_gflops'], '', None))
    for k in ('harvest_middle', 'harvest_last'):
        out.append((f"bare forward / harvest ({harv[k]['hook']})", 1 / harv[k]['slowdown'], '', None))
    out.append(('store reads / train step (tokens/s)', harv['read_vs_train']['read_over_train'], '> 1',
                harv['read_vs_train']['read_over_train'] > 1))
    return out

def experiment_times(runs:Path)->list:
    "(experiment, seconds, run folder) of the latest successful run of each experiment under `runs`."
    out = []
    for exp in sorted(p for p in runs.glob('*') if p.is_dir()):
        done = sorted((r for r in exp.glob('*')
                       if (r/'run.json').exists() and json.loads((r/'run.json').read_text()).get('status') == 'ok'),
                      reverse=True)
        if done: out.append((exp.name, json.loads((done[0]/'run.json').read_text())['seconds'], done[0].name))
    return out

def grvae_runs(runs:Path)->list[dict]:
    "Every successful grvae_mnist run on full MNIST under `runs`: its summary with seed and run folder."
    out = []
    for r in sorted((runs/'grvae_mnist').glob('*')):
        try:
            ok = json.loads((r/'run.json').read_text()).get('status') == 'ok'
            s, p = json.loads((r/'summary.json').read_text()), json.loads((r/'params.json').read_text())
        except (OSError, ValueError): continue
        if ok and s.get('source') == 'mnist' and s.get('routed', True) is True:      # the routed model's accuracy
            out.append({**s, 'seed': p.get('seed', 0), 'run': r.name})
    return out

def grvae_md(rows:list)->list:
    "The GR-VAE section: held-out accuracy on full MNIST per run, routed and ablation, beside the published 92.58%."
    if not rows: return ['## GR-VAE on full MNIST', '', 'No grvae_mnist run on full MNIST under the runs root.', '']
    pct = lambda v, ci: f"{100 * v:.2f}% [{100 * ci[0]:.2f}, {100 * ci[1]:.2f}]"
    lines = [f"| {r['epochs']} | {r['seed']} | {pct(r['test_accuracy'], r['accuracy_interval'])} | "
             f"{pct(r['ablation_test_accuracy'], r['ablation_accuracy_interval'])} | "
             f"{r.get('seconds_per_epoch', float('nan')):.0f} | {r['run']} |"
             for r in sorted(rows, key=lambda r: (r['epochs'], r['seed'], r['run']))]
    by_epochs = {}
    for r in rows: by_epochs.setdefault(r['epochs'], []).append(r['test_accuracy'])
    spread = [f"{e} epochs: {len(v)} run{'s' if len(v) > 1 else ''}, routed accuracy {100 * min(v):.2f}% to "
              f"{100 * max(v):.2f}%, {100 * (sum(v) / len(v) - 0.9258):+.2f} points from the published 92.58% on "
              "average" for e, v in sorted(by_epochs.items())]
    return ['## GR-VAE on full MNIST', '',
            'Held-out accuracy (argmax of the latent means, 10,000 test digits, 95% Wilson interval) of every '
            '`grvae_mnist` run on full MNIST under the runs root, the routed model and its plain-VAE ablation '
            'trained side by side (one core each); seconds are per pass of both models. The original reports '
            '92.58% after 100 epochs.', '',
            '| epochs | seed | routed | plain (ablation) | s / epoch | run |', '|---|---|---|---|---|---|',
            *lines, '', *[f"- {x}." for x in spread], '']

def table(rs:list)->str:
    lines = ['| measurement | ratio | goal | met |', '|---|---|---|---|']
    for name, v, goal, met in rs:
        lines.append(f"| {name} | {v:.2f}x | {goal} | {'' if met is None else 'yes' if met else 'NO'} |")
    return '\n'.join(lines)

def circuits_md(circ:dict|None)->list:
    "The attribution-graph section: seconds and peak memory of one graph by prompt length."
    if not circ: return ['## Attribution graphs', '', 'Not measured on this run (`bench_circuits.py`).', '']
    rows = [f"| {g['tokens']} | {g['replacement']} | {g['features']:,} | {g['nodes']:,} | {g['seconds']:.2f} | "
            f"{g['peak_mb']:.0f} |" for g in circ['graphs']]
    return ['## Attribution graphs', '',
            f"One graph of `circuits.attribute` on {circ['model']} (every active latent, TopK transcoders with "
            f"{circ['d_sae']} latents per layer and k {circ['k']}; untrained: the cost depends on how many latents "
            "are active, not on what they learned). Seconds: median of 3 interleaved rounds; peak memory: what "
            "the graph adds to a fresh process's resident high-water mark.", '',
            '| prompt tokens | replacement | active latents | nodes | seconds | peak MB |', '|---|---|---|---|---|---|',
            *rows, '']

def results_md(train:dict, harv:dict, rs:list, times:list, demo_seconds:float|None=None, circ:dict|None=None,
               runs_name:str='runs/', runs:Path=HERE.parent/'runs')->str:
    m, s, d = train['machine'], train['shapes'], train['dense_relu']
    t = train['topk']
    tok = lambda v: f"{v:,.0f}"
    peers = ', '.join(train['peers']) or ('none (set SPARSE_NB_PEERS_PATH to a folder holding sparsify / '
                                          'dictionary_learning and their dependencies)')
    misses = [r for r in rs if r[3] is False]
    parts = [
        '# Benchmark results', '',
        f"Measured {m['date']} by `make bench` (`benchmarks/run.py`) on {m['cpu']}, {m['cores']} cores, "
        f"flags {', '.join(m['flags']) or 'none'}, "
        f"torch {m['torch']} with {m['threads']} threads, Python {m['python']}. "
        f"Each ratio comes from one process: the functions compared "
        f"run in {s['rounds']} interleaved rounds and the median of each is used. "
        f"Shapes: d_in {s['d_in']}, d_sae {s['d_sae']}, batch {s['batch']}, "
        f"{s['steps_per_round']} training steps per round "
        f"(each `train` call logs its first and last step, as a run does every 40th).", '',
        f"Peers measured in the same process: {peers}. "
        f"They are installed in a side venv (`pip install torch==2.13.0`, then `sae-lens "
        f"dictionary-learning eai-sparsify`, then `pip uninstall -y torchvision`) "
        f"and reached through `SPARSE_NB_PEERS_PATH`, a folder of links "
        f"to their packages and the few dependencies this venv lacks, so they run on this venv's torch in this process "
        f"(sparsify with its eager embedding_bag decoder: Triton does not run on the CPU).", '',
        table(rs), '',
        '## Tokens per second', '',
        '| step | tok/s |', '|---|---|',
        *[f"| dense ReLU, {k} | {tok(v)} |" for k, v in d.items()],
        *[f"| TopK k={x['k']}, {k} | {tok(v)} |" for x in t for k, v in x.items()
          if k not in ('k', 'auto_picks')],
        f"| matmul {s['batch']}x{s['d_in']}x{s['d_sae']} | {train['gflops']['matmul_gflops']:.0f} GFLOP/s; "
        f"the dense step achieves {train['gflops']['step_gflops']:.0f} |",
        f"| harvest (middle hook) vs bare forward | {tok(harv['harvest_middle']['harvest_tok_s'])} "
        f"vs {tok(harv['harvest_middle']['bare_tok_s'])} |",
        f"| store reads vs ReLU train step | {tok(harv['read_vs_train']['read_tok_s'])} "
        f"vs {tok(harv['read_vs_train']['train_tok_s'])} |", '',
        '## Where the dense ReLU step spends its time', '',
        f"torch.profiler over one `train` call of {s['steps_per_round']} steps "
        "(self CPU time; the loop body plus its two logged rows):", '',
        '| op | input shapes | share |', '|---|---|---|',
        *[f"| {op} | {shapes.replace('|', '/')} | {share:.0%} |" for op, shapes, share in train['dense_profile']], '',
        'The matmuls (encoder forward with its bias fused, decoder forward, and the three backward products: '
        '`W_dec`, the latents, `W_enc`) '
        'take most of it; the rest is one pass each over the `[batch, d_sae]` latents for ReLU, its backward, '
        'the gradient sum of the two '
        'loss paths, and the dead-latent bookkeeping, plus Adam. Against the textbook step, '
        'sparse_nb does not form the gradient of the '
        'centred input (b_dec\'s gradient goes through a `[1, d_sae]` product) '
        'and takes no `abs` of the non-negative latents for L1.', '',
        *circuits_md(circ),
        *grvae_md(grvae_runs(runs)),
        '## Goals missed', '',
        *([f"- {name}: measured {v:.2f}x against {goal}." for name, v, goal, _ in misses] or ['None on this run.']), '',
        '## Experiments at their defaults', '',
        f"From the latest successful run of each experiment under `{runs_name}` (`make demo` leaves them in `runs/`; "
        'cold caches add the model, stores and default dictionaries to the first runs).', '',
        '| experiment | seconds | run |', '|---|---|---|',
        *[f"| {e} | {sec:.0f} | {r} |" for e, sec, r in times],
        *([f"| all, `make demo` wall time on a fresh clone with cold caches "
           f"(venv, model, stores, dictionaries, site) | {demo_seconds:.0f} | |"] if demo_seconds else []), '']
    return '\n'.join(parts)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true',
                    help='tiny sizes (smoke test); does not write RESULTS.md unless --out is given')
    ap.add_argument('--out', help='where to write the results (default benchmarks/RESULTS.md)')
    ap.add_argument('--runs', default=str(HERE.parent/'runs'), help='runs root to read experiment times from')
    ap.add_argument('--render', metavar='JSON',
                    help='write the table and RESULTS.md from a saved results JSON instead of measuring')
    ap.add_argument('--demo-seconds', type=float,
                    help='wall seconds of the `make demo` that made those runs (fresh clone, cold caches), if measured')
    a = ap.parse_args()
    if a.render:
        saved = json.loads(Path(a.render).read_text()); train, harv = saved['train'], saved['harvest']
        circ = saved.get('circuits')
    else:
        peers = import_peers()
        train, harv = bench_train.run(a.quick, peers), bench_harvest.run(a.quick)
        circ = bench_circuits.run(a.quick)
    rs = rows(train, harv)
    print(table(rs))
    out = a.out or (None if a.quick else HERE/'RESULTS.md')
    if out:
        if not a.render:
            Path(out).with_suffix('.json').write_text(json.dumps({'train': train, 'harvest': harv, 'circuits': circ},
                                                                 indent=1) + '\n')
        Path(out).write_text(results_md(train, harv, rs, experiment_times(Path(a.runs)), a.demo_seconds, circ,
                                        'runs/' if Path(a.runs) == HERE.parent/'runs' else a.runs, Path(a.runs)))
        print(f"wrote {out}", file=sys.stderr)
