"""Random opcode-level pickle programs that stress the memo, with CPython's results.

Usage: python3 gen_memo_programs.py --seed S --count N   (writes JSON lines to stdout)

    {"index": i, "pickle": "<hex>", "loads": ["<canon>" | "!<ExceptionName>", ...]}

Unlike gen_values.py (values pickled by CPython's pickler, which memoizes each object once and
only ever GETs finished objects), these programs are written opcode by opcode to reach what a
pickler never writes but a hostile or hand-made pickle can: GETs of values memoized a moment
ago and still on the stack, GETs of values already moved into a list by APPENDS/APPEND,
memoized values then consumed by TUPLE/TUPLE1-3/SETITEMS/POP, PUT over an existing index (the
later value wins), sparse LONG_BINPUT indices, the same value memoized under several indices,
and streams of several pickles read by one Unpickler (the memo carries over from one load() to
the next). Each stream is loaded with `pickle.Unpickler(BytesIO(data)).load()` until it ends;
`loads` lists each load's canon (see canon.py) or the exception CPython raised.

Deterministic for a given seed. Python 3.11, stdlib only; writes no files.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from streams import main  # noqa: E402

STRS = ["", "a", "key", "zoë", "жτχδ", "😀", "x" * 22, "y" * 23, "é" * 11, "é" * 12,
        "naïve café au lait, s'il vous plaît", "\u4e2d\u6587" * 8]


class Program:
    def __init__(self, rng):
        self.r = rng
        self.out = bytearray()
        # memo index -> "h" (hashable finished value), "u" (finished, unhashable: a tuple
        # holding a list), "c" (a container still open or reachable for mutation: never GET)
        self.memo = {}
        self.dense = 0        # what MEMOIZE would use: len(memo)

    # ---- emit ---------------------------------------------------------------------------
    def op(self, b, arg=b""):
        self.out += bytes([b]) + arg

    def memoize(self, kind):
        """Maybe memoize the value on top of the stack (several ways, sometimes twice)."""
        r = self.r
        for _ in range(2 if r.random() < 0.1 else 1):
            k = r.random()
            if k < 0.35:
                return
            if k < 0.7:
                idx = len(self.memo)
                self.op(0x94)                                  # MEMOIZE
            elif k < 0.85 or not self.memo:
                idx = len(self.memo)
                self.op(0x71, bytes([idx]) if idx < 256 else b"")  # BINPUT
                if idx >= 256:
                    self.out.pop()
                    self.op(0x72, struct.pack("<I", idx))     # LONG_BINPUT
            elif k < 0.95:
                idx = r.choice(list(self.memo))                # overwrite an index
                self.op(0x72, struct.pack("<I", idx))
            else:
                idx = r.randrange(5000, 1 << 17)               # sparse
                self.op(0x72, struct.pack("<I", idx))
            self.memo[idx] = kind

    def get(self, kinds):
        """GET of a memoized value of one of `kinds`, if any."""
        ids = [i for i, k in self.memo.items() if k in kinds]
        if not ids:
            return None
        idx = self.r.choice(ids)
        if idx < 256 and self.r.random() < 0.7:
            self.op(0x68, bytes([idx]))                        # BINGET
        else:
            self.op(0x6a, struct.pack("<I", idx))              # LONG_BINGET
        return self.memo[idx]

    # ---- values: each pushes exactly one value and returns its kind ---------------------
    def scalar(self):
        r = self.r
        k = r.random()
        if k < 0.45:
            s = r.choice(STRS) if r.random() < 0.6 else "".join(
                r.choice("abcdé€😀") for _ in range(r.randrange(0, 30)))
            b = s.encode("utf-8")
            if len(b) < 256:
                self.op(0x8c, bytes([len(b)]) + b)             # SHORT_BINUNICODE
            else:
                self.op(0x58, struct.pack("<I", len(b)) + b)   # BINUNICODE
        elif k < 0.65:
            self.op(0x4b, bytes([r.randrange(256)]))           # BININT1
        elif k < 0.75:
            self.op(0x4a, struct.pack("<i", r.randrange(-2 ** 31, 2 ** 31)))  # BININT
        elif k < 0.85:
            self.op(0x47, struct.pack(">d", r.random()))       # BINFLOAT
        elif k < 0.92:
            b = bytes(r.randrange(256) for _ in range(r.randrange(0, 40)))
            self.op(0x43, bytes([len(b)]) + b)                 # SHORT_BINBYTES
        else:
            self.op(0x4e)                                      # NONE
        self.memoize("h")
        return "h"

    def key(self):
        if self.r.random() < 0.3:
            kind = self.get("h")
            if kind is not None:
                return kind
        return self.scalar()

    def value(self, depth):
        r = self.r
        k = r.random()
        if depth > 3 or k < 0.4:
            return self.scalar()
        if k < 0.55:
            kind = self.get("hu")
            if kind is not None:
                return kind
            return self.scalar()
        if k < 0.75:
            return self.list_(depth)
        if k < 0.85:
            return self.dict_(depth)
        return self.tuple_(depth)

    def list_(self, depth):
        r = self.r
        self.op(0x5d)                                          # EMPTY_LIST
        self.memoize("c")
        for _ in range(r.randrange(0, 4)):
            if r.random() < 0.3:
                self.value(depth + 1)
                self.op(0x61)                                  # APPEND
            else:
                self.op(0x28)                                  # MARK
                for _ in range(r.randrange(0, 6)):
                    self.value(depth + 1)
                    if r.random() < 0.1:                       # a value pushed and popped
                        self.value(depth + 1)
                        self.op(0x30)                          # POP
                self.op(0x65)                                  # APPENDS
        return "c"

    def dict_(self, depth):
        r = self.r
        self.op(0x7d)                                          # EMPTY_DICT
        self.memoize("c")
        self.op(0x28)
        for _ in range(r.randrange(0, 5)):
            self.key()
            self.value(depth + 1)
        self.op(0x75)                                          # SETITEMS
        return "c"

    def tuple_(self, depth):
        r = self.r
        n = r.randrange(0, 5)
        if n <= 3 and r.random() < 0.6:
            kinds = [self.value(depth + 1) for _ in range(n)]
            self.op([0x29, 0x85, 0x86, 0x87][n])               # EMPTY_TUPLE, TUPLE1-3
        else:
            self.op(0x28)
            kinds = [self.value(depth + 1) for _ in range(n)]
            self.op(0x74)                                      # TUPLE
        kind = "h" if all(x == "h" for x in kinds) else "u"
        self.memoize(kind)
        return kind

    def pickle_(self):
        self.op(0x80, bytes([self.r.choice([2, 4, 5])]))      # PROTO
        self.value(0)
        self.op(0x2e)                                          # STOP


def make(rng):
    p = Program(rng)
    for _ in range(1 if rng.random() < 0.7 else rng.randrange(2, 4)):
        p.pickle_()
    return bytes(p.out)


if __name__ == "__main__":
    main(make)
