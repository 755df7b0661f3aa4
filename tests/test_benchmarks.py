"Each benchmark runs at tiny sizes (a smoke test: the ratios are measured by `make bench`, never by tests)."
import json, re, subprocess, sys
from conftest import REPO

def bench(*args, timeout=600):
    r = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, timeout=timeout,
                       cwd=REPO/'benchmarks')
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout

def test_bench_train_quick():
    out = json.loads(bench(REPO/'benchmarks'/'bench_train.py', '--quick'))
    assert out['dense_relu']['sparse_nb'] > 0 and out['dense_relu']['plain'] > 0
    assert [t['k'] for t in out['topk']] == [4, 64]
    assert all(t['sparse'] > 0 and t['dense'] > 0 for t in out['topk'])
    # d_sae 256: below the sparse path's measured range
    assert [t['auto_picks'] for t in out['topk']] == ['dense', 'dense']
    assert out['stack']['speedup'] > 0 and out['gflops']['matmul_gflops'] > 0 and out['machine']['cores'] >= 1

def test_bench_harvest_quick():
    out = json.loads(bench(REPO/'benchmarks'/'bench_harvest.py', '--quick'))
    for k in ('harvest_middle', 'harvest_last'): assert out[k]['slowdown'] > 0 and out[k]['bare_tok_s'] > 0
    assert out['read_vs_train']['read_tok_s'] > 0 and out['read_vs_train']['train_tok_s'] > 0

def test_make_bench_table_and_results_file(tmp_path):
    out = bench(REPO/'benchmarks'/'run.py', '--quick', '--out', tmp_path/'RESULTS.md', '--runs', tmp_path/'runs',
                timeout=900)
    assert re.search(r'\| dense ReLU step: sparse_nb / plain torch \| [\d.]+x \| >= 0.95 \| (yes|NO) \|', out)
    assert re.search(r'\| TopK k=4: sparse / dense path \| [\d.]+x \| >= 3 \|', out) and 'rule picks the faster' in out
    assert (tmp_path/'RESULTS.json').exists()
    text = (tmp_path/'RESULTS.md').read_text()
    assert (text.startswith('# Benchmark results') and 'torch 2.13.0' in text and '## Goals missed' in text
            and '## Experiments at their defaults' in text and '| prompt tokens | replacement |' in text)

def test_bench_circuits_quick():
    out = json.loads(bench(REPO/'benchmarks'/'bench_circuits.py', '--quick'))
    assert [(g['tokens'], g['replacement']) for g in out['graphs']] == [(n, r) for n in (8, 16) for r in ('plt', 'clt')]
    assert all(g['seconds'] > 0 and g['peak_mb'] >= 0 and g['nodes'] > g['features'] > 0 for g in out['graphs'])
