"""Long `str` and `bytes` values around the decoder's Latin-1 threshold, with CPython's results.

Usage: python3 gen_long_text.py --seed S --count N   (writes JSON lines to stdout)

    {"index": i, "pickle": "<hex>", "loads": ["<canon>" | "!<ExceptionName>", ...]}

The decoder keeps a long `BINUNICODE` whose code points are all below U+0100 one byte per code
point (and shares those bytes with `_codecs.encode(s, 'latin1')`, which is how protocols 0-2
pickle `bytes`). This corpus reaches every edge of that path and compares each load with
CPython's `Unpickler.load()`:

  * `bytes` of random, ASCII-only, high-only and mostly-ASCII content pickled in every protocol,
    lengths on both sides of the threshold (16 KiB of UTF-8) and at every remainder mod 8;
  * `str` of Latin-1 text, and of Latin-1 text with one wider character (U+0100, U+07FF,
    U+0800, U+20AC, U+1F600, a lone surrogate) at a random place, so the fast check must
    give up at any byte position;
  * the same value twice in one pickle and across two pickles of one stream (memo `GET`s), as a
    dict key and a set member (hashing), and next to an equal short str (equality);
  * hand-written `BINUNICODE`s of such text with one byte broken (a continuation byte made
    ASCII, a lead made 0xC0/0xC1/0xC4/0xFF, a sequence cut at the end, a stray continuation
    byte): CPython's UnicodeDecodeError must be ours.

Deterministic for a given seed. Python 3.11, stdlib only; writes no files.
"""
import io
import os
import pickle
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from streams import main  # noqa: E402

THRESHOLD = 16 * 1024
WIDE = ["\u0100", "\u07ff", "\u0800", "\u20ac", "\U0001f600", "\ud800"]


def length(r):
    """A UTF-8 length target near the threshold or well above it."""
    return r.choice([
        THRESHOLD - 1 - r.randrange(16),
        THRESHOLD + r.randrange(64),
        THRESHOLD * 2 + r.randrange(8),
        THRESHOLD + r.randrange(THRESHOLD),
    ])


def latin1_text(r, utf8_len, ascii_share):
    """Text of code points below U+0100 whose UTF-8 is about `utf8_len` bytes."""
    out = []
    n = 0
    while n < utf8_len:
        if r.random() < ascii_share:
            c = chr(r.randrange(0x80))
            n += 1
        else:
            c = chr(r.randrange(0x80, 0x100))
            n += 2
        out.append(c)
    return "".join(out)


def some_bytes(r):
    n = length(r) // r.choice([1, 2])
    kind = r.randrange(4)
    if kind == 0:
        return bytes(r.randrange(256) for _ in range(n))
    if kind == 1:
        return bytes(r.randrange(128) for _ in range(n))
    if kind == 2:
        return bytes(r.randrange(128, 256) for _ in range(n))
    return bytes(r.randrange(256) if r.random() < 0.05 else r.randrange(32, 127) for _ in range(n))


def some_str(r):
    s = latin1_text(r, length(r), r.choice([0.0, 0.5, 0.95, 1.0]))
    if r.random() < 0.4:
        at = r.randrange(len(s) + 1)
        s = s[:at] + r.choice(WIDE) + s[at:]
    return s


def binunicode(text_bytes):
    return b"X" + struct.pack("<I", len(text_bytes)) + text_bytes


def broken(r):
    """A protocol-2 pickle of one BINUNICODE whose Latin-1 UTF-8 has one byte broken."""
    s = latin1_text(r, length(r), 0.5)
    b = bytearray(s.encode("utf-8"))
    highs = [i for i, c in enumerate(b) if c >= 0x80]
    how = r.randrange(4)
    if how == 0 and highs:
        # A continuation byte made ASCII (or a lead's partner lost).
        conts = [i for i in highs if b[i] < 0xc0]
        b[r.choice(conts)] = 0x41
    elif how == 1 and highs:
        leads = [i for i in highs if b[i] >= 0xc0]
        b[r.choice(leads)] = r.choice([0xc0, 0xc1, 0xc4, 0xdf, 0xe0, 0xf0, 0xff])
    elif how == 2:
        b += bytes([r.choice([0xc2, 0xc3])])
    else:
        b.insert(r.randrange(len(b) + 1), r.randrange(0x80, 0xc0))
    return b"\x80\x02" + binunicode(bytes(b)) + b"."


def value_case(r):
    v = some_bytes(r) if r.random() < 0.5 else some_str(r)
    shape = r.randrange(5)
    if shape == 0:
        obj = v
    elif shape == 1:
        obj = [v, v, 1]
    elif shape == 2:
        obj = {v: 1, "k": v}
    elif shape == 3:
        obj = {v, 2}
    else:
        obj = (v, v[:5], v[:5] * 1)
    proto = r.randrange(6)
    if r.random() < 0.3:
        # Two pickles sharing the memo: the second GETs what the first memoized.
        buf = io.BytesIO()
        p = pickle.Pickler(buf, proto)
        p.dump(obj)
        p.dump([obj, v])
        return buf.getvalue()
    return pickle.dumps(obj, proto)


def make(r):
    return broken(r) if r.random() < 0.25 else value_case(r)


if __name__ == "__main__":
    main(make)
