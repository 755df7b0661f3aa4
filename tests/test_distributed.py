"""Training across processes with torchrun (gloo on the CPU): the same weights as one process at the same global batch,
and a resumed 2-process run equal to an uninterrupted one."""
import os, subprocess, sys
from pathlib import Path
import pytest, torch
from conftest import REPO
from sparse_nb.core import read_safetensors

SCRIPT = REPO/'tests'/'scripts'/'ddp_train.py'
TORCHRUN = Path(sys.executable).parent/'torchrun'

def launch(out:Path, *args, nproc:int=1):
    cmd = ([str(TORCHRUN), '--standalone', f'--nproc_per_node={nproc}', str(SCRIPT)] if nproc > 1
           else [sys.executable, str(SCRIPT)])
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    return subprocess.run([*cmd, str(out), *map(str, args)], capture_output=True, text=True, timeout=600, cwd=REPO,
                          env=env)

def weights(out:Path)->dict: return read_safetensors(out/'sae'/'sae'/'weights.safetensors')

@pytest.mark.parametrize('variant', ['topk', 'relu'])
def test_two_processes_match_one_at_the_same_global_batch(tmp_path, variant):
    one, two = launch(tmp_path/'one', '--variant', variant), launch(tmp_path/'two', '--variant', variant, nproc=2)
    assert one.returncode == 0, one.stderr[-2000:]
    assert two.returncode == 0, two.stderr[-2000:]
    assert 'rank 1 of 2 done' in two.stdout and 'rank 0 of 1 done' in one.stdout
    a, b = weights(tmp_path/'one'), weights(tmp_path/'two')
    for k in a:
        assert (a[k].float() - b[k].float()).abs().max() <= 1e-5, (k, float((a[k].float() - b[k].float()).abs().max()))
    rows = lambda out: len((out/'metrics.jsonl').read_text().splitlines())
    assert rows(tmp_path/'two') == rows(tmp_path/'one')

def test_resumed_two_process_run_matches_an_uninterrupted_one(tmp_path):
    whole = launch(tmp_path/'whole', nproc=2)
    assert whole.returncode == 0, whole.stderr[-2000:]
    crashed = launch(tmp_path/'part', '--crash-at', 45, nproc=2)
    assert crashed.returncode != 0 and (tmp_path/'part'/'checkpoints'/'sae'/'LATEST').read_text() == 'ckpt-40'
    resumed = launch(tmp_path/'part', '--resume', nproc=2)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a, b = weights(tmp_path/'whole'), weights(tmp_path/'part')
    for k in a: assert torch.equal(a[k], b[k]), k
    assert (tmp_path/'whole'/'metrics.jsonl').read_text() == (tmp_path/'part'/'metrics.jsonl').read_text()

def test_two_process_harvest_writes_one_store_equal_to_one_process(tmp_path):
    from sparse_nb.lm import load_model, load_corpus
    from sparse_nb.activations import ActivationStore
    # build the caches once, before two processes read them
    load_model('micro-pythia', progress=False); load_corpus(progress=False)
    script, env = REPO/'tests'/'scripts'/'ddp_harvest.py', {**os.environ, 'OMP_NUM_THREADS': '1'}
    one = subprocess.run([sys.executable, str(script), str(tmp_path/'one')],
                         capture_output=True, text=True, timeout=600, env=env)
    two = subprocess.run([str(TORCHRUN), '--standalone', '--nproc_per_node=2', str(script), str(tmp_path/'two')],
                         capture_output=True, text=True, timeout=600, env=env)
    assert one.returncode == 0, one.stderr[-2000:]
    assert two.returncode == 0, two.stderr[-2000:]
    assert (tmp_path/'one'/'meta.json').read_text() == (tmp_path/'two'/'meta.json').read_text()
    for hook in ('blocks.0.hook_resid_post', 'blocks.1.hook_mlp_out'):
        a, b = ActivationStore(tmp_path/'one', hook), ActivationStore(tmp_path/'two', hook)
        assert a.n_chunks == b.n_chunks > 2
        for i in range(a.n_chunks):
            assert torch.equal(a.chunk(i), b.chunk(i)) and torch.equal(a.chunk_tokens(i)[0], b.chunk_tokens(i)[0])
