"""Extending sparse_nb touches one file: a variant with a hyperparameter of its own, a metric, and an experiment are
each written as a single new file here, and every part of the package that should take them does."""
import json, subprocess, sys, textwrap
from pathlib import Path
import nbformat
from conftest import sparse_nb, last_line, REPO
from test_experiments import check_tiny_run

VARIANT_FILE = '''
"A ReLU SAE whose latents must clear a fixed margin: one class and its config, nothing else."
import torch
from dataclasses import dataclass
from sparse_nb.saes import SAE, L1Config

@dataclass
class MarginConfig(L1Config):
    "Config of the margin ReLU: the L1 fields and the margin."
    margin:float=0.1   # latents below this are zero

class MarginSAE(SAE):
    "ReLU SAE whose latents must exceed a fixed margin."
    variant, config = 'margin', MarginConfig
    saelens_architecture = saelens_transcoder = None
    def encode(self, x): return torch.relu(self.pre_acts(x) - self.cfg.margin)
'''

METRIC_FILE = '''
"Share of a member's latents that fire on more than half of the tokens: one function, nothing else."
def dense_share(sae, x):
    "Per member, the share of latents active on more than half of the rows of `x`."
    return {'dense_share': (sae.encode(x) > 0).float().mean(1).gt(0.5).float().mean(-1)}
'''

USE_THEM = '''
import sys, torch
sys.path.insert(0, sys.argv[1])
import margin_sae, dense_metric
from sparse_nb.core import RunDir, ParameterError
from sparse_nb.toy import ToySource
from sparse_nb.saes import make_sae
from sparse_nb.train import TrainConfig, sweep
from sparse_nb.formats import load_sae
src = ToySource(n_features=32, d_in=16, mean_active=2, seed=0)
run = RunDir.create('one_file', root=sys.argv[2])
res = sweep(src, ['margin', 'relu'], [2], {'l1_coeff': [1e-3, 1e-2]}, src(512), TrainConfig(steps=40, batch_size=64),
            run=run, score=dense_metric.dense_share, seeds=1, progress=False, margin=0.05)
print('rows', res.results[['variant', 'knob_value', 'l0', 'fvu', 'dead_frac', 'dense_share']].to_json(orient='records'))
print('margins', res.saes[('margin', 2)].cfg.margin, 'relu margin', hasattr(res.saes[('relu', 2)].cfg, 'margin'))
back = load_sae(run.path, 'margin_r2')
print('reloaded', type(back).__name__, back.cfg.margin, torch.equal(back.W_dec, res.saes[('margin', 2)].W_dec))
try: make_sae('topk', d_in=4, d_sae=8, k=2, margin=0.5)
except ParameterError as e: print('refused', e)
'''


def test_a_new_variant_and_a_new_metric_are_one_file_each(tmp_path):
    (tmp_path/'margin_sae.py').write_text(VARIANT_FILE)
    (tmp_path/'dense_metric.py').write_text(METRIC_FILE)
    r = subprocess.run([sys.executable, '-c', USE_THEM, str(tmp_path), str(tmp_path/'runs')],
                       capture_output=True, text=True, timeout=600, cwd=REPO)
    assert r.returncode == 0, r.stderr[-3000:]
    out = dict(line.split(' ', 1) for line in r.stdout.strip().splitlines())
    rows = json.loads(out['rows'])
    assert [(x['variant'], x['knob_value']) for x in rows] == [('margin', 1e-3), ('margin', 1e-2), ('relu', 1e-3),
                                                                ('relu', 1e-2)]
    assert all(0 <= x['dense_share'] <= 1 and x['fvu'] < 1 for x in rows)   # the metric is a column; both learned
    assert out['margins'] == '0.05 relu margin False'                  # the sweep gave margin to its owner only
    assert out['reloaded'] == 'MarginSAE 0.05 True'                         # saved and loaded as itself
    assert 'margin belongs to margin' in out['refused']


EXPERIMENT_CELLS = [
    ('markdown', '# Margin check\n\n> A new experiment: one notebook and nothing else.', None),
    ('code', 'steps = 200  # training steps [min 1]\nseed = 0  # init and data [min 0]\n'
             'run_dir = None  # set by the runner', ['parameters']),
    ('raw', 'steps = 20', ['tiny']),
    ('code', "from sparse_nb.experiments import open_run\nrd = open_run('margin_check', run_dir)", None),
    ('code', textwrap.dedent('''\
        import matplotlib.pyplot as plt
        from sparse_nb.core import num
        from sparse_nb.toy import ToySource
        from sparse_nb.train import TrainConfig, sweep
        src = ToySource(n_features=32, d_in=16, mean_active=2, seed=seed)
        res = sweep(src, ['relu'], [2], {'l1_coeff': [1e-3, 1e-2]}, src(512), TrainConfig(steps=steps, batch_size=64),
                    run=rd, seed=seed, progress=False)'''), None),
    ('code', textwrap.dedent('''\
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot(res.results.l0, res.results.fvu, 'o-'); ax.set(xlabel='l0', ylabel='fvu', title='relu frontier')
        rd.save_figure(fig, 'frontier', 'fvu against l0 for two L1 coefficients')'''), None),
    ('code', textwrap.dedent('''\
        best = res.results.fvu.min()
        rd.write_summary({'headline': f'lowest fvu {num(best, 3)}', 'key_figure': 'frontier',
                          'caveat': f'one seed of {len(res.results)} members',
                          'results': res.results.to_dict('records')});'''), None),
]


def write_experiment(folder:Path)->Path:
    "The new experiment's notebook, the only file it needs."
    make = {'markdown': nbformat.v4.new_markdown_cell, 'code': nbformat.v4.new_code_cell,
            'raw': nbformat.v4.new_raw_cell}
    nb = nbformat.v4.new_notebook()
    for kind, src, tags in EXPERIMENT_CELLS:
        nb.cells.append(make[kind](src, metadata={'tags': tags} if tags else {}))
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder/'margin_check.ipynb')
    return folder/'margin_check.ipynb'


def test_a_new_experiment_is_one_notebook(tmp_path):
    experiments, runs, site = tmp_path/'experiments', tmp_path/'runs', tmp_path/'site'
    write_experiment(experiments)
    r = sparse_nb('list', experiments=experiments)
    assert r.returncode == 0 and 'margin_check' in r.stdout, r.stdout + r.stderr
    r = sparse_nb('run', 'margin_check', '--tiny', '--out', runs, '--no-progress', experiments=experiments)
    assert r.returncode == 0, r.stderr[-3000:]
    check_tiny_run(Path(last_line(r.stdout)), 'margin_check', experiments)   # the checks every experiment passes
    r = sparse_nb('docs', '--runs', runs, '--out', site, experiments=experiments, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    page = next(site.rglob('margin_check*.html')).read_text()
    headline = json.loads(next(runs.rglob('summary.json')).read_text())['headline']
    assert headline in page and 'fvu against l0 for two L1 coefficients' in page
