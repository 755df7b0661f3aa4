"""Safe with untrusted input and shared folders: one test per class of attack or bad input.

Each security test first runs the attack against a deliberately unsafe stand-in (the code as it was, or the
same builder with its escaping switched off) and shows it succeeds, so the test can fail; then it shows
sparse_nb refusing it. Every refusal is checked for its error type and message, the exit code, and what is
(and is not) left on disk. The browser half of script injection is in test_site_injection.py."""
import json, os, re, shutil, signal, subprocess, sys, threading, time, warnings, zlib
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from unittest import mock
import numpy as np
import pytest
import torch
import yaml
from conftest import sparse_nb, last_line, REPO, FIXTURES
from sparse_nb.core import *
from sparse_nb.saes import make_sae
from sparse_nb.formats import load_sae

EXPERIMENTS = REPO/'nbs'/'experiments'
INTEROP = REPO/'tests'/'fixtures'/'interop'

def one_line_error(r, *fragments):
    "`r` exited 2 with exactly one `sparse_nb: error:` line holding every fragment, and no traceback."
    lines = [l for l in r.stderr.strip().splitlines() if not l.startswith('sparse_nb: warning:')]
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert (len(lines) == 1 and lines[0].startswith('sparse_nb: error: ')
            and 'Traceback' not in r.stderr), r.stderr[-2000:]
    for f in fragments: assert f in lines[0], (f, lines[0])
    return lines[0]

def snapshot(folder:Path)->dict:
    "Every file under `folder` with its bytes."
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob('*')) if p.is_file()}

def user_folder(path:Path)->Path:
    "A folder of someone's own work."
    (path/'data').mkdir(parents=True); (path/'thesis.tex').write_text('two years of work')
    (path/'data'/'results.csv').write_text('1,2,3')
    return path

@contextmanager
def deadline(seconds:int):
    "Fail (instead of hanging) if the block takes longer than `seconds`."
    def expired(*_): raise TimeoutError(f"still running after {seconds} s")
    old = signal.signal(signal.SIGALRM, expired); signal.alarm(seconds)
    try: yield
    finally: signal.alarm(0); signal.signal(signal.SIGALRM, old)

def fixture_run(runs:Path, *params)->Path:
    "A finished run of the fixture experiment."
    r = sparse_nb('run', 'fixture', *params, '--out', runs, '--no-progress')
    assert r.returncode == 0, r.stderr[-2000:]
    return Path(last_line(r.stdout))

# --- 1. the site never deletes a folder it did not make -----------------------------------------------------

def unsafe_publish(html:Path, out:Path):
    "The stand-in: how `docs --out` used to publish."
    if out.exists(): shutil.rmtree(out)
    shutil.copytree(html, out)

def test_docs_out_never_deletes_what_it_did_not_make(tmp_path):
    built = tmp_path/'built'; built.mkdir(); (built/'index.html').write_text('a site')
    victim = user_folder(tmp_path/'victim'); unsafe_publish(built, victim)
    assert not (victim/'thesis.tex').exists()                   # the stand-in wipes a folder of someone's work

    mine = user_folder(tmp_path/'mine'); before = snapshot(mine)
    a_file = tmp_path/'a_file'; a_file.write_text('x')
    for out, msg in [(mine, 'holds files and is not a site sparse_nb built'), (a_file, 'is a file or a link'),
                     (tmp_path/'mine'/'data'/'..'/'..', 'would replace'), (REPO, 'would replace'),
                     (Path.home(), 'would replace')]:
        one_line_error(sparse_nb('docs', '--out', out, '--runs', tmp_path/'runs'), msg)
    assert snapshot(mine) == before and a_file.read_text() == 'x'
    assert 'pass --force' in sparse_nb('docs', '--out', mine, '--runs', tmp_path/'runs').stderr

    # forced: moved aside, never deleted
    r = sparse_nb('docs', '--out', mine, '--runs', tmp_path/'runs', '--force', timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    aside = Path(re.search(r'previous contents are in (\S+)', r.stderr)[1])
    assert snapshot(aside) == before and (mine/'index.html').exists() and (mine/'.sparse_nb_site').exists()
    r = sparse_nb('docs', '--out', mine, '--runs', tmp_path/'runs', timeout=900)   # a site it built is rebuilt in place
    assert r.returncode == 0, r.stderr[-2000:]
    # no temporaries
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(['built', 'victim', 'mine', 'a_file', aside.name])

def test_checkpoints_never_lead_out_of_the_run(tmp_path):
    from sparse_nb.toy import ToySource
    from sparse_nb.train import train, TrainConfig
    def planted(root:Path)->tuple[Path, Path]:
        "A run folder whose checkpoints/sae links to someone's folder that holds a ckpt-1 of their own."
        victim = user_folder(root/'victim'); (victim/'ckpt-1').mkdir()
        (victim/'ckpt-1'/'notes.txt').write_text('mine')
        (root/'run'/'checkpoints').mkdir(parents=True)
        (root/'run'/'checkpoints'/'sae').symlink_to(victim, target_is_directory=True)
        return root/'run', victim
    run, victim = planted(tmp_path/'stand_in')
    # how old checkpoints used to be removed
    for old in (run/'checkpoints'/'sae').glob('ckpt-*'): shutil.rmtree(old, ignore_errors=True)
    assert not (victim/'ckpt-1').exists()                # the stand-in deletes someone's folder through the link

    run, victim = planted(tmp_path/'real'); before = snapshot(victim)
    with pytest.raises(ParameterError, match='outside the run folder'):
        train(make_sae('relu', d_in=16, d_sae=32, l1_coeff=0.1),
              ToySource(n_features=32, d_in=16, mean_active=3, seed=0),
              TrainConfig(steps=10, batch_size=32, checkpoint_every=5), run=RunDir(run), progress=False)
    assert snapshot(victim) == before

# --- 3. a run folder never chooses what code runs -------------------------------------------------------------

EVIL = '''import pathlib\npathlib.Path({marker!r}).write_text("pwned")'''

def evil_run(tmp_path:Path, experiment:str)->tuple[Path, Path]:
    "A run folder whose run.json names `experiment` and an evil notebook that writes a marker file."
    import nbformat
    marker, run = tmp_path/'pwned', tmp_path/'runs'/'fixture'/'received'
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('run_dir = None\nresume = False',
                                                                   metadata={'tags': ['parameters']}),
                                         nbformat.v4.new_code_cell(EVIL.format(marker=str(marker)))])
    nb.metadata = {'kernelspec': {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}}
    run.mkdir(parents=True); nbformat.write(nb, tmp_path/'evil.ipynb')
    save_json(run/'run.json', {'experiment': experiment, 'notebook': str(tmp_path/'evil.ipynb'), 'status': 'failed'})
    save_json(run/'params.json', {})
    return run, marker

def test_resume_runs_only_registered_experiments(tmp_path):
    import papermill as pm
    run, marker = evil_run(tmp_path, 'fixture')
    pm.execute_notebook(json.loads((run/'run.json').read_text())['notebook'], tmp_path/'out.ipynb', progress_bar=False)
    assert marker.read_text() == 'pwned'; marker.unlink()     # the stand-in (run what run.json names) runs their code

    for experiment, msg in [('fixture', "experiment 'fixture' cannot resume"),
                            (str(tmp_path/'evil.ipynb'), 'is not an experiment name'),
                            ('../../evil', "'../../evil' is not an experiment name"),
                            ('evil', "unknown experiment 'evil'")]:
        run, marker = evil_run(tmp_path/experiment.replace('/', '_'), experiment)
        before = snapshot(run)
        one_line_error(sparse_nb('run', '--resume', run), msg)
        assert not marker.exists() and snapshot(run) == before
    one_line_error(sparse_nb('run', str(tmp_path/'evil.ipynb')), 'is not an experiment name')
    assert not (tmp_path/'pwned').exists()

# --- 4. symbolic links in a run folder are not followed into the site --------------------------------------

def plant_links(run:Path, secret:Path):
    "Links and a hard link to `secret` where the site copies from."
    (run/'figures'/'key.png').symlink_to(secret)
    os.link(secret, run/'figures'/'hard.png')
    (run/'site').mkdir(exist_ok=True); (run/'site'/'atlas.json').symlink_to(secret)

def test_links_in_a_run_folder_are_not_copied_into_the_site(tmp_path):
    from sparse_nb.site import stage_book
    secret = tmp_path/'id_rsa'; secret.write_text('-----BEGIN OPENSSH PRIVATE KEY----- secret-bytes')
    run = fixture_run(tmp_path/'runs'); plant_links(run, secret)
    stand_in = tmp_path/'stand_in'; shutil.copytree(run/'figures', stand_in/'figures')
    shutil.copytree(run/'site', stand_in/'site')
    assert any(b'secret-bytes' in b for b in snapshot(stand_in).values())   # the stand-in (copytree) copies the key

    stage = tmp_path/'stage'
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always'); stage_book(stage, REPO/'nbs', tmp_path/'runs', FIXTURES)
    assert not any(b'secret-bytes' in b for b in snapshot(stage).values())
    said = ' '.join(str(x.message) for x in w)
    assert ('figures/key.png: a symbolic link' in said and 'figures/hard.png: a hard link' in said
            and 'site/atlas.json' in said)
    assert (stage/'experiments'/'fixture'/'figures'/'curve.png').exists()     # the run's own figure is still there

    # the notebook itself, a link
    (run/'fixture.ipynb').unlink(); (run/'fixture.ipynb').symlink_to(tmp_path/'private.ipynb')
    shutil.copy(FIXTURES/'fixture.ipynb', tmp_path/'private.ipynb')
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always'); stage_book(tmp_path/'stage2', REPO/'nbs', tmp_path/'runs', FIXTURES)
    assert any('no executed notebook fixture.ipynb of its own' in str(x.message) for x in w)
    assert 'Not run yet' in (tmp_path/'stage2'/'experiments'/'fixture.ipynb').read_text()

# --- 5. memory bombs: a small folder never makes sparse_nb allocate what the file does not hold -------------

CAPPED = r'''
import resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30,) * 2)     # 4 GB of address space: a bomb cannot hide in swap
import torch
from sparse_nb.core import SparseNBError, read_json_object
t0 = time.time()
try:
    {call}
    print('LOADED')
except SparseNBError as e: print('REFUSED', round(time.time() - t0, 2), str(e)[:300])
except (MemoryError, RuntimeError) as e: print('OUT OF MEMORY', type(e).__name__, str(e)[:120])
'''

def capped(call:str)->str:
    "Run `call` in a fresh process limited to 4 GB of address space; what it printed."
    r = subprocess.run([sys.executable, '-c', CAPPED.format(call=call)], capture_output=True, text=True, timeout=300,
                       cwd=REPO)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout.strip().splitlines()[-1]

def bomb_folders(tmp_path:Path)->dict:
    "One small folder per reader whose config asks for 2 billion latents."
    native = make_sae('relu', d_in=8, d_sae=16, l1_coeff=0.1).save(tmp_path/'native')
    cfg = load_json(native/'cfg.json'); cfg['sae'].update(d_sae=2_000_000_000); save_json(native/'cfg.json', cfg)
    out = {'sparse_nb': native}
    for name, src, field in [('saelens', 'saelens/standard', 'd_sae'), ('sparsify', 'sparsify/topk', 'num_latents')]:
        f = shutil.copytree(INTEROP/src, tmp_path/name); c = load_json(f/'cfg.json')
        c[field] = 2_000_000_000; save_json(f/'cfg.json', c)
        out[name] = f
    f = shutil.copytree(INTEROP/'dictionary_learning'/'standard', tmp_path/'dl'); c = load_json(f/'config.json')
    c['trainer']['dict_size'] = 2_000_000_000; save_json(f/'config.json', c); out['dictionary_learning'] = f
    return out

def test_small_sae_folders_cannot_exhaust_memory(tmp_path):
    folders = bomb_folders(tmp_path)
    assert sum(p.stat().st_size for f in folders.values() for p in f.rglob('*') if p.is_file()) < 1_000_000
    stand_in = capped("from sparse_nb.saes import make_sae; "
                      f"make_sae(**read_json_object({str(folders['sparse_nb']/'cfg.json')!r})['sae'])")
    assert stand_in.startswith('OUT OF MEMORY'), stand_in        # building from the config first: 64 GB asked for
    for name, folder in folders.items():
        out = capped(f"from sparse_nb.formats import load_sae; load_sae({str(folder)!r})")
        assert out.startswith('REFUSED') and float(out.split()[1]) < 5, (name, out)
        assert '2000000000' in out and ('shape' in out or 'entries' in out), (name, out)

def gzip_bomb(path:Path, n_bytes:int):
    "An IDX file of `n_bytes` zeros, gzipped in streaming (a few MB on disk)."
    import struct
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, 'wb') as f:
        f.write(z.compress(struct.pack('>HBB', 0, 8, 2) + struct.pack('>2I', n_bytes // 2**16, 2**16)))
        for _ in range(n_bytes // 2**24): f.write(z.compress(bytes(2**24)))
        f.write(z.flush())

def test_a_gzip_bomb_in_an_mnist_folder_is_refused(tmp_path):
    from sparse_nb.grvae import IDX_FILES
    gzip_bomb(tmp_path/'bomb.gz', 6 * 2**30)                                 # 6 GB of pixels in a few MB
    assert (tmp_path/'bomb.gz').stat().st_size < 10_000_000
    stand_in = capped(f"import gzip; gzip.decompress(open({str(tmp_path/'bomb.gz')!r}, 'rb').read())")
    assert stand_in.startswith('OUT OF MEMORY')                              # the stand-in
    (tmp_path/'mnist').mkdir()
    for stem in IDX_FILES.values(): shutil.copy(tmp_path/'bomb.gz', tmp_path/'mnist'/f'{stem}.gz')
    out = capped(f"from sparse_nb.grvae import load_mnist; load_mnist({str(tmp_path/'mnist')!r})")
    assert out.startswith('REFUSED') and 'unpacks to more than 268,435,456 bytes' in out, out

# --- 6. parameters files cannot hang the command line -------------------------------------------------------

LAUGHS = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + ''.join(
    f'{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n' for p, c in zip('abcdefgh', 'bcdefghi'))

def expanded_size(v, seen=None)->int:
    "How many strings `v` stands for once its shared parts are written out."
    if isinstance(v, str): return 1
    if isinstance(v, dict): return sum(expanded_size(x) for x in v.values())
    return len(v) * expanded_size(v[0])

def test_yaml_aliases_and_huge_values_fail_fast_with_a_short_message(tmp_path, runs):
    f = tmp_path/'params.yaml'; f.write_text(LAUGHS)
    # the stand-in reads 387 million strings from 520 bytes
    assert len(LAUGHS) < 600 and expanded_size(yaml.safe_load(LAUGHS)) > 3 * 10**8
    t0 = time.time()
    one_line_error(sparse_nb('run', 'fixture', '-f', f, '--out', runs, timeout=60),
                   'YAML aliases (*name) are not accepted')
    one_line_error(sparse_nb('run', 'fixture', '-p', 'members', '[&a [1, 2], *a, *a]', '--out', runs, timeout=60),
                   'YAML aliases')
    line = one_line_error(sparse_nb('run', 'fixture', '-p', 'members', '[' + ', '.join(['"x"'] * 5000) + ']',
                                    '--out', runs), 'members=')
    assert len(line) < 600 and time.time() - t0 < 60 and not runs.exists()

# --- 7. resuming a run whose parameters were edited, or a finished run ---------------------------------------

TOY = ['-p', 'n_features', '32', '-p', 'd_in', '16', '-p', 'dict_ratios', '[1]', '-p', 'l1_coeffs', '[0.03, 0.3]',
       '-p', 'steps', '30']

def test_resume_refuses_edited_parameters_and_finished_runs(tmp_path):
    r = sparse_nb('run', 'toy_recovery', *TOY, '--out', tmp_path/'runs', '--no-progress', experiments=EXPERIMENTS,
                  timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    run = Path(last_line(r.stdout)); before = snapshot(run)
    one_line_error(sparse_nb('run', '--resume', run, experiments=EXPERIMENTS),
                   'finished already (status ok); pass --force')
    one_line_error(sparse_nb('run', '--resume', run, '--out', tmp_path/'x', experiments=EXPERIMENTS),
                   'takes no experiment, --all, --tiny, -p, -f or --out')
    params = load_json(run/'params.json'); save_json(run/'params.json', {**params, 'l1_coeffs': [5.0, 7.0]})
    one_line_error(sparse_nb('run', '--resume', run, '--force', experiments=EXPERIMENTS),
                   'params.json is not the one the run started with')
    assert ({k: v for k, v in snapshot(run).items() if k != 'params.json'}
            == {k: v for k, v in before.items() if k != 'params.json'})

    info = load_json(run/'run.json')             # run.json edited to match as well: the checkpoints still know
    save_json(run/'run.json', {**info, 'status': 'failed', 'params_sha256': params_hash(load_json(run/'params.json'))})
    r = sparse_nb('run', '--resume', run, experiments=EXPERIMENTS, timeout=600)
    assert r.returncode == 1 and 'written under other run parameters' in load_json(run/'run.json')['error']
    assert (run/'sae'/'relu_r1'/'weights.safetensors').read_bytes() == before['sae/relu_r1/weights.safetensors']

# --- 8. run ids never collide ---------------------------------------------------------------------------------

def test_run_folders_are_created_exclusively(tmp_path):
    # ids drawn twice in one second
    with mock.patch('sparse_nb.core.secrets.token_hex', side_effect=['aaaa'] * 3 + ['bbbb'] * 30):
        with mock.patch('sparse_nb.core.datetime') as dt:
            dt.now.return_value.strftime.return_value = '20260101-000000'
            a, b = RunDir.create('x', root=tmp_path), RunDir.create('x', root=tmp_path)
            with pytest.raises(SparseNBError, match='could not create a new run folder'):
                RunDir.create('x', root=tmp_path)
    assert (a.path.name, b.path.name) == ('20260101-000000-aaaa', '20260101-000000-bbbb')
    paths = []
    def burst(): paths.extend(RunDir.create('y', root=tmp_path).path for _ in range(50))
    threads = [threading.Thread(target=burst) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    assert len(set(paths)) == 400 == len(list((tmp_path/'y').iterdir()))

# --- 9. the latest run is the one that started last -------------------------------------------------------

def test_latest_run_is_by_recorded_start_time(tmp_path):
    from sparse_nb.experiments import latest_run
    real = fixture_run(tmp_path/'runs')
    named = tmp_path/'runs'/'fixture'/'zz-my-baseline'; shutil.copytree(real, named)
    save_json(named/'run.json', {**load_json(real/'run.json'), 'started_unix': 1.0})
    assert sorted((tmp_path/'runs'/'fixture').iterdir())[-1] == named          # last in name order...
    assert latest_run('fixture', tmp_path/'runs') == real                        # ...but it started first

# --- 10. degenerate data are named, never logged as invalid numbers -------------------------------------------

def strict_rows(run:RunDir)->list[dict]:
    "metrics.jsonl read as strict JSON (NaN and Infinity are not JSON)."
    def no_constants(c): raise ValueError(f"invalid JSON constant {c}")
    return [json.loads(l, parse_constant=no_constants) for l in (run.path/'metrics.jsonl').read_text().splitlines()]

@pytest.mark.parametrize('case', ['constant source', 'batch_size=1'])
def test_undefined_fvu_is_null_and_said(tmp_path, case):
    from sparse_nb.train import train, TrainConfig
    const = lambda n: torch.ones(n, 8)
    src = const if case == 'constant source' else (lambda n: torch.randn(n, 8))
    run = RunDir(tmp_path/'run')
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        train(make_sae('relu', d_in=8, d_sae=16, l1_coeff=0.1), src,
              TrainConfig(steps=5, batch_size=1 if case == 'batch_size=1' else 32), run=run, progress=False)
    rows = strict_rows(run)
    assert (rows and all(v is None for r in rows for v in r['fvu'])
            and all(v is not None for r in rows for v in r['mse']))
    assert sum('fvu is undefined from step 0' in str(x.message) for x in w) == 1

def test_bad_numbers_into_an_sae(tmp_path):
    sae = make_sae('topk', d_in=8, d_sae=16, k=2).eval()
    x = torch.randn(4, 8); x[1, 3] = float('nan')
    with pytest.raises(ParameterError, match=r'activations hold 1 NaN or infinite value\(s\), first at index \[1, 3\]'):
        sae.encode(x)
    with pytest.raises(ParameterError, match='must be a floating-point tensor, got torch.int64'):
        sae.encode(torch.ones(4, 8, dtype=torch.long))
    # other float precisions are cast
    assert torch.equal(sae.encode(x.nan_to_num().double()), sae.encode(x.nan_to_num()))

def test_text_parameters_are_taken_as_typed(runs):
    run = fixture_run(runs, '-p', 'title', 'two\nlines', '-p', 'mode', 'ok')
    assert load_json(run/'params.json')['title'] == 'two\nlines'     # YAML would have folded the newline into a space

# --- 11. stores, harvests and batches that used to crash or hang ---------------------------------------------

def fake_store(folder:Path, chunks:list, hook='blocks.0.hook_resid_post', **meta)->Path:
    "A store of the given chunk arrays, written by the harvest's own chunk writer."
    from sparse_nb.activations import _write_chunk, _chunk_path
    for i, a in enumerate(chunks):
        _write_chunk(_chunk_path(folder, hook, i), a.astype(np.float32), np.arange(len(a)), np.arange(len(a)))
    save_json(folder/'meta.json', {'model_id': 'm', 'hooks': [hook], 'd_in': {hook: 8},
                                   'n_tokens': sum(map(len, chunks)), 'n_chunks': len(chunks), **meta})
    return folder

def test_degenerate_stores_are_refused_at_once(tmp_path):
    from sparse_nb.activations import ActivationStore, StoreSource
    rng = np.random.default_rng(0)
    with deadline(60):
        cases = [(fake_store(tmp_path/'empty', [np.zeros((0, 8)), rng.normal(size=(5, 8))]),
                  '0 rows of width 8; expected at least one row'),
                 (fake_store(tmp_path/'none', [rng.normal(size=(5, 8))], n_tokens=0),
                  'n_tokens=0; expected a positive integer'),
                 (fake_store(tmp_path/'liar', [rng.normal(size=(5, 8))], n_tokens=10**9),
                  'hold 5 tokens but meta.json says 1,000,000,000'),
                 (fake_store(tmp_path/'zeros', [np.zeros((5, 8))]), 'mean squared norm 0.0; cannot normalise')]
        for folder, msg in cases:
            with pytest.raises(ParameterError, match=re.escape(msg)): StoreSource(ActivationStore(folder))
        ok = ActivationStore(fake_store(tmp_path/'ok', [rng.normal(size=(5, 8))]))
        with pytest.raises(ParameterError, match='leaving at least one'): StoreSource(ok, exclude_dims=list(range(8)))
        with pytest.raises(ParameterError, match=r'token indices must be in \[0, 5\)'): ok.rows([7])

@pytest.mark.parametrize('kw, msg', [(dict(n_tokens=0), 'n_tokens must be a positive integer, got 0'),
                                     (dict(n_tokens=-5), 'got -5'),
                                     (dict(seq_len=1), 'seq_len must be an integer >= 2'),
                                     (dict(chunk_rows=0), 'chunk_rows must be a positive integer'),
                                     (dict(seq_len=4096), "longer than the model's context of 128 tokens")])
def test_bad_harvest_sizes_write_nothing(tmp_path, kw, msg):
    from sparse_nb.activations import harvest
    model = SimpleNamespace(hook_dict={'blocks.0.hook_resid_post': None}, cfg=SimpleNamespace(n_ctx=128))
    with pytest.raises(ParameterError, match=re.escape(msg)):
        harvest(model, 'blocks.0.hook_resid_post', ['some text'],
                **{'n_tokens': 100, 'out_dir': tmp_path/'store', **kw}, progress=False)
    assert not (tmp_path/'store').exists()

def test_all_zero_batches_train_without_crashing(tmp_path):
    from sparse_nb.train import train, TrainConfig
    with warnings.catch_warnings(record=True):
        warnings.simplefilter('always')
        rows = train(make_sae('relu', d_in=8, d_sae=16, l1_coeff=0.1), lambda n: torch.zeros(n, 8),
                     TrainConfig(steps=3, batch_size=16), progress=False)
    assert rows[-1]['fvu'] == [None] and rows[-1]['mse'][0] >= 0

# --- 12. two processes making one cached dictionary -----------------------------------------------------------

RACER = r'''
import sys, time
from pathlib import Path
from sparse_nb.saes import make_sae
from sparse_nb.toy import ToySource
from sparse_nb.train import cached_train, TrainConfig
go = Path(sys.argv[1])
while not go.exists(): time.sleep(0.01)                      # both processes start training at the same moment
sae, folder = cached_train(lambda: make_sae('relu', d_in=16, d_sae=32, l1_coeff=[0.1]),
                           ToySource(n_features=32, d_in=16, mean_active=3, seed=0),
                           TrainConfig(steps=300, batch_size=64), key=['race'], root=sys.argv[2], progress=False)
print(folder)
'''

def test_two_processes_training_one_cached_dictionary(tmp_path):
    for attempt in range(3):
        root, go = tmp_path/f'cache{attempt}', tmp_path/f'go{attempt}'
        procs = [subprocess.Popen([sys.executable, '-c', RACER, str(go), str(root)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
        time.sleep(8); go.touch()
        outs = [p.communicate(timeout=300) for p in procs]
        assert all(p.returncode == 0 for p in procs), [e[-2000:] for _, e in outs]
        folders = {o.strip() for o, _ in outs}
        assert len(folders) == 1 and (Path(folders.pop())/'weights.safetensors').exists()
        left = sorted(p.name for p in root.iterdir())
        assert len(left) == 2 and left[0].endswith('.lock')               # one entry, no temporary left, and
        assert left[0] == f'.{left[1]}.lock'                               # the file build_lock waited on

# --- 13. mistakes at the command line are one line, exit 2, and leave nothing ---------------------------------

@pytest.mark.parametrize('args, msg', [
    (['-p', 'members', '[1, 2'], 'not valid YAML'),
    (['-p', 'members', '!!python/object/apply:os.system ["touch /tmp/sparse_nb_pwned"]'], 'not valid YAML'),
    (['-p', 'members', '[]'], 'members is an empty list; expected at least one value'),
    (['-p', 'steps', '0'], 'steps=0 is outside its range: expected at least 1'),
    (['-p', 'scale', '.nan'], 'scale is not a finite number'),
    (['-f', 'no_such_file.yaml'], 'parameters file no_such_file.yaml not found'),
    (['-f', '{keys}'], 'parameter names must be text, got 1'),
    (['--out', '{a_file}'], 'is a file; expected a folder for run folders'),
    (['--force'], '--force goes with --resume'),
])
def test_command_line_mistakes(tmp_path, runs, args, msg):
    (tmp_path/'keys.yaml').write_text('1: 2\n'); (tmp_path/'a_file').write_text('x')
    args = [a.format(keys=tmp_path/'keys.yaml', a_file=tmp_path/'a_file') for a in args]
    one_line_error(sparse_nb('run', 'fixture', *args, *([] if '--out' in args else ['--out', runs])), msg)
    assert not runs.exists() and not Path('/tmp/sparse_nb_pwned').exists()

def test_out_without_permission(tmp_path, capsys):
    from sparse_nb.cli import main
    with mock.patch('sparse_nb.experiments.os.access', return_value=False):
        code = main(['--experiments', str(FIXTURES), 'run', 'fixture', '--out', str(tmp_path/'ro')])
    err = capsys.readouterr().err.strip()
    assert (code == 2 and err == f"sparse_nb: error: --out {tmp_path/'ro'}: no permission to write there"
            and not (tmp_path/'ro').exists())

def test_a_broken_notebook_does_not_block_the_others(tmp_path, runs):
    exps = tmp_path/'exps'; shutil.copytree(FIXTURES, exps); (exps/'broken.ipynb').write_text('{"cells": [')
    r = sparse_nb('list', experiments=exps)
    assert (r.returncode == 0 and 'fixture:' in r.stdout
            and 'sparse_nb: warning: skipped broken.ipynb is not a readable notebook' in r.stderr)
    assert sparse_nb('run', 'fixture', '--out', runs, '--no-progress', experiments=exps).returncode == 0
    one_line_error(sparse_nb('run', 'broken', '--out', runs, experiments=exps), "experiment 'broken' cannot be read")

def test_corrupt_run_files_are_skipped_by_the_site(tmp_path):
    from sparse_nb.site import stage_book
    fixture_run(tmp_path/'runs', '-p', 'title', 'older')
    newer = fixture_run(tmp_path/'runs', '-p', 'title', 'newer')
    (newer/'summary.json').write_text('{"headline": "cut off')
    broken = tmp_path/'runs'/'fixture'/'broken'; broken.mkdir(); (broken/'run.json').write_text('[1, 2')
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always'); stage_book(tmp_path/'stage', REPO/'nbs', tmp_path/'runs', FIXTURES)
    said = [str(x.message) for x in w]
    assert any(f'skipped run {newer}' in s and 'summary.json is not valid JSON' in s for s in said)
    assert any(f'skipped run {broken}' in s for s in said)
    report, _, table = (tmp_path/'stage'/'experiments'/'fixture.ipynb').read_text().partition('## Runs')
    assert 'older' in report and 'newer' not in report                          # the newest run that can be read
    assert 'newer' in table and 'not valid JSON' in table                       # listed with why it is not shown

@pytest.mark.parametrize('fmt, edit, msg', [
    ('native', lambda c: [1, 2], 'holds a JSON list; expected a JSON object'),
    ('native', lambda c: {**c, 'sae': {**c['sae'], 'd_in': 'eight'}}, "d_in='eight' is str; expected int"),
    ('native', lambda c: {**c, 'sae': {**c['sae'], 'colour': 'red'}}, "variant 'relu' has no field 'colour'"),
    ('native', lambda c: {**c, 'format_version': '1.0'}, "format_version '1.0'"),
    ('saelens', lambda c: {k: v for k, v in c.items() if k != 'd_sae'}, 'd_sae=None; expected a positive integer'),
    ('saelens', lambda c: {**c, 'metadata': {**c['metadata'], 'sae_lens_version': 'latest'}},
     "sae_lens_version='latest'"),
    ('saelens', lambda c: {**c, 'metadata': 'none'}, 'metadata is a str; expected a JSON object'),
    ('saelens', lambda c: {**c, 'dtype': ['float32']}, "dtype=['float32'] is not supported"),
    ('sparsify', lambda c: {**c, 'k': '32'}, "k='32'; expected a positive integer"),
    ('dictionary_learning', lambda c: {**c, 'trainer': [1]}, 'trainer is a list; expected a JSON object'),
])
def test_malformed_sae_configs(tmp_path, fmt, edit, msg):
    src = {'native': None, 'saelens': 'saelens/standard', 'sparsify': 'sparsify/topk',
           'dictionary_learning': 'dictionary_learning/standard'}[fmt]
    folder = (make_sae('relu', d_in=8, d_sae=16, l1_coeff=0.1).save(tmp_path/'sae') if src is None
              else shutil.copytree(INTEROP/src, tmp_path/'sae'))
    name = 'config.json' if fmt == 'dictionary_learning' else 'cfg.json'
    (folder/name).write_text(json.dumps(edit(load_json(folder/name))))
    with pytest.raises(ParameterError, match=re.escape(msg)): load_sae(folder)
