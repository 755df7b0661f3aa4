"The benchmark scripts run (tiny sizes) and print the ratios they promise."
import json, re, subprocess, sys
from conftest import REPO

def test_bench_train_quick():
    r = subprocess.run([sys.executable, str(REPO/'benchmarks'/'bench_train.py'), '--quick'], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert re.search(r'8-member stack vs 8 separate runs .* speedup [\d.]+x', r.stdout)
    assert re.search(r'dense ReLU step: sparse_nb [\d,]+ tok/s, plain torch [\d,]+ tok/s', r.stdout)

def test_bench_harvest_quick():
    r = subprocess.run([sys.executable, str(REPO/'benchmarks'/'bench_harvest.py'), '--quick'], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    for k in ('harvest_middle', 'harvest_last'): assert out[k]['slowdown'] > 0 and out[k]['bare_tok_s'] > 0
    assert out['read_vs_train']['read_tok_s'] > 0 and out['read_vs_train']['train_tok_s'] > 0
