"""Streams whose memo grows past 2**18 entries, where the decoder scans the rest of the input
for the memo indices it fetches and drops the others (src/machine/scan.rs).

Each stream memoizes 262,145 to 300,000 distinct strs, then fetches a random choice of them,
early and late, and a dict memoized before the scan; some streams hold a second pickle that
shares the first's memo (one Pickler, two dumps: it GETs the first's entries), or a separate
pickle whose PUTs replace entries of the first (dropped ones among them). Every protocol.
Written as `tests/differential/streams.py` lines; stdlib only.
"""
import io
import pickle

from streams import main

PLAN_AT = 1 << 18


def make(r):
    n = PLAN_AT + r.randrange(1, 40_000)
    base = ["s%x" % i for i in range(n)]
    box = {"box": r.randrange(1000)}
    picks = [base[r.randrange(n)] for _ in range(r.randrange(1, 200))]
    picks += [base[r.randrange(PLAN_AT, n)] for _ in range(5)]
    obj = {"box": box, "base": base, "refs": picks, "again": box}
    proto = r.randrange(6)
    kind = r.random()
    buf = io.BytesIO()
    p = pickle.Pickler(buf, proto)
    p.dump(obj)
    if kind < 0.4:
        # The second pickle GETs entries the first memoized.
        p.dump([base[r.randrange(n)] for _ in range(50)] + [box])
    elif kind < 0.7:
        # A separate pickle: its memo indices restart at 0 and replace the first's entries.
        second = ["t%d" % i for i in range(r.randrange(1, 3000))]
        buf.write(pickle.dumps([second, second[:3], second], proto))
    return buf.getvalue()


if __name__ == "__main__":
    main(make)
