"Helpers shared by the benchmark scripts."
import time

def timed(fn)->float:
    "Wall seconds of `fn()`."
    t = time.perf_counter(); fn(); return time.perf_counter() - t
