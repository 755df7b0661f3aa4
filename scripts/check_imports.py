"""Every module of a package imports on its own: each in a fresh child process, two at a time.

The children fork from a parent that has imported only torch (a second of every import, the same in each), so no
module of the package is loaded before the one a child checks; a module that leans on another being imported first
fails here as it would for a user.

Run: .venv/bin/python scripts/check_imports.py [PACKAGE_DIR]   (default: sparse_nb)
"""
import importlib, os, sys, traceback
from pathlib import Path
import torch  # noqa: F401  (shared by every child; not a module of the package)

def modules(pkg:Path)->list[str]:
    "The package's public modules, by name."
    return sorted(p.stem for p in pkg.glob('[a-z]*.py'))

def start(pkg:str, name:str)->int:
    "Fork a child that imports `pkg.name` and exits 0, or prints the error and exits 1; its pid."
    pid = os.fork()
    if pid: return pid
    try: importlib.import_module(f'{pkg}.{name}'); code = 0
    except BaseException: traceback.print_exc(); code = 1
    sys.stdout.flush(); sys.stderr.flush(); os._exit(code)

def failures(pkg_dir:Path, jobs:int=2)->list[str]:
    "The modules of `pkg_dir` that do not import alone, checked `jobs` at a time."
    sys.path.insert(0, str(pkg_dir.parent))
    todo, running, failed = modules(pkg_dir), {}, []
    while todo or running:
        while todo and len(running) < jobs: name = todo.pop(0); running[start(pkg_dir.name, name)] = name
        pid, status = os.wait()
        if os.waitstatus_to_exitcode(status): failed.append(running[pid])
        del running[pid]
    return sorted(failed)

if __name__ == '__main__':
    pkg = Path(sys.argv[1] if len(sys.argv) > 1 else 'sparse_nb').resolve()
    if bad := failures(pkg):
        sys.exit(f"FAIL: not importable on their own: {', '.join(f'{pkg.name}.{m}' for m in bad)}")
    print(f"{len(modules(pkg))} modules of {pkg.name} import on their own")
