"Shared helpers: run the real `sparse_nb` console script against the fixture experiments."
import fcntl, os, subprocess, sys
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
    ("Each experiment's first tiny run, made on first use in one runs root (`tiny_runs.root`) shared by every test "
     "file and every pytest-xdist worker (a lock per experiment: the first to ask runs it, the others wait for it).")
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get('PYTEST_XDIST_WORKER') else base)/'tiny'
    root = shared/'runs'
    root.mkdir(parents=True, exist_ok=True)
    def get(name):
        done = shared/f'{name}.done'
        with open(shared/f'{name}.lock', 'w') as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not done.exists(): done.write_text(str(run_tiny(name, root)))
        return Path(done.read_text())
    get.root = root
    return get

def pytest_configure(config):
    config.addinivalue_line('markers', 'xdist_group(name): tests that run in one pytest-xdist worker')

# module-scoped fixtures are made once per worker: keep their modules whole
WHOLE_MODULES = {'test_formats', 'test_grvae_page', 'test_site', 'test_site_injection', 'test_site_runs', 'test_track'}

def pytest_collection_modifyitems(config, items):
    "Under `pytest -n N --dist loadgroup`: a module with module-scoped fixtures runs in one worker; the rest spread."
    for item in items:
        if item.module.__name__ in WHOLE_MODULES: item.add_marker(pytest.mark.xdist_group(item.module.__name__))
