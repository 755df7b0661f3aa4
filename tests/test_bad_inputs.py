"""Every bad input fails with a named exception whose message names the bad value and what was expected,
and leaves no partial run folder, checkpoint, store chunk or SAE folder that looks valid."""
import errno, os, pickle, shutil
from pathlib import Path
from unittest import mock
import numpy as np
import pytest
import torch
from conftest import sparse_nb, REPO
from sparse_nb.core import *
from sparse_nb.saes import make_sae
from sparse_nb.formats import load_sae
from sparse_nb.experiments import find_experiment
from sparse_nb.toy import ToySource
from sparse_nb.train import train, TrainConfig, latest_checkpoint

INTEROP = REPO/'tests'/'fixtures'/'interop'
EXPERIMENTS = REPO/'nbs'/'experiments'

def expect(fn, exc, *fragments):
    "Call `fn`; it must raise `exc` with every fragment in its message. Returns the message."
    with pytest.raises(exc) as info: fn()
    msg = str(info.value)
    for f in fragments: assert f in msg, f"{f!r} not in {msg!r}"
    return msg

def files(folder:Path)->list[str]:
    "Every file under `folder`, relative, sorted (hidden temporaries included)."
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob('*') if p.is_file())

def copy_fixture(src:str, dst:Path)->Path:
    shutil.copytree(INTEROP/src, dst); return dst

def toy(d_in=16, seed=0): return ToySource(n_features=32, d_in=d_in, mean_active=3, seed=seed)

class Poisoned:
    "A toy source whose batch number `at` (1-based) holds `value` in one entry."
    def __init__(self, value, at=8): self.src, self.value, self.at, self.n, self.d_in = toy(), value, at, 0, 16
    def __call__(self, n):
        x = self.src(n); self.n += 1
        if self.n == self.at: x[3, 5] = self.value
        return x

# --- activations and training -------------------------------------------------------------------------

def test_activations_of_the_wrong_width(tmp_path):
    run = RunDir(tmp_path/'run')
    expect(lambda: train(make_sae('relu', d_in=16, d_sae=32, l1_coeff=0.1), toy(d_in=12),
                         TrainConfig(steps=10, batch_size=32), run=run, progress=False),
           ParameterError, 'activations of width 12', 'd_in=16')
    assert files(run.path) == []                                           # no log, checkpoint or weights

@pytest.mark.parametrize('value', [float('nan'), float('inf')])
def test_nan_or_inf_in_a_batch_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, value):
    run = RunDir(tmp_path/'run')
    sae = make_sae('topk', d_in=16, d_sae=32, members=2, k=[2, 4])
    expect(lambda: train(sae, Poisoned(value), TrainConfig(steps=30, batch_size=32, checkpoint_every=5, log_every=10),
                         run=run, progress=False),
           NonFiniteError, 'NaN or infinite at step 7', 'member 0', 'last good checkpoint is', 'ckpt-5')
    ck = run.path/'checkpoints'/'sae'
    assert latest_checkpoint(ck).name == 'ckpt-5' and sorted(p.name for p in ck.iterdir()) == ['LATEST', 'ckpt-5']
    assert not (run.path/'sae').exists()                                   # no final weights
    assert all(torch.isfinite(v).all() for v in load_sae(ck/'ckpt-5').state_dict().values())
    assert all(r['step'] < 7 for r in run.metrics())                       # nothing logged from the bad step on

def test_unknown_variant():
    expect(lambda: make_sae('sparse', d_in=4, d_sae=8), ParameterError, "unknown SAE variant 'sparse'", 'known: relu')

@pytest.mark.parametrize('k', [0, 9])
def test_k_out_of_range(k):
    expect(lambda: make_sae('topk', d_in=4, d_sae=8, k=k), ParameterError,
           f'got {k}', 'k must be an integer in [1, d_sae=8]')

def test_negative_l1_coeff():
    expect(lambda: make_sae('relu', d_in=4, d_sae=8, l1_coeff=[0.1, -0.5], members=2), ParameterError,
           'l1_coeff must be finite and >= 0, got -0.5')

def test_resume_under_other_training_settings(tmp_path):
    run, sae = RunDir(tmp_path/'run'), make_sae('relu', d_in=16, d_sae=32, l1_coeff=0.1)
    train(sae, toy(), TrainConfig(steps=10, batch_size=32), run=run, progress=False)
    before = files(run.path)
    expect(lambda: train(make_sae('relu', d_in=16, d_sae=32, l1_coeff=0.1), toy(),
                         TrainConfig(steps=10, batch_size=32, lr=1e-2), run=run, resume=True, progress=False),
           ParameterError, 'lr=0.001 there, 0.01 now', 'expected the same TrainConfig')
    assert files(run.path) == before

# --- the command line ---------------------------------------------------------------------------------

def test_unknown_experiment(tmp_path):
    r = sparse_nb('run', 'no_such_experiment', '--out', tmp_path/'runs', experiments=EXPERIMENTS)
    assert (r.returncode == 2 and "unknown experiment 'no_such_experiment'; known: " in r.stderr
            and 'toy_recovery' in r.stderr)
    assert not (tmp_path/'runs').exists()

def test_parameter_of_the_wrong_type(tmp_path):
    r = sparse_nb('run', 'toy_recovery', '-p', 'steps', 'ten', '--out', tmp_path/'runs', experiments=EXPERIMENTS)
    steps = find_experiment('toy_recovery', EXPERIMENTS).params['steps'].default
    assert r.returncode == 2 and f"steps='ten' is str, expected int like {steps}" in r.stderr
    assert not (tmp_path/'runs').exists()

def test_resume_of_an_experiment_that_cannot(tmp_path):
    run = tmp_path/'runs'/'tms_dimensionality'/'x'; run.mkdir(parents=True)
    save_json(run/'run.json', {'experiment': 'tms_dimensionality',
                               'notebook': str(EXPERIMENTS/'tms_dimensionality.ipynb'), 'status': 'running'})
    r = sparse_nb('run', '--resume', run, experiments=EXPERIMENTS)
    assert r.returncode == 2 and "experiment 'tms_dimensionality' cannot resume" in r.stderr
    assert files(run) == ['run.json']

# --- models, corpora, stores, MNIST ---------------------------------------------------------------------

def test_missing_model_folder(tmp_path, monkeypatch):
    from sparse_nb.lm import load_model
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    expect(lambda: load_model(str(tmp_path/'no_model_here'), progress=False), SourceUnavailableError,
           f"could not load model '{tmp_path/'no_model_here'}'", 'a local save_pretrained folder')

def test_empty_corpus(tmp_path):
    from sparse_nb.lm import load_corpus
    (tmp_path/'empty.txt').write_text('')
    expect(lambda: load_corpus(str(tmp_path/'empty.txt'), progress=False), ParameterError,
           'empty.txt', 'is an empty file; expected at least one text')
    (tmp_path/'blank.txt').write_text('\n  \n')
    expect(lambda: load_corpus(str(tmp_path/'blank.txt'), progress=False), ParameterError,
           'no text; expected at least one non-empty text')

def fake_store(folder:Path, model='micro-pythia', hook='blocks.0.hook_resid_post')->Path:
    "A one-chunk activation store written by the harvest's own chunk writer."
    from sparse_nb.activations import _write_chunk, _chunk_path
    acts = np.random.default_rng(0).normal(size=(20, 8)).astype(np.float32)
    _write_chunk(_chunk_path(folder, hook, 0), acts, np.arange(20), np.arange(20))
    save_json(folder/'meta.json',
              {'model_id': model, 'hooks': [hook], 'd_in': {hook: 8}, 'n_tokens': 20, 'n_chunks': 1})
    return folder

def test_truncated_store_chunk(tmp_path):
    from sparse_nb.activations import ActivationStore
    store = ActivationStore(fake_store(tmp_path/'store'))
    assert store.chunk(0).shape == (20, 8)
    p = store.paths[0]; p.write_bytes(p.read_bytes()[:200])
    expect(lambda: ActivationStore(tmp_path/'store').chunk(0), ParameterError,
           'chunk-00000.arrow is not a readable Arrow chunk', 'delete it and rerun the harvest')

def test_store_of_another_hook_or_model(tmp_path):
    from sparse_nb.activations import ActivationStore
    fake_store(tmp_path/'store')
    expect(lambda: ActivationStore(tmp_path/'store', hook='blocks.1.hook_resid_post'), ParameterError,
           "has hooks ['blocks.0.hook_resid_post'], not the requested 'blocks.1.hook_resid_post'")
    expect(lambda: ActivationStore(tmp_path/'store', model='tiny-pythia'), ParameterError,
           "was harvested from model 'micro-pythia', not the requested 'tiny-pythia'")

def test_mnist_folder_with_missing_files(tmp_path):
    from sparse_nb.grvae import load_mnist, IDX_FILES
    (tmp_path/'mnist').mkdir(); (tmp_path/'mnist'/list(IDX_FILES.values())[0]).write_bytes(b'')
    expect(lambda: load_mnist(str(tmp_path/'mnist')), SourceUnavailableError,
           'no .npz and missing IDX files', list(IDX_FILES.values())[1])

# --- SAE files --------------------------------------------------------------------------------------------

def test_cfg_that_disagrees_with_its_tensors(tmp_path):
    folder = make_sae('relu', d_in=8, d_sae=16, l1_coeff=0.1).save(tmp_path/'sae')
    cfg = load_json(folder/'cfg.json'); cfg['sae']['d_in'] = 9; save_json(folder/'cfg.json', cfg)
    expect(lambda: load_sae(folder), ParameterError, 'has shape [1, 16, 8]', 'd_in=9', 'expects [1, 16, 9]')
    lens = copy_fixture('saelens/standard', tmp_path/'lens')
    cfg = load_json(lens/'cfg.json'); cfg['d_sae'] = 40; save_json(lens/'cfg.json', cfg)
    expect(lambda: load_sae(lens), ParameterError, 'W_enc has shape [16, 48]', 'd_sae=40', 'expects [16, 40]')

def test_corrupt_safetensors(tmp_path):
    folder = make_sae('relu', d_in=8, d_sae=16, l1_coeff=0.1).save(tmp_path/'sae')
    (folder/'weights.safetensors').write_bytes(b'\x10\x00\x00\x00\x00\x00\x00\x00{"broken": tru')
    expect(lambda: load_sae(folder), ParameterError,
           'weights.safetensors is not a readable safetensors file', 'expected a complete file')

def test_saelens_unsupported_architecture(tmp_path):
    lens = copy_fixture('saelens/standard', tmp_path/'lens')
    cfg = load_json(lens/'cfg.json'); cfg['architecture'] = 'abstopk'; save_json(lens/'cfg.json', cfg)
    expect(lambda: load_sae(lens), ParameterError, "architecture='abstopk' is not supported",
           "supported: ('standard', 'topk', 'jumprelu', 'gated', 'transcoder'")

def test_saelens_transcoder_that_subtracts_its_output_bias(tmp_path):
    # apply_b_dec_to_input: true, which SAELens refuses for transcoders
    lens = copy_fixture('saelens/standard', tmp_path/'lens')
    cfg = load_json(lens/'cfg.json'); cfg.update(architecture='transcoder', d_out=16); save_json(lens/'cfg.json', cfg)
    expect(lambda: load_sae(lens), ParameterError, "apply_b_dec_to_input=True is not supported",
           "transcoders never subtract b_dec")

@pytest.mark.parametrize('field, value', [('normalize_activations', 'layer_norm'), ('reshape_activations', 'hook_z')])
def test_saelens_input_transform_we_cannot_apply(tmp_path, field, value):
    lens = copy_fixture('saelens/topk', tmp_path/'lens')
    cfg = load_json(lens/'cfg.json'); cfg[field] = value; save_json(lens/'cfg.json', cfg)
    expect(lambda: load_sae(lens), ParameterError, f"{field}={value!r} is not supported", 'supported:')

@pytest.mark.parametrize('field, value',
                         [('activation', 'groupmax'), ('skip_connection', True), ('transcode', True)])
def test_sparsify_options_we_cannot_represent(tmp_path, field, value):
    folder = copy_fixture('sparsify/topk', tmp_path/'sp')
    cfg = load_json(folder/'cfg.json'); cfg[field] = value; save_json(folder/'cfg.json', cfg)
    expect(lambda: load_sae(folder), ParameterError, f"{field}={value!r} is not supported")

def test_dictionary_learning_unknown_class(tmp_path):
    folder = copy_fixture('dictionary_learning/standard', tmp_path/'dl')
    cfg = load_json(folder/'config.json'); cfg['trainer']['dict_class'] = 'MatryoshkaBatchTopKSAE'
    save_json(folder/'config.json', cfg)
    expect(lambda: load_sae(folder), ParameterError,
           "trainer.dict_class='MatryoshkaBatchTopKSAE' is not supported", "'AutoEncoder'")

class Payload:
    "Unpickling this runs `touch <marker>`."
    def __init__(self, marker): self.marker = str(marker)
    def __reduce__(self): return (os.system, (f'touch {self.marker}',))

def test_malicious_pickle_is_refused_and_never_run(tmp_path):
    live = tmp_path/'proof_the_payload_works'
    pickle.loads(pickle.dumps({'W': Payload(live)}))                      # an unguarded load runs it...
    assert live.exists()
    folder = copy_fixture('dictionary_learning/standard', tmp_path/'dl')
    marker = tmp_path/'pwned'
    # a bare pickle: not what torch.save writes
    (folder/'ae.pt').write_bytes(pickle.dumps({'encoder.weight': Payload(marker)}))
    expect(lambda: load_sae(folder), ParameterError, 'ae.pt: not the zip archive torch.save writes', 'refused')
    torch.save({'encoder.weight': Payload(marker)}, folder/'ae.pt')          # torch.save's own zip, payload inside
    expect(lambda: load_sae(folder), ParameterError,
           'ae.pt: refused', 'expected a plain dict of tensors', 'weights_only=True')
    assert not marker.exists()                                             # ...ours refuses both and runs nothing

# --- full disks ---------------------------------------------------------------------------------------------

def enospc(*args, **kwargs): raise OSError(errno.ENOSPC, 'No space left on device')

def test_disk_full_during_a_run_folder_write(tmp_path):
    rd = RunDir(tmp_path/'run')
    rd.write_summary({'fvu': 0.25})
    before = (rd.path/'summary.json').read_bytes()
    with mock.patch('sparse_nb.core.os.fsync', enospc):
        expect(lambda: rd.write_summary({'fvu': 0.5}), OSError, 'No space left on device')
        expect(lambda: rd.save_figure(__import__('matplotlib.pyplot').pyplot.figure(), 'fig'), OSError,
               'No space left on device')
    assert (rd.path/'summary.json').read_bytes() == before
    assert files(rd.path) == ['summary.json']                              # no temporary or half-written figure

def test_disk_full_during_a_checkpoint_write(tmp_path):
    run, full = RunDir(tmp_path/'run'), {'on': False}
    real_save_file = __import__('sparse_nb.core', fromlist=['save_file']).save_file
    def save_file(*a, **k): return enospc() if full['on'] else real_save_file(*a, **k)
    def fill_disk(step, sae): full['on'] = step >= 6
    cfg = TrainConfig(steps=20, batch_size=32, checkpoint_every=5)
    with mock.patch('sparse_nb.core.save_file', save_file):
        expect(lambda: train(make_sae('relu', d_in=16, d_sae=32, l1_coeff=0.1), toy(), cfg, run=run, progress=False,
                             callback=fill_disk),
               OSError, 'No space left on device')
    ck = run.path/'checkpoints'/'sae'
    assert sorted(p.name for p in ck.iterdir()) == ['LATEST', 'ckpt-5'] and latest_checkpoint(ck).name == 'ckpt-5'
    assert all(not p.name.startswith('.') for p in (ck/'ckpt-5').rglob('*'))
    sae = make_sae('relu', d_in=16, d_sae=32, l1_coeff=0.1)
    train(sae, toy(), cfg, run=run, resume=True, progress=False)       # the disk has room again: it resumes from ckpt-5
    assert (run.path/'sae'/'sae'/'weights.safetensors').exists()
