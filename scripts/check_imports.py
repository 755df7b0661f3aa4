"""Every module of a package imports on its own: each in a fresh interpreter, as a user's first import would be.

The interpreters run two at a time (the old one-by-one loop took 35 s of CI's 15 minutes); each one's output is
kept and printed only when its module fails.

Run: .venv/bin/python scripts/check_imports.py [PACKAGE_DIR]   (default: sparse_nb)
"""
import subprocess, sys
from pathlib import Path

def modules(pkg:Path)->list[str]:
    "The package's public modules, by name."
    return sorted(p.stem for p in pkg.glob('[a-z]*.py'))

def imports_alone(pkg:Path, name:str)->tuple[str, int, str]:
    "Import `pkg.name` in a fresh interpreter started in `pkg`'s parent folder: (name, exit code, its output)."
    r = subprocess.run([sys.executable, '-c', f'import {pkg.name}.{name}'], cwd=pkg.parent, capture_output=True,
                       text=True)
    return name, r.returncode, r.stdout + r.stderr

def failures(pkg:Path, jobs:int=2)->dict[str, str]:
    "The modules of `pkg` that do not import alone, with what their interpreter printed, checked `jobs` at a time."
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(jobs) as pool:
        done = pool.map(lambda name: imports_alone(pkg, name), modules(pkg))
        return {name: out for name, code, out in done if code}

if __name__ == '__main__':
    pkg = Path(sys.argv[1] if len(sys.argv) > 1 else 'sparse_nb').resolve()
    if bad := failures(pkg):
        for name, out in bad.items(): print(f"--- {pkg.name}.{name}\n{out}", file=sys.stderr)
        sys.exit(f"FAIL: not importable on their own: {', '.join(f'{pkg.name}.{m}' for m in bad)}")
    print(f"{len(modules(pkg))} modules of {pkg.name} import on their own")
