"The import guard `make test` starts with (scripts/check_imports.py) can fail: it catches planted faults."
import subprocess, sys
from conftest import REPO

def test_a_module_that_needs_another_imported_first_fails_the_import_check(tmp_path):
    pkg = tmp_path/'pk'; pkg.mkdir()
    (pkg/'__init__.py').write_text('')
    (pkg/'alone.py').write_text('import torch\nX = torch.zeros(1)\n')
    (pkg/'leans.py').write_text('import pk\nY = pk.alone.X\n')          # works only after pk.alone is imported
    (pkg/'forgot.py').write_text('Y = torch.ones(1)\n')                  # torch never imported here
    (pkg/'side.py').write_text('import concurrent\nE = concurrent.futures.Executor\nimport torch\n')  # torch's import
    r = subprocess.run([sys.executable, REPO/'scripts'/'check_imports.py', pkg], capture_output=True, text=True)
    assert r.returncode == 1 and 'not importable on their own: pk.forgot, pk.leans, pk.side' in r.stderr
    assert "NameError: name 'torch' is not defined" in r.stderr
