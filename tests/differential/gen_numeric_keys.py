"""Dicts and sets whose keys are equal numbers of different types, with CPython's results.

Usage: python3 gen_numeric_keys.py --seed S --count N   (writes JSON lines to stdout)

    {"index": i, "pickle": "<hex>", "loads": ["<canon>" | "!<ExceptionName>", ...]}

Python treats `2**70`, `2.0**70`, `complex(2**70)` and (for 0 and 1) `False`/`True` as one
dict key or set member (and tuples and frozensets of such numbers alike), so a pickle whose `SETITEMS`/`SETITEM`/`ADDITEMS`/`FROZENSET` name the same number
twice in different types keeps the first key with the last value (a set: the first member).
No pickler writes such a pickle (the dict merged the keys before pickling); a hand-made one
can. The keys here sit on every edge where the decoder's int changes form or its float-to-int
hashing changes path: around 2**31, 2**53, 2**63, 2**64, 2**127, 2**128 and far above, both
signs, written as BININT1/BININT2/BININT, LONG1, LONG4, the text INT and LONG opcodes,
BINFLOAT (or the text FLOAT) and `complex(x, 0.0)` by REDUCE. Two pickles in five also hold
10-120 distinct filler ints, so the equal numbers meet in the decoder's hash table for large
sets (more than 16 keys), across its growth and across `SETITEMS` batches. Each load is compared
with CPython's `Unpickler.load()`.

Deterministic for a given seed. Python 3.11, stdlib only; writes no files.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from streams import main  # noqa: E402

EDGES = [0, 1, 31, 32, 52, 53, 54, 62, 63, 64, 65, 100, 126, 127, 128, 129, 200, 1023]


def number(r):
    """An integer near a power of two that matters to the decoder, or a random one."""
    if r.random() < 0.8:
        e = r.choice(EDGES)
        n = (1 << e) + r.choice([0, 0, 0, -1, 1, -2, 2, r.randrange(-1000, 1000)])
        if e > 60 and r.random() < 0.5:
            # A sum of a few large powers of two: exactly representable as a float.
            n = (1 << e) + (r.randrange(1 << 20) << (e - 40))
    else:
        n = r.getrandbits(r.randrange(1, 140))
    return -n if r.random() < 0.5 else n


def int_op(r, n):
    """`n` written by an int opcode that can hold it."""
    choices = ["long1", "long4", "int", "long"]
    if 0 <= n < 256:
        choices.append("binint1")
    if 0 <= n < 65536:
        choices.append("binint2")
    if -2**31 <= n < 2**31:
        choices.append("binint")
    op = r.choice(choices)
    if op == "binint1":
        return b"K" + bytes([n])
    if op == "binint2":
        return b"M" + struct.pack("<H", n)
    if op == "binint":
        return b"J" + struct.pack("<i", n)
    if op == "int":
        return b"I%d\n" % n
    if op == "long":
        return b"L%dL\n" % n
    raw = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True) if n else b""
    if op == "long1":
        return b"\x8a" + bytes([len(raw)]) + raw
    return b"\x8b" + struct.pack("<i", len(raw)) + raw


def float_op(r, n):
    """The float nearest `n` (equal to it when `n` is exactly representable)."""
    try:
        f = float(n)
    except OverflowError:
        f = float("inf") if n > 0 else float("-inf")
    if r.random() < 0.8:
        return b"G" + struct.pack(">d", f)
    return b"F" + repr(f).encode() + b"\n"


def key(r, n):
    """`n` as an int, a float, a complex or (0 and 1) a bool."""
    k = r.random()
    if k < 0.4:
        return int_op(r, n)
    if k < 0.8:
        return float_op(r, n)
    if k < 0.9:
        # complex(n, 0) equals n: builtins.complex called by REDUCE on a float real part.
        return b"cbuiltins\ncomplex\n(" + float_op(r, n) + b"G" + struct.pack(">d", 0.0) + b"tR"
    if n in (0, 1):
        return b"\x88" if n else b"\x89"
    return int_op(r, n)


def compound_key(r, numbers):
    """A number, or a tuple / frozenset of numbers (equal when their members are)."""
    k = r.random()
    if k < 0.7:
        return key(r, r.choice(numbers))
    members = [key(r, r.choice(numbers)) for _ in range(r.randrange(1, 4))]
    if k < 0.9:
        return b"(" + b"".join(members) + b"t"
    return b"(" + b"".join(members) + b"\x91"


def value(i):
    """The int `i` (the position of its pair), as a pickle opcode."""
    return b"K" + bytes([i]) if i < 256 else b"M" + struct.pack("<H", i)


def make(r):
    """One pickle: a dict, set or frozenset whose keys come in groups of equal numbers.

    In two pickles of five, distinct filler ints are mixed in, so that the set has more than
    16 keys (the decoder's small sets end there) and the equal numbers meet in its hash table,
    before or after it grows; a dict's pairs then come in up to four `SETITEMS` batches.
    """
    numbers = [number(r) for _ in range(r.randrange(1, 5))]
    keys = [compound_key(r, numbers) for _ in range(r.randrange(2, 9))]
    if r.random() < 0.4:
        base = r.randrange(1 << 20)
        for j in range(r.randrange(10, 120)):
            keys.insert(r.randrange(len(keys) + 1), int_op(r, base + 3 * j))
    kind = r.choice("dDsf")
    out = b"\x80\x04" if r.random() < 0.5 else b""
    if kind == "d":                       # SETITEMS, in one to four batches
        cuts = sorted(r.randrange(len(keys) + 1) for _ in range(r.randrange(0, 4)))
        out += b"}("
        for i, k in enumerate(keys):
            if i in cuts:
                out += b"u("
            out += k + value(i)
        out += b"u"
    elif kind == "D":                     # SETITEM after SETITEM
        out += b"}"
        for i, k in enumerate(keys):
            out += k + value(i) + b"s"
    elif kind == "s":                     # EMPTY_SET, ADDITEMS
        out += b"\x8f(" + b"".join(keys) + b"\x90"
    else:                                 # FROZENSET
        out += b"(" + b"".join(keys) + b"\x91"
    return out + b"."


if __name__ == "__main__":
    main(make)
