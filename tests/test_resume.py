"""A run killed with SIGKILL mid-training and continued with `sparse_nb run --resume` ends bit for bit where an
uninterrupted run ends: the same weights, the same metrics log, the same summary."""
import json, os, signal, subprocess, time
from pathlib import Path
import psutil
from conftest import sparse_nb, last_line, REPO, SPARSE_NB

EXPERIMENTS = REPO/'nbs'/'experiments'
PARAMS = ['-p', 'n_features', '64', '-p', 'd_in', '32', '-p', 'dict_ratios', '[1, 2]', '-p', 'l1_coeffs', '[0.03, 0.3]',
          '-p', 'steps', '2000', '-p', 'batch_size', '128']
TIMING = {'seconds', 'sparse_nb_version', 'torch_version', 'git_commit'}

def kill_tree(pid:int):
    "SIGKILL a process and everything it started (the papermill kernel runs in its own session)."
    procs = psutil.Process(pid).children(recursive=True) + [psutil.Process(pid)]
    for p in procs:
        try: p.send_signal(signal.SIGKILL)
        except psutil.NoSuchProcess: pass
    psutil.wait_procs(procs, timeout=30)

def wait_for(pattern:str, root:Path, proc, timeout:float=600)->Path:
    "The first path matching `pattern` under `root`, polling while `proc` runs."
    t0 = time.time()
    while time.time() - t0 < timeout:
        found = sorted(root.glob(pattern))
        if found: return found[0]
        assert proc.poll() is None, f"the run ended before {pattern} appeared: {proc.stderr.read()[-2000:]}"
        time.sleep(0.05)
    raise TimeoutError(pattern)

def comparable(run:Path)->dict:
    "What must match between two runs: weights bytes, the metrics log and the summary without timing keys."
    summary = {k: v for k, v in json.loads((run/'summary.json').read_text()).items() if k not in TIMING}
    weights = {str(p.relative_to(run)): p.read_bytes() for p in sorted((run/'sae').rglob('weights.safetensors'))}
    return {'summary': summary, 'weights': weights, 'metrics': (run/'metrics.jsonl').read_text()}

def assert_one_mlflow_run_mirrors(run:Path):
    "The killed and resumed processes wrote one MLflow run whose every metric history equals metrics.jsonl."
    from mlflow.tracking import MlflowClient
    from sparse_nb.track import tracker_metrics
    client = MlflowClient(f"sqlite:///{run.parent.parent/'mlflow.db'}")
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert len(runs) == 1 and runs[0].info.status == 'FINISHED', [r.info for r in runs]
    expect = {}
    for line in (run/'metrics.jsonl').read_text().splitlines():
        row = json.loads(line)
        for k, v in tracker_metrics(row).items(): expect.setdefault(k, []).append((row['step'], v))
    for key, rows in expect.items():
        assert [(m.step, m.value) for m in client.get_metric_history(runs[0].info.run_id, key)] == rows, key

def test_sigkill_mid_training_then_resume_matches_an_uninterrupted_run(tmp_path):
    env = {**os.environ, 'SPARSE_NB_EXPERIMENTS': str(EXPERIMENTS)}
    proc = subprocess.Popen([str(SPARSE_NB), 'run', 'toy_recovery', *PARAMS, '--out', str(tmp_path/'killed'),
                             '--no-progress', '--track', 'mlflow'],         # the resumed run continues its MLflow run
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # the first stack is done, the second under way
    ck = wait_for('toy_recovery/*/checkpoints/relu_r2/LATEST', tmp_path/'killed', proc)
    kill_tree(proc.pid)
    run = ck.parents[2]
    latest = ck.read_text()
    assert not (run/'summary.json').exists() and json.loads((run/'run.json').read_text())['status'] == 'running'
    index = sparse_nb('runs', '--runs', tmp_path/'killed', '--columns', 'status', 'steps', experiments=EXPERIMENTS)
    assert f"{run.name}  interrupted" in index.stdout, index.stdout      # its process is gone: not "running"
    assert int(latest.split('-')[1]) < 2000 and (run/'sae'/'relu_r1').exists() and not (run/'sae'/'relu_r2').exists()
    print(f"killed {run} with relu_r2 at {latest}")

    r = sparse_nb('run', '--resume', run, '--no-progress', experiments=EXPERIMENTS, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    info = json.loads((run/'run.json').read_text())
    assert (Path(last_line(r.stdout)) == run and info['status'] == 'ok'
            and info['resumed_unix'] > info['started_unix'])
    index = sparse_nb('runs', '--runs', tmp_path/'killed', '--columns', 'status', 'steps', experiments=EXPERIMENTS)
    assert f"{run.name}  resumed" in index.stdout, index.stdout
    assert_one_mlflow_run_mirrors(run)

    whole = sparse_nb('run', 'toy_recovery', *PARAMS, '--out', tmp_path/'whole', '--no-progress',
                      experiments=EXPERIMENTS, timeout=900)
    assert whole.returncode == 0, whole.stderr[-3000:]
    a, b = comparable(run), comparable(Path(last_line(whole.stdout)))
    assert a['weights'].keys() == b['weights'].keys() == {
        'sae/relu_r1/weights.safetensors', 'sae/relu_r2/weights.safetensors'}
    assert a['weights'] == b['weights']
    assert a['metrics'] == b['metrics']
    assert a['summary'] == b['summary']

GRVAE = ['-p', 'source', 'subset', '-p', 'epochs', '3', '-p', 'eval_every', '1']
MARK = 1234.5     # planted in the saved history: a resumed run shows it, a restarted one cannot

def grvae_comparable(run:Path)->dict:
    "A grvae_mnist run's model bytes, per-pass log and summary, without wall-clock numbers."
    untimed = lambda d: {k: v for k, v in d.items() if k not in TIMING | {'seconds_per_epoch'}}
    return {'weights': (run/'model'/'weights.safetensors').read_bytes(),
            'metrics': [untimed(json.loads(l)) for l in (run/'metrics.jsonl').read_text().splitlines()],
            'summary': untimed(json.loads((run/'summary.json').read_text()))}

def plant_mark(folder:Path)->int:
    "Set the loss of the first history row of the state `folder/LATEST` names to MARK; that state's pass."
    cfg = folder/(folder/'LATEST').read_text().strip()/'cfg.json'
    meta = json.loads(cfg.read_text()); meta['history'][0]['loss'] = MARK
    cfg.write_text(json.dumps(meta))
    return meta['pass']

def test_grvae_killed_after_a_pass_resumes_to_the_uninterrupted_models(tmp_path):
    env = {**os.environ, 'SPARSE_NB_EXPERIMENTS': str(EXPERIMENTS)}
    proc = subprocess.Popen([str(SPARSE_NB), 'run', 'grvae_mnist', *GRVAE, '--out', str(tmp_path/'killed'),
                             '--no-progress'],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    latest = wait_for('grvae_mnist/*/checkpoints/0-routed/LATEST', tmp_path/'killed', proc)    # a pass is done
    kill_tree(proc.pid)
    run = latest.parents[2]
    done = plant_mark(latest.parent)
    assert done < 3 and not (run/'summary.json').exists()
    print(f"killed {run} after pass {done}")

    r = sparse_nb('run', '--resume', run, '--no-progress', experiments=EXPERIMENTS, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    info = json.loads((run/'run.json').read_text())
    assert info['status'] == 'ok' and 'resumed_machine' in info and not (run/'checkpoints').exists()
    whole = sparse_nb('run', 'grvae_mnist', *GRVAE, '--out', tmp_path/'whole', '--no-progress', experiments=EXPERIMENTS,
                      timeout=900)
    assert whole.returncode == 0, whole.stderr[-3000:]
    a, b = grvae_comparable(run), grvae_comparable(Path(last_line(whole.stdout)))
    assert [m['pass'] for m in a['metrics']] == [1, 2, 3] * 2       # the routed model's passes, then the plain one's
    assert a['metrics'][0]['loss'] == MARK                              # pass 1 came from the saved state
    a['metrics'][0]['loss'] = b['metrics'][0]['loss']
    assert a == b
