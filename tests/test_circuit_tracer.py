"""Our attribution graphs against circuit-tracer's own, for the same weights and prompt.

circuit-tracer 0.5.0 pins transformers <= 4.57 and an older TransformerLens, so it runs in a side venv whose
python `SPARSE_NB_CIRCUIT_TRACER_PYTHON` names (README says how to make it); without it these tests are skipped.
The side script loads the transcoders `circuits.write_circuit_tracer` wrote, builds circuit-tracer's
TransformerLens replacement model from a `HookedTransformerConfig` and the model's own weights, and writes its
adjacency matrix, which must equal ours."""
import json, os, subprocess
from pathlib import Path
from types import SimpleNamespace
import pytest, torch
from safetensors.torch import load_file
from sparse_nb.lm import build_model
from sparse_nb.saes import make_sae
from sparse_nb.core import load_json
from sparse_nb.circuits import (neox_weights, plt_replacement, clt_replacement, attribute, write_circuit_tracer, prune,
                                circuit_tracer_graph, write_circuit_tracer_graph)

PYTHON = os.environ.get('SPARSE_NB_CIRCUIT_TRACER_PYTHON')
TOLERANCE = 1e-5     # largest |ours - theirs| over the largest |edge|, float32 on both sides (measured: 1.5e-7)

SIDE = '''
import json, sys, torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast
from transformer_lens import HookedTransformerConfig
from transformer_lens.pretrained.weight_conversions.neox import convert_neox_weights
from circuit_tracer.replacement_model.replacement_model_transformerlens import TransformerLensReplacementModel
from circuit_tracer.transcoder.single_layer_transcoder import load_transcoder_set
from circuit_tracer.transcoder.cross_layer_transcoder import load_clt
from circuit_tracer.attribution.attribute import attribute
a = json.loads(sys.argv[1])
hooks = dict(feature_input_hook='mlp.hook_in', feature_output_hook='hook_mlp_out', scan='sparse_nb',
             device=torch.device('cpu'), dtype=torch.float32, lazy_encoder=False, lazy_decoder=False)
if a['kind'] == 'clt': tc = load_clt(a['transcoders'], **hooks)
else: tc = load_transcoder_set({l: f"{a['transcoders']}/layer_{l}.safetensors" for l in range(a['cfg']['n_layers'])},
                               **hooks)
hf = AutoModelForCausalLM.from_pretrained(a['model'])
cfg = HookedTransformerConfig(**a['cfg'])
model = TransformerLensReplacementModel(cfg)
model.load_and_process_state_dict(convert_neox_weights(hf, cfg), fold_ln=False, center_writing_weights=False,
                                  center_unembed=False, fold_value_biases=False, refactor_factored_attn_matrices=False)
special = dict(bos_token='<|endoftext|>', eos_token='<|endoftext|>', pad_token='<|endoftext|>')
model.tokenizer = PreTrainedTokenizerFast(tokenizer_file=a['model'] + '/tokenizer.json', **special)  # only decodes
model._configure_replacement_model(tc)
g = attribute(torch.tensor(a['ids']), model, max_n_logits=a['max_n_logits'], desired_logit_prob=0.95, batch_size=64)
import importlib, types
files = importlib.import_module('circuit_tracer.utils.create_graph_files')   # the package's name is its function
# it decodes with AutoTokenizer.from_pretrained(cfg.tokenizer_name); our model folder's tokenizer_config.json names a
# transformers-5 class that 4.57 lacks, so it gets the same tokenizer.json through the fast tokenizer above
files.AutoTokenizer = types.SimpleNamespace(from_pretrained=lambda name: model.tokenizer)
files.create_graph_files(g, 'g', a['graph_dir'], scan='sparse_nb', node_threshold=0.8, edge_threshold=0.98)
save_file({'adjacency': g.adjacency_matrix.float().contiguous(), 'features': g.active_features.long().contiguous(),
           'logit_probs': g.logit_probabilities.float().contiguous()}, a['out'])
print(g.adjacency_matrix.shape[0], 'nodes')
'''

def tl_config(w, hf_cfg)->dict:
    "The `HookedTransformerConfig` fields of our GPT-NeoX model."
    return dict(n_layers=w.n_layers, d_model=w.d_model, n_ctx=hf_cfg.max_position_embeddings,
                d_head=w.d_model // w.n_heads, n_heads=w.n_heads, d_mlp=hf_cfg.intermediate_size,
                d_vocab=w.W_E.shape[0], d_vocab_out=w.W_U.shape[1], act_fn='gelu', eps=w.eps,
                normalization_type='LN', positional_embedding_type='rotary', rotary_dim=w.rotary_dims,
                rotary_base=int(w.rotary_base), rotary_adjacent_pairs=False, parallel_attn_mlp=w.parallel,
                original_architecture='GPTNeoXForCausalLM', default_prepend_bos=False, device='cpu')

def replacement(kind:str, w):
    "Untrained but sparse transcoders of each kind circuit-tracer loads (biases set so about 1 latent in 6 fires)."
    one = SimpleNamespace(scale=1.0, scales=[1.0] * w.n_layers)
    if kind == 'clt':
        t = make_sae('clt_jumprelu', d_in=w.d_model * w.n_layers, d_out=w.d_model * w.n_layers,
                     d_sae=64 * w.n_layers, layers=w.n_layers, l0_coeff=[0.0], seed=5)
        sparse = [t]
    else:
        args = dict(l1_coeff=[0.0]) if kind == 'relu' else dict(l0_coeff=[0.0], threshold_init=0.05)
        sparse = [make_sae(kind, d_in=w.d_model, d_out=w.d_model, d_sae=64, seed=10 + l, **args)
                  for l in range(w.n_layers)]
    for t in sparse: torch.nn.init.normal_(t.b_enc, -1.0, 0.1); torch.nn.init.normal_(t.b_dec, 0, 0.1)
    pair = SimpleNamespace(x=one, y=one)
    return clt_replacement(sparse[0], pair) if kind == 'clt' else plt_replacement(sparse, [pair] * w.n_layers)

@pytest.mark.skipif(not PYTHON, reason='SPARSE_NB_CIRCUIT_TRACER_PYTHON (a venv with circuit-tracer 0.5.0) not set')
@pytest.mark.parametrize('kind', ['relu', 'jumprelu', 'clt'])
def test_circuit_tracer_computes_our_graph(kind, tmp_path):
    folder = build_model('micro-pythia', progress=False)
    w, hf_cfg = neox_weights('micro-pythia'), json.loads((folder/'config.json').read_text())
    rep = replacement(kind, w)
    body = torch.randint(1, w.W_E.shape[0], (11,), generator=torch.Generator().manual_seed(1))
    ids = torch.cat([torch.tensor([hf_cfg['bos_token_id']]), body])     # BOS first, as circuit-tracer expects
    ours = attribute(w, rep, ids, max_n_logits=5)
    args = dict(kind=kind, transcoders=str(write_circuit_tracer(rep, tmp_path/'tc')), model=str(folder),
                cfg=tl_config(w, SimpleNamespace(**hf_cfg)), ids=ids.tolist(), max_n_logits=5,
                out=str(tmp_path/'theirs.safetensors'), graph_dir=str(tmp_path/'theirs'))
    r = subprocess.run([PYTHON, '-c', SIDE, json.dumps(args)], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-4000:]
    theirs = load_file(tmp_path/'theirs.safetensors')
    assert torch.equal(theirs['features'], ours.features)                    # the same active latents, same order
    torch.testing.assert_close(theirs['logit_probs'], ours.logit_probs, atol=1e-5, rtol=1e-4)
    gap = (theirs['adjacency'] - ours.adjacency).abs().max() / ours.adjacency.abs().max()
    print(kind, ours.n_nodes, 'nodes; largest difference over largest edge', float(gap))
    assert gap < TOLERANCE
    from transformers import AutoTokenizer
    mine = circuit_tracer_graph(ours, prune(ours), 'g', AutoTokenizer.from_pretrained(folder).decode)
    write_circuit_tracer_graph(mine, tmp_path/'ours')
    assert load_json(tmp_path/'ours'/'graph-metadata.json') == load_json(tmp_path/'theirs'/'graph-metadata.json')
    same_graph_file(mine, load_json(tmp_path/'theirs'/'g.json'), TOLERANCE * ours.adjacency.abs().max())

def same_graph_file(ours:dict, theirs:dict, atol:float):
    "Our graph file is circuit-tracer's: the same metadata, nodes and links in the same order, numbers within `atol`."
    assert ours['metadata'] == theirs['metadata'] and ours['qParams'] == theirs['qParams']
    assert [n['node_id'] for n in ours['nodes']] == [n['node_id'] for n in theirs['nodes']]
    for a, b in zip(ours['nodes'], theirs['nodes']):
        assert list(a) == list(b), (a, b)
        for k in a:
            if isinstance(a[k], float): assert abs(a[k] - b[k]) < 1e-5 + 1e-4 * abs(b[k]), (k, a, b)
            else: assert a[k] == b[k], (k, a, b)
    pair = lambda links: [(e['source'], e['target']) for e in links]
    assert pair(ours['links']) == pair(theirs['links'])
    assert max(abs(a['weight'] - b['weight']) for a, b in zip(ours['links'], theirs['links'])) < atol
    print(len(ours['nodes']), 'nodes and', len(ours['links']), 'links in the graph file, as circuit-tracer writes them')
