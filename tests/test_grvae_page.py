("The static GR-VAE slider page in headless Chromium: moving a slider redraws the digit, "
 "and the browser's decoder matches Python's.")
import torch
from selenium.webdriver.common.keys import Keys
import pytest
from sparse_nb.grvae import GRVAE, slider_data, write_slider_page, decoder_weights, dequantize
from browser import chromium_or_skip

@pytest.fixture(scope='module')
def page(tmp_path_factory):
    torch.manual_seed(0)
    model = GRVAE()
    return model, write_slider_page(slider_data(model, run='test'), tmp_path_factory.mktemp('grvae'))

@pytest.fixture(scope='module')
def browser():
    d = chromium_or_skip(); yield d; d.quit()

def canvas_pixels(browser)->list[int]:
    "Grey values at the centres of the 28x28 cells of the 280x280 canvas."
    return browser.execute_script("""
        const c = document.getElementById('out').getContext('2d'), out = [];
        const d = c.getImageData(0, 0, 280, 280).data;
        for (let r = 0; r < 28; r++) for (let k = 0; k < 28; k++) out.push(d[4 * ((r * 10 + 5) * 280 + k * 10 + 5)]);
        return out;""")

def python_decode(model, z)->list[int]:
    "What the page should draw: the dequantized decoder, rounded to grey levels."
    layers = decoder_weights(model)
    lins = [m for m in model.decoder if isinstance(m, torch.nn.Linear)]
    h = torch.tensor(z)
    for i, (lay, lin) in enumerate(zip(layers, lins)):
        h = dequantize(lay) @ h + lin.bias.detach()
        h = torch.relu(h) if i < 2 else torch.sigmoid(h)
    return (255 * h).round().int().tolist()

def test_moving_a_slider_redraws(page, browser):
    model, path = page
    browser.get(path.as_uri())
    before = canvas_pixels(browser)
    assert len(browser.find_elements('css selector', 'input[type=range]')) == 10
    slider = browser.find_element('id', 'z7')
    slider.click(); slider.send_keys(Keys.RIGHT * 20)          # a person moving latent 7 up by 20 steps
    after = canvas_pixels(browser)
    assert float(browser.find_element('id', 'v7').text) > 0
    assert sum(abs(a - b) for a, b in zip(before, after)) > 100, "the digit did not change"

def test_browser_decoder_matches_python(page, browser):
    model, path = page
    browser.get(path.as_uri())
    z = [0.0] * 10; z[3] = 1.5                                   # the page's initial sliders
    diff = [abs(a - b) for a, b in zip(canvas_pixels(browser), python_decode(model, z))]
    assert max(diff) <= 2, max(diff)
