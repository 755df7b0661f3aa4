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
