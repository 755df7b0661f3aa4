"Helpers shared by the benchmark scripts: interleaved timing with medians, the machine's description, optional peers."
import os, platform, statistics, sys, time
from datetime import datetime, timezone
from pathlib import Path
import torch
from sparse_nb.core import machine as run_machine, cpu_flags as all_cpu_flags   # as run.json records them

def timed(fn)->float:
    "Wall seconds of `fn()`."
    t = time.perf_counter(); fn(); return time.perf_counter() - t

def compare(fns:dict, rounds:int=5)->dict:
    "Median wall seconds of each `fns` entry over `rounds` interleaved rounds, after one warm-up call of each."
    for f in fns.values(): f()
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, f in fns.items(): times[name].append(timed(f))
    return {name: statistics.median(ts) for name, ts in times.items()}

def cpu_flags()->list:
    "The vector-instruction flags that matter for matmuls, of those the CPU reports."
    return [f for f in ('avx2', 'fma', 'avx512f', 'avx512_bf16', 'avx512_vnni', 'amx_bf16', 'amx_tile', 'bf16')
            if f in all_cpu_flags()]

def machine()->dict:
    "Where and when the numbers were measured."
    return {'date': datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC'), **run_machine(), 'flags': cpu_flags(),
            'threads': torch.get_num_threads(), 'python': platform.python_version()}

def import_peers()->list:
    ("Put `$SPARSE_NB_PEERS_PATH` (a folder holding the peers' packages, e.g. sparsify and its dependencies) "
     "on sys.path; the peers that import.")
    path = os.environ.get('SPARSE_NB_PEERS_PATH')
    if not path: return []
    sys.path.insert(0, path); os.environ.setdefault('SPARSIFY_DISABLE_TRITON', '1')
    found = []
    for name in ('sparsify', 'dictionary_learning'):
        try: __import__(name); found.append(name)
        except Exception as e:
            print(f"peer {name} not importable from {path}: {type(e).__name__}: {e}", file=sys.stderr)
    return found
