"The rendered site in a real browser: navigation resolves, figures have pixels."
from pathlib import Path
import pytest
from conftest import sparse_nb, last_line, REPO
from browser import chromium_or_skip

ARTIFACTS = REPO/'tests'/'artifacts'

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "A fixture run, then the site built from it by `sparse_nb docs`."
    tmp = tmp_path_factory.mktemp('site')
    r = sparse_nb('run', 'fixture', '-p', 'title', 'rendered fixture', '--out', tmp/'runs', '--no-progress')
    assert r.returncode == 0, r.stderr
    r = sparse_nb('docs', '--out', tmp/'_docs', '--runs', tmp/'runs')
    assert r.returncode == 0, r.stderr
    index = Path(last_line(r.stdout))
    assert index == tmp/'_docs'/'index.html' and index.exists()
    return index.parent

@pytest.fixture(scope='module')
def browser():
    d = chromium_or_skip()
    yield d
    d.quit()

def sidebar_links(browser):
    return [a.get_attribute('href') for a in browser.find_elements('css selector', 'nav.snb-sidebar a')]

def test_every_page_in_the_sidebar(site):
    pages = ['index.html', 'core.html', 'experiments.html', 'site.html', 'cli.html', 'experiments/fixture.html']
    for p in pages: assert (site/p).exists(), p

def test_navigation_links_resolve(site, browser):
    browser.get((site/'index.html').as_uri())
    links = sidebar_links(browser)
    assert len(links) >= 6 and any(l.endswith('/core.html') for l in links)
    for href in links:
        browser.get(href)
        assert browser.find_elements('css selector', 'nav.snb-sidebar'), f"{href} did not load a site page"
        assert browser.find_elements('css selector', 'h1'), f"{href} has no title"
        assert Path(href.removeprefix('file://')).exists()
    ARTIFACTS.mkdir(exist_ok=True)
    browser.get((site/'index.html').as_uri()); browser.save_screenshot(str(ARTIFACTS/'site_index.png'))

def figure_sizes(browser):
    "Rendered (naturalWidth, naturalHeight) of every <img> once loaded."
    return browser.execute_script("return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.naturalHeight])")

@pytest.mark.parametrize('page', ['core.html', 'experiments/fixture.html'])
def test_figures_have_pixels(site, browser, page):
    browser.get((site/page).as_uri())
    sizes = figure_sizes(browser)
    assert sizes and all(c and w > 0 and h > 0 for c, w, h in sizes), sizes
    browser.save_screenshot(str(ARTIFACTS/(page.replace('/', '_') + '.png')))

def test_experiment_page_shows_latest_run(site, browser):
    browser.get((site/'experiments'/'fixture.html').as_uri())
    text = browser.find_element('tag name', 'body').text
    assert 'Latest run:' in text and 'rendered fixture' in text  # the injected parameter, not the default

def test_run_site_assets_are_copied(site, browser):
    asset = site/'experiments'/'fixture'/'hello.html'
    assert asset.exists()
    browser.get(asset.as_uri())
    assert browser.find_element('tag name', 'h1').text == 'hello from rendered fixture'
