"""Shape checks for `make test`: lines fit in 120 columns; an exported cell holds one definition and is followed by
its example or test before the next exported definition (fastcore's granularity)."""
import ast, json, sys
from pathlib import Path

WIDTH = 120
ROOT = Path(__file__).resolve().parent.parent


def long_lines(name, text):
    "Problems for lines of `text` wider than `WIDTH`."
    return [f'{name}:{i}: {len(line)} columns (limit {WIDTH})'
            for i, line in enumerate(text.splitlines(), 1) if len(line) > WIDTH]


def without_nbdev_all(text):
    "A generated module's text with nbdev's `__all__` list blanked (nbdev writes it; no notebook line holds it)."
    out, inside = [], False
    for line in text.splitlines():
        inside = inside or line.startswith('__all__ = [')
        out.append('' if inside else line)
        inside = inside and not line.rstrip().endswith(']')
    return '\n'.join(out)


def definitions(src):
    "Names of the top-level functions and classes in `src` (None if it does not parse)."
    try: tree = ast.parse(src)
    except SyntaxError: return None
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
    return [n.name for n in tree.body if isinstance(n, kinds)]


def is_exported(src):
    "Whether a code cell's source carries an nbdev export directive."
    return any(line.strip() in ('#| export', '#|export', '#| exporti') for line in src.splitlines()[:3])


def notebook_problems(path):
    "Granularity and width problems of one notebook's code cells."
    cells = [c for c in json.loads(path.read_text())['cells'] if c['cell_type'] == 'code']
    srcs = [''.join(c['source']) for c in cells]
    out, name = [], path.relative_to(ROOT)
    for i, src in enumerate(srcs):
        out += long_lines(f'{name} cell {i + 1}', src)
        if not is_exported(src): continue
        defs = definitions(src) or []
        if len(defs) > 1: out.append(f'{name} cell {i + 1}: {len(defs)} definitions in one exported cell: {defs}')
        nxt = srcs[i + 1] if i + 1 < len(srcs) else None
        if defs and (nxt is None or (is_exported(nxt) and definitions(nxt))):
            out.append(f'{name} cell {i + 1}: exported {defs[0]} has no example or test after it')
    return out


def problems():
    "Every shape problem in the package, the notebooks and the tests."
    out = []
    for p in sorted((ROOT / 'nbs').rglob('*.ipynb')):
        if '.ipynb_checkpoints' not in p.parts: out += notebook_problems(p)
    for folder in ('sparse_nb', 'tests', 'scripts', 'benchmarks'):
        for p in sorted((ROOT / folder).rglob('*.py')):
            if p.name == '_modidx.py': continue
            text = p.read_text()
            out += long_lines(p.relative_to(ROOT), without_nbdev_all(text) if folder == 'sparse_nb' else text)
    for p in sorted((ROOT / 'sparse_nb' / 'assets').iterdir()):          # the pages' HTML, CSS and JavaScript
        out += long_lines(p.relative_to(ROOT), p.read_text())
    return out


if __name__ == '__main__':
    found = problems()
    print('\n'.join(found))
    if found: sys.exit(f'FAIL: {len(found)} shape problems (see above)')
    print('shape checks passed: 120 columns, one definition per exported cell with its example or test after it')
