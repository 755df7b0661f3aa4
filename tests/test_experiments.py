"Every product experiment runs end to end through `sparse_nb run` at tiny scale and writes its summary keys."
import json
from pathlib import Path
import pytest
from conftest import sparse_nb, last_line, REPO

EXPERIMENTS = REPO/'nbs'/'experiments'

# experiment -> (tiny parameters, keys its summary.json must hold, figures it must write)
TINY = {
    'tms_dimensionality': (['-p', 'steps', '40', '-p', 'n_levels', '4', '-p', 'batch_size', '256'],
                           ['dims_per_feature', 'frac_levels_near_half', 'dimensionality_hist'],
                           ['dims_per_feature', 'feature_dimensionality', 'loss']),
    'toy_recovery': (['-p', 'steps', '30', '-p', 'n_features', '64', '-p', 'd_in', '32', '-p', 'dict_ratios', '[1, 4]', '-p', 'l1_coeffs', '[0.03, 0.3]'],
                     ['results', 'random_baseline_mmcs'], ['mmcs_heatmap', 'mmcs_dead_vs_l1', 'mcs_histogram', 'mmcs_between']),
    'sae_variants': (['-p', 'steps', '30', '-p', 'n_features', '64', '-p', 'd_in', '32', '-p', 'ks', '[2, 4]', '-p', 'l1_coeffs', '[0.03, 0.3]', '-p', 'l0_coeffs', '[0.01, 0.03]'],
                     ['results'], ['frontier', 'gamma_mmcs']),
    'grvae_mnist': (['-p', 'epochs', '1', '-p', 'eval_every', '1'],
                    ['test_accuracy', 'ablation_test_accuracy', 'n_train', 'n_test', 'epochs', 'source', 'unused_latents', 'blank_code_digit'],
                    ['accuracy_vs_samples', 'confusion', 'one_hot_decodes', 'reconstructions', 'unused_latents']),
    'dict_consistency': (['-p', 'steps', '30', '-p', 'n_features', '64', '-p', 'd_in', '32', '-p', 'model', 'micro-pythia', '-p', 'n_tokens', '6000',
                          '-p', 'seq_len', '64', '-p', 'lm_steps', '30', '-p', 'lm_batch_size', '256'],
                         ['results', 'auc_consistency_predicts_truth', 'ensemble_mmcs', 'single_mmcs', 'lm_found_again'],
                         ['toy_mmcs', 'toy_consistency', 'lm_found_again']),
    'sparse_probing': (['-p', 'model', 'micro-pythia', '-p', 'n_tokens', '6000', '-p', 'seq_len', '64', '-p', 'n_per_class', '200',
                        '-p', 'steps', '50', '-p', 'batch_size', '256', '-p', 'ks', '[1, 5]'],
                       ['results', 'tasks', 'label_share'], ['probe_accuracy']),
    'interp_baselines': (['-p', 'model', 'micro-pythia', '-p', 'n_tokens', '6000', '-p', 'seq_len', '64', '-p', 'steps', '50', '-p', 'batch_size', '256',
                          '-p', 'n_directions', '8', '-p', 'train_tokens', '3000', '-p', 'test_tokens', '2000'],
                         ['results', 'explainer'], ['scores']),
    'feature_graph': (['-p', 'model', 'micro-pythia', '-p', 'n_tokens', '6000', '-p', 'seq_len', '64', '-p', 'steps', '50', '-p', 'batch_size', '256',
                       '-p', 'n_later', '3', '-p', 'n_contexts', '2', '-p', 'max_sources', '4'],
                      ['edges', 'later_latents', 'strongest_is_most_similar'], ['graph']),
    'feature_atlas': (['-p', 'model', 'micro-pythia', '-p', 'n_tokens', '6000', '-p', 'seq_len', '64', '-p', 'steps', '50', '-p', 'batch_size', '256',
                       '-p', 'n_top', '10', '-p', 'n_random', '5'],
                      ['n_latents', 'n_alive', 'n_dead', 'n_dense', 'cards', 'top_latents'], ['density', 'example_activations']),
    'absorption': (['-p', 'steps', '60', '-p', 'repeats', '1', '-p', 'eval_samples', '2048'],
                   ['results', 'mean_absorption_rate', 'matryoshka_vs_batchtopk'], ['absorption', 'tradeoffs']),
    'transcoders': (['-p', 'model', 'micro-pythia', '-p', 'n_tokens', '6000', '-p', 'eval_tokens', '630', '-p', 'seq_len', '64',
                     '-p', 'steps', '40', '-p', 'batch_size', '256', '-p', 'ks', '[4, 8]'],
                    ['results', 'ce_clean', 'ce_zero', 'hook_in', 'hook_out', 'skip_linear_part_fvu'], ['transcoders']),
    'lm_sweep': (['-p', 'model', 'micro-pythia', '-p', 'n_tokens', '6000', '-p', 'eval_tokens', '630', '-p', 'seq_len', '64',
                  '-p', 'dict_ratios', '[2]', '-p', 'l1_coeffs', '[0.3, 3.0]', '-p', 'steps', '40', '-p', 'batch_size', '256'],
                 ['results', 'model', 'hook', 'n_tokens', 'outlier_dims', 'ce_clean', 'ce_zero'],
                 ['frontier', 'ce_recovered', 'density_histogram', 'dimension_rms']),
}

SWEEP_COLUMNS = {'variant', 'dict_ratio', 'knob', 'knob_value', 'l0', 'fvu', 'dead_frac', 'gamma'}   # every SAE experiment's rows
RESULT_KEYS = {'toy_recovery': SWEEP_COLUMNS | {'mmcs', 'matched_mmcs', 'frac_matched_above_0_9'},
               'sae_variants': SWEEP_COLUMNS | {'mmcs'},
               'absorption': SWEEP_COLUMNS | {'mmcs', 'absorption_rate', 'parent_cos_in_child', 'parent_silent_rate', 'repeat'},
               'transcoders': {'method', 'knob_value', 'l0', 'fvu', 'ce_recovered', 'alive_frac'},
               'lm_sweep': SWEEP_COLUMNS | {'method', 'ce_recovered'},
               'dict_consistency': {'data', 'l1_coeff', 'seed_a', 'seed_b', 'mmcs'},
               'sparse_probing': {'task', 'method', 'k', 'test_accuracy'},
               'interp_baselines': {'method', 'n_directions', 'median_score', 'ci_low', 'ci_high', 'median_auc'}}
PROVENANCE = {'seed', 'seconds', 'sparse_nb_version', 'torch_version', 'git_commit'}

def test_every_experiment_has_a_tiny_run():
    names = sorted(p.stem for p in EXPERIMENTS.glob('*.ipynb'))
    assert names == sorted(TINY), f"add tiny parameters for {set(names) ^ set(TINY)}"

def run_tiny(name:str, runs:Path)->Path:
    "Run experiment `name` at its tiny parameters into `runs`; its run folder."
    r = sparse_nb('run', name, *TINY[name][0], '--out', runs, '--no-progress', experiments=EXPERIMENTS, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return Path(last_line(r.stdout))

@pytest.fixture(scope='module')
def tiny_runs(tmp_path_factory):
    "Each experiment's first tiny run, made on first use and shared by the tests below."
    root, done = tmp_path_factory.mktemp('tiny_runs'), {}
    def get(name):
        if name not in done: done[name] = run_tiny(name, root)
        return done[name]
    return get

@pytest.mark.parametrize('name', sorted(TINY))
def test_experiment_runs_at_tiny_scale(name, tiny_runs):
    params, keys, figures = TINY[name]
    run = tiny_runs(name)
    summary = json.loads((run/'summary.json').read_text())
    for k in [*keys, *PROVENANCE]: assert k in summary, k
    assert summary['seed'] == 0 and summary['git_commit'] and summary['seconds'] > 0
    for f in figures: assert (run/'figures'/f'{f}.png').stat().st_size > 1000, f
    for row in summary.get('results', []) if name in RESULT_KEYS else []: assert RESULT_KEYS[name] <= set(row), row
    assert (run/f'{name}.ipynb').exists() and (run/'params.json').exists()

TIMING = {'seconds', 'sparse_nb_version', 'torch_version', 'git_commit'}

@pytest.mark.parametrize('name', sorted(TINY))
def test_same_parameters_and_seed_give_the_same_summary(name, tiny_runs, runs):
    first, again = tiny_runs(name), run_tiny(name, runs)
    read = lambda run: {k: v for k, v in json.loads((run/'summary.json').read_text()).items() if k not in TIMING}
    assert first != again and read(first) == read(again)

def test_tms_summary_is_consistent(runs):
    r = sparse_nb('run', 'tms_dimensionality', '-p', 'steps', '30', '-p', 'n_levels', '3', '-p', 'n_features', '12', '-p', 'd_hidden', '4',
                  '--out', runs, '--no-progress', experiments=EXPERIMENTS)
    assert r.returncode == 0, r.stderr[-3000:]
    s = json.loads((Path(last_line(r.stdout))/'summary.json').read_text())
    assert len(s['dims_per_feature']) == 3 and sum(s['dimensionality_hist'].values()) == 3 * 12
    assert s['frac_levels_near_half'] == pytest.approx(sum(abs(v - 0.5) <= 0.05 for v in s['dims_per_feature']) / 3)

def test_toy_recovery_grid_and_variants_cover_every_member(runs):
    r = sparse_nb('run', 'sae_variants', *TINY['sae_variants'][0], '-p', 'variants', '["relu", "topk"]', '--out', runs, '--no-progress', experiments=EXPERIMENTS)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((Path(last_line(r.stdout))/'summary.json').read_text())['results']
    assert [(x['variant'], x['knob'], x['knob_value']) for x in res] == [('relu', 'l1_coeff', 0.03), ('relu', 'l1_coeff', 0.3), ('topk', 'k', 2), ('topk', 'k', 4)]
    assert [round(x['l0']) for x in res if x['variant'] == 'topk'] == [2, 4]   # TopK keeps exactly k

def test_absorption_rows_cover_every_member_and_the_matched_pairs(tiny_runs):
    s = json.loads((tiny_runs('absorption')/'summary.json').read_text())
    assert [(x['variant'], x['knob_value']) for x in s['results']] == [(v, c) for v, cs in (('relu', [0.1, 0.3, 1.0]), ('topk', [3, 5, 8]),
                                                                     ('batchtopk', [3, 5, 8]), ('matryoshka', [3, 5, 8])) for c in cs]
    assert all(0 <= x['absorption_rate'] <= x['parent_silent_rate'] <= 1 for x in s['results'])
    m = s['matryoshka_vs_batchtopk']
    assert m['pairs'] == 3 and m['reduced'] == (m['absorption_matryoshka'] < m['absorption_batchtopk'])

def test_transcoders_rows_are_three_methods_at_matched_k(tiny_runs):
    s = json.loads((tiny_runs('transcoders')/'summary.json').read_text())
    assert [(x['method'], x['knob_value']) for x in s['results']] == [(m, k) for m in ('sae', 'transcoder', 'skip_transcoder') for k in (4, 8)]
    assert [round(x['l0']) for x in s['results']] == [4, 8] * 3                 # TopK: l0 = k exactly, so the methods are matched
    assert s['ce_zero'] > s['ce_clean'] and all(0 < x['alive_frac'] <= 1 for x in s['results'])

def test_unknown_variant_fails_with_the_known_ones(runs):
    r = sparse_nb('run', 'sae_variants', '-p', 'variants', '["relu", "sparse"]', '-p', 'steps', '5', '--out', runs, '--no-progress', experiments=EXPERIMENTS)
    assert r.returncode == 1 and "unknown variants ['sparse']" in (Path(last_line(r.stdout))/'run.json').read_text()

def test_grvae_held_out_split_and_slider_page(runs):
    r = sparse_nb('run', 'grvae_mnist', '-p', 'epochs', '1', '-p', 'test_fraction', '0.1', '--out', runs, '--no-progress', experiments=EXPERIMENTS)
    assert r.returncode == 0, r.stderr[-3000:]
    run = Path(last_line(r.stdout))
    s = json.loads((run/'summary.json').read_text())
    assert (s['n_train'], s['n_test'], s['source']) == (4500, 500, 'bundled')
    assert 0 <= s['test_accuracy'] <= 1 and 0 <= s['ablation_test_accuracy'] <= 1
    assert (run/'site'/'slider.html').stat().st_size > 1_000_000      # the decoder's weights are embedded
    assert (run/'model'/'weights.safetensors').exists()

def test_grvae_bad_source_names_the_options(runs):
    r = sparse_nb('run', 'grvae_mnist', '-p', 'source', '/no/mnist/here', '-p', 'epochs', '1', '--out', runs, '--no-progress', experiments=EXPERIMENTS)
    assert r.returncode == 1
    assert "not 'bundled', 'hub' or an existing folder" in (Path(last_line(r.stdout))/'run.json').read_text()

def test_lm_sweep_rows_cover_saes_and_pca(runs):
    r = sparse_nb('run', 'lm_sweep', *TINY['lm_sweep'][0], '--out', runs, '--no-progress', experiments=EXPERIMENTS)
    assert r.returncode == 0, r.stderr[-3000:]
    s = json.loads((Path(last_line(r.stdout))/'summary.json').read_text())
    sae = [x for x in s['results'] if x['method'] == 'sae']
    assert [(x['dict_ratio'], x['knob'], x['knob_value']) for x in sae] == [(2, 'l1_coeff', 0.3), (2, 'l1_coeff', 3.0)]
    assert {round(x['l0']) for x in sae} <= {round(x['l0']) for x in s['results'] if x['method'] == 'pca'}   # PCA at each SAE's l0
    assert sae[0]['l0'] > sae[1]['l0'] and s['ce_zero'] > s['ce_clean'] and s['n_tokens'] == 6000

def test_lm_sweep_unavailable_model_names_the_options(runs):
    r = sparse_nb('run', 'lm_sweep', '-p', 'model', 'sparse-nb-tests/no-such-model', '--out', runs, '--no-progress',
                  experiments=EXPERIMENTS, env={'HF_HUB_OFFLINE': '1'})
    assert r.returncode == 1
    assert "could not load model 'sparse-nb-tests/no-such-model'" in (Path(last_line(r.stdout))/'run.json').read_text()

def test_feature_atlas_cards_and_table(runs):
    r = sparse_nb('run', 'feature_atlas', *TINY['feature_atlas'][0], '--out', runs, '--no-progress', experiments=EXPERIMENTS)
    assert r.returncode == 0, r.stderr[-3000:]
    run = Path(last_line(r.stdout))
    s = json.loads((run/'summary.json').read_text())
    assert s['cards'] == 15 and s['n_alive'] + s['n_dead'] == s['n_latents'] == 128
    assert all(t['top_tokens'] for t in s['top_latents'])
    assert len((run/'latents.csv').read_text().splitlines()) == 129                      # header + one row per latent
    data = (run/'site'/'atlas_data.js').read_text()
    assert data.startswith('window.ATLAS = ') and data.count('"html"') == 15
    again = sparse_nb('run', 'feature_atlas', *TINY['feature_atlas'][0], '-p', 'sae', str(run.parent.parent/'x'), '--out', runs, '--no-progress', experiments=EXPERIMENTS)
    assert again.returncode == 1 and 'expected an SAE folder or a run folder' in (Path(last_line(again.stdout))/'run.json').read_text()

def test_dict_consistency_pairs(runs):
    r = sparse_nb('run', 'dict_consistency', *TINY['dict_consistency'][0], '-p', 'seeds', '[0, 1]', '-p', 'lm', 'false', '--out', runs, '--no-progress', experiments=EXPERIMENTS)
    assert r.returncode == 0, r.stderr[-3000:]
    s = json.loads((Path(last_line(r.stdout))/'summary.json').read_text())
    assert [(x['l1_coeff'], x['seed_a'], x['seed_b']) for x in s['results']] == [(0.03, 0, 1), (0.1, 0, 1), (0.3, 0, 1)]   # toy pairs only
    assert 0 <= s['auc_consistency_predicts_truth'] <= 1 and s['lm_found_again'] == {}

def test_sparse_probing_rows(runs):
    r = sparse_nb('run', 'sparse_probing', *TINY['sparse_probing'][0], '--out', runs, '--no-progress', experiments=EXPERIMENTS)
    assert r.returncode == 0, r.stderr[-3000:]
    s = json.loads((Path(last_line(r.stdout))/'summary.json').read_text())
    assert len(s['tasks']) >= 4
    for t in s['tasks']:
        rows = [(x['method'], x['k']) for x in s['results'] if x['task'] == t]
        assert rows == [('sae', 1), ('sae', 5), ('pca', 1), ('pca', 5), ('raw', 32)], rows
    assert all(0.3 <= x['test_accuracy'] <= 1 for x in s['results'])

def test_interp_baselines_methods(runs):
    r = sparse_nb('run', 'interp_baselines', *TINY['interp_baselines'][0], '--out', runs, '--no-progress', experiments=EXPERIMENTS)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((Path(last_line(r.stdout))/'summary.json').read_text())['results']
    assert [x['method'] for x in res] == ['sae', 'neurons', 'pca', 'ica', 'random'] and all(x['n_directions'] == 8 for x in res)
    assert all(x['ci_low'] <= x['median_score'] <= x['ci_high'] for x in res)

def test_feature_graph_edges(runs):
    r = sparse_nb('run', 'feature_graph', *TINY['feature_graph'][0], '--out', runs, '--no-progress', experiments=EXPERIMENTS)
    assert r.returncode == 0, r.stderr[-3000:]
    s = json.loads((Path(last_line(r.stdout))/'summary.json').read_text())
    assert s['edges'] and {e['dst'] for e in s['edges']} <= set(s['later_latents'])
    assert all(set(e) == {'src', 'dst', 'effect', 'cosine'} and e['effect'] <= 1 + 1e-6 and -1 <= e['cosine'] <= 1 for e in s['edges'])
    per_dst = {}
    for e in s['edges']: per_dst[e['dst']] = per_dst.get(e['dst'], 0) + 1
    assert max(per_dst.values()) <= 3                                       # top_edges per later latent
