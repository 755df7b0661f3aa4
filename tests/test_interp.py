"top_contexts streams the store: its memory does not grow with the store's length."
import subprocess, sys, textwrap

HARVEST = textwrap.dedent('''
    import sys
    from sparse_nb.lm import load_model, load_corpus
    from sparse_nb.activations import harvest
    lm = load_model('micro-pythia', root=sys.argv[3], progress=False)
    harvest(lm, ['blocks.1.mlp.hook_post'], load_corpus(progress=False)['text'], int(sys.argv[1]), sys.argv[2],
            seq_len=64, progress=False)
''')

MEASURE = textwrap.dedent('''
    import resource, sys, torch
    from sparse_nb.activations import ActivationStore, StoreSource
    from sparse_nb.saes import make_sae
    from sparse_nb.interp import top_contexts, member_latents
    src = StoreSource(ActivationStore(sys.argv[1]), scale_tokens=2000)
    sae = make_sae('relu', d_in=src.d_in, d_sae=512, l1_coeff=[0.1]).eval()
    next(member_latents(sae, 0, src))           # warm up on one chunk: the working set of a streaming pass
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    top_contexts(sae, 0, src, list(range(64)), k=20)
    size = sum(p.stat().st_size for p in src.store.paths)
    print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024, size)
''')

def test_top_contexts_memory_stays_flat(tmp_path):
    models, grow = tmp_path/'models', {}
    for n in (20_000, 160_000):
        h = subprocess.run([sys.executable, '-c', HARVEST, str(n), str(tmp_path/f's{n}'), str(models)],
                           capture_output=True, text=True, timeout=900)
        assert h.returncode == 0, h.stderr[-2000:]
        r = subprocess.run([sys.executable, '-c', MEASURE, str(tmp_path/f's{n}')], capture_output=True, text=True,
                           timeout=900)
        assert r.returncode == 0, r.stderr[-2000:]
        grow[n] = [int(x) for x in r.stdout.split()]
    (small, small_size), (big, big_size) = grow[20_000], grow[160_000]
    assert big_size > 7 * small_size and big_size > 60e6                # the store grew 8x, to over 60 MB
    assert big - small < 0.1 * (big_size - small_size), (grow, 'top_contexts memory grew with the store')
