"""Every experiment runs end to end through `sparse_nb run --tiny` (the tiny parameters its own notebook declares) and
leaves what the site reads: a headline, a caveat, a key figure that exists, a caption and a mark for every figure."""
import json
from pathlib import Path
import pytest
from conftest import sparse_nb, last_line, run_tiny, EXPERIMENTS, REPO
from sparse_nb.core import bf16_fast
from sparse_nb.experiments import list_experiments, check_params

NAMES = sorted(p.stem for p in EXPERIMENTS.glob('*.ipynb'))
SWEEP_COLUMNS = {'variant', 'dict_ratio', 'knob', 'knob_value', 'l0', 'fvu', 'dead_frac', 'gamma'}  # every sweep row
PROVENANCE = {'seed', 'seconds', 'sparse_nb_version', 'torch_version', 'git_commit'}

def test_every_experiment_declares_tiny_parameters():
    exps = list_experiments(EXPERIMENTS)
    assert sorted(e.name for e in exps) == NAMES
    for e in exps:
        assert e.tiny, f"{e.name}.ipynb has no raw cell tagged 'tiny' with its smoke-test parameters"
        check_params(e, e.tiny)

def marked_figures(run:Path, name:str)->list[str]:
    "The figure names the executed notebook's outputs carry (what the site puts captions under)."
    nb = json.loads((run/f'{name}.ipynb').read_text())
    return [o['metadata']['sparse_nb_figure'] for c in nb['cells'] for o in c.get('outputs', [])
            if 'sparse_nb_figure' in o.get('metadata', {})]

def check_tiny_run(run:Path, name:str, experiments:Path=EXPERIMENTS):
    "Assert a tiny run of experiment `name` left what the site reads: provenance, headline, figures and captions."
    summary = json.loads((run/'summary.json').read_text())
    assert PROVENANCE <= set(summary) and summary['seed'] == 0 and summary['git_commit'] and summary['seconds'] > 0
    assert isinstance(summary.get('headline'), str) and summary['headline'], 'every experiment states its result'
    assert isinstance(summary.get('caveat'), str) and summary['caveat'], 'and its main caveat, computed'
    figures = sorted(p.stem for p in (run/'figures').glob('*.png'))
    captions = json.loads((run/'figures'/'captions.json').read_text())
    assert summary['key_figure'] in figures and sorted(captions) == figures and all(captions.values())
    assert sorted(marked_figures(run, name)) == figures
    for p in figures: assert (run/'figures'/f'{p}.png').stat().st_size > 1000, p
    for row in summary.get('results', []):
        if {'variant', 'dict_ratio', 'knob'} <= set(row): assert SWEEP_COLUMNS <= set(row), row   # a sweep's row
    exp = next(e for e in list_experiments(experiments) if e.name == name)
    assert json.loads((run/'params.json').read_text()) == {**{k: p.default for k, p in exp.user_params.items()},
                                                          **check_params(exp, exp.tiny)}

@pytest.mark.parametrize('name', NAMES)
def test_experiment_runs_at_tiny_scale(name, tiny_runs):
    check_tiny_run(tiny_runs(name), name)

TIMING = {'seconds', 'seconds_per_epoch', 'sparse_nb_version', 'torch_version', 'git_commit'}

@pytest.mark.parametrize('name', NAMES)
def test_same_parameters_and_seed_give_the_same_summary(name, tiny_runs, runs):
    first, again = tiny_runs(name), run_tiny(name, runs)
    read = lambda run: {k: v for k, v in json.loads((run/'summary.json').read_text()).items() if k not in TIMING}
    assert first != again and read(first) == read(again)

def test_tms_summary_is_consistent(runs):
    r = sparse_nb('run', 'tms_dimensionality', '-p', 'steps', '30', '-p', 'n_levels', '3', '-p', 'n_features', '12',
                  '-p', 'd_hidden', '4', '--out', runs, '--no-progress', experiments=EXPERIMENTS)
    assert r.returncode == 0, r.stderr[-3000:]
    s = json.loads((Path(last_line(r.stdout))/'summary.json').read_text())
    assert len(s['dims_per_feature']) == 3 and sum(s['dimensionality_hist'].values()) == s['n_models'] * 3 * 12
    within = lambda v: abs(v - 0.5) <= 0.05
    assert s['frac_levels_near_half'] == pytest.approx(            # a level counts when every model's value is near 1/2
        sum(within(lo) and within(hi) for lo, hi in zip(*s['dims_per_feature_range'])) / 3)

def test_toy_recovery_grid_and_variants_cover_every_member(runs):
    run = run_tiny('sae_variants', runs, '-p', 'variants', '["relu", "topk"]')
    res = json.loads((run/'summary.json').read_text())['results']
    assert [(x['variant'], x['knob'], x['knob_value'], x['seed']) for x in res] == [   # tiny: 2 seeds per value
        (v, knob, value, s) for v, knob, values in (('relu', 'l1_coeff', (0.03, 0.3)), ('topk', 'k', (2, 4)))
        for value in values for s in (0, 1)]
    assert [round(x['l0']) for x in res if x['variant'] == 'topk'] == [2, 2, 4, 4]   # TopK keeps exactly k

def test_synth_bench_rows_cover_variants_seeds_and_targets(tiny_runs):
    s = json.loads((tiny_runs('synth_bench')/'summary.json').read_text())
    fields = {'variant', 'seed', 'l0', 'f1', 'precision', 'recall', 'mcc', 'uniqueness', 'shrinkage',
              'explained_variance', 'dead_frac'}
    assert all(fields <= set(r) for r in s['results'])
    cells = {}
    for r in s['results']: cells.setdefault((r['data'], r['variant'], r['target_l0']), []).append(r['seed'])
    synth = {(v, t) for d, v, t in cells if d == 'synth'}
    assert synth == {(v, t) for v in ('relu', 'topk', 'batchtopk', 'matryoshka', 'jumprelu')
                    for t in s['targets']}                                      # tiny: every target of each
    assert all(sorted(seeds) == [0, 1] for seeds in cells.values())                     # tiny: 2 seeds each
    assert all(r['l0'] == pytest.approx(r['target_l0'], abs=0.01) for r in s['results'] if r['variant'] == 'topk')
    assert all(0 <= r[k] <= 1 for r in s['results'] for k in ('f1', 'precision', 'recall', 'mcc', 'uniqueness'))


def test_absorption_rows_cover_every_member_and_the_matched_pairs(tiny_runs):
    s = json.loads((tiny_runs('absorption')/'summary.json').read_text())
    assert [(x['variant'], x['knob_value']) for x in s['results']] == [
        (v, c) for v, cs in (('relu', [0.1, 0.3, 1.0]), ('topk', [3, 5, 8]),
                             ('batchtopk', [3, 5, 8]), ('matryoshka', [3, 5, 8])) for c in cs]
    assert all(0 <= x['absorption_rate'] <= x['parent_silent_rate'] <= 1 for x in s['results'])
    m = s['matryoshka_vs_batchtopk']
    assert m['pairs'] == 3 and m['reduced'] is False      # 3 pairs are under the 4 a verdict needs: none is given
    lo, hi = m['difference_ci']
    assert lo <= m['absorption_matryoshka'] - m['absorption_batchtopk'] <= hi   # the interval holds its estimate
    assert 'too few pairs' in s['headline']

def test_transcoders_rows_are_three_methods_at_matched_k(tiny_runs):
    s = json.loads((tiny_runs('transcoders')/'summary.json').read_text())
    assert [(x['method'], x['knob_value']) for x in s['results']] == [
        (m, k) for m in ('sae', 'transcoder', 'skip_transcoder') for k in (4, 8)]
    assert [round(x['l0']) for x in s['results']] == [4, 8] * 3     # TopK: l0 = k exactly, so the methods are matched
    assert s['ce_zero'] > s['ce_clean'] and all(0 < x['alive_frac'] <= 1 for x in s['results'])

def test_unknown_variant_fails_with_the_known_ones(runs):
    r = sparse_nb('run', 'sae_variants', '-p', 'variants', '["relu", "sparse"]', '-p', 'steps', '5', '--out', runs,
                  '--no-progress', experiments=EXPERIMENTS)
    assert r.returncode == 1 and "unknown variants ['sparse']" in (Path(last_line(r.stdout))/'run.json').read_text()

def test_grvae_held_out_split_and_slider_page(tiny_runs):
    run = tiny_runs('grvae_mnist')                                    # the subset, test_fraction 0.2
    s = json.loads((run/'summary.json').read_text())
    assert (s['n_train'], s['n_test'], s['source']) == (4000, 1000, 'subset')
    assert 0 <= s['test_accuracy'] <= 1 and 0 <= s['ablation_test_accuracy'] <= 1
    assert (run/'site'/'slider.html').stat().st_size > 1_000_000      # the decoder's weights are embedded
    assert (run/'model'/'weights.safetensors').exists()
    from sparse_nb.grvae import full_mnist_report           # the page carries the repository's recorded runs
    record = json.loads((REPO/'benchmarks'/'RESULTS.json').read_text())['grvae_full']
    import nbformat
    shown = [o['data']['text/markdown'] for c in nbformat.read(run/'grvae_mnist.ipynb', as_version=4).cells
             for o in c.get('outputs', []) if 'text/markdown' in o.get('data', {})]
    assert full_mnist_report(record) in shown and '**100 epochs**' in full_mnist_report(record)

def test_grvae_bad_source_names_the_options(runs):
    r = sparse_nb('run', 'grvae_mnist', '-p', 'source', '/no/mnist/here', '-p', 'epochs', '1', '--out', runs,
                  '--no-progress', experiments=EXPERIMENTS)
    assert r.returncode == 1
    assert "is none of ('auto', 'mnist', 'subset', 'hub')" in (Path(last_line(r.stdout))/'run.json').read_text()

def test_lm_sweep_rows_cover_saes_and_pca(tiny_runs):
    s = json.loads((tiny_runs('lm_sweep')/'summary.json').read_text())
    sae = [x for x in s['results'] if x['method'] == 'sae']
    assert [(x['dict_ratio'], x['knob'], x['knob_value']) for x in sae] == [(2, 'l1_coeff', 0.3), (2, 'l1_coeff', 3.0)]
    # PCA at each SAE's l0
    assert {round(x['l0']) for x in sae} <= {round(x['l0']) for x in s['results'] if x['method'] == 'pca'}
    assert sae[0]['l0'] > sae[1]['l0'] and s['ce_zero'] > s['ce_clean'] and s['n_tokens'] == 6000

def test_lm_sweep_unavailable_model_names_the_options(runs):
    r = sparse_nb('run', 'lm_sweep', '-p', 'model', 'sparse-nb-tests/no-such-model', '--out', runs, '--no-progress',
                  experiments=EXPERIMENTS, env={'HF_HUB_OFFLINE': '1'})
    assert r.returncode == 1
    assert "could not load model 'sparse-nb-tests/no-such-model'" in (Path(last_line(r.stdout))/'run.json').read_text()

def test_feature_atlas_cards_and_table(tiny_runs, runs):
    run = tiny_runs('feature_atlas')
    s = json.loads((run/'summary.json').read_text())
    assert s['cards'] == s['n_alive'] and s['n_alive'] + s['n_dead'] == s['n_latents'] == 128   # a card per alive one
    assert all(t['top_tokens'] for t in s['top_latents'])
    assert len((run/'latents.csv').read_text().splitlines()) == 129            # header + one row per latent
    data = (run/'site'/'atlas_data.js').read_text()
    assert data.startswith('window.ATLAS = ') and data.count('"html"') == s['n_alive']
    assert s['median_score_interval'][0] <= s['median_score'] <= s['median_score_interval'][1]
    assert len((run/'explanations.csv').read_text().splitlines()) == s['n_alive'] + 1
    again = sparse_nb('run', 'feature_atlas', '--tiny', '-p', 'sae', str(run.parent.parent/'x'), '--out', runs,
                      '--no-progress', experiments=EXPERIMENTS)
    assert (again.returncode == 1
            and 'expected an SAE folder or a run folder' in (Path(last_line(again.stdout))/'run.json').read_text())

def test_dict_consistency_pairs(runs):
    run = run_tiny('dict_consistency', runs, '-p', 'seeds', '[0, 1]', '-p', 'lm', 'false')
    s = json.loads((run/'summary.json').read_text())
    assert [(x['l1_coeff'], x['seed_a'], x['seed_b']) for x in s['results']] == [
        (0.03, 0, 1), (0.1, 0, 1), (0.3, 0, 1)]                                # toy pairs only
    auc = s['auc_consistency_predicts_truth']            # undefined when no latent matches a true feature
    assert (auc is None and 'cannot be scored' in s['headline']) or 0 <= auc <= 1
    assert s['lm_found_again'] == {}

def test_sparse_probing_rows(tiny_runs):
    s = json.loads((tiny_runs('sparse_probing')/'summary.json').read_text())
    assert len(s['tasks']) >= 4
    for t in s['tasks']:
        rows = [(x['method'], x['k']) for x in s['results'] if x['task'] == t]
        assert rows == [('sae', 1), ('sae', 5), ('pca', 1), ('pca', 5), ('raw', 32)], rows
    assert all(0.3 <= x['test_accuracy'] <= 1 for x in s['results'])

def test_interp_baselines_methods(tiny_runs):
    res = json.loads((tiny_runs('interp_baselines')/'summary.json').read_text())['results']
    assert ([x['method'] for x in res] == ['sae', 'neurons', 'pca', 'ica', 'random']
            and all(x['n_directions'] == 8 for x in res))
    assert all(x['ci_low'] <= x['median_score'] <= x['ci_high'] for x in res)

def test_feature_graph_edges(tiny_runs):
    s = json.loads((tiny_runs('feature_graph')/'summary.json').read_text())
    assert s['edges'] and {e['dst'] for e in s['edges']} <= set(s['later_latents'])
    assert all(set(e) == {'src', 'dst', 'effect', 'cosine'} and e['effect'] <= 1 + 1e-6 and -1 <= e['cosine'] <= 1
               for e in s['edges'])
    per_dst = {}
    for e in s['edges']: per_dst[e['dst']] = per_dst.get(e['dst'], 0) + 1
    assert max(per_dst.values()) <= 3                                       # top_edges per later latent


def test_attribution_graph_rows_pair_the_replacements_on_each_prompt(tiny_runs):
    s = json.loads((tiny_runs('attribution_graph')/'summary.json').read_text())
    fields = {'prompt', 'method', 'k', 'l0', 'replacement_score', 'completeness_score', 'n_nodes', 'n_edges',
              'intervention_spearman'}
    assert s['results'] and all(fields <= set(r) for r in s['results'])
    pairs = {}
    for r in s['results']: pairs.setdefault((r['prompt'], r['k']), []).append(r['method'])
    assert all(sorted(m) == ['clt', 'plt'] for m in pairs.values())           # both replacements on every prompt
    assert set(p for p, _ in pairs) == set(s['prompts'])
    assert all(0 <= r['replacement_score'] <= 1 and 0 <= r['completeness_score'] <= 1 for r in s['results'])
    assert all(r['n_nodes'] >= 1 and r['n_edges'] >= 1 for r in s['results'])
    reps = {(r['method'], r['k']): r for r in s['replacements']}
    assert all(reps[('clt', k)]['l0'] <= k and reps[('plt', k)]['l0'] <= k for _, k in reps)   # TopK: k per layer

def _summaries(name, tiny_runs, runs)->tuple[dict, dict]:
    "The summaries of experiment `name`'s tiny run in 'auto' precision (bf16 here) and of one in fp32."
    bf, fp = [json.loads((r/'summary.json').read_text())
              for r in (tiny_runs(name), run_tiny(name, runs, '-p', 'precision', 'fp32'))]
    assert (bf['precision'], fp['precision']) == ('bf16', 'fp32')
    return bf, fp

BF16 = pytest.mark.skipif(not bf16_fast(), reason="'auto' precision is fp32 on this CPU: nothing to compare")

@BF16
def test_bf16_keeps_toy_recovery_best_mmcs(tiny_runs, runs):
    bf, fp = _summaries('toy_recovery', tiny_runs, runs)
    assert abs(bf['best']['mmcs'] / fp['best']['mmcs'] - 1) <= 0.01, (bf['best'], fp['best'])

@BF16
def test_bf16_keeps_sae_variants_fvu_per_member(tiny_runs, runs):
    bf, fp = _summaries('sae_variants', tiny_runs, runs)
    key = lambda r: (r['variant'], r['knob_value'], r['seed'])
    assert [key(r) for r in bf['results']] == [key(r) for r in fp['results']]
    off = {key(a): a['fvu'] / b['fvu'] - 1 for a, b in zip(bf['results'], fp['results'])}
    assert max(map(abs, off.values())) <= 0.01, off
    assert any(off.values()), 'the two runs differ: bf16 took effect'

@BF16
def test_bf16_keeps_lm_sweep_ce_recovered(tiny_runs, runs):
    bf, fp = _summaries('lm_sweep', tiny_runs, runs)
    sae = lambda s: [r for r in s['results'] if r['method'] == 'sae']
    gaps = [abs(a['ce_recovered'] - b['ce_recovered']) for a, b in zip(sae(bf), sae(fp))]
    assert len(gaps) == 2 and max(gaps) <= 0.005, gaps
