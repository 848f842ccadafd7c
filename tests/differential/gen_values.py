#!/usr/bin/env python3
"""Random differential corpus: CPython-pickled values plus CPython's decoded canon.

Usage (Python 3.11, stdlib only):

    python3 tests/differential/gen_values.py --seed S --count N [--max-depth D]

Writes N JSON lines to stdout (nothing else is written anywhere), one object per
line with exactly these keys, in this order (json.dumps default separators,
ensure_ascii=True, so every line is pure ASCII):

    {"seed": S, "index": i, "protocol": p, "pickle": "<hex>", "canon": "<canon>", "repr": "<repr(v)>"}

  * index i = 0..N-1, protocol p = i % 6 (every protocol gets the same share);
  * pickle = pickle.dumps(v, protocol=p).hex();
  * canon = canon(pickle.loads(pickle.dumps(v, p))) with canon() from canon.py in
    this directory - i.e. what CPython's C unpickler returns, not v itself (this
    matters for NaN bits at protocol 0, which writes every NaN as `Fnan`);
  * repr = repr(v) (informational only: Python's complex repr is not always
    valid Python - `(inf+nanj)` - and loses signed zeros - `(-0-0j)` - and no
    repr keeps NaN payloads; the exact reference is canon).

Determinism: values come from random.Random(S) only; the script re-executes
itself with PYTHONHASHSEED=0 so set/frozenset iteration order - and therefore
the pickle bytes and repr - are identical on every run.  Same seed + count +
max-depth => byte-identical output; a longer --count extends a shorter run
(line i does not depend on N).

Values: nested mixes of None, bool, int (small, 1/2/4-byte boundaries, i64
edges, bigints up to ~2**300, negatives), float (normal, integral, tiny/denormal,
huge, +-0.0, +-inf, NaN incl. random payloads/sign and signalling NaNs, random
bit patterns), complex, str (ASCII, Latin-1, BMP, astral, lone surrogates,
quotes, backslashes, control chars, newlines, U+2028, empty, 255/256 and long
lengths), bytes, bytearray, list, tuple, dict (keys: None, bool, int, float,
str, bytes, tuples of hashables, frozensets), set, frozenset.  Containers nest
up to --max-depth levels (default 4); sizes are mostly 0-5, sometimes 6-40 and
occasionally 1000-1600 (APPENDS/SETITEMS/ADDITEMS batching; such big
containers hold only atoms).  Within one value, already-built objects are reused
with some probability (shared references -> memo PUT/GET in the pickle, and
sometimes the same object twice in a row); the corpus never contains cycles.
Rarely a str/bytes payload of 64-70 KiB appears (unframed at protocol 4/5).

Example: python3 gen_values.py --seed 1 --count 3000 > /tmp/corpus.jsonl  (~1 s, ~37 MB)
"""

import os
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

sys.dont_write_bytecode = True

import argparse
import json
import pickle
import random
import struct

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from canon import canon  # noqa: E402

INT_EDGES = [
    0, 1, -1, 127, 128, 255, 256, -128, -129, -255, -256, -257, 32767, 32768,
    65535, 65536, -32768, -32769, -65535, -65536, 2 ** 31 - 1, 2 ** 31, -2 ** 31,
    -2 ** 31 - 1, 2 ** 32 - 1, 2 ** 32, 2 ** 63 - 1, 2 ** 63, -2 ** 63,
    -2 ** 63 - 1, 2 ** 64 - 1, 2 ** 64, -2 ** 64, 2 ** 300, -2 ** 300,
]
FLOAT_EDGES = [
    0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1.5, 1e16, 1e-5, 1e100, -1e-300, 5e-324,
    -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
    -1.7976931348623157e308, float("inf"), float("-inf"), float("nan"),
    9007199254740992.0, 9007199254740993.0, 2.0 ** 63, -2.0 ** 63,
]
SPECIAL_CHARS = "'\"\\\n\r\t\x00\x7f\x1a\x0b\x0c\x85\xa0\u2028\u2029\ufeff\ufffd\uffff"
WEIRD_STRS = ["", "'", '"', "'\"", "\\", "\\u0041", "\\x41", "\\U0001F600", "\n", "L",
              "00", "01", "None", "\ud800", "\udfff", "\ud83d\ude00", "😀", "é€", "a" * 255,
              "a" * 256, "b" * 300]


CONTAINER_SKIP = (0.35, 0.6, 0.7)   # P(atom instead of container) at depth 0, 1, >=2


def _stable_hashable(v):
    """Hashable, and hash() does not depend on object addresses (no None/NaN inside)."""
    try:
        hash(v)
    except TypeError:
        return False
    stack = [v]
    while stack:
        x = stack.pop()
        if x is None:
            return False
        if type(x) is float and x != x:
            return False
        if type(x) is complex and (x.real != x.real or x.imag != x.imag):
            return False
        if type(x) in (tuple, frozenset):
            stack.extend(x)
    return True


def f64(bits):
    return struct.unpack(">d", bits.to_bytes(8, "big"))[0]


class Gen:
    def __init__(self, rng, max_depth):
        self.r = rng
        self.max_depth = max_depth
        self.pool = []        # completed memoizable objects (any type)
        self.hpool = []       # completed hashable objects, _stable_hashable only
        self.big_left = 1     # at most one 64-70 KiB payload per value
        self.big_containers_left = 1  # at most one 1000-1600 item container per value

    # ---- atoms -------------------------------------------------------------------------
    def int_(self):
        r = self.r
        k = r.random()
        if k < 0.35:
            return r.randrange(256)
        if k < 0.5:
            return r.randrange(256, 65536)
        if k < 0.65:
            return r.randrange(-2 ** 31, 2 ** 31)
        if k < 0.8:
            return r.choice(INT_EDGES)
        if k < 0.88:
            return r.randrange(-2 ** 64, 2 ** 64)
        if k < 0.95:
            bits = r.randrange(65, 301)
            v = r.getrandbits(bits) | (1 << (bits - 1))
            return -v if r.random() < 0.5 else v
        return -r.randrange(1, 300)

    def float_(self):
        r = self.r
        k = r.random()
        if k < 0.25:
            return r.uniform(-1, 1) * 10.0 ** r.randrange(-20, 21)
        if k < 0.35:
            return float(r.randrange(-10 ** 6, 10 ** 6))
        if k < 0.55:
            return r.choice(FLOAT_EDGES)
        if k < 0.62:
            return r.uniform(-1, 1) * 1e-310          # denormal
        if k < 0.68:
            return r.uniform(-1, 1) * 1e300
        if k < 0.8:
            # NaN with random sign and payload (quiet or signalling, never inf)
            mant = r.getrandbits(52) or 1
            sign = r.getrandbits(1) << 63
            return f64(sign | (0x7FF << 52) | mant)
        return f64(r.getrandbits(64))                 # arbitrary bit pattern

    def complex_(self):
        r = self.r
        if r.random() < 0.5:
            return complex(r.randrange(-5, 6), r.randrange(-5, 6))
        return complex(self.float_(), self.float_())

    def char(self):
        r = self.r
        k = r.random()
        if k < 0.45:
            return chr(r.randrange(0x20, 0x7F))
        if k < 0.55:
            return chr(r.randrange(0x80, 0x100))
        if k < 0.65:
            c = r.randrange(0x100, 0xFFFE)
            return chr(c)                              # may hit surrogates
        if k < 0.73:
            return chr(r.randrange(0x10000, 0x110000))
        if k < 0.8:
            return chr(r.randrange(0xD800, 0xE000))    # lone surrogate
        if k < 0.9:
            return r.choice(SPECIAL_CHARS)
        return chr(r.randrange(0x20))

    def str_(self):
        r = self.r
        k = r.random()
        if k < 0.15:
            return r.choice(WEIRD_STRS)
        if k < 0.9:
            return "".join(self.char() for _ in range(r.randrange(0, 12)))
        if k < 0.98 or k >= 0.9995 and not self.big_left:
            return "".join(self.char() for _ in range(r.randrange(12, 60)))
        if k < 0.9995:
            return "".join(self.char() for _ in range(r.randrange(60, 400)))
        self.big_left -= 1
        return r.choice("xyz€😀") * r.randrange(65536, 70000)

    def bytes_(self):
        r = self.r
        k = r.random()
        if k < 0.1:
            return r.choice([b"", b"\x00", b"\xff", b"'", b"\\", b"\n", b"x" * 255, b"x" * 256])
        if k < 0.9:
            return r.randbytes(r.randrange(0, 12))
        if k < 0.98 or k >= 0.9995 and not self.big_left:
            return r.randbytes(r.randrange(12, 60))
        if k < 0.9995:
            return r.randbytes(r.randrange(60, 400))
        self.big_left -= 1
        return bytes([r.randrange(256)]) * r.randrange(65536, 70000)

    def atom(self):
        r = self.r
        k = r.random()
        if k < 0.06:
            return None
        if k < 0.12:
            return r.random() < 0.5
        if k < 0.35:
            return self.int_()
        if k < 0.52:
            return self.float_()
        if k < 0.57:
            return self.complex_()
        if k < 0.8:
            return self.remember(self.str_())
        if k < 0.93:
            return self.remember(self.bytes_())
        return self.remember(bytearray(self.bytes_()))

    # ---- sharing ---------------------------------------------------------------------------
    def remember(self, v):
        self.pool.append(v)
        if _stable_hashable(v):
            self.hpool.append(v)
        return v

    def size(self):
        r = self.r
        k = r.random()
        if k < 0.88:
            return r.randrange(0, 6)
        if k < 0.99 or not self.big_containers_left:
            return r.randrange(6, 21)
        self.big_containers_left -= 1
        return -1                                      # "big": caller decides

    # ---- hashables -------------------------------------------------------------------------
    def key(self, depth, unstable_ok=True):
        """A hashable value.

        In CPython 3.11, hash(None) and hash(nan) are derived from the object's
        address, so the iteration order of a set holding them (and of a set
        holding tuples/frozensets that contain them) changes from run to run
        and so would the pickle bytes.  Such "unstable" keys are therefore only
        produced where order cannot depend on them (unstable_ok=True): dict keys
        (dicts keep insertion order), elements of 1-element sets, and items of
        tuples / 1-element frozensets that are themselves in such a position."""
        r = self.r
        if self.hpool and r.random() < 0.12:
            return r.choice(self.hpool)
        k = r.random()
        if k < 0.05:
            return None if unstable_ok else r.randrange(-3, 4)
        if k < 0.1:
            return r.random() < 0.5
        if k < 0.4:
            return self.int_() if r.random() < 0.7 else r.randrange(-3, 4)
        if k < 0.5:
            f = self.float_() if r.random() < 0.6 else float(r.randrange(-3, 4))
            return f if unstable_ok or f == f else 0.25
        if k < 0.75:
            return self.remember(self.str_())
        if k < 0.85:
            return self.remember(self.bytes_())
        if depth >= self.max_depth:
            return r.randrange(100)
        n = min(self.size(), 4) if r.random() < 0.9 else r.randrange(0, 8)
        n = max(n, 0)
        if k < 0.94:
            return self.remember(tuple(self.key(depth + 1, unstable_ok) for _ in range(n)))
        items = [self.key(depth + 1, unstable_ok and n == 1) for _ in range(n)]
        return self.remember(frozenset(items))

    # ---- general values ---------------------------------------------------------------------
    def value(self, depth=0):
        r = self.r
        if self.pool and r.random() < 0.12:
            return r.choice(self.pool)                  # shared reference
        if depth >= self.max_depth or r.random() < CONTAINER_SKIP[min(depth, 2)]:
            return self.atom()
        kind = r.choice("LLTTDDSZ")
        n = self.size()
        big = n < 0
        if big:
            n = r.randrange(1000, 1601)
            elem = self.atom
            key = (lambda: self.key(self.max_depth, kind == "D" or n == 1))
        else:
            elem = (lambda: self.value(depth + 1))
            key = (lambda: self.key(depth + 1, kind == "D" or n == 1))
        if kind in "LT":
            items = []
            if big and r.random() < 0.6:
                # Runs of a few shared objects (`[x] * n`), across APPENDS batches of 1000.
                few = [self.value(self.max_depth - 1) for _ in range(r.randrange(1, 3))]
                while len(items) < n:
                    items += [r.choice(few)] * r.randrange(1, 700)
                del items[n:]
            for _ in range(n - len(items)):
                if items and r.random() < 0.05:
                    items.append(items[-1])            # same object twice in a row
                elif items and r.random() < 0.02:
                    items += [items[-1]] * r.randrange(2, 9)
                else:
                    items.append(elem())
            del items[n:]
            v = items if kind == "L" else tuple(items)
        elif kind == "D":
            v = {}
            for _ in range(n):
                v[key()] = elem()
        else:
            items = [key() for _ in range(n)]
            v = set(items) if kind == "S" else frozenset(items)
        return self.remember(v)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--max-depth", type=int, default=4)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    out = sys.stdout
    for i in range(args.count):
        p = i % 6
        g = Gen(rng, args.max_depth)
        v = g.value(0)
        data = pickle.dumps(v, protocol=p)
        line = {
            "seed": args.seed,
            "index": i,
            "protocol": p,
            "pickle": data.hex(),
            "canon": canon(pickle.loads(data)),
            "repr": repr(v),
        }
        out.write(json.dumps(line) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
