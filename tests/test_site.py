"The rendered site (a Jupyter Book built from tiny runs) in a real browser, opened from file:// as a reader would."
import json, os, re, time
from pathlib import Path
import nbformat, pytest
from conftest import sparse_nb, last_line, REPO
from browser import chromium_or_skip, requests_made
from site_checks import dead_links, noise, read_text, image_bytes, text_px, figure_note
from sparse_nb.site import nb_title, page_name
from sparse_nb.experiments import load_experiment

ARTIFACTS = REPO/'tests'/'artifacts'
EXPERIMENTS = REPO/'nbs'/'experiments'
SITE_RUNS = sorted(p.stem for p in EXPERIMENTS.glob('*.ipynb'))   # every experiment, at its tiny parameters

@pytest.fixture(scope='module')
def site(tiny_runs):
    "Every experiment's tiny run (shared with test_experiments.py), then the site built from them by `sparse_nb docs`."
    if os.environ.get('SPARSE_NB_TEST_SITE'):                 # a site already built beside its runs/ (for iterating)
        return Path(os.environ['SPARSE_NB_TEST_SITE'])
    for name in SITE_RUNS: tiny_runs(name)
    tmp = tiny_runs.root.parent                                 # the site beside runs/, where latest_run reads
    r = sparse_nb('docs', '--out', tmp/'_docs', '--runs', tiny_runs.root, experiments=EXPERIMENTS)
    assert r.returncode == 0, r.stderr[-3000:]
    index = Path(last_line(r.stdout))
    assert index == tmp/'_docs'/'index.html' and index.exists()
    return index.parent

@pytest.fixture(scope='module')
def browser():
    d = chromium_or_skip()
    yield d
    d.quit()

def content_pages(site)->dict[str, str]:
    "Page (relative to the site) -> the title of the notebook it comes from."
    pages = {'index.html': nb_title(nbformat.read(REPO/'nbs'/'index.ipynb', as_version=4), '')}
    for p in sorted((REPO/'nbs').glob('[0-9]*.ipynb')):
        pages[f'{page_name(p)}.html'] = nb_title(nbformat.read(p, as_version=4), '')
    for p in sorted(EXPERIMENTS.glob('*.ipynb')):
        pages[f'experiments/{p.stem}.html'] = nb_title(nbformat.read(p, as_version=4), '')
    return pages

def latest_run(site:Path, name:str)->Path:
    "The newest run of experiment `name` beside the site (run folders are named by their start time)."
    return sorted((site.parent/'runs'/name).iterdir())[-1]

def visit(browser, url:str):
    "Open `url`, clear the console log, wait until the page and its scripts have settled."
    browser.get_log('browser'); requests_made(browser)
    browser.get(url)
    for _ in range(50):
        if browser.execute_script("return document.readyState") == 'complete': break
        time.sleep(0.1)
    time.sleep(0.3)

def test_every_page_is_in_the_sidebar(site, browser):
    visit(browser, (site/'index.html').as_uri())
    links = {a.get_attribute('href') for a in browser.find_elements('css selector', 'nav.bd-docs-nav a')}
    for page in [*content_pages(site), 'experiments/grvae_mnist-slider.html', 'experiments/feature_atlas-atlas.html',
                 'experiments/attribution_graph-graphs.html']:
        assert (site/page).exists(), page
        assert (site/page).as_uri() in links or page == 'index.html', f"{page} is not in the sidebar"

def test_pages_load_offline_with_their_titles_and_no_errors(site, browser):
    for page, title in content_pages(site).items():
        visit(browser, (site/page).as_uri())
        assert browser.title == title, (page, browser.title, title)
        errors = [e for e in browser.get_log('browser') if e['level'] == 'SEVERE']
        assert not errors, (page, errors)
        outside = [u for u in requests_made(browser) if not u.startswith(('file://', 'data:'))]
        assert outside == [], (page, outside)
        text = browser.execute_script("return document.body.innerText")
        assert 'WARNING' not in text and 'Traceback' not in text, page

def test_the_network_check_sees_a_planted_request(browser, tmp_path):
    "The offline check above reads Chromium's network events: a page asking for an outside image is caught."
    (tmp_path/'planted.html').write_text('<p>x</p><img src="http://localhost:9/pixel.png">')
    visit(browser, (tmp_path/'planted.html').as_uri())
    assert 'http://localhost:9/pixel.png' in requests_made(browser)

def test_first_load_of_a_fresh_browser_logs_no_error(site):
    "A reader's first visit (empty localStorage) logs nothing severe, e.g. pydata's invalid theme mode."
    fresh = chromium_or_skip()
    try:
        visit(fresh, (site/'experiments'/'toy_recovery.html').as_uri())
        assert not [e for e in fresh.get_log('browser') if e['level'] == 'SEVERE']
    finally: fresh.quit()

def test_every_link_resolves(site):
    assert dead_links(site) == []

def test_the_link_check_catches_planted_dead_links(tmp_path):
    (tmp_path/'a.html').write_text('<a href="#b/c.html">x</a> <a href="gone.html">y</a> <a id="ok" href="#ok">z</a>'
                                   '<iframe src="a.html#ok"></iframe>')
    assert [(url, why) for _, url, why in dead_links(tmp_path)] == [('#b/c.html', 'no such anchor'),
                                                                     ('gone.html', 'no such file')]

def report_pages(site:Path)->list[Path]:
    "The index and every experiment page (reports of runs, and templates of experiments not run)."
    return [site/'index.html', *sorted((site/'experiments').glob('*.html'))]

def test_reports_show_no_machine_paths_reprs_or_cut_values(site):
    found = {p.name: n for p in report_pages(site) if (n := noise(read_text(p)))}
    assert found == {}

def test_the_noise_check_catches_planted_noise(tmp_path):
    page = tmp_path/'p.html'
    page.write_text("<article><p>PosixPath('/home/me/runs/x/figures/a.png')</p><table><td>Spea…</td></table>"
                    "<pre>{'step': 39, 'loss': 1.5}</pre><p>shape (3000, 8), skipped ['upper_case']</p>"
                    "<div class='cell_input'><pre>{'typed': 1} /home/a/b/c</pre></div>"
                    "<code>/path/to/x</code></article>")
    assert noise(read_text(page)) == {'a machine path': ['/home/me/runs/x/figures/a.png'],
                                      'a Python repr': ["{'step': ", '(3000, 8)', "['upper_case']"],
                                      'a cut value': ['a…']}

def test_maths_renders_offline(site, browser):
    visit(browser, (site/'metrics.html').as_uri())
    for _ in range(50):
        if browser.find_elements('css selector', 'mjx-container'): break
        time.sleep(0.2)
    assert len(browser.find_elements('css selector', 'mjx-container')) > 5   # typeset by the MathJax copy in _static/

@pytest.mark.parametrize('query, page', [('mmcs', 'metrics'), ('TopK', 'saes')])
def test_search_from_disk_finds_pages_with_excerpts_and_no_errors(site, browser, query, page):
    "Sphinx's search opened from file:// (where it cannot fetch pages): hits, each with its excerpt, a clean console."
    visit(browser, (site/'search.html').as_uri() + f'?q={query}')
    count = lambda css: len(browser.find_elements('css selector', f'#search-results {css}'))
    for _ in range(50):                                  # finished, and every hit's excerpt in place
        if count('p.search-summary') and count('li') == count('li p.context'): break
        time.sleep(0.2)
    hits = browser.find_elements('css selector', '#search-results li')
    assert hits and any(page in h.text for h in hits), [h.text for h in hits]
    excerpts = browser.find_elements('css selector', '#search-results li p.context')
    assert len(excerpts) == len(hits) and any(query.lower() in e.text.lower() for e in excerpts)
    assert not [e for e in browser.get_log('browser') if e['level'] == 'SEVERE']

def test_experiment_page_reads_as_a_report(site, browser):
    visit(browser, (site/'experiments'/'toy_recovery.html').as_uri())
    ARTIFACTS.mkdir(exist_ok=True); browser.save_screenshot(str(ARTIFACTS/'experiment_first_screen.png'))
    run = latest_run(site, 'toy_recovery')
    summary = json.loads((run/'summary.json').read_text())
    first_screen = browser.execute_script(   # by code points: a UTF-16 slice can split MathJax's 𝑘 in two
        "return Array.from(document.querySelector('article').innerText).slice(0, 1500).join('')")
    assert 'Latest run' in first_screen and summary['headline'] in first_screen
    text = browser.execute_script("return document.body.innerText")
    assert 'open_run(' not in text and str(run) not in text            # code folded, no machine path
    captions = json.loads((run/'figures'/'captions.json').read_text())
    # every figure captioned; tables, not raw text
    assert text.count('Figure:') == len(list((run/'figures').glob('*.png'))) == len(captions) >= 4 and '| ' not in text
    bold = [b.text for b in browser.find_elements('css selector', 'table strong')]
    defaults = {k: p.default for k, p in load_experiment(EXPERIMENTS/'toy_recovery.ipynb').params.items()}
    changed = {k for k, v in json.loads((run/'params.json').read_text()).items() if k in defaults and v != defaults[k]}
    assert ('30' in bold) == ('steps' in changed)                      # a value changed from its default is bold
    assert browser.find_elements('css selector', 'details.hide')         # folded code cells

def test_index_links_every_experiment_with_its_headline(site, browser):
    visit(browser, (site/'index.html').as_uri())
    text = browser.execute_script("return document.body.innerText")
    for name in SITE_RUNS:
        run = latest_run(site, name)
        assert json.loads((run/'summary.json').read_text())['headline'] in text
    hrefs = {a.get_attribute('href') for a in browser.find_elements('css selector', 'article a')}
    for p in EXPERIMENTS.glob('*.ipynb'): assert (site/'experiments'/f'{p.stem}.html').as_uri() in hrefs, p.stem

def test_front_page_opens_with_results(site, browser):
    "A card per experiment with its key figure and headline comes first, then how long the runs took."
    visit(browser, (site/'index.html').as_uri())
    headings = [h.text for h in browser.find_elements('css selector', 'article h2')]
    assert headings[:2] == ['Results', 'The two commands'], headings
    cards = browser.find_elements('css selector', '#results .sd-card')
    assert len(cards) == len(browser.find_elements('css selector', '#results .sd-card img.sd-card-img-top')) == len(
        SITE_RUNS)
    assert re.search(r'took [\d.,]+ minutes? in total', browser.find_element('id', 'results').text)   # measured

@pytest.mark.parametrize('page', ['index.html', 'experiments/toy_recovery.html', 'metrics.html'])
def test_narrow_window_keeps_a_readable_column(site, browser, page):
    browser.set_window_size(420, 900)
    try:
        visit(browser, (site/page).as_uri())
        width = browser.execute_script("return document.querySelector('article').getBoundingClientRect().width")
        assert width >= 300, (page, width)
        overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (page, overflow)                             # nothing clipped or scrolled sideways
        browser.save_screenshot(str(ARTIFACTS/f"narrow_{page.replace('/', '_')}.png"))
    finally: browser.set_window_size(1280, 900)

@pytest.mark.parametrize('width', [1400, 420])
def test_figure_text_is_at_least_9px(site, browser, width):
    "Every figure of every report, as the page shows it on a wide and a phone-sized screen: smallest text >= 9 px."
    browser.set_window_size(width, 900)
    small = []
    try:
        for name in SITE_RUNS:
            visit(browser, (site/'experiments'/f'{name}.html').as_uri())
            shown = browser.execute_script("return Array.from(document.querySelectorAll('article img')).map("
                                           "i => [i.src, i.naturalWidth, i.getBoundingClientRect().width])")
            assert shown, name
            for src, natural, rendered in shown:
                px = text_px(image_bytes(src))
                assert px is not None, (name, src[:80], 'a figure saved without RunDir.save_figure')
                if px * rendered / natural < 9:
                    small.append((name, src.rsplit('/', 1)[-1][:40], px * rendered / natural))
            overflow = browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (name, width, overflow)            # a wide figure scrolls in its box, not the page
    finally: browser.set_window_size(1280, 900)
    assert small == []

def test_no_legend_covers_data(site):
    "Every figure of every run, as `save_figure` recorded it: no legend over the data it labels."
    from sparse_nb.core import LEGEND_KEY
    pngs = sorted((site.parent/'runs').rglob('figures/*.png'))
    covered = {f'{p.parts[-4]}/{p.name}': figure_note(p.read_bytes(), LEGEND_KEY) for p in pngs}
    assert len(covered) >= len(SITE_RUNS) and {k: v for k, v in covered.items() if v != 0} == {}

@pytest.mark.parametrize('name', ['toy_recovery', 'absorption', 'transcoders'])
def test_figures_have_pixels(site, browser, name):
    visit(browser, (site/'experiments'/f'{name}.html').as_uri())
    sizes = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
    run = latest_run(site, name)
    assert (len(sizes) >= len(list((run/'figures').glob('*.png'))) >= 1
            and all(c and w > 0 and h > 0 for c, w, h in sizes)), sizes

def canvas_sum(browser)->int:
    return browser.execute_script("return Array.from(document.getElementById('out').getContext('2d')"
                                  ".getImageData(0, 0, 280, 280).data).reduce((a, b) => a + b, 0)")

def test_slider_page_on_the_site(site, browser):
    from selenium.webdriver.common.keys import Keys
    slider_page = site/'experiments'/'grvae_mnist'/'slider.html'
    visit(browser, (site/'experiments'/'grvae_mnist-slider.html').as_uri())
    assert browser.find_element('css selector', 'iframe').get_attribute('src') == slider_page.as_uri()
    visit(browser, slider_page.as_uri())
    assert browser.find_element('css selector', 'meta[name=viewport]')
    before, box = canvas_sum(browser), browser.find_element('id', 'out').rect
    slider = browser.find_element('id', 'z7'); slider.click(); slider.send_keys(Keys.RIGHT * 20)
    assert canvas_sum(browser) != before and browser.find_element('id', 'out').rect == box  # redrawn, not moved
    back = browser.find_element('link text', '← back to the GR-VAE experiment').get_attribute('href')
    assert back == (site/'experiments'/'grvae_mnist.html').as_uri()

def test_feature_atlas_browser(site, browser):
    "Type a latent's index: its card shows with its top token, shaded; a token search finds it too."
    run = latest_run(site, 'feature_atlas')
    top = json.loads((run/'summary.json').read_text())['top_latents'][1]
    visit(browser, (site/'experiments'/'feature_atlas'/'atlas.html').as_uri())
    assert not [e for e in browser.get_log('browser') if e['level'] == 'SEVERE']
    q = browser.find_element('id', 'q'); q.clear(); q.send_keys(str(top['latent']))
    card = browser.find_element('css selector', '#card .snb-card')
    assert card.get_attribute('data-latent') == str(top['latent'])
    centres = [e.text for e in card.find_elements('css selector', '.snb-ctx i.c')]
    assert top['top_tokens'][0] in centres
    shades = [e.get_attribute('style') for e in card.find_elements('css selector', '.snb-ctx i')]
    assert any('--a: 1' in s or '--a:1' in s for s in shades) and any('--a: 0' in s or '--a:0' in s for s in shades)
    q.clear(); q.send_keys(top['top_tokens'][0].strip() or top['top_tokens'][0])
    assert 'of' in browser.find_element('id', 'where').text
    browser.save_screenshot(str(ARTIFACTS/'feature_atlas.png'))

def atlas_page(site)->Path: return site/'experiments'/'feature_atlas'/'atlas.html'

def atlas_data_of(browser)->dict: return browser.execute_script("return window.ATLAS")

def shown_latent(browser)->int|None:
    cards = browser.find_elements('css selector', '#card .snb-card')
    return int(cards[0].get_attribute('data-latent')) if cards else None

def type_query(browser, text:str):
    q = browser.find_element('id', 'q'); q.clear(); q.send_keys(text)

def test_atlas_has_a_card_for_every_alive_latent(site, browser):
    "Every alive latent has a card (the tiny run keeps the default: no cap), each reachable by typing its index."
    visit(browser, atlas_page(site).as_uri())
    assert not [e for e in browser.get_log('browser') if e['level'] == 'SEVERE']
    run = latest_run(site, 'feature_atlas')
    s = json.loads((run/'summary.json').read_text())
    data = atlas_data_of(browser)
    assert len(data['latents']) == s['n_alive'] == s['cards'] and len(data['dead']) == s['n_dead']
    for j in [it['latent'] for it in data['latents']][::17]:
        type_query(browser, str(j))
        assert shown_latent(browser) == j and browser.current_url.endswith(f'#L{j}')

def test_atlas_url_per_latent_and_neighbour_links(site, browser):
    "A fresh load of atlas.html#L<j> opens latent j's card; a neighbour is a link to its card and URL; back returns."
    data = json.loads((latest_run(site, 'feature_atlas')/'site'/'atlas.json').read_text())
    j = data['latents'][3]['latent']                              # not the card the page opens on by itself
    browser.get('about:blank')
    visit(browser, atlas_page(site).as_uri() + f'#L{j}')
    assert shown_latent(browser) == j and browser.current_url.endswith(f'#L{j}')
    link = browser.find_element('css selector', '#card .snb-card a[href^="#L"]')
    target = int(link.get_attribute('href').rsplit('#L', 1)[1])
    link.click()
    assert shown_latent(browser) == target and browser.current_url.endswith(f'#L{target}')
    browser.back()
    assert shown_latent(browser) == j

def test_atlas_token_search_is_case_insensitive_over_the_contexts(site, browser):
    visit(browser, atlas_page(site).as_uri())
    data = atlas_data_of(browser)
    word = next(t for it in data['latents'] for t in it['tokens'] if len(t) >= 3 and t.isalpha())
    expect = sorted(it['latent'] for it in data['latents'] if any(word in t for t in it['tokens']))
    for typed in (word, word.upper()):
        type_query(browser, typed)
        listed = sorted(int(a.get_attribute('data-latent')) for a in browser.find_elements('css selector', '#list a'))
        assert listed == expect and shown_latent(browser) in expect, typed
    type_query(browser, 'zzqqxx-nowhere')
    assert 'with "zzqqxx-nowhere" in their contexts' in browser.find_element('id', 'msg').text

def test_atlas_list_wraps_sorts_and_filters(site, browser):
    visit(browser, atlas_page(site).as_uri())
    box = browser.find_element('id', 'list')
    assert box.value_of_css_property('flex-wrap') == 'wrap'
    assert browser.execute_script("const l = document.getElementById('list'); return l.scrollWidth <= l.clientWidth")
    data = atlas_data_of(browser)
    density = {it['latent']: it['density'] for it in data['latents']}
    from selenium.webdriver.support.ui import Select
    Select(browser.find_element('id', 'sort')).select_by_value('density')
    listed = [int(a.get_attribute('data-latent')) for a in browser.find_elements('css selector', '#list a')]
    assert [density[j] for j in listed] == sorted(density.values(), reverse=True)
    Select(browser.find_element('id', 'filter')).select_by_value('dense')
    listed = [int(a.get_attribute('data-latent')) for a in browser.find_elements('css selector', '#list a')]
    assert set(listed) == set(data['dense']) & set(density)

def test_atlas_card_panels(site, browser):
    "Values beside contexts, two histograms with axes and counts (activations, logit effects), the explanation."
    visit(browser, atlas_page(site).as_uri())
    data = atlas_data_of(browser)
    j = data['latents'][0]['latent']
    type_query(browser, str(j))
    card = browser.find_element('css selector', '#card .snb-card')
    values = [float(v.get_attribute('textContent'))                # hidden ones too (in closed details)
              for v in card.find_elements('css selector', '.snb-ctx .snb-v')]
    assert values and abs(values[0] - data['latents'][0]['max_act']) <= 0.01 * abs(values[0])   # the top context
    svgs = card.find_elements('css selector', 'svg')
    labels = [s.get_attribute('aria-label') for s in svgs]
    assert labels == ['activation histogram', 'logit effect histogram']
    for s in svgs:
        texts = [t.get_attribute('textContent') for t in s.find_elements('css selector', 'text')]
        assert 'count' in texts and any(t.replace(',', '').isdigit() and int(t.replace(',', '')) > 0 for t in texts)
    expl = card.find_element('css selector', '.snb-expl').text
    number = r'-?\d\.\d{3}'
    assert re.search(rf'held-out score \(Spearman\) {number} \[{number}, {number}\] · detection AUC {number}', expl)

def test_atlas_has_no_broken_characters(site, browser):
    "No U+FFFD in any card: characters split over tokens are decoded whole (a planted per-token decode shows them)."
    visit(browser, atlas_page(site).as_uri())
    cards = browser.execute_script("return window.ATLAS.latents.map(it => it.html).join('')")
    assert '\ufffd' not in cards
    from sparse_nb.lm import load_model
    from sparse_nb.interp import feature_card, token_texts
    tok = load_model('micro-pythia').tokenizer
    ids = tok.encode('naïve → ok', add_special_tokens=False)
    assert '\ufffd' in ''.join(tok.decode([t]) for t in ids)                      # what a per-token decode shows
    assert ''.join(token_texts(ids, tok.decode)) == 'naïve → ok'                  # what the cards use
    ctx = {'ids': ids, 'acts': [1.0] * len(ids), 'center': 2, 'value': 1.0, 'token': 0}
    contexts = {'top': [ctx], 'random': [], 'quantiles': [], 'sample': [1.0]}
    stats = {'density': 0.1, 'log10_density': -1.0, 'max_act': 1.0, 'kurtosis': 3.0, 'skew': 0.0}
    assert '\ufffd' not in feature_card(0, stats, contexts, tok.decode)

def planted_atlas(folder:Path)->Path:
    "An atlas of 4 latents: 0 and 3 sparse, 1 dense, 2 dead (never fires)."
    from sparse_nb.interp import write_atlas
    card = lambda j: f'<div class="snb-card" data-latent="{j}">card {j}</div>'
    entry = lambda j, d: {'latent': j, 'density': d, 'max_act': 1.0 + j, 'top_tokens': ['a'], 'tokens': ['a'],
                          'score': 0.2, 'html': card(j)}
    return write_atlas({'about': 'test', 'n_latents': 4, 'dense_threshold': 0.1, 'dead': [2], 'dense': [1],
                        'latents': [entry(0, 0.01), entry(1, 0.5), entry(3, 0.02)]}, folder)

def test_atlas_index_messages(tmp_path, browser):
    "Searching an index says whether the latent is dead, dense or out of range (an atlas written with both)."
    visit(browser, planted_atlas(tmp_path).as_uri())
    type_query(browser, '2')
    assert shown_latent(browser) is None and 'Latent 2 is dead' in browser.find_element('id', 'msg').text
    type_query(browser, '9')
    assert 'There is no latent 9: the dictionary has 4' in browser.find_element('id', 'msg').text
    type_query(browser, '1')
    assert shown_latent(browser) == 1 and 'Dense: fires on 50.0% of tokens' in browser.find_element('id', 'card').text

def test_atlas_filters_and_typing_under_a_filter(tmp_path, browser):
    "'dense' and 'not dense' list exactly those; typing a dense index while 'not dense' is on shows it, box intact."
    from selenium.webdriver.support.ui import Select
    visit(browser, planted_atlas(tmp_path).as_uri())
    listed = lambda: sorted(int(a.get_attribute('data-latent'))
                            for a in browser.find_elements('css selector', '#list a'))
    Select(browser.find_element('id', 'filter')).select_by_value('sparse'); assert listed() == [0, 3]
    Select(browser.find_element('id', 'filter')).select_by_value('dense'); assert listed() == [1]
    Select(browser.find_element('id', 'filter')).select_by_value('sparse')
    type_query(browser, '1')
    assert shown_latent(browser) == 1 and browser.find_element('id', 'q').get_attribute('value') == '1'

def graphs_page(site)->Path: return site/'experiments'/'attribution_graph'/'graphs.html'

DRAWN = """return [...document.querySelectorAll(arguments[0])].map(e => [+e.dataset.i, e.getAttribute('class')])"""
EDGES = """return [...document.querySelectorAll('.edge')].map(l => [+l.getAttribute('stroke-width'),
                                                             l.getAttribute('stroke')])"""

def pick_graph(browser, gi:int):
    from selenium.webdriver.support.ui import Select
    Select(browser.find_element('id', 'graph')).select_by_value(str(gi))

def test_graph_viewer_opens_offline_with_the_pruned_graph(site, browser):
    "From disk: no console error, nothing requested outside file://, the pruned graph drawn with its error nodes."
    visit(browser, (site/'experiments'/'attribution_graph-graphs.html').as_uri())        # the book page embeds it
    assert browser.find_element('css selector', 'iframe').get_attribute('src') == graphs_page(site).as_uri()
    visit(browser, graphs_page(site).as_uri())
    assert not [e for e in browser.get_log('browser') if e['level'] == 'SEVERE']
    assert [u for u in requests_made(browser) if not u.startswith(('file://', 'data:'))] == []
    data = browser.execute_script("return window.GRAPHS")
    with_errors = [gi for gi, g in enumerate(data['graphs'])
                   if any(n['kind'] == 'error' and n['pruned'] for n in g['nodes'])]
    assert data['graphs'] and with_errors, 'no graph keeps an error node'
    for gi in (0, with_errors[0]):
        pick_graph(browser, gi)
        g, drawn = data['graphs'][gi], browser.execute_script(DRAWN, '.node')
        assert sorted(i for i, _ in drawn) == [i for i, n in enumerate(g['nodes']) if n['pruned']]     # pruned first
        assert {i for i, c in drawn if 'error' in c} == {i for i, n in enumerate(g['nodes'])
                                                        if n['pruned'] and n['kind'] == 'error'}
        kept = [e for e in g['edges'] if e[3]]
        top = max(abs(e[2]) for e in kept)
        expect = [(0.4 + 4.6 * abs(e[2]) / top, '#2b6cb0' if e[2] > 0 else '#c53030') for e in kept]
        shown = browser.execute_script(EDGES)
        assert len(shown) == len(expect)
        assert all(abs(w - v) < 2e-3 and c == d for (w, c), (v, d) in zip(shown, expect))   # width, colour
    browser.find_element('id', 'wide').click()
    assert len(browser.execute_script(DRAWN, '.node')) == len(data['graphs'][with_errors[0]]['nodes'])
    assert len(browser.execute_script(EDGES)) == len(data['graphs'][with_errors[0]]['edges'])

def test_graph_viewer_node_shows_its_card_and_top_logits(site, browser):
    "Clicking a latent shows its card (07_interp's) with the tokens it promotes; its URL reopens it on a fresh load."
    visit(browser, graphs_page(site).as_uri())
    g = browser.execute_script("return window.GRAPHS.graphs[0]")
    i = min((i for i, n in enumerate(g['nodes']) if n['kind'] == 'feature' and n['pruned']),
            key=lambda i: g['nodes'][i]['influence'])                                 # the most influential latent
    n = g['nodes'][i]
    browser.find_element('css selector', f'.node[data-i="{i}"]').click()
    card = browser.find_element('css selector', '#panel #card .snb-card')
    assert card.get_attribute('data-latent') == str(n['latent'])
    assert browser.find_element('css selector', '#panel h3').text.startswith(f"layer {n['layer']} latent {n['latent']}")
    assert 'Promotes' in card.text and 'Suppresses' in card.text and 'Top activations' in card.text
    assert 'Strongest inputs' in browser.find_element('id', 'panel').text
    assert browser.current_url.endswith(f'#g0n{i}')
    browser.save_screenshot(str(ARTIFACTS/'graph_viewer.png'))
    browser.get('about:blank'); visit(browser, graphs_page(site).as_uri() + f'#g0n{i}')
    reopened = browser.find_element('css selector', '#panel #card .snb-card')
    assert reopened.get_attribute('data-latent') == str(n['latent'])
    assert not [e for e in browser.get_log('browser') if e['level'] == 'SEVERE']

def test_graph_viewer_links_in_the_panel_move_to_that_node(site, browser):
    "An input or output listed in a node's panel is a button that opens that node."
    visit(browser, graphs_page(site).as_uri())
    g = browser.execute_script("return window.GRAPHS.graphs[0]")
    logit = next(i for i, n in enumerate(g['nodes'])
                 if n['kind'] == 'logit' and n['pruned'] and any(e[1] == i and e[3] for e in g['edges']))
    browser.find_element('css selector', f'.node[data-i="{logit}"]').click()
    assert browser.find_element('css selector', '#panel h3').text.startswith('logit')
    browser.find_element('css selector', '#panel button.go').click()               # its strongest input
    assert not browser.find_element('css selector', '#panel h3').text.startswith('logit')

CHAPTERS = ['saes', 'evals', 'formats', 'activations', 'interp']

@pytest.mark.parametrize('page', CHAPTERS)
def test_chapter_opens_with_an_example_and_ends_with_a_result(site, browser, page):
    "A library chapter: its first section is a worked example with a figure; its last output is a figure or a table."
    visit(browser, (site/f'{page}.html').as_uri())
    first = browser.execute_script("""
        const h = document.querySelector('article section section h2') || document.querySelector('article h2');
        const sec = h.closest('section');
        return [h.textContent, sec.querySelectorAll('img').length];""")
    assert first[0].startswith('In one example') and first[1] >= 1, first
    last = browser.execute_script("""
        const outs = document.querySelectorAll('article .cell_output');
        const o = outs[outs.length - 1];
        return o ? [o.querySelectorAll('img, table, .snb-card').length, o.textContent.slice(0, 80)] : [0, ''];""")
    assert last[0] >= 1, last

@pytest.mark.parametrize('page', CHAPTERS)
def test_long_code_is_folded_on_chapter_pages(site, browser, page):
    "No code cell longer than FOLD_LINES shows unfolded: the page reads as prose and results, the code a click away."
    from sparse_nb.site import FOLD_LINES
    visit(browser, (site/f'{page}.html').as_uri())
    shown = browser.execute_script("""
        return Array.from(document.querySelectorAll('article .cell_input'))
          .filter(c => c.offsetParent !== null).map(c => c.innerText.trim().split('\\n').length);""")
    folded = browser.execute_script("return document.querySelectorAll('article .tag_hide-input').length")
    assert folded >= 1 and max(shown, default=0) <= FOLD_LINES, (folded, sorted(shown)[-3:])
