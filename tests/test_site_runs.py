"""An experiment with several runs, read on the site from disk: its page ends with a Runs table (the parameter that
differs, each result), an earlier run opens as its own report with its own figures, and the runs' headline curves
share one figure."""
from pathlib import Path
import pytest
from conftest import sparse_nb, last_line, EXPERIMENTS, run_tiny
from browser import chromium_or_skip, requests_made

@pytest.fixture(scope='module')
def two_runs_site(tmp_path_factory):
    root = tmp_path_factory.mktemp('site_runs')
    runs = [run_tiny('tms_dimensionality', root/'runs', '-p', 'seed', str(s)) for s in (0, 1)]
    r = sparse_nb('docs', '--out', root/'_docs', '--runs', root/'runs', experiments=EXPERIMENTS, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return Path(last_line(r.stdout)).parent, runs

@pytest.fixture(scope='module')
def browser():
    d = chromium_or_skip()
    yield d
    d.quit()

def test_runs_table_links_an_earlier_run_and_overlays_their_curves(two_runs_site, browser):
    site, (older, newer) = two_runs_site
    requests_made(browser)
    browser.get((site/'experiments'/'tms_dimensionality.html').as_uri())
    section = browser.find_element('id', 'runs')
    rows = section.find_elements('css selector', 'tbody tr')
    assert [r.find_elements('tag name', 'td')[0].text for r in rows] == [f'{newer.name} (this page)', older.name]
    header = [th.text for th in section.find_elements('css selector', 'thead th')]
    assert header[4:] == ['seed', 'result'], header                    # the one parameter that differs
    overlay = section.find_element('css selector', 'img')
    assert browser.execute_script('return arguments[0].naturalWidth', overlay) > 0
    link = rows[1].find_element('tag name', 'a').get_attribute('href')
    browser.get(link)
    assert f'(run {older.name})' in browser.find_element('css selector', 'article h1').text
    article = browser.find_element('tag name', 'article').text
    assert f'Run {older.name}' in article and 'seed' in article
    key = browser.find_element('css selector', 'article img')
    assert browser.execute_script('return arguments[0].naturalWidth', key) > 0   # its own key figure, from disk
    assert [u for u in requests_made(browser) if not u.startswith(('file://', 'data:'))] == []
