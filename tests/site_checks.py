"Checks of a built site read from its HTML files: dead links, and noise in what a reader reads."
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit, unquote

LINKING = {'a': 'href', 'link': 'href', 'img': 'src', 'iframe': 'src', 'script': 'src'}
ELSEWHERE = ('http', 'https', 'mailto', 'data', 'javascript')   # not files of the site (and none is loaded: see tests)

class PageLinks(HTMLParser):
    "The ids a page declares and the links it holds, as `(tag, url)`."
    def __init__(self):
        super().__init__(); self.ids, self.links = set(), []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'])
        if tag == 'a' and a.get('name'): self.ids.add(a['name'])
        if a.get(LINKING.get(tag, '')): self.links.append((tag, a[LINKING[tag]]))

def page_links(page:Path)->PageLinks:
    "The parsed ids and links of `page`."
    p = PageLinks(); p.feed(page.read_text(errors='replace')); return p

def dead_links(site:Path)->list[tuple[str, str, str]]:
    "Every link of every page under `site` whose file or anchor is missing: `(page, url, why)`."
    parsed, bad = {}, []
    def get(p:Path)->PageLinks:
        if p not in parsed: parsed[p] = page_links(p)
        return parsed[p]
    for page in sorted(p for p in site.rglob('*.html') if '_static' not in p.parts):
        for _, url in get(page).links:
            u = urlsplit(url)
            if u.scheme in ELSEWHERE or url.startswith('//'): continue
            target = (page.parent/unquote(u.path)).resolve() if u.path else page
            if not target.is_file(): bad.append((str(page.relative_to(site)), url, 'no such file'))
            elif u.fragment and target.suffix == '.html' and unquote(u.fragment) not in get(target).ids:
                bad.append((str(page.relative_to(site)), url, 'no such anchor'))
    return bad

VOID = {'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr'}
NOISE = {'a machine path': r'(?<![\w:/.~])(?:/[\w.-]+){3,}',                       # /home/me/.cache/... (3+ parts)
         'a Python repr': (r"\{'[\w ]+': |(?<![\w)\]])\((?:-?[\d.]+, )+-?[\d.]+\)"   # {'step': 3}, (60000, 64),
                           r"|\['[^'\]]*'(?:, '[^'\]]*')*\]"),                          # ['upper_case']
         'a cut value': r'\w…|\w\.\.\.(?!\w)'}                                   # 'Spea…', 'FloatSlider(...'

class ReadText(HTMLParser):
    "The text of a page's article a run wrote: not code the author typed (inputs, literals), scripts or styles."
    def __init__(self):
        super().__init__(); self.chunks, self.stack, self.skip_at, self.article = [], [], None, False
    def handle_starttag(self, tag, attrs):
        if tag in VOID: return
        a = dict(attrs); self.stack.append(tag)
        if tag == 'article': self.article = True
        cls = a.get('class') or ''
        hidden = (tag in ('script', 'style', 'code') or 'cell_input' in cls
                  or re.search(r'\bhighlight-(?!myst-ansi)', cls) is not None)   # outputs are myst-ansi blocks
        if self.skip_at is None and hidden: self.skip_at = len(self.stack)
    def handle_endtag(self, tag):
        if tag in VOID or not self.stack: return
        while self.stack and self.stack.pop() != tag: pass
        if self.skip_at is not None and len(self.stack) < self.skip_at: self.skip_at = None
    def handle_data(self, data):
        if self.article and self.skip_at is None: self.chunks.append(data)

def read_text(page:Path)->str:
    "What runs wrote into `page`'s article: outputs, tables, headlines and captions among the prose."
    p = ReadText(); p.feed(page.read_text(errors='replace')); return ' '.join(p.chunks)

def noise(text:str)->dict[str, list[str]]:
    "Each kind of noise `text` holds, with what matched."
    found = {kind: re.findall(rx, text) for kind, rx in NOISE.items()}
    return {k: v for k, v in found.items() if v}

def image_bytes(src:str)->bytes:
    "The bytes of an image a page shows, from its `data:` URL or its file."
    import base64
    from urllib.request import url2pathname
    if src.startswith('data:'): return base64.b64decode(src.split(',', 1)[1])
    return Path(url2pathname(urlsplit(src).path)).read_bytes()

def figure_note(png:bytes, key:str)->float|None:
    "A number `RunDir.save_figure` recorded in the PNG's text chunks under `key` (None: not recorded)."
    import io
    from PIL import Image
    v = Image.open(io.BytesIO(png)).text.get(key)
    return float(v) if v else None

def text_px(png:bytes)->float|None:
    "The smallest text's height in pixels at the PNG's own size, as `RunDir.save_figure` recorded it (None: not)."
    from sparse_nb.core import TEXT_PX_KEY
    return figure_note(png, TEXT_PX_KEY)
