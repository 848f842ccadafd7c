"""Pickles of `bytes`/`bytearray` payloads around the size a shared input lends as a window.

Usage: python3 gen_blobs.py   (writes one line per pickle: "<protocol> <hex>", then CPython's
canon of the value, tab-separated)

Sizes straddle 1 KiB (the smallest window) and 64 KiB (where CPython's pickler writes the
payload outside its frame); payloads are alone, in lists and dicts, memoized and fetched again
(a GET of a window), used as dict keys and set members, and as bytearrays (BYTEARRAY8 in
protocol 5). Deterministic; Python 3.11, stdlib only.
"""
import os
import pickle
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "differential"))
from canon import canon  # noqa: E402


def blob(n, seed):
    return bytes((i * 131 + seed * 17) & 0xFF for i in range(n))


def values():
    for n in (0, 1, 255, 256, 1023, 1024, 1025, 4096, 65535, 65536, 70000):
        b = blob(n, n % 7)
        yield b
        yield bytearray(b)
        yield [b, b, bytearray(b)]
        yield {b"k" + b[:3]: b, "same": b}
        yield {b: len(b)} if n else {b"": 0}
        yield (b, {b}, frozenset([b]))
    yield [blob(2000, s) for s in range(5)]


def main():
    for v in values():
        for proto in (3, 4, 5):
            data = pickle.dumps(v, protocol=proto)
            sys.stdout.write("%d %s\t%s\n" % (proto, data.hex(), canon(pickle.loads(data))))


if __name__ == "__main__":
    main()
