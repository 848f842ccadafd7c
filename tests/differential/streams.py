"""Shared driver of the generators of pickle streams (gen_memo_programs.py, gen_long_text.py).

Each generator supplies `make(rng) -> bytes`, a stream of one or more pickles; `main(make)`
parses `--seed S --count N` and writes one JSON line per stream to stdout:

    {"index": i, "pickle": "<hex>", "loads": ["<canon>" | "!<ExceptionName>", ...]}

where `loads` lists what each `pickle.Unpickler(BytesIO(data)).load()` of the stream returned
(see canon.py), up to and including the first exception. Python 3.11, stdlib only; writes no
files.
"""
import argparse
import io
import json
import os
import pickle
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from canon import canon  # noqa: E402


def run_cpython(data):
    """Each load of the stream `data` by one CPython Unpickler, as canons or `!Exception`."""
    results = []
    bio = io.BytesIO(data)
    u = pickle.Unpickler(bio)
    while bio.tell() < len(data):
        try:
            results.append(canon(u.load()))
        except Exception as e:  # noqa: BLE001 - the exception's name is the expected result
            results.append("!" + type(e).__name__)
            break
    return results


def main(make):
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    for i in range(a.count):
        data = make(rng)
        print(json.dumps({"index": i, "pickle": data.hex(), "loads": run_cpython(data)}))
