"Shared helpers: run the real `sparse_nb` console script against the fixture experiments."
import os, subprocess, sys
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO/'tests'/'fixtures'/'experiments'
SPARSE_NB = Path(sys.executable).parent/'sparse_nb'

def sparse_nb(*args, experiments=FIXTURES, timeout=300, env=None):
    "Run the console script (with extra `env` variables); return the CompletedProcess (text mode)."
    env = {**os.environ, 'SPARSE_NB_EXPERIMENTS': str(experiments), **(env or {})}
    return subprocess.run([str(SPARSE_NB), *map(str, args)], capture_output=True, text=True, env=env, timeout=timeout,
                          cwd=REPO)

def last_line(text:str)->str: return text.strip().splitlines()[-1]

@pytest.fixture
def runs(tmp_path): return tmp_path/'runs'

EXPERIMENTS = REPO/'nbs'/'experiments'

def run_tiny(name:str, runs:Path, *params)->Path:
    "Run experiment `name` at its tiny parameters (and `params`) into `runs`; its run folder."
    r = sparse_nb('run', name, '--tiny', *params, '--out', runs, '--no-progress', experiments=EXPERIMENTS,
                  timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return Path(last_line(r.stdout))

@pytest.fixture(scope='session')
def tiny_runs(tmp_path_factory):
    "Each experiment's first tiny run, made on first use in one runs root (`tiny_runs.root`) shared by every test file."
    root, done = tmp_path_factory.mktemp('tiny')/'runs', {}
    def get(name):
        if name not in done: done[name] = run_tiny(name, root)
        return done[name]
    get.root = root
    return get
