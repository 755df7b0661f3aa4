"Headless Chromium through Selenium, with every background-network feature off (the machines are offline)."
import os, shutil, tempfile
import pytest

CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync',
                  '--disable-dev-shm-usage', '--window-size=1280,900']

def chromium_or_skip():
    "A Selenium driver for Debian's chromium that keeps the console log; skip (fail under CI=true) when it is missing."
    binary, driver = shutil.which('chromium'), shutil.which('chromedriver')
    if not (binary and driver):
        msg = "no chromium/chromedriver on PATH (Debian: apt-get install chromium chromium-driver)"
        if os.environ.get('CI') == 'true': pytest.fail(msg + "; required when CI=true")
        pytest.skip(msg)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions(); opts.binary_location = binary
    for f in CHROMIUM_FLAGS + [f'--user-data-dir={tempfile.mkdtemp()}']: opts.add_argument(f)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL', 'performance': 'ALL'})   # + network events
    d = webdriver.Chrome(service=Service(driver), options=opts)
    d.set_page_load_timeout(60)
    return d

def requests_made(driver)->list[str]:
    ("URLs the browser requested since the last call, from its network events (file:// pages list none in timings); "
     "not the browser's own pages (chrome://: a slow start can load its new-tab page's icons while a page loads).")
    import json
    msgs = (json.loads(e['message'])['message'] for e in driver.get_log('performance'))
    urls = [m['params']['request']['url'] for m in msgs if m['method'] == 'Network.requestWillBeSent']
    return [u for u in urls if not u.startswith(('chrome://', 'chrome-untrusted://'))]
