"""`make bench`: every benchmark, one table of ratios, and benchmarks/RESULTS.md.

Each ratio is measured in one process: the functions compared run in interleaved rounds and the median of
each is taken. The speed goals are checked against the measured numbers; a miss is listed with its
measured reason. The raw measurements are kept beside RESULTS.md as RESULTS.json, with two records that
accumulate across machines: the newest run at its defaults of each experiment (`make demo`) and the full-MNIST
GR-VAE runs (newest per epochs, seed and CPU); each `make bench` adds the runs it finds under the runs root.

Run: .venv/bin/python benchmarks/run.py [--quick] [--out FILE]
"""
import argparse, json, os, subprocess, sys
from datetime import datetime, timezone
from pathlib import Path
import bench_train, bench_harvest, bench_circuits, bench_floor
from common import import_peers

HERE = Path(__file__).resolve().parent

def peer_bench(quick:bool)->dict|None:
    "`bench_peers.py`'s measurements, run by the peers' venv Python (`$SPARSE_NB_PEERS_PYTHON`); None without it."
    py = os.environ.get('SPARSE_NB_PEERS_PYTHON')
    if not py: return None
    r = subprocess.run([py, str(HERE/'bench_peers.py'), *(['--quick'] if quick else [])], capture_output=True,
                       text=True)
    if r.returncode:
        print(f"bench_peers.py failed under {py}:\n{r.stderr[-3000:]}", file=sys.stderr); return None
    return json.loads(r.stdout)

def precision_rows(p:dict|None)->list:
    "Rows of bf16 against fp32 for the dense ReLU step and the sparse TopK step."
    if not p: return []
    dense, topk = p['dense_relu_bf16'] / p['dense_relu_fp32'], p['sparse_topk_bf16'] / p['sparse_topk_fp32']
    return [('dense ReLU step: bf16 / fp32', dense, '>= 1.6', dense >= 1.6),
            (f"sparse TopK k={p['k']} step: bf16 / fp32", topk, '', None)]

def peer_rows(pb:dict|None)->list:
    "Rows of the comparisons with SAELens (one process of the peers' venv)."
    if not pb: return []
    m, sw = pb['matryoshka'], pb['sweep']
    return [(f"Matryoshka k={m['k']} step, fp32: sparse path / SAELens", m['sparse_fp32'] / m['saelens'], '>= 3',
             m['sparse_fp32'] / m['saelens'] >= 3),
            (f"Matryoshka k={m['k']} step: sparse path in 'auto' precision / SAELens",
             m['sparse_auto'] / m['saelens'], '', None),
            (f"Matryoshka k={m['k']} step, fp32: sparse / dense path", m['sparse_fp32'] / m['dense_fp32'], '', None),
            (f"{sw['members']}-member TopK sweep: one stacked `sweep` / {sw['members']} SAELens runs (end to end)",
             sw['speedup'], '>= 3', sw['speedup'] >= 3)]

def rows(train:dict, harv:dict, peers:dict|None=None)->list:
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
    out += precision_rows(train.get('precision')) + peer_rows(peers)
    if 'adam' in train:
        a = train['adam']
        out.append((f"optimiser step, {a['members']}-member TopK stack: `core.adam` (fused) / torch's default Adam",
                    a['speedup'], '', None))
    out.append(('dense step GFLOP/s / matmul GFLOP/s',
                train['gflops']['step_gflops'] / train['gflops']['matmul_gflops'], '', None))
    for k in ('harvest_middle', 'harvest_last'):
        out.append((f"bare forward / harvest ({harv[k]['hook']})", 1 / harv[k]['slowdown'], '', None))
    if 'bf16' in harv:
        from sparse_nb.safe import md_escape
        b = harv['bf16']
        on = f", on {md_escape(b['cpu'])}" if b.get('cpu') else ''
        out.append((f"harvest ({b['hook']}): bf16 / fp32 forward{on}",
                    b['speedup'], '', None))
    out.append(('store reads / train step (tokens/s)', harv['read_vs_train']['read_over_train'], '> 1',
                harv['read_vs_train']['read_over_train'] > 1))
    return out

def _finished(r:Path)->tuple[dict, dict, dict]|None:
    "(run.json, params.json, summary.json) of run folder `r` if it finished well, else None."
    try:
        info = json.loads((r/'run.json').read_text())
        params, summary = json.loads((r/'params.json').read_text()), json.loads((r/'summary.json').read_text())
    except (OSError, ValueError): return None
    return (info, params, summary) if info.get('status') == 'ok' else None

def _cpu(info:dict)->str:
    "The CPU a run started on, as run.json records it."
    cpu = info.get('machine', {}).get('cpu') if isinstance(info.get('machine'), dict) else None
    return cpu if isinstance(cpu, str) else 'not recorded'

def experiment_times(runs:Path)->list[dict]:
    "The newest successful, uninterrupted run at its defaults of each experiment under `runs`: seconds, run, CPU."
    from sparse_nb.experiments import list_experiments
    out = []
    for exp in list_experiments(HERE.parent/'nbs'/'experiments'):
        defaults = {k: p.default for k, p in exp.user_params.items()}
        done = [(r, f) for r in sorted((runs/exp.name).glob('*'), reverse=True) if (f := _finished(r))]
        timed = [(r, info) for r, (info, params, _) in done               # a resumed run's seconds are its last part's
                 if params == defaults and 'resumed_unix' not in info and isinstance(info.get('seconds'), (int, float))]
        if timed:
            r, info = timed[0]
            threads = info.get('threads') if type(info.get('threads')) is int else None   # recorded since --jobs
            out.append({'experiment': exp.name, 'seconds': info['seconds'], 'run': r.name, 'cpu': _cpu(info),
                        'threads': threads, 'defaults_checked': True})
    return out

def _default_pair(runs:Path, name:str, changed:dict|None=None)->tuple|None:
    "The newest finished runs of `name` at its defaults (but `changed`) on one CPU: one that chose bf16, one in fp32."
    from sparse_nb.experiments import find_experiment
    defaults = {k: p.default for k, p in find_experiment(name, HERE.parent/'nbs'/'experiments').user_params.items()}
    base = {**defaults, **(changed or {})}
    done = [(r, f) for r in sorted((runs/name).glob('*'), reverse=True) if (f := _finished(r))]
    def pick(asked:list, chose:str, cpu:str|None=None):
        "The newest run with `precision` one of `asked` that trained in `chose` (on `cpu`, if given)."
        fits = lambda f: f[2].get('precision') == chose and f[1] in [{**base, 'precision': p} for p in asked]
        return next(((r, f) for r, f in done if fits(f) and cpu in (None, _cpu(f[0]))), None)
    # at the defaults the page says 'auto' chose bf16; at changed parameters `-p precision bf16` trains the same
    bf = pick([defaults.get('precision')] + (['bf16'] if changed else []), 'bf16')
    fp = bf and pick(['fp32'], 'fp32', _cpu(bf[1][0]))
    return (bf, fp) if bf and fp else None

def member_key(r:dict)->tuple:
    "A sae_variants member: (variant, knob value, init seed)."
    return r['variant'], r['knob_value'], r['seed']

def fvu_gaps(rows:list[dict], base:list[dict])->dict:
    "Each member's fvu in `rows` over its fvu in `base`, minus 1, by `member_key` (the two must hold the same members)."
    b = {member_key(r): r['fvu'] for r in base}
    if set(b) != {member_key(r) for r in rows}: raise ValueError('the two runs do not hold the same members')
    return {member_key(r): r['fvu'] / b[member_key(r)] - 1 for r in rows}

def _precision_gap(name:str, bf:dict, fp:dict)->tuple:
    "(what, gap, goal, met, per-member gaps) of the quality check issue 27 sets for `name`'s two summaries."
    if name == 'toy_recovery':
        gap = bf['best']['mmcs'] / fp['best']['mmcs'] - 1
        return 'best MMCS, bf16 / fp32 - 1', gap, 'within 1%', abs(gap) <= 0.01, {}
    if name == 'sae_variants':
        gaps = fvu_gaps(bf['results'], fp['results'])
        gap = max(gaps.values(), key=abs)
        return 'fvu per member, largest bf16 / fp32 - 1', gap, 'within 1%', abs(gap) <= 0.01, gaps
    sae = lambda s: [r['ce_recovered'] for r in s['results'] if r['method'] == 'sae']
    gap = max((a - b for a, b in zip(sae(bf), sae(fp))), key=abs)
    return 'ce_recovered per SAE member, largest bf16 - fp32', gap, 'within 0.005', abs(gap) <= 0.005, {}

def _seed_spread(fp:dict)->float:
    "Median over (variant, knob value) of fp32's fvu range across init seeds, relative to its mean."
    import statistics
    by = {}
    for r in fp['results']: by.setdefault((r['variant'], r['knob_value']), []).append(r['fvu'])
    return statistics.median((max(v) - min(v)) / (sum(v) / len(v)) for v in by.values() if len(v) > 1)

def _miss_detail(gaps:dict, fp:dict)->str:
    "What a missed per-member fvu check shows: which members are off, against the spread between seeds."
    off = [k for k, g in gaps.items() if abs(g) > 0.01]
    first = [k for k in gaps if k[2] == min(s for _, _, s in gaps)]     # the "at seed 0"
    return (f"{len(off)} of {len(gaps)} members differ by more than 1% ({_variants_over([gaps])}), "
            f"{sum(k in off for k in first)} of the {len(first)} with the first init seed; fp32's own fvu ranges over "
            f"the init seeds of one setting by a median of {_seed_spread(fp):.1%} of its mean")

def _fvus(summary:dict)->list[dict]:
    "The members of a sae_variants summary, reduced to their key and fvu."
    return [{k: r[k] for k in ('variant', 'knob_value', 'seed', 'fvu')} for r in summary['results']]

def _pair_record(pair:tuple, members:bool)->dict:
    "A bf16/fp32 pair of runs as the page records it: their names, their CPU and, if asked, each member's fvu."
    (rb, (ib, _, sb)), (rf, (_, _, sf)) = pair
    return {'run': rb.name, 'fp32_run': rf.name, 'cpu': _cpu(ib),
            **({'members': {'bf16': _fvus(sb), 'fp32': _fvus(sf)}} if members else {})}

def precision_quality(runs:Path)->list[dict]:
    "The default-scale bf16 vs fp32 quality checks, from pairs of default runs under `runs`."
    out = []
    for name in ('toy_recovery', 'sae_variants', 'lm_sweep'):
        if (pair := _default_pair(runs, name)) is None: continue
        (_, (_, _, sb)), (_, (_, _, sf)) = pair
        what, gap, goal, met, gaps = _precision_gap(name, sb, sf)
        out.append({'experiment': name, 'what': what, 'gap': gap, 'goal': goal, 'met': met,
                    **_pair_record(pair, members=bool(gaps)),
                    **({} if met or not gaps else {'detail': _miss_detail(gaps, sf)})})
    return out

def floor_runs(runs:Path, floor:dict)->dict|None:
    "The bf16 and fp32 sae_variants runs at a floor's changed parameters, as `floor_md` compares them, if both exist."
    pair = _default_pair(runs, 'sae_variants', floor['params'])
    return {'params': floor['params'], **_pair_record(pair, members=True)} if pair else None

def _gap_text(c:dict)->str:
    "A bf16 quality check's gap as the page writes it: in % where its goal is, else to four decimals."
    return f"{c['gap']:+.2%}" if '%' in c['goal'] else f"{c['gap']:+.4f}"

def precision_quality_md(checks:list[dict])->list[str]:
    "The quality checks of bf16 at the experiments' defaults, as a section of RESULTS.md."
    if not checks: return []
    from sparse_nb.safe import md_escape
    return ['## bf16 against fp32 at the defaults', '',
            "Each experiment run at its defaults twice on one machine: `precision = 'auto'` (which chose bf16) and "
            "`-p precision fp32`; the gap is the larger in size over the members compared.", '',
            '| experiment | measured | gap | goal | met | CPU | runs (bf16, fp32) |', '|---|---|---|---|---|---|---|',
            *[f"| {c['experiment']} | {c['what']} | {_gap_text(c)} | {c['goal']} | {'yes' if c['met'] else 'no'} | "
              f"{md_escape(c['cpu'])} | {md_escape(c['run'])}, {md_escape(c['fp32_run'])} |" for c in checks], '',
            *[f"- {c['experiment']}, goal missed: {c['detail']}." for c in checks if c.get('detail')],
            *([''] if any(c.get('detail') for c in checks) else [])]

def _eps(e:float)->str:
    "A nudge's size as the page writes it: a power of two as 2^-n, else as 1e-n."
    import math
    n = math.log2(e)
    return f"2^{n:.0f}" if n == round(n) else f"{e:.0e}".replace('e-0', 'e-')

def _over(gaps:dict)->int:
    "How many members' gaps exceed 1%."
    return sum(abs(g) > 0.01 for g in gaps.values())

def _span(counts:list[int])->str:
    "A count over draws: one number when they agree, else lowest-highest."
    return f"{min(counts)}" if min(counts) == max(counts) else f"{min(counts)}-{max(counts)}"

def _largest(draws:list[dict])->float:
    "The gap largest in size over all draws."
    return max((g for d in draws for g in d.values()), key=abs)

def _gap_cells(draws:list[dict])->str:
    "Largest gap over the draws, and how many members exceed 1% (a range over the draws), as two table cells."
    return f"{_largest(draws):+.2%} | {_span([_over(d) for d in draws])}" if draws and draws[0] else '- | -'

def _variants_over(draws:list[dict])->str:
    "The variants of the members whose gap exceeds 1% in any draw, in order, escaped for markdown."
    from sparse_nb.safe import md_escape
    return ', '.join(map(md_escape, dict.fromkeys(k[0] for d in draws for k, g in d.items() if abs(g) > 0.01)))

def cell_bootstrap(values:dict, n:int=2000, seed:int=0)->tuple[float, float, float]:
    "Mean of per-member `values` and its 95% interval, resampling (variant, knob value) cells (members share data)."
    import numpy as np
    cells = {}
    for k, v in values.items(): cells.setdefault(k[:2], []).append(v)
    groups = [np.asarray(v) for v in cells.values()]
    mean = float(np.mean(np.concatenate(groups)))
    if len(groups) < 2: return mean, float('nan'), float('nan')
    rng = np.random.default_rng(seed)
    means = [np.mean(np.concatenate([groups[i] for i in rng.integers(0, len(groups), len(groups))])) for _ in range(n)]
    return mean, *map(float, np.percentile(means, [2.5, 97.5]))

def _interval_text(values:dict, zero:str, above:str, below:str)->str:
    "`cell_bootstrap` of `values` as text, with what it says about 0 (or that there are too few cells to tell)."
    import math
    m, lo, hi = cell_bootstrap(values)
    if math.isnan(lo): return f"{m:+.2%} (too few (variant, knob value) cells for an interval)"
    cells = len({k[:2] for k in values})
    say = zero if lo <= 0 <= hi else (above if lo > 0 else below)
    return f"{m:+.2%} [{lo:+.2%}, {hi:+.2%}] (95% bootstrap over the {cells} (variant, knob value) cells): {say}"

def at_changed_params(floor:dict)->bool:
    "Whether a floor was measured at full size with some parameters changed (it then sits beside the default one)."
    return bool(floor.get('params')) and not floor.get('quick')

def _bf16_gaps(check:dict|None, floor:dict)->dict:
    "bf16's per-member gaps from `check`'s runs, when they have the floor's parameters and members."
    same = floor.get('defaults') or (at_changed_params(floor) and (check or {}).get('params') == floor['params'])
    if not (same and check and check.get('members')): return {}
    gaps = fvu_gaps(check['members']['bf16'], check['members']['fp32'])
    return gaps if set(gaps) == {member_key(r) for r in floor['fp32']} else {}

def _reproduction(check:dict, floor:dict)->str:
    "How the floor's plain fp32 arm compares with the fp32 run `check` names, member by member."
    from sparse_nb.safe import md_escape
    fp_run = {member_key(r): r['fvu'] for r in check['members']['fp32']}
    same = max(abs(r['fvu'] / fp_run[member_key(r)] - 1) for r in floor['fp32'])
    run = 'the fp32 default run' if floor.get('defaults') else f"the fp32 run {md_escape(check['fp32_run'])}"
    return (f"- Its plain fp32 arm reproduces {run} exactly, member by member." if same == 0 else
            f"- Its plain fp32 arm differs from {run} by up to {same:.1e} of a member's fvu.")

def _params_text(params:dict)->str:
    "Parameters as the page writes them: `lr 0.001, steps 100`, escaped for markdown."
    from sparse_nb.safe import md_escape
    return md_escape(', '.join(f'{k} {v}' for k, v in params.items()))

def _longer_line(floor:dict, arms:dict)->str:
    "How many members the floor's nudge moves at `floor['longer']['steps']` steps against its own steps, over draws."
    lg = floor['longer']
    e = lg['nudged'][0]['nudge']
    if e not in arms: return ''
    draws = [fvu_gaps(a['members'], lg['fp32']) for a in lg['nudged'] if a['nudge'] == e]
    c, short = [_over(d) for d in draws], [_over(d) for d in arms[e]]
    steps, long = int(floor['steps']), int(lg['steps'])                    # numbers from a file: numbers on the page
    at, there = f"{steps} steps", f"at {long} steps"
    say = (f"against the {_span(short)} at {at}; one draw on either side cannot tell a difference from the draw"
           if min(len(c), len(short)) < 2 else
           f"more than the {_span(short)} at {at} in every draw: {there} a per-member check is coarser, not finer"
           if min(c) > max(short) else f"fewer than the {_span(short)} at {at} in every draw" if max(c) < min(short)
           else f"within or overlapping the {_span(short)} at {at}: no clear difference")
    which = f"; {_variants_over(draws)}" if max(c) else ''
    return (f"- Trained {long} steps ({long / steps:g}x), the {_eps(e)} nudge moves {_span(c)} "
            f"of {len(lg['fp32'])} members by more than 1% in {len(draws)} draw{'s' * (len(draws) > 1)} "
            f"(largest {_largest(draws):+.2%}{which}): {say}.")

FLOOR_TITLE = 'How fine a per-member fvu check can be'

def floor_md(check:dict|None, floor:dict|None, title:str=f'### {FLOOR_TITLE}')->list[str]:
    "How fine sae_variants' per-member fvu check can be: bf16's gaps beside fp32's own under nudged inputs."
    from sparse_nb.safe import md_escape
    if not floor: return []
    cpu, bf = _cpu(floor), _bf16_gaps(check, floor)
    arms = {}
    for a in floor['nudged']: arms.setdefault(a['nudge'], []).append(fvu_gaps(a['members'], floor['fp32']))
    (e0, g0), n = next(iter(arms.items())), len(floor['fp32'])
    variants = list(dict.fromkeys(member_key(r)[0] for r in floor['fp32']))
    of = lambda gaps, v: {k: g for k, g in gaps.items() if v is None or k[0] == v}
    rows = [f"| {md_escape(v or 'all')} | {len(of(g0[0], v))} | {_gap_cells([of(bf, v)])} | "
            + ' | '.join(_gap_cells([of(d, v) for d in ds]) for ds in arms.values()) + ' |' for v in [*variants, None]]
    where = 'at its defaults' if floor.get('defaults') else ' and '.join(
        [*(['at reduced sizes (`--quick`)'] if floor.get('quick', True) else []),   # older records: quick or defaults
         *([f"with {_params_text(floor['params'])}"] if floor.get('params') else [])]) or 'not at its defaults'
    runs = ('the default runs above' if floor.get('defaults') else
            f"runs {md_escape(check['run'])} (bf16) and {md_escape(check['fp32_run'])} (fp32) with these parameters"
            if bf else '')
    out = [title, '',
           f"`benchmarks/bench_floor.py` trains sae_variants {where} ({int(floor['steps'])} steps) again in fp32 on "
           f"{md_escape(cpu)}, as is and with every batch it draws from the data (training batches and the one that "
           f"sets b_dec) multiplied by 1 + eps N(0, 1), {len(g0)} draws of the noise per eps. Gaps are each member's "
           "fvu over plain fp32's, minus 1; a count over 1% is a range over the draws"
           + (f"; bf16's gaps come from {runs} (on {md_escape(check['cpu'])})." if bf else '.'), '',
           '| variant | members | bf16: largest gap | over 1% | '
           + ' | '.join(f"eps {_eps(e)}: largest gap | over 1%" for e in arms) + ' |',
           '|---|---|---|---|' + '---|---|' * len(arms), *rows, '']
    if bf and check['cpu'] == cpu: out.append(_reproduction(check, floor))
    counts = [_over(d) for d in g0]
    out.append(f"- A nudge of {_eps(e0)} alone moves {_span(counts)} of {n} members by more than 1% in {len(g0)} "
               f"draws (largest {_largest(g0):+.2%}"
               + (f"; {_variants_over(g0)}): for these members a per-member 1% check cannot tell a {_eps(e0)} nudge "
                  "from a real change." if max(counts) else f"): no member moved past 1% in {len(g0)} draws."))
    if floor.get('longer') and (line := _longer_line(floor, arms)): out.append(line)
    if bf:
        import numpy as np
        for e, ds in list(arms.items())[1:]:
            moved = {k: abs(g) - np.mean([abs(d[k]) for d in ds]) for k, g in bf.items()}
            out.append(f"- bf16 against inputs nudged by eps {_eps(e)}, in how far each member's fvu moves (|gap|, "
                       "the nudge's averaged over its draws): "
                       + _interval_text(moved, 'no clear difference', 'bf16 moves members more',
                                        'bf16 moves members less') + '.')
        out.append("- bf16's signed gap, averaged over members: "
                   + _interval_text(bf, 'no clear difference from fp32', 'bf16 higher', 'bf16 lower') + '.')
    return [*out, '']

NUMBERS = ('test_accuracy', 'ablation_test_accuracy', 'seconds_per_epoch')
INTERVALS = ('accuracy_interval', 'ablation_accuracy_interval')

def _grvae_record(r:Path, info:dict, params:dict, s:dict)->dict|None:
    "The record of a routed full-MNIST grvae_mnist run (its numbers type-checked: they reach the pages), else None."
    if s.get('source') != 'mnist' or s.get('routed', True) is not True: return None
    num, whole = (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)), (lambda v: type(v) is int)
    ok = (all(num(s.get(k)) for k in NUMBERS) and whole(s.get('epochs')) and whole(s.get('n_train'))
          and all(isinstance(s.get(k), list) and len(s[k]) == 2 and all(map(num, s[k])) for k in INTERVALS)
          and whole(params.get('seed', 0)) and whole(params.get('batch_size', 128))
          and all(map(whole, s.get('unused_latents', []))))
    if not ok: return None
    keep = ('epochs', 'n_train', *NUMBERS, *INTERVALS, 'unused_latents')
    return {**{k: s[k] for k in keep if k in s}, 'seed': params.get('seed', 0),
            'batch_size': params.get('batch_size', 128), 'run': r.name, 'cpu': _cpu(info)}

def grvae_runs(runs:Path)->list[dict]:
    "The record of every successful routed grvae_mnist run on full MNIST under `runs`."
    found = ((r, _finished(r)) for r in sorted((runs/'grvae_mnist').glob('*')))
    return [rec for r, f in found if f and (rec := _grvae_record(r, *f))]

def merged(old:list[dict], new:list[dict], key)->list[dict]:
    "`old` records with `new` ones in their place where `key` matches (the newer run wins), sorted by `key`."
    out = {key(r): r for r in old}
    for r in new:
        k = key(r)
        if k not in out or r['run'] >= out[k]['run']: out[k] = r      # run folders are named by start time
    return [out[k] for k in sorted(out)]

def grvae_key(r:dict)->tuple:
    "What one GR-VAE record stands for: the schedule, the seed and the CPU."
    return (r['epochs'], r.get('batch_size', 128), r['seed'], r['cpu'])

def grvae_md(rows:list)->list:
    "The GR-VAE section: held-out accuracy on full MNIST per recorded run, routed and ablation, against 92.58%."
    from sparse_nb.grvae import full_mnist_report
    from sparse_nb.safe import md_escape
    head = ['## GR-VAE on full MNIST', '']
    if not rows: return [*head, full_mnist_report([]), '']
    pct = lambda v, ci: f"{100 * v:.2f}% [{100 * ci[0]:.2f}, {100 * ci[1]:.2f}]"
    lines = [f"| {r['epochs']} | {r.get('batch_size', 128)} | {r['seed']} | "
             f"{pct(r['test_accuracy'], r['accuracy_interval'])} | "
             f"{pct(r['ablation_test_accuracy'], r['ablation_accuracy_interval'])} | "
             f"{r['seconds_per_epoch']:.0f} | {md_escape(r['cpu'])} | {md_escape(r['run'])} |" for r in rows]
    return [*head,
            'Held-out accuracy (argmax of the latent means, 10,000 test digits, 95% Wilson interval) of the recorded '
            '`grvae_mnist` runs on full MNIST (the newest per epochs, batch size, seed and CPU; `RESULTS.json` keeps '
            'them, and `make bench` adds the runs it finds under the runs root), the routed model and its plain-VAE '
            'ablation trained side by side (one core each on these 2-core machines); seconds are per pass of both '
            'models, training and evaluation. The original reports 92.58% after 100 epochs.', '',
            '| epochs | batch | seed | routed | plain (ablation) | s / epoch | CPU | run |',
            '|---|---|---|---|---|---|---|---|', *lines, '', full_mnist_report(rows), '']

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

def sweep_profile_md(prof:list|None)->list:
    "Where a step of the stacked TopK sweep (the one compared with SAELens) spends its time."
    if not prof: return []
    matmul = sum(share for op, share in prof if op in ('aten::bmm', 'aten::baddbmm', 'aten::mm', 'aten::addmm'))
    top = ', '.join(f"`{op}` {share:.0%}" for op, share in prof[:3])
    return ['## Where a step of the stacked TopK sweep spends its time', '',
            "torch.profiler over 20 steps of the 8-member TopK stack of the SAELens comparison (d_in 256, d_sae 2048, "
            "batch 1024, k = 4 to 32, 'auto' precision; self CPU time). The largest shares: "
            f"{top}; the matmuls (`bmm`, `baddbmm`, `mm`, `addmm`) among the 8 ops listed take {matmul:.0%}.", '',
            '| op | share |', '|---|---|', *[f"| {op} | {share:.0%} |" for op, share in prof], '']

BUDGETS = {'demo': ('`make demo` on a fresh clone with cold caches', 20 * 60),
           'ci': ('`bash .ci/run` on a fresh clone (its own venv; tiny parameters)', 15 * 60)}

def budget_machine()->dict:
    "The CPU and date a budget is recorded with."
    from sparse_nb.core import machine
    return {'cpu': machine()['cpu'], 'date': datetime.now(timezone.utc).strftime('%Y-%m-%d')}

def merged_floors(old:list[dict], new:dict)->list[dict]:
    "Floors at changed parameters, `new` replacing one at its parameters and its runs (`pair_floors` pairs anew)."
    return [f for f in old if f['params'] != new['params']] + [new]

def take_render(saved:dict, given:dict):
    "Put a saved results JSON's measurements into `saved`: a floor at changed parameters beside the default floor."
    fl = given.get('precision_floor')
    beside = bool(fl) and at_changed_params(fl)
    if beside: saved['precision_floors'] = merged_floors(saved.get('precision_floors', []), fl)
    keys = ('train', 'harvest', 'circuits', 'peers_bench') + (() if beside else ('precision_floor',))
    saved.update({k: v for k, v in given.items() if k in keys})

def pair_floors(saved:dict, runs:Path):
    "Pair each floor at changed parameters with the newest bf16 and fp32 runs at its parameters under `runs`."
    for f in saved.get('precision_floors', []):
        if (found := floor_runs(runs, f)): f['bf16_runs'] = found

def budget_met(k:str, b:dict)->bool:
    "Whether budget `k`'s measured wall seconds are within its goal."
    return b['seconds'] <= BUDGETS[k][1]

def budgets_md(budgets:dict)->list:
    "The wall-time budgets, as measured (`--demo-seconds`, `--ci-seconds`), each with its goal and whether it is met."
    if not budgets: return []
    from sparse_nb.safe import md_escape
    rows = [f"| {BUDGETS[k][0]} | {b['seconds'] / 60:.1f} min | <= {BUDGETS[k][1] // 60} min | "
            f"{'yes' if budget_met(k, b) else 'NO'} | {md_escape(b['cpu'])}, {md_escape(b['date'])} |"
            for k, b in budgets.items() if k in BUDGETS]
    return ['## Budgets', '', '| what | wall time | goal | met | measured on |', '|---|---|---|---|---|', *rows, '']

def missed_md(misses:list, train:dict, saved:dict)->list[str]:
    "Every goal the page shows missed: this run's speed ratios, then the recorded budgets and bf16 quality checks."
    profiled = lambda name: 'sweep' in name and train.get('sweep_profile')
    speed = [f"- {name}: measured {v:.2f}x against {goal}."
             + (" Where its step's time goes: the sweep profile above." if profiled(name) else '')
             for name, v, goal, _ in misses]
    budgets = [f"- {BUDGETS[k][0]}: {b['seconds']:.0f} s against <= {BUDGETS[k][1]} s (Budgets below)."
               for k, b in saved.get('budgets', {}).items() if k in BUDGETS and not budget_met(k, b)]
    where = '(why, in "bf16 against fp32 at the defaults" below)'
    quality = [f"- bf16 quality, {c['experiment']}: {c['what']} is {_gap_text(c)}, against a goal of {c['goal']} "
               + (where if c.get('detail') else where.replace('why, in', 'see')) + '.'
               for c in saved.get('precision_quality', []) if not c['met']]
    return ['## Goals missed', '', *(speed + budgets + quality or ['None.']), '']

def saelens_text(pb:dict|None)->str:
    "What the SAELens rows measured, and how."
    if not pb: return ("SAELens: not measured on this run (set `SPARSE_NB_PEERS_PYTHON` to the peers' venv Python, "
                       "README's side venvs).")
    m, sw, s = pb['matryoshka'], pb['sweep'], pb['shapes']
    return (f"SAELens {pb['sae_lens']} is measured by `bench_peers.py` in one process of the peers' venv "
            f"(`$SPARSE_NB_PEERS_PYTHON`): SAELens does not import beside TransformerLens 4, so both it and sparse_nb "
            f"(from this checkout) run there, on that venv's torch {pb['torch']}. The Matryoshka step: d_in "
            f"{s['d_in']}, d_sae {s['d_sae']}, batch {s['batch']}, k {m['k']}, prefixes {m['widths']}, SAELens's "
            f"MatryoshkaBatchTopKTrainingSAE under its own SAETrainer step (defaults, fp32), "
            f"{s['steps_per_round']} steps per round, {s['rounds']} rounds. The sweep: {sw['members']} TopK "
            f"members (k = {', '.join(map(str, sw['ks']))}), {sw['steps']} steps of batch {sw['batch']} each, "
            f"d_in {sw['d_in']}, d_sae {sw['d_sae']}, all reading the same in-memory batches: one stacked `sweep` "
            f"call at its defaults against {sw['members']} SAELens runs (`SAETrainer.fit`, set up as "
            f"`train_toy_sae` does); {sw['stacked_s']:.1f} s against {sw['saelens_s']:.1f} s.")

def harvest_bf16_md(harv:dict)->list[str]:
    "What a bf16 harvest gains and what it changes in the stored activations, as a paragraph."
    from sparse_nb.safe import md_escape
    b = harv.get('bf16')
    if not b: return []
    threads = b.get('threads') or harv.get('threads')            # the run's, when the entry predates its own
    return [f"Harvest with the model's forward in bf16 (`harvest(..., precision='bf16')`, autocast; the default stays "
            f"fp32): {b['speedup']:.2f}x the fp32 harvest of {b['tokens']:,} tokens at {b['hook']}. Its stored "
            f"activations differ from fp32's by {b['off']:.2%} of the centred activations' norm: the difference "
            f"carries {b['off'] ** 2:.1e} of their variance, on the scale of an fvu. Their total variance (fvu's "
            f"denominator) differs by "
            f"{b['variance']:+.3%} and their mean by {b['mean_shift']:.2%} of a token's typical spread"
            + (f" (measured on {md_escape(b['cpu'])}" + (f", {threads} threads" if threads else '')
               + ').' if b.get('cpu') else '.'), '']

def results_md(saved:dict, rs:list)->str:
    "RESULTS.md from the saved measurements and records (`RESULTS.json`) and the ratio rows `rs`."
    from sparse_nb.safe import md_escape
    train, harv, circ = saved['train'], saved['harvest'], saved.get('circuits')
    times, demo_seconds = saved.get('experiments', []), saved.get('demo_seconds')
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
        saelens_text(saved.get('peers_bench')), '',
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
        *harvest_bf16_md(harv),
        "sparse_nb's steps use `core.adam`, torch's fused Adam kernel; the plain-torch step and the peers use torch's "
        "default Adam, as their code does (the optimiser-step row above gives the difference this makes alone).", '',
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
        *sweep_profile_md(train.get('sweep_profile')),
        *circuits_md(circ),
        *grvae_md(saved.get('grvae_full', [])),
        *missed_md(misses, train, saved),
        '## Experiments at their defaults', '',
        'The newest successful run of each experiment with every parameter at its default, as `RESULTS.json` '
        'records them (`make bench` adds the runs it finds under the runs root; `make demo` leaves them in `runs/`; '
        'cold caches add the model, stores and default dictionaries to the first runs).', '',
        'The threads column is the share of the cores each run had: `make demo` runs two experiments at once '
        '(`--jobs 2`), each on half the cores, so a row with fewer threads than the machine has cores is wall time '
        'beside another experiment; "-" marks a run recorded before run.json kept its threads.', '',
        '| experiment | seconds | threads | CPU | run |', '|---|---|---|---|---|',
        *[f"| {t['experiment']} | {t['seconds']:.0f} | {t.get('threads') or '-'} | {md_escape(t['cpu'])} | "
          f"{md_escape(t['run'])}"
          f"{'' if t.get('defaults_checked', True) else ' (see below)'} |" for t in times],
        *([f"| all, `make demo` wall time on a fresh clone with cold caches "
           f"(venv, model, stores, dictionaries, site) | {demo_seconds:.0f} | | | |"] if demo_seconds else []), '',
        *budgets_md(saved.get('budgets', {})),
        *precision_quality_md(saved.get('precision_quality', [])),
        *floor_md(next((c for c in saved.get('precision_quality', []) if c['experiment'] == 'sae_variants'), None),
                  saved.get('precision_floor')),
        *(['## bf16 against fp32 at other parameters', ''] if saved.get('precision_floors') else []),
        *[line for f in saved.get('precision_floors', []) for line in
          floor_md(f.get('bf16_runs'), f, f"### {FLOOR_TITLE}, with {_params_text(f['params'])}")],
        *(['Rows marked "see below" were recorded before the record checked parameters: they come from the latest '
           'run of each experiment on that machine, which `make demo` runs at its defaults, but nothing here checked '
           'it.', ''] if any(not t.get('defaults_checked', True) for t in times) else [])]
    return '\n'.join(parts)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--quick', action='store_true',
                    help='tiny sizes (smoke test); does not write RESULTS.md unless --out is given')
    ap.add_argument('--out', help='where to write the results (default benchmarks/RESULTS.md)')
    ap.add_argument('--runs', default=str(HERE.parent/'runs'),
                    help='runs root whose finished runs are added to the records')
    ap.add_argument('--render', metavar='JSON',
                    help="take the measurements from a saved results JSON instead of measuring (the records "
                         "still come from benchmarks/RESULTS.json and the runs root)")
    ap.add_argument('--ci-seconds', type=float, help='wall seconds of `bash .ci/run` on a fresh clone, if measured')
    ap.add_argument('--demo-seconds', type=float,
                    help='wall seconds of the `make demo` that made those runs (fresh clone, cold caches), if measured')
    a = ap.parse_args()
    out = Path(a.out) if a.out else (None if a.quick else HERE/'RESULTS.md')
    record = HERE/'RESULTS.json'                        # the records below accumulate in the committed file
    saved = json.loads(record.read_text()) if record.exists() else {}
    if a.render: take_render(saved, json.loads(Path(a.render).read_text()))
    else:
        peers = import_peers()
        saved.update(train=bench_train.run(a.quick, peers), harvest=bench_harvest.run(a.quick),
                     circuits=bench_circuits.run(a.quick), peers_bench=peer_bench(a.quick),
                     precision_floor=bench_floor.run(a.quick))
    runs = Path(a.runs)
    saved['experiments'] = merged(saved.get('experiments', []), experiment_times(runs), lambda t: t['experiment'])
    saved['grvae_full'] = merged(saved.get('grvae_full', []), grvae_runs(runs), grvae_key)
    saved['precision_quality'] = merged(saved.get('precision_quality', []), precision_quality(runs),
                                        lambda c: c['experiment'])
    pair_floors(saved, runs)
    if a.demo_seconds: saved['demo_seconds'] = a.demo_seconds
    for k, v in (('demo', a.demo_seconds), ('ci', a.ci_seconds)):
        if v: saved.setdefault('budgets', {})[k] = {'seconds': v, **budget_machine()}
    rs = rows(saved['train'], saved['harvest'], saved.get('peers_bench'))
    print(table(rs))
    if out:
        out.with_suffix('.json').write_text(json.dumps(saved, indent=1) + '\n')
        out.write_text(results_md(saved, rs))
        print(f"wrote {out}", file=sys.stderr)
