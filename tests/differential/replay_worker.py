#!/usr/bin/env python3
"""CPython's side of tests/corpus_replay.rs: decodes pickles with CPython 3.11's
`pickle.loads` under the policy of `restricted_loads` and prints one JSON line per pickle.

Reads pickles on stdin, one per line, in hex. For each, prints
    {"o": "ok", "canon": C}             the value, in the canonical form of canon.py
    {"o": "ok", "big": 1}               a value too large to write out (more than 300,000
                                        nodes counted as a tree, shared references again)
    {"o": "err", "t": NAME, "m": TEXT}  the exception CPython raised
    {"o": "timeout"}                    no result within 5 s
The policy is cpython_cases.py's (builtins str, list, dict, set, frozenset, int, float, bool,
tuple, bytes, bytearray, complex and _codecs.encode, with fix_imports' mapping), enforced by
an audit hook on "pickle.find_class". Memory is limited to 2 GiB (CPython's MemoryError is
reported like any exception). Python 3.11, stdlib only.
"""
import json
import os
import resource
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fixtures"))

from canon import canon  # noqa: E402
import cpython_cases  # noqa: E402
import pickle  # noqa: E402
import warnings  # noqa: E402

CAP = 300_000


class Timeout(BaseException):
    pass


def on_alarm(*_):
    raise Timeout()


def tree_size(v, cap):
    """Nodes of `v` expanded as a tree, long strs/bytes/ints counted by size, up to `cap`."""
    n = 0
    stack = [v]
    while stack:
        v = stack.pop()
        n += 1
        if n > cap:
            return n
        t = type(v)
        if t in (list, tuple, set, frozenset):
            stack.extend(v)
        elif t is dict:
            for k, x in v.items():
                stack.append(k)
                stack.append(x)
        elif t is str:
            n += len(v.encode("utf-8", "surrogatepass")) // 64
        elif t in (bytes, bytearray):
            n += len(v) // 64
        elif t is int:
            n += v.bit_length() // 16
    return n


def main():
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    warnings.simplefilter("ignore")
    current = [None]

    def hook(event, args):
        if event == "pickle.find_class" and current[0] is not None:
            current[0].check(*args)

    sys.addaudithook(hook)
    signal.signal(signal.SIGALRM, on_alarm)
    for line in sys.stdin:
        data = bytes.fromhex(line.strip())
        current[0] = cpython_cases.Policy(data, True)
        sys.set_int_max_str_digits(4300)
        res = {}
        signal.alarm(5)
        try:
            value = pickle.loads(data)
            signal.alarm(0)
        except Timeout:
            res = {"o": "timeout"}
        except BaseException as e:  # noqa: BLE001 - MemoryError, RecursionError, ...
            signal.alarm(0)
            # (Backslash-escaped: a lone surrogate would not survive JSON to serde_json.)
            message = str(e)[:200].encode("utf-8", "backslashreplace").decode("utf-8")
            res = {"o": "err", "t": type(e).__name__, "m": message}
        current[0] = None
        if not res:
            sys.set_int_max_str_digits(0)
            signal.alarm(30)
            try:
                if tree_size(value, CAP) > CAP:
                    res = {"o": "ok", "big": 1}
                else:
                    res = {"o": "ok", "canon": canon(value)}
            except Timeout:
                res = {"o": "ok", "big": 1}
            signal.alarm(0)
            del value
        sys.stdout.write(json.dumps(res) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
