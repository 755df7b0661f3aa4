"A harvest killed mid-way (SIGKILL, no clean-up) resumes to the same store an uninterrupted harvest writes."
import subprocess, sys, textwrap
from pathlib import Path

HARVEST = textwrap.dedent('''
    import os, signal, sys
    from sparse_nb.lm import load_model, load_corpus
    from sparse_nb.activations import harvest
    out, kill_after = sys.argv[1], int(sys.argv[2])
    lm = load_model('micro-pythia', root=sys.argv[3], progress=False)
    texts = load_corpus(progress=False)['text'][5000:7000]
    def on_chunk(i):
        print('chunk', i, flush=True)
        if i == kill_after: os.kill(os.getpid(), signal.SIGKILL)
    harvest(lm, ['blocks.0.hook_resid_post', 'blocks.1.mlp.hook_post'], texts, 4000, out, seq_len=64, chunk_rows=8,
            progress=False, on_chunk=on_chunk)
''')

def run(out, kill_after, root):
    return subprocess.run([sys.executable, '-c', HARVEST, str(out), str(kill_after), str(root)],
                          capture_output=True, text=True, timeout=600)

def test_killed_harvest_resumes_without_duplicates_or_losses(tmp_path):
    root = tmp_path/'models'
    whole = run(tmp_path/'whole', -1, root)
    assert whole.returncode == 0, whole.stderr[-2000:]
    killed = run(tmp_path/'part', 2, root)
    assert killed.returncode == -9 and killed.stdout.split() == ['chunk', '0', 'chunk', '1', 'chunk', '2']
    resumed = run(tmp_path/'part', -1, root)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert [int(x) for x in resumed.stdout.split()[1::2]] == list(range(3, 8))          # only the missing chunks ran
    files = lambda d: sorted(p.relative_to(d) for p in Path(d).rglob('*') if p.is_file())
    assert files(tmp_path/'part') == files(tmp_path/'whole')                             # no temp or extra files
    for f in files(tmp_path/'whole'):
        if f.suffix == '.arrow':
            assert (tmp_path/'part'/f).read_bytes() == (tmp_path/'whole'/f).read_bytes(), f

MEMORY = textwrap.dedent('''
    import resource, sys
    from pathlib import Path
    from sparse_nb.lm import load_model, load_corpus
    from sparse_nb.activations import harvest
    lm = load_model('micro-pythia', root=sys.argv[3], progress=False)
    texts = load_corpus(progress=False)['text']
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    harvest(lm, ['blocks.1.hook_resid_post', 'blocks.1.mlp.hook_post'], texts, int(sys.argv[1]), sys.argv[2],
            seq_len=64, progress=False)
    size = sum(p.stat().st_size for p in Path(sys.argv[2]).rglob('*.arrow'))
    print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024, size)
''')

def test_harvest_memory_does_not_grow_with_the_store(tmp_path):
    "Peak memory added by a harvest 8x larger grows by far less than the store does (chunks go to disk)."
    build = [sys.executable, '-c', "from sparse_nb.lm import load_model; "
             f"load_model('micro-pythia', root={str(tmp_path/'models')!r}, progress=False)"]
    # train the model first: its training peak must not hide the harvest's
    assert subprocess.run(build, timeout=600).returncode == 0
    grow = {}
    for n in (25_000, 200_000):
        r = subprocess.run([sys.executable, '-c', MEMORY, str(n), str(tmp_path/f's{n}'), str(tmp_path/'models')],
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-2000:]
        grow[n] = [int(x) for x in r.stdout.split()]
    (small, small_size), (big, big_size) = grow[25_000], grow[200_000]
    assert big_size > 100e6                              # the larger store is over 100 MB on disk
    assert big - small < 0.25 * (big_size - small_size), (grow, 'harvest memory grew with the store')
