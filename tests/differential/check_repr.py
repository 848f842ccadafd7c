#!/usr/bin/env python3
"""Check our decoder's Python-style repr against CPython's canonical form.

Usage (Python 3.11, stdlib only; writes nothing but stdout):

    <producer> | python3 tests/differential/check_repr.py

Input: JSON lines on stdin, each an object with at least
    {"canon": "<expected canon, from CPython>", "repr": "<OUR decoder's repr>"}
(other keys, e.g. those of gen_values.py, are ignored; blank lines are skipped).

For every line the repr is evaluated with
    eval(repr, {"__builtins__": {}, "nan": float("nan"), "inf": float("inf"),
                "set": set, "frozenset": frozenset, "bytearray": bytearray,
                "complex": complex, "nanj": complex(0, nan), "infj": complex(0, inf)})
(every occurrence of `nan`/`nanj` actually yields a *new* NaN object, see
FreshNaN below, so that `{nan: 1, nan: 2}` keeps two keys as in CPython;
"nanj"/"infj" are there so that Python's own complex repr such as
`(inf+nanj)` also evaluates; note Python's complex repr cannot express every
signed zero - `(-0-0j)` evaluates to 0j - so an exact decoder repr should print
complex values as `complex(<float repr>, <float repr>)`.  Builtins are
disabled: only literals and the names above are available.)

The result is rendered with canon(..., nan_normalize=True) and compared with
the expected canon after the same normalisation (parse_canon -> canon), so:
  * any two NaNs compare equal (a repr cannot carry NaN sign/payload);
  * set/frozenset element order is irrelevant (canon sorts);
  * everything else - types (bool vs int, tuple vs list, bytes vs bytearray,
    set vs frozenset), int values, float bits incl. -0.0, str code points incl.
    lone surrogates, dict order - must match exactly.
An expected canon that cannot be parsed (e.g. the `^n` cycle extension) is
compared verbatim with canon(result, nan_normalize=False).

Output: the first 20 failures (input line number, repr, expected canon, got
canon; long texts are truncated to 300 characters), then the summary line
`N passed, M failed`.  Exit status 1 if any line failed (or stdin held no
checkable line at all), else 0.
"""

import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from canon import canon, normalize_canon, CanonParseError  # noqa: E402

NAN = float("nan")
INF = float("inf")
MAX_SHOWN = 20
CLIP = 300


def eval_namespace():
    return {
        "__builtins__": {},
        "nan": NAN,
        "inf": INF,
        "set": set,
        "frozenset": frozenset,
        "bytearray": bytearray,
        "complex": complex,
        "nanj": complex(0.0, NAN),
        "infj": complex(0.0, INF),
    }


class FreshNaN:
    """eval() locals: every *occurrence* of `nan` / `nanj` is a new NaN object.

    With a single shared float("nan") object, `{nan: 1, nan: 2}` or
    `{nan, nan}` would collapse to one key/element (dict and set lookups try
    identity before ==), although CPython's decoded value has two distinct NaN
    objects there.  Name lookups made by eval'd code try this mapping before the
    globals above, so all other names resolve as listed there."""

    def __getitem__(self, name):
        if name == "nan":
            return float("nan")
        if name == "nanj":
            return complex(0.0, float("nan"))
        raise KeyError(name)


def clip(s):
    s = str(s)
    return s if len(s) <= CLIP else s[:CLIP] + f"... ({len(s)} chars)"


def check_one(expected, text):
    """Return (ok, got_canon_or_error, expected_as_compared)."""
    try:
        want = normalize_canon(expected, nan_normalize=True)
        normalized = True
    except CanonParseError:          # e.g. the ^n cycle extension: compare verbatim
        want, normalized = expected, False
    except ValueError as e:          # bad hex / invalid UTF-8 in an S token
        return False, f"<bad expected canon: {type(e).__name__}: {e}>", expected
    try:
        value = eval(text, eval_namespace(), FreshNaN())  # noqa: S307 - trusted test data
    except Exception as e:  # SyntaxError, NameError, RecursionError, ...
        return False, f"<eval failed: {type(e).__name__}: {e}>", want
    try:
        got = canon(value, nan_normalize=normalized)
    except Exception as e:
        return False, f"<canon failed: {type(e).__name__}: {e}>", want
    return got == want, got, want


def main():
    passed = failed = 0
    shown = 0
    for lineno, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            expected, text = rec["canon"], rec["repr"]
            if not isinstance(expected, str) or not isinstance(text, str):
                raise TypeError("canon and repr must be strings")
        except Exception as e:
            ok, got, want, text, expected = False, f"<bad input line: {type(e).__name__}: {e}>", "", line.rstrip("\n"), ""
        else:
            ok, got, want = check_one(expected, text)
        if ok:
            passed += 1
            continue
        failed += 1
        if shown < MAX_SHOWN:
            shown += 1
            print(f"FAIL line {lineno}")
            print(f"  repr:     {clip(text)}")
            print(f"  expected: {clip(want)}")
            print(f"  got:      {clip(got)}")
    if failed > MAX_SHOWN:
        print(f"... {failed - MAX_SHOWN} more failures not shown")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
