"""Script injection: a run folder whose every value is hostile (parameters, summary, captions, file and folder
names, notebook cells and outputs, the static pages' data) is built into a site twice: once by the same builder
with its escaping switched off (the stand-in, which must fire dialogs and inject elements, so the detector is
shown to work), and once by `sparse_nb docs`, which must show all of it as text. Pages are opened from disk in
headless Chromium with every dialog recorded."""
import json, shutil, time
from pathlib import Path
from types import SimpleNamespace
from unittest import mock
import nbformat, pytest, torch
from conftest import sparse_nb, last_line, FIXTURES
from browser import chromium_or_skip
from sparse_nb.core import save_json, load_json

PAGES = ['index.html', 'experiments/fixture.html', 'experiments/fixture-atlas.html', 'experiments/fixture/atlas.html',
         'experiments/fixture-slider.html', 'experiments/fixture/slider.html', 'experiments/fixture-graphs.html',
         'experiments/fixture/graphs.html']
RUN_NAME = '<img class=pwn src=x onerror=alert(20)>'          # a run folder's name is someone else's choice too

def poison_notebook(path:Path):
    "Append Markdown and outputs that would run script if rendered as they are."
    nb = nbformat.read(path, as_version=4); v4 = nbformat.v4
    nb.cells.append(v4.new_markdown_cell('## Notes\n\n<img src=x onerror=alert(8) class=pwn>\n\n'
                                         '```{raw} html\n<script>window.pwned=9</script>\n```'))
    outs = [v4.new_output('display_data', {'text/html': '<img src=x onerror=alert(10) class=pwn><b>table</b>',
                                           'text/plain': 'x'}),
            v4.new_output('display_data', {'text/markdown': 'Result <script>window.pwned=11</script> and '
                                                            '$\\href{javascript:alert(15)}{x}$'}),
            v4.new_output('display_data', {'application/javascript': 'window.pwned=12', 'text/plain': 'js'}),
            v4.new_output('display_data', {'image/svg+xml': '<svg xmlns="http://www.w3.org/2000/svg" class="pwn" '
                                                            'onload="alert(13)"></svg>'}),
            v4.new_output('stream', name='stdout', text='\\(\\href{javascript:alert(14)}{click me}\\)')]
    nb.cells.append(v4.new_code_cell('print(1)', outputs=outs))
    nbformat.write(nb, path)

def hostile_run(runs:Path)->Path:
    "A fixture run, then every channel from a run to a page filled with markup."
    from sparse_nb.grvae import GRVAE, slider_data
    r = sparse_nb('run', 'fixture', '-p', 'title', '<img src=x onerror=alert(1) class=pwn>', '--out', runs,
                  '--no-progress')
    assert r.returncode == 0, r.stderr[-2000:]
    run = Path(last_line(r.stdout))
    s = load_json(run/'summary.json')
    save_json(run/'summary.json', {**s, 'headline': 'fvu <img class=pwn src=x onerror=alert(2)>', 'key_figure': 'curve',
                                   '<svg class=pwn onload=alert(3)>': '<iframe class=pwn src=javascript:alert(4)>'})
    save_json(run/'figures'/'captions.json', {'curve': '<script>window.pwned=5</script> the curve'})
    shutil.copy(run/'figures'/'curve.png', run/'figures'/'x" onerror="alert(6).png')
    save_json(run/'run.json', {**load_json(run/'run.json'), 'seconds': '<img class=pwn src=x onerror=alert(7)>'})
    poison_notebook(run/'fixture.ipynb')
    card = '<div class="snb-card" data-latent="3"><img src=x onerror=alert(18) class=pwn>card text</div>'
    save_json(run/'site'/'atlas.json', {'about': '</script><script>window.pwned=16</script>', 'n_latents': 4,
                                        'dense_threshold': 0.1, 'dead': [0], 'dense': [],
                                        'latents': [{'latent': 3, 'density': 0.1, 'max_act': 1.0, 'score': 0.2,
                                                     'top_tokens': ['<img src=x onerror=alert(17)>'],
                                                     'tokens': ['<script>window.pwned=20</script>'], 'html': card}]})
    node = lambda kind, **kw: {'kind': kind, 'layer': 0, 'pos': 0, 'pruned': True, 'influence': 0.5, **kw}
    save_json(run/'site'/'graphs.json', {'about': '</script><script>window.pwned=21</script>', 'cards': {'c': card},
                                         'graphs': [{'name': '<img class=pwn src=x onerror=alert(22)>', 'n_layers': 1,
                                                     'tokens': ['<img class=pwn src=x onerror=alert(23)>'],
                                                     'info': {'<b class=pwn>score</b>': 0.5}, 'edges': [[1, 0, 1.0, 1]],
                                                     'nodes': [node('feature', latent=3, act=1.0, card='c'),
                                                               node('token', layer=-1, label='<svg class=pwn>')]}]})
    torch.manual_seed(0)
    save_json(run/'site'/'slider.json', slider_data(GRVAE(), run='</code><img class=pwn src=x onerror=alert(19)>'))
    return run.rename(run.parent/RUN_NAME)

def build_unsafe(runs:Path, out:Path)->Path:
    "The stand-in: the same builder with every escape, sanitiser and file check switched off."
    import sparse_nb.site as site, sparse_nb.interp as interp, sparse_nb.grvae as grvae, sparse_nb.circuits as circuits
    import sparse_nb.safe as safe
    every_file = lambda folder, root, pattern='*', magic=None: (sorted(Path(folder).glob(pattern)), [])
    no_escape = SimpleNamespace(escape=lambda s, quote=True: s)
    with mock.patch.object(site, 'md_escape', str), mock.patch.object(site, 'untrusted_notebook', nbformat.from_dict), \
         mock.patch.object(site, 'regular_files', every_file), mock.patch.object(interp, 'sanitize_html', str), \
         mock.patch.object(safe, 'script_json', json.dumps), mock.patch.object(grvae, 'script_json', json.dumps), \
         mock.patch.object(circuits, 'sanitize_html', str), mock.patch.object(grvae, 'html', no_escape), \
         mock.patch.object(safe, 'html', no_escape):
        return site.build_site(out, runs, experiments=FIXTURES).parent

@pytest.fixture(scope='module')
def sites(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('injection')
    hostile_run(tmp/'runs')
    r = sparse_nb('docs', '--out', tmp/'real', '--runs', tmp/'runs', timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return {'stand-in': build_unsafe(tmp/'runs', tmp/'unsafe'), 'sparse_nb': Path(last_line(r.stdout)).parent}

@pytest.fixture(scope='module')
def browser():
    d = chromium_or_skip()
    d.execute_cdp_cmd('Page.addScriptToEvaluateOnNewDocument', {'source':
        "window.__dialogs = []; for (const f of ['alert', 'confirm', 'prompt', 'print']) "
        "window[f] = (...a) => { window.__dialogs.push(f + '(' + a.join(' ') + ')'); return null; };"})
    yield d; d.quit()

FIND = """
const found = [...window.__dialogs.map(d => 'dialog ' + d)];
if (window.pwned !== undefined) found.push('script ran: pwned=' + window.pwned);
for (const e of document.querySelectorAll('.pwn')) found.push('element ' + e.outerHTML.slice(0, 80));
for (const e of document.querySelectorAll('[href], [src]'))
  if (/^\\s*javascript:/i.test(e.getAttribute('href') || e.getAttribute('src') || ''))
    found.push('javascript: URL on ' + e.tagName);
const theme = ['toggleFullScreen()', 'window.print()'];             // the book theme's own two buttons
for (const e of document.querySelectorAll('*')) for (const a of e.attributes)
  if (a.name.startsWith('on') && !(e.tagName === 'BUTTON' && a.name === 'onclick' && theme.includes(a.value)))
    found.push('handler ' + e.tagName + ' ' + a.name);
return found;"""

def injections(browser, page:Path, anchor:str='')->list[str]:
    "What ran or was injected on `page`, opened from disk at `anchor` (after its scripts and MathJax settle)."
    browser.get('about:blank'); browser.get(page.as_uri() + anchor)
    for _ in range(50):
        if browser.execute_script("return document.readyState") == 'complete': break
        time.sleep(0.1)
    time.sleep(1.5)
    return browser.execute_script(FIND)

def test_the_stand_in_is_injected(sites, browser):
    found = {p: injections(browser, sites['stand-in']/p) for p in PAGES if (sites['stand-in']/p).exists()}
    assert sum(map(len, found.values())) >= 8, found           # the detector sees the attack when nothing escapes it
    assert any('dialog alert' in f for fs in found.values() for f in fs), found

@pytest.mark.parametrize('page', PAGES)
def test_sparse_nb_shows_hostile_values_as_text(sites, browser, page):
    site = sites['sparse_nb']
    assert (site/page).exists(), page
    assert injections(browser, site/page) == []
    assert browser.execute_script("return window.__dialogs") == []

def test_hostile_values_are_visible_as_text(sites, browser):
    browser.get((sites['sparse_nb']/'experiments'/'fixture.html').as_uri())
    text = browser.execute_script("return document.body.innerText")
    for shown in ['<img src=x onerror=alert(1) class=pwn>', 'fvu <img class=pwn src=x onerror=alert(2)>',
                  '<script>window.pwned=5</script> the curve', RUN_NAME, '<img src=x onerror=alert(8) class=pwn>']:
        assert shown in text, shown
    assert 'x" onerror="alert(6)' not in text          # a figure whose name a page cannot link to is not copied

def test_graph_viewer_card_of_a_clicked_node_is_sanitised(sites, browser):
    "A node's card shows only when it is opened (here by its URL): the stand-in's fires, sparse_nb's shows text."
    found = {name: injections(browser, site/'experiments'/'fixture'/'graphs.html', '#g0n0')
             for name, site in sites.items()}
    assert any('alert(18)' in f for f in found['stand-in']), found
    assert found['sparse_nb'] == [] and browser.execute_script("return window.__dialogs") == []
    assert 'card text' in browser.find_element('id', 'panel').text
