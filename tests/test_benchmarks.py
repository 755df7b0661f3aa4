"Each benchmark runs at tiny sizes (a smoke test: the ratios are measured by `make bench`, never by tests)."
import json, os, re, subprocess, sys
import pytest
from conftest import REPO

def bench(*args, timeout=600):
    r = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                       cwd=REPO/'benchmarks')
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout

def check_train(out:dict):
    "bench_train.py's quick results: every measurement present and positive."
    assert out['dense_relu']['sparse_nb'] > 0 and out['dense_relu']['plain'] > 0
    assert [t['k'] for t in out['topk']] == [4, 64]
    assert all(t['sparse'] > 0 and t['dense'] > 0 for t in out['topk'])
    # d_sae 256: below the sparse path's measured range
    assert [t['auto_picks'] for t in out['topk']] == ['dense', 'dense']
    assert out['stack']['speedup'] > 0 and out['gflops']['matmul_gflops'] > 0 and out['machine']['cores'] >= 1
    assert {f'{s}_{p}' for s in ('dense_relu', 'sparse_topk') for p in ('fp32', 'bf16')} < set(out['precision'])
    assert out['adam']['fused'] > 0 and out['adam']['default'] > 0 and out['sweep_profile']

def check_harvest(out:dict):
    "bench_harvest.py's quick results."
    for k in ('harvest_middle', 'harvest_last'): assert out[k]['slowdown'] > 0 and out[k]['bare_tok_s'] > 0
    assert out['read_vs_train']['read_tok_s'] > 0 and out['read_vs_train']['train_tok_s'] > 0
    b = out['bf16']                                          # bf16 harvest: faster or not, the activations move little
    assert b['speedup'] > 0 and 0 < b['off'] < 0.05 and abs(b['variance']) < 0.01

def check_circuits(out:dict):
    "bench_circuits.py's quick results."
    assert [(g['tokens'], g['replacement']) for g in out['graphs']] == [(n, r) for n in (8, 16) for r in ('plt', 'clt')]
    assert all(g['seconds'] > 0 and g['peak_mb'] >= 0 and g['nodes'] > g['features'] > 0 for g in out['graphs'])

def test_make_bench_table_and_results_file(tmp_path):
    "run.py --quick runs every benchmark (train, harvest, circuits) at tiny sizes: their results, the table, the file."
    out = bench(REPO/'benchmarks'/'run.py', '--quick', '--out', tmp_path/'RESULTS.md', '--runs', tmp_path/'runs',
                timeout=900)
    assert re.search(r'\| dense ReLU step: sparse_nb / plain torch \| [\d.]+x \| >= 0.95 \| (yes|NO) \|', out)
    assert re.search(r'\| TopK k=4: sparse / dense path \| [\d.]+x \| >= 3 \|', out) and 'rule picks the faster' in out
    assert re.search(r'\| dense ReLU step: bf16 / fp32 \| [\d.]+x \| >= 1.6 \| (yes|NO) \|', out)
    saved = json.loads((tmp_path/'RESULTS.json').read_text())
    check_train(saved['train']); check_harvest(saved['harvest']); check_circuits(saved['circuits'])
    fl = saved['precision_floor']                            # sae_variants in fp32, plain and nudged
    assert [a['nudge'] for a in fl['nudged']] == [1e-6, 1e-6, 2 ** -9, 2 ** -9] and fl['steps'] == 40
    assert all(len(a['members']) == len(fl['fp32']) == 18 for a in fl['nudged'])
    assert fl['longer']['steps'] == 160 and [len(a['members']) for a in fl['longer']['nudged']] == [18, 18]
    text = (tmp_path/'RESULTS.md').read_text()
    assert (text.startswith('# Benchmark results') and 'torch 2.13.0' in text and '## Goals missed' in text
            and '## Experiments at their defaults' in text and '| prompt tokens | replacement |' in text
            and '### How fine a per-member fvu check can be' in text and "precision='bf16'" in text)

PEERS = os.environ.get('SPARSE_NB_PEERS_PYTHON')

@pytest.mark.skipif(not PEERS, reason="no peers' venv (SPARSE_NB_PEERS_PYTHON; README: side venvs)")
def test_bench_peers_quick():
    r = subprocess.run([PEERS, 'bench_peers.py', '--quick'], capture_output=True, text=True, timeout=600,
                       cwd=REPO/'benchmarks')
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    m, sw = out['matryoshka'], out['sweep']
    assert all(m[k] > 0 for k in ('sparse_fp32', 'dense_fp32', 'sparse_auto', 'saelens')) and m['widths'][-1] == 512
    assert sw['members'] == len(sw['ks']) == 8 and sw['stacked_s'] > 0 and sw['saelens_s'] > 0 and out['sae_lens']

def test_peer_rows_state_the_goals():
    sys.path.insert(0, str(REPO/'benchmarks'))
    from run import peer_rows, precision_rows
    pb = {'matryoshka': {'k': 32, 'sparse_fp32': 30., 'dense_fp32': 10., 'sparse_auto': 60., 'saelens': 12.},
          'sweep': {'members': 8, 'speedup': 2.5}}
    got = {name: (round(v, 2), goal, met) for name, v, goal, met in peer_rows(pb)}
    assert got['Matryoshka k=32 step, fp32: sparse path / SAELens'] == (2.5, '>= 3', False)
    assert got['8-member TopK sweep: one stacked `sweep` / 8 SAELens runs (end to end)'] == (2.5, '>= 3', False)
    assert peer_rows(None) == [] and precision_rows(None) == []
    p = {'k': 32, 'dense_relu_fp32': 1., 'dense_relu_bf16': 1.7, 'sparse_topk_fp32': 2., 'sparse_topk_bf16': 3.}
    assert [(round(v, 2), met) for _, v, _, met in precision_rows(p)] == [(1.7, True), (1.5, None)]

def test_grvae_record_keeps_routed_full_mnist_runs_newest_per_seed(tmp_path):
    "RESULTS.json's GR-VAE record: successful routed full-MNIST runs (failed, subset, unrouted, torn: left out)."
    sys.path.insert(0, str(REPO/'benchmarks'))
    from run import grvae_runs, grvae_md, merged, grvae_key
    def run(name, status='ok', source='mnist', seed=0, epochs=5, acc=0.6, cpu='Some CPU'):
        r = tmp_path/'grvae_mnist'/name; r.mkdir(parents=True)
        (r/'run.json').write_text(json.dumps({'status': status, 'machine': {'cpu': cpu}}))
        (r/'params.json').write_text(json.dumps({'seed': seed}))
        (r/'summary.json').write_text(json.dumps({'source': source, 'epochs': epochs, 'test_accuracy': acc,
                                                  'accuracy_interval': [acc - 0.01, acc + 0.01], 'n_train': 60000,
                                                  'ablation_test_accuracy': 0.1, 'seconds_per_epoch': 49.0,
                                                  'ablation_accuracy_interval': [0.09, 0.11], 'unused_latents': []}))
    run('a', seed=0, acc=0.6); run('b', seed=1, acc=0.7); run('c', status='failed'); run('d', source='subset')
    run('f'); s = json.loads((tmp_path/'grvae_mnist'/'f'/'summary.json').read_text())
    (tmp_path/'grvae_mnist'/'f'/'summary.json').write_text(json.dumps({**s, 'routed': False}))   # the plain model's
    run('e', epochs=100, acc=0.93); (tmp_path/'grvae_mnist'/'e'/'summary.json').write_text('{"torn')
    run('g', seed='<img src=x onerror=alert(1)>')                        # numbers that are not numbers: left out
    rows = grvae_runs(tmp_path)
    assert sorted(r['run'] for r in rows) == ['a', 'b'] and rows[0]['cpu'] == 'Some CPU'
    older = {**rows[0], 'run': '0-older', 'test_accuracy': 0.5}          # recorded before: the newer run replaces it
    other_cpu = {**rows[0], 'cpu': 'Other CPU', 'run': '0-older'}      # another machine's run stays beside it
    record = merged([older, other_cpu], rows, grvae_key)
    assert [(r['seed'], r['cpu'], r['run']) for r in record] == [(0, 'Other CPU', '0-older'), (0, 'Some CPU', 'a'),
                                                                  (1, 'Some CPU', 'b')]
    assert merged(rows, [older], grvae_key) == rows                      # an older run never replaces a newer one
    text = '\n'.join(grvae_md(rows))
    assert '| 5 | 128 | 1 | 70.00% [69.00, 71.00] | 10.00% [9.00, 11.00] | 49 | Some CPU | b |' in text
    assert ('clearly below the published 92.58% (reached after 100 epochs) in every run, by 22.58 to 32.58 points; '
            'across the 2 runs (seeds 0, 1) the routed accuracy spans 60.00% to 70.00%') in text
    run('h', seed=2, cpu='<b>CPU</b>')                                    # a CPU name from a run is text on the page
    assert '<b>' not in '\n'.join(grvae_md(grvae_runs(tmp_path)))

def test_default_times_count_runs_at_their_defaults_only(tmp_path):
    sys.path.insert(0, str(REPO/'benchmarks'))
    from run import experiment_times
    from sparse_nb.experiments import find_experiment
    defaults = {k: p.default for k, p in find_experiment('grvae_mnist', REPO/'nbs'/'experiments').user_params.items()}
    def run(name, params, seconds):
        r = tmp_path/'grvae_mnist'/name; r.mkdir(parents=True)
        (r/'run.json').write_text(json.dumps({'status': 'ok', 'seconds': seconds}))
        (r/'params.json').write_text(json.dumps(params)); (r/'summary.json').write_text('{}')
    run('1-default', defaults, 230.0); run('2-longer', {**defaults, 'epochs': 100}, 3000.0)
    run('3-resumed', defaults, 20.0)                  # its seconds are the part after the resume only
    resumed = tmp_path/'grvae_mnist'/'3-resumed'/'run.json'
    resumed.write_text(json.dumps({**json.loads(resumed.read_text()), 'resumed_unix': 1.0}))
    assert experiment_times(tmp_path) == [{'experiment': 'grvae_mnist', 'seconds': 230.0, 'run': '1-default',
                                           'cpu': 'not recorded', 'threads': None, 'defaults_checked': True}]
    run('4-beside-another', defaults, 250.0)          # run by `--jobs 2`: its kernel had one thread
    info = tmp_path/'grvae_mnist'/'4-beside-another'/'run.json'
    info.write_text(json.dumps({**json.loads(info.read_text()), 'threads': 1}))
    assert [(t['run'], t['threads']) for t in experiment_times(tmp_path)] == [('4-beside-another', 1)]

def test_bf16_quality_at_the_defaults_compares_the_right_runs(tmp_path):
    sys.path.insert(0, str(REPO/'benchmarks'))
    from run import precision_quality, precision_quality_md
    from sparse_nb.experiments import find_experiment
    def run(exp, name, precision, chose, summary):
        defaults = {k: p.default for k, p in find_experiment(exp, REPO/'nbs'/'experiments').user_params.items()}
        r = tmp_path/exp/name; r.mkdir(parents=True)
        (r/'run.json').write_text(json.dumps({'status': 'ok', 'seconds': 1.0}))
        (r/'params.json').write_text(json.dumps({**defaults, 'precision': precision}))
        (r/'summary.json').write_text(json.dumps({**summary, 'precision': chose}))
    best = lambda m: {'best': {'mmcs': m}}
    run('toy_recovery', '1-auto', 'auto', 'bf16', best(0.750))
    run('toy_recovery', '2-fp32', 'fp32', 'fp32', best(0.752))
    run('toy_recovery', '3-auto-chose-fp32', 'auto', 'fp32', best(0.1))   # on a CPU without bf16: not a pair
    members = lambda *fvu: {'results': [{'variant': 'relu', 'knob_value': 0.1, 'seed': s, 'fvu': f}
                                        for s, f in enumerate(fvu)]}
    run('sae_variants', '1-auto', 'auto', 'bf16', members(0.100, 0.204))     # seed 1 off by 2%: planted
    run('sae_variants', '2-fp32', 'fp32', 'fp32', members(0.1005, 0.200))
    run('sae_variants', '3-bf16', 'bf16', 'bf16', members(0.5, 0.5))       # newer, but not precision 'auto'
    checks = {c['experiment']: c for c in precision_quality(tmp_path)}
    assert set(checks) == {'toy_recovery', 'sae_variants'}                   # no lm_sweep pair
    assert checks['sae_variants']['run'] == '1-auto'
    t, v = checks['toy_recovery'], checks['sae_variants']
    assert (t['run'], t['fp32_run'], t['met']) == ('1-auto', '2-fp32', True)
    assert round(t['gap'], 4) == round(0.75 / 0.752 - 1, 4)
    assert (v['met'], round(v['gap'], 3)) == (False, 0.02)
    md = '\n'.join(precision_quality_md(list(checks.values())))
    assert '| sae_variants | fvu per member, largest bf16 / fp32 - 1 | +2.00% | within 1% | no |' in md
    assert ('- sae_variants, goal missed: 1 of 2 members differ by more than 1% (relu), 0 of the 1 with the first '
            "init seed; fp32's own fvu ranges over the init seeds of one setting by a median of 66.2% of its "
            'mean.') in md

def floor_case(cpu='X', defaults=True):
    "A planted floor (two cells of two members, two draws per eps) and the bf16 check beside it."
    rows = lambda topk, relu=(0.30, 0.40): [{'variant': v, 'knob_value': 3, 'seed': s, 'fvu': f}
                                             for v, fvu in (('topk', topk), ('relu', relu)) for s, f in enumerate(fvu)]
    fp = rows((0.10, 0.20))
    arm = lambda e, d, *fvu: {'nudge': e, 'draw': d, 'members': rows(*fvu)}
    floor = {'machine': {'cpu': 'X'}, 'steps': 800, 'defaults': defaults, 'fp32': fp,
             'nudged': [arm(1e-6, 0, (0.103, 0.20)), arm(1e-6, 1, (0.10, 0.20)),    # topk seed 0 moved 3% once
                        arm(2 ** -9, 0, (0.103, 0.21)), arm(2 ** -9, 1, (0.098, 0.195), (0.301, 0.40))]}
    return {'cpu': cpu, 'members': {'fp32': list(fp), 'bf16': rows((0.104, 0.19))}}, floor

def test_floor_states_what_a_nudge_alone_moves():
    "floor_md: bf16's gaps beside each nudge's, per variant, and sentences drawn from those numbers."
    sys.path.insert(0, str(REPO/'benchmarks'))
    from run import floor_md
    check, floor = floor_case()
    md = '\n'.join(floor_md(check, floor))
    assert '| variant | members | bf16: largest gap | over 1% | eps 1e-6: largest gap | over 1% | eps 2^-9:' in md
    assert '| topk | 2 | -5.00% | 2 | +3.00% | 0-1 | +5.00% | 2 |' in md
    assert '| relu | 2 | +0.00% | 0 | +0.00% | 0 | +0.33% | 0 |' in md
    assert '| all | 4 | -5.00% | 2 | +3.00% | 0-1 |' in md
    assert 'at its defaults (800 steps)' in md and "bf16's gaps come from the default runs above (on X)" in md
    assert 'reproduces the fp32 default run exactly' in md
    assert ('A nudge of 1e-6 alone moves 0-1 of 4 members by more than 1% in 2 draws (largest +3.00%; topk): for '
            'these members a per-member 1% check cannot tell a 1e-6 nudge from a real change.') in md
    # |bf16 gap| - mean |2^-9 gap|: topk 0.04 - 0.025, 0.05 - 0.0375; relu 0 - 0.0017, 0; mean 0.65%
    assert 'bf16 against inputs nudged by eps 2^-9' in md and '+0.65% [' in md and 'over the 2 (variant, knob' in md
    assert "bf16's signed gap, averaged over members: -0.25% [" in md
    # the fp32 arm off the run, another CPU, a quick floor, nothing moved: each sentence follows its numbers
    check['members']['fp32'][0] = {**check['members']['fp32'][0], 'fvu': 0.1001}
    assert 'differs from the fp32 default run by up to 1.0e-03' in '\n'.join(floor_md(check, floor))
    md = '\n'.join(floor_md(floor_case(cpu='Y')[0], floor))
    assert '(on Y)' in md and 'reproduces' not in md and 'differs from' not in md
    check, floor = floor_case(defaults=False)
    floor['nudged'][0]['members'] = floor['fp32']
    md = '\n'.join(floor_md(check, floor))
    assert 'at reduced sizes (`--quick`)' in md and '| topk | 2 | - | - | +0.00% | 0 |' in md
    assert 'moves 0 of 4 members by more than 1% in 2 draws (largest +0.00%): no member moved past 1% in 2' in md
    assert 'bf16' not in md.split('|---|')[-1] and floor_md(check, None) == []

def test_floor_says_what_training_longer_does():
    "The longer arm's sentence: more, fewer or overlapping counts of members moved by the nudge, over draws."
    sys.path.insert(0, str(REPO/'benchmarks'))
    from run import floor_md
    check, floor = floor_case()
    assert 'Trained' not in '\n'.join(floor_md(check, floor))                   # no longer arm, no sentence
    moved = lambda n: [{**r, 'fvu': r['fvu'] * (1.1 if i < n else 1)} for i, r in enumerate(floor['fp32'])]
    longer = lambda *ns, e=1e-6: {'steps': 3200, 'fp32': floor['fp32'],
                                  'nudged': [{'nudge': e, 'draw': d, 'members': moved(n)} for d, n in enumerate(ns)]}
    md = lambda: '\n'.join(floor_md(check, floor))
    floor['longer'] = longer(3, 3)                                              # 0-1 moved at 800 steps
    assert ('- Trained 3200 steps (4x), the 1e-6 nudge moves 3 of 4 members by more than 1% in 2 draws (largest '
            '+10.00%; topk, relu): more than the 0-1 at 800 steps in every draw: at 3200 steps a per-member check '
            'is coarser, not finer.') in md()
    floor['longer'] = longer(2)                                                 # one draw above the range: not more
    assert ('moves 2 of 4 members by more than 1% in 1 draw (largest +10.00%; topk): against the 0-1 at 800 '
            'steps; one draw on either side cannot tell') in md() and 'coarser' not in md()
    floor['longer'] = longer(1, 3)
    assert 'moves 1-3 of 4 members' in md() and 'overlapping the 0-1 at 800 steps: no clear difference' in md()
    floor['longer'] = longer(0, 0)
    floor['nudged'][1]['members'] = floor['nudged'][0]['members']             # 1 moved in both draws at 800 steps
    assert 'moves 0 of 4 members by more than 1% in 2 draws (largest +0.00%): fewer than the 1 at 800 steps' in md()
    floor['longer'] = longer(3, 3, e=1e-5)                                      # a nudge the floor did not try
    assert 'Trained' not in md()
    floor.update(defaults=False, params={'lr': 0.001}, quick=False)
    assert 'trains sae_variants with lr 0\\.001 (800 steps)' in md() and 'default runs above' not in md()
    floor['quick'] = True
    assert 'at reduced sizes (`--quick`) and with lr 0\\.001 (800 steps)' in md()

def test_floor_at_changed_parameters_finds_its_own_bf16_runs(tmp_path):
    "A floor with -p lr: bf16 from the pair of runs at those parameters only, and kept when the floor is re-measured."
    sys.path.insert(0, str(REPO/'benchmarks'))
    from run import floor_md, floor_runs, merged_floors, take_render, pair_floors, FLOOR_TITLE
    from sparse_nb.experiments import find_experiment
    defaults = {k: p.default for k, p in find_experiment('sae_variants', REPO/'nbs'/'experiments').user_params.items()}
    check, floor = floor_case()
    floor.update(defaults=False, quick=False, params={'lr': 0.001})
    def run(name, params, chose, cpu='X'):
        r = tmp_path/'sae_variants'/name; r.mkdir(parents=True)
        (r/'run.json').write_text(json.dumps({'status': 'ok', 'seconds': 1.0, 'machine': {'cpu': cpu}}))
        (r/'params.json').write_text(json.dumps({**defaults, **params}))
        (r/'summary.json').write_text(json.dumps({'precision': chose, 'results': check['members'][chose]}))
    run('1-bf16-default-lr', {'precision': 'bf16'}, 'bf16')                   # not this floor's parameters
    run('2-fp32', {'lr': 0.001, 'precision': 'fp32'}, 'fp32')
    assert floor_runs(tmp_path, floor) is None                               # no bf16 run at lr 0.001 yet
    run('3-bf16', {'lr': 0.001, 'precision': 'bf16'}, 'bf16')
    run('4-fp32-elsewhere', {'lr': 0.001, 'precision': 'fp32'}, 'fp32', cpu='Y')   # newer, but on another CPU
    found = floor_runs(tmp_path, floor)
    assert (found['run'], found['fp32_run'], found['params']) == ('3-bf16', '2-fp32', {'lr': 0.001})
    md = '\n'.join(floor_md(found, floor))
    assert md.startswith(f'### {FLOOR_TITLE}\n') and '| topk | 2 | -5.00% | 2 |' in md
    assert "bf16's gaps come from runs 3\\-bf16 (bf16) and 2\\-fp32 (fp32) with these parameters" in md
    assert 'reproduces the fp32 run 2\\-fp32 exactly' in md and 'bf16 against inputs nudged by eps 2^-9' in md
    other = {**found, 'params': {'lr': 0.002}}                               # runs at other parameters: no bf16
    assert "bf16's gaps" not in '\n'.join(floor_md(other, floor)) and "bf16's gaps" not in '\n'.join(
        floor_md(check, floor))                                              # nor the default runs
    kept = merged_floors([{**floor, 'bf16_runs': found}, {**floor, 'params': {'lr': 0.01}}], {**floor, 'steps': 9})
    assert [(f['params'], f['steps'], 'bf16_runs' in f) for f in kept] == [({'lr': 0.01}, 800, False),
                                                                            ({'lr': 0.001}, 9, False)]
    saved = {'precision_floor': {'defaults': True}, 'precision_floors': kept}   # re-measured: paired anew
    take_render(saved, {'precision_floor': floor, 'train': 't'})
    assert saved['precision_floor'] == {'defaults': True} and saved['train'] == 't'
    pair_floors(saved, tmp_path)
    assert [f.get('bf16_runs', {}).get('run') for f in saved['precision_floors']] == [None, '3-bf16']
    take_render(saved, {'precision_floor': {**floor, 'quick': True}})         # a quick floor replaces the default
    assert saved['precision_floor']['quick'] and len(saved['precision_floors']) == 2

def test_results_md_is_rendered_from_results_json():
    "The committed page is exactly what run.py makes of the committed record: nothing on it is typed by hand."
    sys.path.insert(0, str(REPO/'benchmarks'))
    from run import results_md, rows
    saved = json.loads((REPO/'benchmarks'/'RESULTS.json').read_text())
    page = results_md(saved, rows(saved['train'], saved['harvest'], saved.get('peers_bench')))
    assert page == (REPO/'benchmarks'/'RESULTS.md').read_text()

def test_floor_parameters():
    "bench_floor: a default given again is no change, and precision or device are refused before training."
    sys.path.insert(0, str(REPO/'benchmarks'))
    import bench_floor
    from sparse_nb.core import ParameterError
    assert bench_floor.changed({'lr': 0.003, 'steps': 100}) == {'steps': 100}
    with pytest.raises(ParameterError, match='fp32 on the CPU: device, precision'):
        bench_floor.run(True, {'device': 'cpu', 'precision': 'bf16'})

def test_goals_missed_lists_every_missed_goal():
    "missed_md: a missed speed ratio, budget and bf16 quality check each get a line; 'None.' only when none is."
    sys.path.insert(0, str(REPO/'benchmarks'))
    from run import missed_md
    budgets = {'demo': {'seconds': 1130}, 'ci': {'seconds': 960}}
    checks = [{'experiment': 'lm_sweep', 'what': 'ce', 'gap': -0.006, 'goal': 'within 0.005', 'met': False},
              {'experiment': 'sae_variants', 'what': 'fvu per member', 'gap': 0.079, 'goal': 'within 1%', 'met': False,
               'detail': '24 of 63 members'}]
    md = '\n'.join(missed_md([('stacked sweep / SAELens', 2.5, '>= 3', False)], {},
                             {'budgets': budgets, 'precision_quality': checks}))
    assert '- stacked sweep / SAELens: measured 2.50x against >= 3.' in md
    assert '- `bash .ci/run` on a fresh clone (its own venv; tiny parameters): 960 s against <= 900 s' in md
    assert '- bf16 quality, sae_variants: fvu per member is +7.90%, against a goal of within 1% (why' in md
    assert '- bf16 quality, lm_sweep: ce is -0.0060, against a goal of within 0.005 (see "bf16 against' in md
    assert 'demo' not in md and 'None.' not in md
    checks[0]['met'] = checks[1]['met'] = True; budgets['ci']['seconds'] = 900
    assert missed_md([], {}, {'budgets': budgets, 'precision_quality': checks}) == ['## Goals missed', '', 'None.', '']

def test_cell_bootstrap_reads_its_interval():
    "Clearly above zero, overlapping it, and one cell (no interval): three verdicts from the same function."
    sys.path.insert(0, str(REPO/'benchmarks'))
    from run import _interval_text, fvu_gaps
    say = lambda v: _interval_text(v, 'none', 'above', 'below')
    above = {('a', 1, 0): 0.02, ('a', 1, 1): 0.03, ('b', 1, 0): 0.025, ('c', 1, 0): 0.021}
    assert say(above).endswith(': above') and say({k: -v for k, v in above.items()}).endswith(': below')
    assert say({**above, ('d', 1, 0): -0.2}).endswith(': none')
    assert say({('a', 1, 0): 0.02, ('a', 1, 1): 0.03}) == '+2.50% (too few (variant, knob value) cells for an interval)'
    with pytest.raises(ValueError, match='same members'):
        fvu_gaps([{'variant': 'a', 'knob_value': 1, 'seed': 0, 'fvu': 1.0}], [])

def test_chapter_states_the_recorded_full_mnist_runs():
    "08_grvae's kept report is the one RESULTS.json's record gives (`make nbs` refreshes it after `make bench`)."
    import nbformat
    from sparse_nb.grvae import full_mnist_report
    nb = nbformat.read(REPO/'nbs'/'08_grvae.ipynb', as_version=4)
    cell = next(c for c in nb.cells if 'full_mnist_report(json.loads' in c.source)
    shown = ''.join(o['data']['text/markdown'] for o in cell.outputs if 'text/markdown' in o.get('data', {}))
    record = json.loads((REPO/'benchmarks'/'RESULTS.json').read_text())['grvae_full']
    assert record and shown == full_mnist_report(record)
