#!/usr/bin/env python3
"""Every allowed builtin called on every small argument list: pickles and CPython's outcome.

Usage (Python 3.11, stdlib only):

    python3 tests/differential/gen_builtin_calls.py [--seed S] [--triples N]

Writes JSON lines to stdout (nothing else is written anywhere), one per pickle:

    {"call": TEXT, "pickle": HEX, "o": "ok", "canon": C}
    {"call": TEXT, "pickle": HEX, "o": "err", "t": EXCEPTION_NAME, "m": MESSAGE}

`call` says what the pickle asks for (`REDUCE bytes(True,)`, informational), `canon` is
canon.py's form of what CPython 3.11's `pickle.loads` returned.

The callables are the ones `restricted_loads` allows: builtins str, list, dict, set,
frozenset, int, float, bool, tuple, bytes, bytearray, complex, and _codecs.encode. Each is
called, through each opcode that calls a class or function, on argument lists drawn from
ARGS below (values of every type the decoder makes, with the edge cases of each
constructor: bools as ints, bases, encodings, surrogates, NaN, nested and empty
containers):

  * REDUCE, protocol 2: no argument, every single argument, every pair for the callables
    that take two arguments or more (str, int, bytes, bytearray, complex, encode), N
    (default 3000) triples for those that take three, and samples of one argument too many;
  * REDUCE (protocol 0) and NEWOBJ (protocol 2; `cls.__new__(cls, *args)`: the mutable types
    ignore them): no argument, every single argument and N/2 pairs;
  * OBJ (protocol 1): no argument, every single argument and 200 pairs;
  * NEWOBJ_EX (protocol 4): no argument and every single argument, with no keywords and
    with each keyword dict of KWARGS (parameters, unknown names, a key that is not a str);
  * INST (protocol 0): no argument and every single argument;
  * first, bytes, bytearray and _codecs.encode (REDUCE, protocol 2) on every text of TEXTS
    with every encoding of ENCODINGS and every error handler of HANDLERS.

Random draws come from random.Random(S) (default seed 20261128).

Arguments are pickled by CPython itself (protocol 0 or 2, their PUT/GET indices restarting
for each argument: a later PUT replaces an earlier entry, which both decoders allow) and
spliced between the callable and its opcode. Only allowed globals appear, so CPython runs
unrestricted; `bytes(n)` arguments stay small.

Deterministic: the same seed and N give byte-identical output (the script re-executes itself
with PYTHONHASHSEED=0).
"""
import argparse
import codecs
import json
import os
import pickle
import random
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from canon import canon  # noqa: E402

CALLABLES = [
    ("builtins", n)
    for n in (
        "str", "list", "dict", "set", "frozenset", "int", "float", "bool", "tuple",
        "bytes", "bytearray", "complex",
    )
] + [("_codecs", "encode")]

# Unicode decimal digits and spaces are ASCII digits and spaces to int() and float().
ARGS = [
    None, True, False, 0, 1, -1, 2, 5, 16, 36, 37, 2**63 - 1, 2**70, -(2**70),
    0.0, -0.0, 1.5, -2.5, 1e300, float("nan"), float("inf"), float("-inf"),
    1j, complex(1.5, -0.0), complex(float("nan"), 1),
    "", "ab", "10", "-7", "0x1f", "0b101", " 12 ", "1_000", "1__0", "1.5", "nan", "-inf",
    "1e5", "é", "€", "\U0001f600", "\udc80", "a\x00b",
    "\u0663", "\u00a012\u2003", "\uff11\uff12", "\u0661.\u0665", "\U0001d7ce1", "x" * 300,
    "utf-8", "latin1", "latin-1", "ascii", "utf-16", "strict", "ignore", "replace",
    "surrogateescape", "nope",
    b"", b"ab", b"10", b"\xff\xfe", b"1.5", bytearray(), bytearray(b"xy"),
    (), (1,), (1, 2), ("a", "b"), ((1, 2),), (("k", 1), ("l", 2)), ([1, 2],),
    [], [1, 2], [True, 255], [256], [-1], [(1, 2)], [[1, 2]], [["k", 1]], [(1, 2, 3)],
    ["ab"], ["a", "b"], [1.5], [None],
    {}, {"a": 1}, {1: 2}, {(1, 2): 3},
    set(), {1}, {"x"}, frozenset(), frozenset({1}), frozenset({(1, 2)}),
    int, codecs.encode,
]

# How many positional arguments each callable takes (one if not listed).
MAX_ARGS = {"str": 3, "int": 2, "bytes": 3, "bytearray": 3, "complex": 2, "encode": 3}

# Encoding with every error handler: texts with characters each codec cannot encode, alone and
# in runs, lone surrogates in and out of surrogateescape's U+DC80-U+DCFF.
TEXTS = [
    "", "ab", "\xe9", "a\xe9\u20acb", "\u20ac\u20ac", "\U0001f600", "\udc80", "a\udcff\udc80b",
    "\udc80\u20ac", "\u20ac\udc80", "\ud800\udc00", "x\udc7f", "\udcff\u20ac\udc80", "\xff\udc80",
]
ENCODINGS = ["ascii", "latin-1", "utf-8"]
HANDLERS = [
    "strict", "ignore", "replace", "backslashreplace", "xmlcharrefreplace", "surrogateescape",
    "surrogatepass", "namereplace", "nope",
]

KWARGS = [
    {}, {"base": 2}, {"base": 0}, {"encoding": "ascii"}, {"x": 1}, {1: 2}, {"base": 2, "x": 1},
    {"x": 1, 1: 2}, {"object": "ab"}, {"errors": "strict"}, {"source": b"x"}, {"real": 1},
    {"imag": 2}, {"real": 1, "imag": 2, "x": 3},
]


def body(values, proto):
    """The opcodes that push each of `values`, in order (no PROTO, no STOP)."""
    out = b""
    for v in values:
        data = pickle.dumps(v, proto)
        if proto >= 2:
            data = data[2:]  # PROTO n
        out += data[:-1]  # STOP
    return out


def glob(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def pickles(seed, triples):
    """(call text, pickle) for every case, in a fixed order."""
    rng = random.Random(seed)
    singles = [(a,) for a in ARGS]
    pairs = [(a, b) for a in ARGS for b in ARGS]

    def sample(n, k):
        return [tuple(rng.choice(ARGS) for _ in range(k)) for _ in range(n)]

    for module, name in [("builtins", "bytes"), ("builtins", "bytearray"), ("_codecs", "encode")]:
        g = glob(module, name)
        for args in [(t, e, h) for t in TEXTS for e in ENCODINGS for h in HANDLERS]:
            t = repr(args)
            yield f"REDUCE p2 {module}.{name}{t}", b"\x80\x02" + g + body([args], 2) + b"R."
    for module, name in CALLABLES:
        g = glob(module, name)
        what = f"{module}.{name}"
        most = MAX_ARGS.get(name, 1)
        # Every argument list up to two arguments the callable takes, a sample of triples,
        # and a sample of one argument too many.
        lists = [()] + singles + (pairs if most >= 2 else sample(100, 2))
        lists += sample(triples, 3) if most >= 3 else sample(100, 3) if most == 2 else []
        lists += sample(50, 4) if most == 3 else []
        for args in lists:
            t = repr(args)
            yield f"REDUCE p2 {what}{t}", b"\x80\x02" + g + body([args], 2) + b"R."
        for args in [()] + singles + sample(triples // 2, 2):
            t = repr(args)
            yield f"REDUCE p0 {what}{t}", g + body([args], 0) + b"R."
        for args in [()] + singles + sample(triples // 2, 2):
            t = repr(args)
            yield f"NEWOBJ {what}{t}", b"\x80\x02" + g + body([args], 2) + b"\x81."
        for args in [()] + singles + sample(200, 2):
            yield f"OBJ {what}{args!r}", b"\x80\x01(" + g + body(args, 1) + b"o."
        for args in [()] + singles:
            for kw in KWARGS:
                yield (
                    f"NEWOBJ_EX {what}{args!r} {kw!r}",
                    b"\x80\x04" + g + body([args, kw], 3) + b"\x92.",
                )
            yield f"INST {what}{args!r}", b"(" + body(args, 0) + b"i" + g[1:] + b"."


def main():
    if os.environ.get("PYTHONHASHSEED") != "0":
        env = dict(os.environ, PYTHONHASHSEED="0")
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--triples", type=int, default=3000)
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    out = sys.stdout
    for call, data in pickles(a.seed, a.triples):
        line = {"call": call, "pickle": data.hex()}
        try:
            v = pickle.loads(data)
        except Exception as e:  # noqa: BLE001 - every outcome is recorded
            line.update(o="err", t=type(e).__name__, m=str(e))
        else:
            line.update(o="ok", canon=canon(v))
        out.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
