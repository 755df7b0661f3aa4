("SAE folders other tools read: the SAELens-layout export of every supported variant, and no unsafe loads in "
 "the package.")
import ast, os, subprocess
import pytest
import torch
from conftest import REPO
from sparse_nb.formats import saelens_exportable, save_saelens, load_sae, read_safetensors
from sparse_nb.saes import SAE_VARIANTS
from sparse_nb.saes import make_sae
from sparse_nb.toy import ToySource, ToyPairs
from sparse_nb.train import train, TrainConfig

INTEROP = REPO/'tests'/'fixtures'/'interop'

def trained(variant:str, **transcoder):
    "A two-member stack trained 20 steps on toy data (a transcoder on toy pairs when given d_out/skip)."
    toy = dict(n_features=64, d_in=16, mean_active=3, seed=0)
    src = ToyPairs(d_out=transcoder['d_out'], **toy) if transcoder else ToySource(**toy)
    knob = SAE_VARIANTS[variant].knob
    sae = make_sae(variant, d_in=16, d_sae=48, members=2, **{knob: [3, 5] if knob == 'k' else [0.01, 0.03]},
                   **transcoder)
    sample = src(512)
    sae.init_b_dec(sample[1] if transcoder else sample)
    train(sae, src, TrainConfig(steps=20, batch_size=128, lr=3e-3), progress=False)
    return sae.eval()

EXPORTS = {**{v: {} for v in saelens_exportable()},
           **{f'transcoder_{v}{"_skip" * s}': dict(variant=v, d_out=12, skip=s)
              for v in saelens_exportable(transcoder=True) for s in (False, True)}}

@pytest.fixture(scope='module')
def exports(tmp_path_factory):
    "Every exportable variant written in SAELens's layout, with its own outputs on a probe beside it."
    from safetensors.torch import save_file
    out = tmp_path_factory.mktemp('saelens_exports')
    x = ToySource(n_features=64, d_in=16, mean_active=3, seed=1)(64)
    for name, spec in EXPORTS.items():
        spec = dict(spec); sae = trained(spec.pop('variant', name), **spec)
        folder = save_saelens(sae, 1, out/name, hook_name='blocks.0.hook_resid_post', model_name='toy')
        with torch.no_grad():
            save_file({'x': x, 'feature_acts': sae.encode(x)[1].contiguous(), 'reconstruction': sae(x)[1].contiguous()},
                      folder/'ours.safetensors')
    return out

def test_saelens_export_of_every_supported_variant(exports, capsys):
    with capsys.disabled(): print(f"\nSAELens-layout exports written to {exports}")
    assert sorted(p.name for p in exports.iterdir()) == sorted(EXPORTS)
    for v in EXPORTS:
        assert sorted(p.name for p in (exports/v).iterdir()) == [
            'cfg.json', 'ours.safetensors', 'sae_weights.safetensors']
        back, probe = load_sae(exports/v), read_safetensors(exports/v/'ours.safetensors')
        with torch.no_grad():
            assert torch.equal(back.encode(probe['x'])[0], probe['feature_acts']), v
            assert torch.equal(back(probe['x'])[0], probe['reconstruction']), v

PEER_CHECK = '''
import sys, torch
from pathlib import Path
from sae_lens import SAE
from safetensors.torch import load_file
for d in sorted(Path(sys.argv[1]).iterdir()):
    sae = SAE.load_from_disk(str(d), device='cpu').eval(); o = load_file(d/'ours.safetensors')
    with torch.no_grad():
        f = sae.encode(o['x'])
        err = max(float((f - o['feature_acts']).abs().max()), float((sae(o['x']) - o['reconstruction']).abs().max()))
    print(d.name, type(sae).__name__, err); assert err < 1e-5, d.name
'''

@pytest.mark.skipif(not os.environ.get('SPARSE_NB_PEERS_PYTHON'),
                    reason='SPARSE_NB_PEERS_PYTHON (a venv with sae-lens) not set')
def test_real_saelens_loads_our_exports(exports):
    r = subprocess.run([os.environ['SPARSE_NB_PEERS_PYTHON'], '-c', PEER_CHECK, str(exports)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert len(r.stdout.splitlines()) == len(EXPORTS)
    print(r.stdout)

def test_every_fixture_loads_and_matches_its_library():
    probes = sorted(INTEROP.rglob('probe.safetensors'))
    assert len(probes) == 14
    for p in probes:
        sae, probe = load_sae(p.parent), read_safetensors(p)
        with torch.no_grad():
            f = sae.encode(probe['x'])[0]
            assert (f - probe['feature_acts']).abs().max() < 1e-5, p
            assert (sae.decode(f[None])[0] - probe['reconstruction']).abs().max() < 1e-5, p

def unsafe_loads(source:str)->list[str]:
    ("Calls and imports in `source` that could unpickle code: pickle/dill/joblib/cloudpickle, "
     "torch.load without weights_only=True, np.load(allow_pickle=True), pd.read_pickle.")
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) and node.module
                                                    else [])
            found += [f"line {node.lineno}: import {n}" for n in names
                      if n.split('.')[0] in ('pickle', 'dill', 'joblib', 'cloudpickle', '_pickle')]
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            kw = {k.arg: ast.unparse(k.value) for k in node.keywords}
            if name in ('torch.load',) and kw.get('weights_only') != 'True':
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
            if name in ('np.load', 'numpy.load') and kw.get('allow_pickle') not in (None, 'False'):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
            if name.endswith('read_pickle') or name.endswith('pickle.load') or name.endswith('pickle.loads'):
                found.append(f"line {node.lineno}: {ast.unparse(node)}")
    return found

def test_no_unsafe_loads_in_the_package():
    assert unsafe_loads("import pickle\nx = torch.load(p)\ny = torch.load(p, weights_only=False)\n"
                        "np.load(p, allow_pickle=True)\npd.read_pickle(p)") == [
        'line 1: import pickle', 'line 2: torch.load(p)', 'line 3: torch.load(p, weights_only=False)',
        'line 4: np.load(p, allow_pickle=True)', 'line 5: pd.read_pickle(p)']                 # the guard sees each kind
    assert unsafe_loads("torch.load(p, map_location='cpu', weights_only=True)\nnp.load(p)") == []
    bad = {p.name: u for p in sorted((REPO/'sparse_nb').glob('*.py')) if (u := unsafe_loads(p.read_text()))}
    assert bad == {}, bad
