"The benchmark scripts run (tiny sizes) and print the ratios they promise."
import re, subprocess, sys
from conftest import REPO

def test_bench_train_quick():
    r = subprocess.run([sys.executable, str(REPO/'benchmarks'/'bench_train.py'), '--quick'], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert re.search(r'8-member stack vs 8 separate runs .* speedup [\d.]+x', r.stdout)
    assert re.search(r'dense ReLU step: sparse_nb [\d,]+ tok/s, plain torch [\d,]+ tok/s', r.stdout)
