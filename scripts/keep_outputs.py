"""Run a library notebook and store the outputs of its cells tagged `keep_output` (the figures and tables a chapter
shows on the site); every other cell keeps what it had. Usage: python scripts/keep_outputs.py nbs/03_saes.ipynb ..."""
import base64, io, os, sys
from pathlib import Path
import nbformat
from PIL import Image
from execnb.nbio import read_nb
from execnb.shell import CaptureShell

WIDTH = 760   # pixels: the site's article width; execnb draws at twice that

def small_png(b64:str)->str:
    "A PNG (base64) scaled down to `WIDTH` pixels wide if it is wider, and optimised: committed outputs stay small."
    im = Image.open(io.BytesIO(base64.b64decode(b64)))
    if im.width > WIDTH: im = im.resize((WIDTH, round(im.height * WIDTH / im.width)), Image.LANCZOS)
    buf = io.BytesIO(); im.save(buf, format='PNG', optimize=True)
    return base64.b64encode(buf.getvalue()).decode()

def keep_outputs(path:Path)->int:
    "Execute `path` (from its folder) and write back the outputs of its `keep_output` cells; how many."
    ran = read_nb(path)
    here = os.getcwd(); os.chdir(path.parent)
    try: CaptureShell().run_all(ran, exc_stop=True)
    finally: os.chdir(here)
    nb = nbformat.read(path, as_version=4)
    kept = 0
    for cell, done in zip(nb.cells, ran.cells):
        if cell.cell_type == 'code' and 'keep_output' in cell.metadata.get('tags', []):
            cell.outputs = [nbformat.from_dict(dict(o)) for o in done.get('outputs', [])]; kept += 1
            for o in cell.outputs:
                if 'image/png' in o.get('data', {}): o['data']['image/png'] = small_png(o['data']['image/png'])
    nbformat.write(nb, path)
    return kept

if __name__ == '__main__':
    for p in sys.argv[1:]: print(p, keep_outputs(Path(p).resolve()), 'cells kept')
