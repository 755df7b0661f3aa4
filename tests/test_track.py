"""Trackers mirror a run: MLflow (read back with its client and shown by its own UI in Chromium) and Weights & Biases
offline (read back from its run file, with nothing sent to the network); an unreachable tracker never breaks a run."""
import json, os, socket, subprocess, sys, threading, time, urllib.request
from pathlib import Path
import pytest
from conftest import sparse_nb, last_line, REPO, EXPERIMENTS
from browser import chromium_or_skip, requests_made

pytest.importorskip('mlflow'); pytest.importorskip('wandb')
from mlflow.tracking import MlflowClient
from sparse_nb.track import tracker_metrics, wandb_history

def tracked_run(tmp_path:Path, kind:str, env:dict|None=None, name:str='toy_recovery')->Path:
    "A tiny run of `name` mirrored into tracker `kind`; its run folder."
    r = sparse_nb('run', name, '--tiny', '--track', kind, '--out', tmp_path/'runs', '--no-progress',
                  experiments=EXPERIMENTS, timeout=900, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    return Path(last_line(r.stdout))

def file_history(run:Path)->dict:
    "Each tracker key's (step, value) list, from metrics.jsonl."
    out = {}
    for line in (run/'metrics.jsonl').read_text().splitlines():
        row = json.loads(line)
        for k, v in tracker_metrics(row).items(): out.setdefault(k, []).append((row['step'], v))
    return out

def free_port()->int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

@pytest.fixture(scope='module')
def mlflow_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('mlflow')
    run = tracked_run(tmp, 'mlflow')
    client = MlflowClient(f"sqlite:///{tmp/'runs'/'mlflow.db'}")
    return run, client, json.loads((run/'track.json').read_text())['mlflow']

def test_mlflow_holds_the_params_metrics_summary_and_artifacts_of_the_run(mlflow_run):
    run, client, run_id = mlflow_run
    got = client.get_run(run_id)
    params = json.loads((run/'params.json').read_text())
    assert got.data.params == {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    history = file_history(run)
    assert len(history) > 10 and any('/member1/' in k for k in history)
    for key, rows in history.items():
        assert [(m.step, m.value) for m in client.get_metric_history(run_id, key)] == rows, key
    summary = json.loads((run/'summary.json').read_text())
    assert got.data.tags['headline'] == summary['headline'] and got.data.tags['experiment'] == 'toy_recovery'
    assert got.data.tags['git_commit'] == summary['git_commit'] and got.info.status == 'FINISHED'
    assert got.data.metrics['summary/seed'] == summary['seed']
    figures = {f.path for f in client.list_artifacts(run_id, 'figures')}
    assert {f'figures/{p.name}' for p in (run/'figures').glob('*.png')} <= figures and figures
    assert 'summary.json' in {f.path for f in client.list_artifacts(run_id)}

def test_mlflow_ui_shows_the_run_in_chromium(mlflow_run, tmp_path):
    run, client, run_id = mlflow_run
    port, db = free_port(), client.tracking_uri
    exp_id = client.get_run(run_id).info.experiment_id
    server = subprocess.Popen([str(Path(sys.executable).parent/'mlflow'), 'server', '--backend-store-uri', db,
                               '--host', '127.0.0.1', '--port', str(port), '--workers', '1'],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    driver = None
    try:
        for _ in range(240):
            try: urllib.request.urlopen(f'http://127.0.0.1:{port}/health', timeout=2); break
            except OSError: time.sleep(0.5)
        else: pytest.fail(f"mlflow server did not start: {server.stdout.read()[-2000:] if server.poll() else ''}")
        driver = chromium_or_skip()
        driver.get(f'http://127.0.0.1:{port}/#/experiments/{exp_id}/runs/{run_id}')
        text = ''
        for _ in range(120):
            text = driver.find_element('tag name', 'body').text
            if run.name in text and 'toy_recovery' in text: break
            time.sleep(0.5)
        assert run.name in text and 'toy_recovery' in text, text[:2000]
        off_machine = [u for u in requests_made(driver) if not u.startswith((f'http://127.0.0.1:{port}', 'data:'))]
        assert off_machine == [], off_machine
    finally:
        if driver: driver.quit()
        server.terminate(); server.wait(30)

class Recorder:
    "A TCP listener that records every connection made to it (a stand-in for the network)."
    def __init__(self):
        self.sock = socket.socket(); self.sock.bind(('127.0.0.1', 0)); self.sock.listen(16)
        self.port, self.hits = self.sock.getsockname()[1], []
        threading.Thread(target=self._serve, daemon=True).start()
    def _serve(self):
        while True:
            try: conn, _ = self.sock.accept()
            except OSError: return
            self.hits.append(conn.recv(200)); conn.close()
    @property
    def url(self): return f'http://127.0.0.1:{self.port}'

def offline_env(rec:Recorder, **extra)->dict:
    "W&B pointed at the recorder for every way out (its API, proxies), offline unless `extra` says otherwise."
    return {'WANDB_BASE_URL': rec.url, 'HTTP_PROXY': rec.url, 'HTTPS_PROXY': rec.url, 'http_proxy': rec.url,
            'https_proxy': rec.url, 'NO_PROXY': '', 'no_proxy': '', 'WANDB_INIT_TIMEOUT': '20', **extra}

def test_wandb_offline_holds_the_history_and_tries_no_network(tmp_path):
    rec = Recorder()
    run = tracked_run(tmp_path, 'wandb', offline_env(rec))
    history = file_history(run)
    rows = wandb_history(run)
    for key, expect in history.items():
        sae, axis = key.split('/')[0], key.split('/')[0] + '/step'
        assert [(r[axis], r[key]) for r in rows if key in r] == expect, key
    assert len(history) > 10 and rec.hits == [], rec.hits[:3]

def test_the_network_check_catches_a_tracker_that_goes_online(tmp_path):
    "The planted case: W&B told to go online reaches the recorder; the run still finishes, untracked, with one warning."
    rec = Recorder()
    run = tracked_run(tmp_path, 'wandb', offline_env(rec, WANDB_MODE='online', WANDB_API_KEY='x' * 40))
    assert rec.hits, "W&B online made no connection: the offline test's check could not fail"
    page = (run/'toy_recovery.ipynb').read_text()
    assert page.count('tracking with wandb is off') == 1 and (run/'summary.json').exists()

def test_an_unreachable_mlflow_server_warns_once_and_the_run_goes_on(tmp_path):
    t0 = time.time()
    run = tracked_run(tmp_path, 'mlflow', {'MLFLOW_TRACKING_URI': f'http://127.0.0.1:{free_port()}'})
    page = (run/'toy_recovery.ipynb').read_text()
    assert page.count('tracking with mlflow is off') == 1 and (run/'summary.json').exists()
    assert not (run/'track.json').exists()
    print(f"tracked run with an unreachable server: {time.time() - t0:.0f} s")

def test_under_torchrun_only_rank_0_logs(tmp_path):
    script, torchrun = REPO/'tests'/'scripts'/'ddp_train.py', Path(sys.executable).parent/'torchrun'
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'MLFLOW_TRACKING_URI': f"sqlite:///{tmp_path/'mlflow.db'}"}
    out = tmp_path/'runs'/'ddp'/'two'
    cmd = [str(torchrun), "--standalone", "--nproc_per_node=2", str(script), str(out), "--track", "mlflow"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=REPO, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    client = MlflowClient(env['MLFLOW_TRACKING_URI'])
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert len(runs) == 1                                          # one tracker run, not one per process
    for key, rows in file_history(out).items():
        assert [(m.step, m.value) for m in client.get_metric_history(runs[0].info.run_id, key)] == rows, key
