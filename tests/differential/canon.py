"""Canonical text form of decoded pickle values (shared contract with the Rust tests).

This module writes no files.  It is imported by:
  * tests/fixtures/generate.py        (writes tests/fixtures/values/)
  * tests/fixtures/cpython_cases.py   (writes tests/fixtures/cpython_cases.json)
  * tests/differential/gen_values.py  (random differential corpus on stdout)
  * tests/differential/check_repr.py  (checks our decoder's repr against canon)
  * tests/differential/streams.py     (the driver of gen_memo_programs.py and gen_long_text.py)
Python 3.11, stdlib only.

Grammar (type-exact, deterministic; the Rust side must produce byte-identical text):

    None                -> N
    bool                -> B0 | B1
    int (not bool)      -> I<decimal>                  e.g. I-5, I0
    float               -> F<16 lowercase hex digits of the IEEE-754 bits, big-endian>
                           (struct.pack('>d', x).hex(); NaN payload and sign kept)
    complex             -> C<hex bits of real>,<hex bits of imag>
    str                 -> S<hex of s.encode('utf-8', 'surrogatepass')>
    bytes               -> Y<hex>
    bytearray           -> A<hex>
    list                -> L[<item>,<item>,...]
    tuple               -> T[<item>,...]
    dict                -> D{<key>:<value>,...}        (iteration order)
    set                 -> E{<elem>,...}               (element canons sorted as Python str,
    frozenset           -> Z{<elem>,...}                i.e. by code point == byte order, canon is ASCII)
    anything else       -> ?<type(v).__name__>         (must not occur in the safe corpora)

All hex is lowercase.  Type checks are exact (`type(v) is list`), so subclasses
(e.g. an IntEnum or OrderedDict) come out as `?Name`.  Shared references are simply
written out again at every occurrence.

Extension (only ever produced for cyclic values, which the value/differential
corpora never contain; tests/fixtures/cpython_cases.json has a few): a reference to
a container that is an *ancestor* of the current position is written `^<n>`, where
n = how many container levels up it is (1 = the immediately enclosing container).
E.g. `l = []; l.append(l)` -> `L[^1]`; `t = ([],); t[0].append(t)` -> `T[L[^2]]`.

API:
    canon(v, nan_normalize=False) -> str
        nan_normalize=True writes every NaN (float, or either part of a complex), and
        the zero parts of a complex, in one canonical form (a repr cannot carry them)
        with the bits of float('nan') (7ff8000000000000), for comparisons in which
        NaN payload/sign are not significant.
    parse_canon(s) -> value
        Inverse of canon (used to renormalise an expected canon string);
        `?Name` becomes an Opaque('Name') whose canon is `?Name` again; `^n` is
        rejected (cycles cannot be rebuilt faithfully here).
    normalize_canon(s, nan_normalize=True) -> str
        canon(parse_canon(s), nan_normalize) - re-sorts sets after NaN normalisation.

Everything is iterative (no recursion), so arbitrarily deep values are fine.
"""

import math
import struct

__all__ = ["canon", "parse_canon", "normalize_canon", "Opaque", "float_hex", "CanonParseError"]

_NAN_BITS = "7ff8000000000000"


class Opaque:
    """Stand-in for a `?Name` token produced by parse_canon."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"Opaque({self.name!r})"


def float_hex(x, nan_normalize=False):
    if nan_normalize and math.isnan(x):
        return _NAN_BITS
    return struct.pack(">d", x).hex()


# Container kinds: type -> (tag, open, close, is_set)
_SEQ = {list: ("L[", "]"), tuple: ("T[", "]")}
_SETS = {set: ("E{", "}"), frozenset: ("Z{", "}")}


def _atom(v, nan_normalize):
    """Canon of a non-container value, or None if v is a container."""
    t = type(v)
    if v is None:
        return "N"
    if t is bool:
        return "B1" if v else "B0"
    if t is int:
        return "I" + str(v)  # callers with >4300-digit ints must raise sys.int_max_str_digits
    if t is float:
        return "F" + float_hex(v, nan_normalize)
    if t is complex:
        re, im = v.real, v.imag
        if nan_normalize:
            # repr(complex) cannot carry the sign of a zero part ('(-0-0j)' evaluates to
            # (0-0j)); the evaluated value is still == to the original, so compare zeros unsigned.
            re = 0.0 if re == 0.0 else re
            im = 0.0 if im == 0.0 else im
        return "C" + float_hex(re, nan_normalize) + "," + float_hex(im, nan_normalize)
    if t is str:
        return "S" + v.encode("utf-8", "surrogatepass").hex()
    if t is bytes:
        return "Y" + v.hex()
    if t is bytearray:
        return "A" + v.hex()
    if t is Opaque:
        return "?" + v.name
    if t is list or t is tuple or t is dict or t is set or t is frozenset:
        return None
    return "?" + t.__name__


def canon(v, nan_normalize=False):
    """Return the canonical form of v (see module docstring)."""
    out = []        # finished canon strings (operand stack)
    path = []       # ids of containers currently being rendered (ancestors)
    on_path = {}    # id -> index in path
    # work items: (0, value) = render value; (1, kind, count, obj_id) = assemble
    work = [(0, v)]
    while work:
        item = work.pop()
        if item[0] == 0:
            obj = item[1]
            s = _atom(obj, nan_normalize)
            if s is not None:
                out.append(s)
                continue
            oid = id(obj)
            if oid in on_path:
                out.append("^%d" % (len(path) - on_path[oid]))
                continue
            t = type(obj)
            on_path[oid] = len(path)
            path.append(oid)
            if t is dict:
                items = list(obj.items())
                work.append((1, t, 2 * len(items), oid))
                for k, val in reversed(items):
                    work.append((0, val))
                    work.append((0, k))
            else:
                elems = list(obj)
                work.append((1, t, len(elems), oid))
                for e in reversed(elems):
                    work.append((0, e))
        else:
            _, t, n, oid = item
            parts = out[len(out) - n:] if n else []
            if n:
                del out[len(out) - n:]
            path.pop()
            del on_path[oid]
            if t is dict:
                body = ",".join(parts[i] + ":" + parts[i + 1] for i in range(0, n, 2))
                out.append("D{" + body + "}")
            elif t in _SEQ:
                o, c = _SEQ[t]
                out.append(o + ",".join(parts) + c)
            else:
                o, c = _SETS[t]
                out.append(o + ",".join(sorted(parts)) + c)
    assert len(out) == 1
    return out[0]


class CanonParseError(ValueError):
    pass


_HEX = set("0123456789abcdef")


def parse_canon(s):
    """Parse a canon string back into a Python value (iterative)."""
    pos = 0
    n = len(s)
    # stack of [kind, items]; kind in 'L','T','D','E','Z'
    stack = []
    result = []

    def read_hex(p, exact=None):
        q = p
        while q < n and s[q] in _HEX:
            q += 1
        if exact is not None and q - p != exact:
            raise CanonParseError(f"expected {exact} hex digits at {p}")
        if (q - p) % 2:
            raise CanonParseError(f"odd hex length at {p}")
        return s[p:q], q

    def bits_to_float(h):
        return struct.unpack(">d", bytes.fromhex(h))[0]

    def push(val):
        if stack:
            stack[-1][1].append(val)
        else:
            result.append(val)

    while True:
        if pos >= n:
            raise CanonParseError("unexpected end of canon")
        c = s[pos]
        if c in "LT":
            if pos + 1 >= n or s[pos + 1] != "[":
                raise CanonParseError(f"expected [ at {pos + 1}")
            stack.append([c, []])
            pos += 2
            if pos < n and s[pos] == "]":
                pass
            else:
                continue
        elif c in "DEZ":
            if pos + 1 >= n or s[pos + 1] != "{":
                raise CanonParseError(f"expected {{ at {pos + 1}")
            stack.append([c, []])
            pos += 2
            if pos < n and s[pos] == "}":
                pass
            else:
                continue
        elif c == "N":
            push(None)
            pos += 1
        elif c == "B":
            if pos + 1 < n and s[pos + 1] in "01":
                push(s[pos + 1] == "1")
                pos += 2
            else:
                raise CanonParseError(f"bad bool at {pos}")
        elif c == "I":
            q = pos + 1
            if q < n and s[q] == "-":
                q += 1
            r = q
            while r < n and s[r].isdigit() and s[r].isascii():
                r += 1
            if r == q:
                raise CanonParseError(f"bad int at {pos}")
            push(int(s[pos + 1:r]))
            pos = r
        elif c == "F":
            h, pos = read_hex(pos + 1, 16)
            push(bits_to_float(h))
        elif c == "C":
            h1, q = read_hex(pos + 1, 16)
            if q >= n or s[q] != ",":
                raise CanonParseError(f"bad complex at {pos}")
            h2, pos = read_hex(q + 1, 16)
            push(complex(bits_to_float(h1), bits_to_float(h2)))
        elif c in "SYA":
            h, pos = read_hex(pos + 1)
            b = bytes.fromhex(h)
            push(b.decode("utf-8", "surrogatepass") if c == "S" else (bytes(b) if c == "Y" else bytearray(b)))
        elif c == "?":
            q = pos + 1
            while q < n and s[q] not in ",]}:":
                q += 1
            push(Opaque(s[pos + 1:q]))
            pos = q
        elif c == "^":
            raise CanonParseError("cyclic back-references (^n) cannot be parsed")
        else:
            raise CanonParseError(f"unexpected {c!r} at {pos}")

        # after a complete value: handle separators / closers
        while True:
            if not stack:
                if pos != n:
                    raise CanonParseError(f"trailing data at {pos}")
                return result[0]
            kind, items = stack[-1]
            closer = "]" if kind in "LT" else "}"
            if kind == "D" and len(items) % 2 == 1:
                if pos < n and s[pos] == ":":
                    pos += 1
                    break
                raise CanonParseError(f"expected : at {pos}")
            if pos < n and s[pos] == ",":
                pos += 1
                break
            if pos < n and s[pos] == closer:
                pos += 1
                stack.pop()
                if kind == "L":
                    val = items
                elif kind == "T":
                    val = tuple(items)
                elif kind == "D":
                    val = {}
                    for i in range(0, len(items), 2):
                        val[items[i]] = items[i + 1]
                elif kind == "E":
                    val = set(items)
                else:
                    val = frozenset(items)
                push(val)
                continue
            raise CanonParseError(f"expected , or {closer} at {pos}")


def normalize_canon(s, nan_normalize=True):
    return canon(parse_canon(s), nan_normalize=nan_normalize)


if __name__ == "__main__":  # tiny self-test: python3 canon.py
    samples = [
        None, True, False, 0, -5, 2 ** 100, 1.5, -0.0, float("nan"), complex(1, -0.0),
        "", "é€😀\ud800", b"\x00\xff", bytearray(b"ab"), [], (), {}, set(), frozenset(),
        [1, (2, "x"), {3: [4]}, {5, 6}, frozenset({b"a"})], {1: "a", 1.0: "b", True: "c"},
    ]
    for v in samples:
        c = canon(v)
        assert normalize_canon(c, nan_normalize=False) == c, (v, c)
        print(c)
    l = []
    l.append(l)
    assert canon(l) == "L[^1]"
    t = ([],)
    t[0].append(t)
    assert canon(t) == "T[L[^2]]"
    deep = []
    for _ in range(100000):
        deep = [deep]
    assert canon(deep) == "L[" * 100001 + "]" * 100001
    print("ok")
