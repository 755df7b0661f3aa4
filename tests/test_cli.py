"`sparse_nb list` and `run` end to end through the console script and papermill."
import json
import pytest
from pathlib import Path
from conftest import sparse_nb, last_line

def read(p): return json.loads(Path(p).read_text())

def test_list_shows_parameters_and_defaults():
    r = sparse_nb('list')
    assert r.returncode == 0, r.stderr
    assert 'fixture: A tiny experiment for testing the runner' in r.stdout
    assert "steps = 5  (int, min 1)  # rows to log" in r.stdout
    assert "members = [1, 2]  (list)" in r.stdout
    assert 'run_dir' not in r.stdout  # reserved, set by the runner

def test_run_writes_run_folder(runs):
    r = sparse_nb('run', 'fixture', '-p', 'steps', '4', '-p', 'scale', '3e-1', '-p', 'members', '[1, 2, 3]',
                  '--out', runs, '--no-progress')
    assert r.returncode == 0, r.stderr
    run = Path(last_line(r.stdout))
    assert run.parent == runs/'fixture' and run.is_dir()
    assert read(run/'params.json') == {'steps': 4, 'scale': 0.3, 'members': [1, 2, 3], 'title': 'fixture', 'mode': 'ok'}
    summary = read(run/'summary.json')
    assert summary['final'] == pytest.approx({'1': 0.9, '2': 1.8, '3': 2.7})
    assert len((run/'metrics.jsonl').read_text().splitlines()) == 4
    assert (run/'figures'/'curve.png').read_bytes()[:4] == b'\x89PNG'
    nb = read(run/'fixture.ipynb')
    injected = [c for c in nb['cells'] if 'injected-parameters' in c['metadata'].get('tags', [])]
    assert injected and 'steps = 4' in ''.join(injected[0]['source'])
    assert read(run/'run.json')['status'] == 'ok'

def test_params_file_and_p_override(runs, tmp_path):
    f = tmp_path/'p.yaml'; f.write_text('steps: 2\ntitle: from file\n')
    r = sparse_nb('run', 'fixture', '-f', f, '-p', 'steps', '3', '--out', runs, '--no-progress')
    assert r.returncode == 0, r.stderr
    params = read(Path(last_line(r.stdout))/'params.json')
    assert (params['steps'], params['title']) == (3, 'from file')

def test_bad_name_fails_before_compute(runs):
    r = sparse_nb('run', 'fixture', '-p', 'stepz', '3', '--out', runs)
    assert r.returncode == 2
    assert 'unknown parameter(s) stepz' in r.stderr
    for name in ['steps', 'scale', 'members', 'title', 'mode']: assert name in r.stderr
    assert not runs.exists()  # nothing was created or run

def test_bad_type_fails_before_compute(runs):
    r = sparse_nb('run', 'fixture', '-p', 'steps', 'many', '--out', runs)
    assert r.returncode == 2
    assert "steps='many' is str, expected int" in r.stderr and 'valid:' in r.stderr
    r = sparse_nb('run', 'fixture', '-p', 'members', '[1, x]', '--out', runs)
    assert r.returncode == 2 and 'expected list' in r.stderr
    assert not runs.exists()

def test_unknown_experiment_lists_known():
    r = sparse_nb('run', 'nope')
    assert r.returncode == 2 and "unknown experiment 'nope'; known: fixture" in r.stderr

def test_failed_notebook_is_kept_and_exit_nonzero(runs):
    r = sparse_nb('run', 'fixture', '-p', 'mode', 'raise', '--out', runs, '--no-progress')
    assert r.returncode == 1
    run = Path(last_line(r.stdout))
    status = read(run/'run.json')
    assert status['status'] == 'failed' and 'failed on purpose' in status['error']
    nb = read(run/'fixture.ipynb')
    assert any('failed on purpose' in json.dumps(c.get('outputs', [])) for c in nb['cells'])
    assert len((run/'metrics.jsonl').read_text().splitlines()) == 5  # rows logged before the failure survive

def test_dead_kernel_loses_nothing_logged(runs):
    r = sparse_nb('run', 'fixture', '-p', 'mode', 'die', '-p', 'steps', '7', '--out', runs, '--no-progress')
    assert r.returncode == 1
    run = Path(last_line(r.stdout))
    assert read(run/'run.json')['status'] == 'failed'
    assert [json.loads(l)['step'] for l in (run/'metrics.jsonl').read_text().splitlines()] == list(range(7))
    assert (run/'fixture.ipynb').exists() and (run/'params.json').exists()

def test_run_all(runs, tmp_path):
    r = sparse_nb('run', '--all', '--out', runs, '--no-progress')
    assert r.returncode == 0, r.stderr
    assert Path(last_line(r.stdout)).parent == runs/'fixture'

def test_run_needs_name_or_all():
    assert sparse_nb('run').returncode == 2
    r = sparse_nb('run', '--all', '-p', 'steps', '1')
    assert r.returncode == 2 and '--all runs defaults' in r.stderr

def test_readme_in_sync():
    r = sparse_nb('readme', '--check')
    assert r.returncode == 0, r.stderr

def test_readme_names_every_experiment_that_resumes():
    "README's list of experiments `--resume` continues is the set whose parameters cell has `resume`."
    import re
    from conftest import REPO
    from sparse_nb.experiments import list_experiments
    listed = re.search(r'train into their\s+run folder: ([\w, ]+)\)', (REPO/'README.md').read_text()).group(1)
    resumable = {e.name for e in list_experiments(REPO/'nbs'/'experiments') if 'resume' in e.params}
    assert set(listed.split(', ')) == resumable
