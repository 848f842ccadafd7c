"""Streams whose memo grows past 2**18 entries, where the decoder scans the rest of the input
for the memo indices it fetches and drops the others (src/machine/scan.rs).

Each stream memoizes 262,145 to 300,000 distinct strs, then fetches a random choice of them,
early and late, and a dict memoized before the scan; then come records (nested dicts, lists,
tuples and sets, some shared: what the decoder converts as soon as they move into their
parent once the scan is made, and what it must not); some streams hold a second pickle that
shares the first's memo (one Pickler, two dumps: it GETs the first's entries), or a separate
pickle whose PUTs replace entries of the first (dropped ones among them). Every protocol.
Written as `tests/differential/streams.py` lines; stdlib only.
"""
import io
import pickle

from streams import main

PLAN_AT = 1 << 18


def record(r, shared, depth=0):
    """A JSON-like record, nested up to a few levels, sometimes holding a shared object."""
    rec = {"id": r.randrange(10**6), "name": "n%d" % r.randrange(1000)}
    if r.random() < 0.5:
        rec["tags"] = [r.choice(["a", "b", "c"]) for _ in range(r.randrange(4))]
    if r.random() < 0.3:
        rec["pair"] = (r.random(), [r.randrange(9)] * r.randrange(3))
    if r.random() < 0.2:
        rec["set"] = {r.randrange(5) for _ in range(3)}
    if r.random() < 0.15:
        rec["shared"] = shared
    if depth < 4 and r.random() < 0.4:
        rec["child"] = record(r, shared, depth + 1)
    if depth < 3 and r.random() < 0.2:
        rec["kids"] = [record(r, shared, depth + 1) for _ in range(r.randrange(3))]
    return rec


def make(r):
    n = PLAN_AT + r.randrange(1, 40_000)
    base = ["s%x" % i for i in range(n)]
    box = {"box": r.randrange(1000)}
    picks = [base[r.randrange(n)] for _ in range(r.randrange(1, 200))]
    picks += [base[r.randrange(PLAN_AT, n)] for _ in range(5)]
    shared = {"shared": [1, [2]]}
    records = [record(r, shared) for _ in range(r.randrange(50, 400))]
    obj = {"box": box, "base": base, "refs": picks, "again": box, "records": records}
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
