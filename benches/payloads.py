#!/usr/bin/env python3
"""Generate the benchmark payloads (pickles at protocols 2 and 5, plus JSON) into a directory.

Usage:
    python3 benches/payloads.py OUT_DIR [--skip-big] [--legacy | --keyed | --tiny]

--legacy writes the same payloads at protocols 0 and 1 instead (what Python 2, and Python 3
before 3.0's protocol 3 default, wrote: text opcodes, `SETITEM`/`APPEND` one item at a time at
protocol 0), without `bigbytes` and `records.json`, into a directory of their own.

--keyed writes, instead, large hashed containers at protocols 2 and 5 (not in the standard set,
whose dicts are all small): `vocab`, a tokenizer-style dict of 100,000 str keys to ints;
`intdict`, 100,000 int keys (`{i * 7919: i}`); `intset`, a set of 100,000 ints below 10**7.

--tiny writes, instead, more small pickles at protocols 2 and 5 (per-call cost, beside `small`):
`records5`, a list of 5 records of 8 keys (the keys fetched from the memo after the first);
`job`, a task-queue message (a dict holding a list, a dict and a tuple); `ints100`,
`list(range(100))`; `row`, a tuple of 8 mixed scalars, bytes among them (at protocol 2 a
`_codecs.encode` call, which the lean path leaves to the full machine).

Standard library only (CPython 3.11). The output is byte-identical on every run: every payload
draws from its own `random.Random` seeded with a fixed string, no set holds a `str` (whose
order would follow the per-process hash seed), and everything else pickles in insertion order.

Files, in benchmark order (`manifest.json` lists them with sizes and SHA-256 digests):

    NAME.p2.pkl, NAME.p5.pkl   every payload below (`small` also as small.p0.pkl)
    records.json               the `records` payload as compact UTF-8 JSON (serde_json anchor)
    manifest.json              written last: a directory without it is incomplete

Payloads (sizes at p2 / p5):

    ints      1,000,000 ints: 40 % < 2**8, 25 % < 2**16, 20 % signed 32-bit, 10 % 2**31..2**63,
              5 % 2**64..2**100 (either sign for the last two)              4.3 / 4.3 MB
    floats    1,000,000 floats (BINFLOAT)                                     9.0 / 9.0 MB
    records   200,000 API-style dicts: 14 shared str keys (memo GETs after the first record),
              str / int / float / bool / None values, two lists and a nested dict
                                                     64 / 52 MB (JSON 83 MB)
    strings   500,000 str of 1-32 chars: 60 % ASCII, then Latin-1, Greek/Cyrillic, CJK, emoji
                                                                            17.5 / 14 MB
    bigbytes  4 x 64 MiB random bytes in a dict (p2 pickles bytes as
              `_codecs.encode(<latin-1 str>, 'latin1')`, 1.5x larger)     403 / 268 MB
              (left out by --skip-big)
    nested    a 5,000-level list chain, 4 tuples of 100,000 ints, 100,000 2-tuples and
              50,000 3-tuples                                               5.1 / 4.1 MB
    shared    one 1,000-int list referenced 10,000 times                   23 / 23 KB
    shared2   [[list(range(100))] * 100] * 100: sharing two levels deep   0.6 / 0.6 KB
    small     one 10-key dict (per-call overhead)                          272 / 214 B
    misc      sets, frozenset, bytearray, bytes, tuple and int keys, bigints, inf/nan/-0.0,
              empty containers, astral and NUL code points (a compatibility probe)
"""

import hashlib
import json
import os
import pickle
import random
import sys
import threading

SEED = "restricted-unpickler-bench-v1"
PROTOCOLS = (2, 5)


def rng_for(name):
    # A str seed goes through SHA-512 (random's version-2 seeding): stable across processes.
    return random.Random("%s/%s" % (SEED, name))


# --- ints, floats -------------------------------------------------------------------------------

def make_ints(rng):
    values = []
    for _ in range(1_000_000):
        u = rng.random()
        if u < 0.40:
            v = rng.randrange(256)
        elif u < 0.65:
            v = rng.randrange(256, 1 << 16)
        elif u < 0.85:
            v = rng.randrange(-(1 << 31), 1 << 31)
        elif u < 0.95:
            v = rng.randrange(1 << 31, 1 << 63) * rng.choice((1, 1, 1, -1))
        else:
            v = rng.randrange(1 << 64, 1 << 100) * rng.choice((1, 1, 1, -1))
        values.append(v)
    return values


def make_floats(rng):
    values = []
    for _ in range(1_000_000):
        u = rng.random()
        if u < 0.45:
            v = rng.normalvariate(0.0, 250.0)
        elif u < 0.75:
            v = round(rng.uniform(-500.0, 500.0), 3)
        elif u < 0.92:
            v = float(rng.randrange(-(10 ** 7), 10 ** 7))
        else:
            v = rng.uniform(-1.0, 1.0) * 10.0 ** rng.randrange(-300, 300)
        values.append(v)
    return values


# --- records ------------------------------------------------------------------------------------

GIVEN = ["Olivia", "Noah", "Amélie", "Mateo", "Søren", "Ines", "Rafał", "Chiara", "Kwame",
         "Aiko", "Lars", "Zoë", "Hugo", "Ewa", "Omar", "Fatoumata", "Νίκος", "Ольга", "健太",
         "서연", "Björk", "Théo"]
FAMILY = ["Jones", "Martín", "Schröder", "Trần", "Nowak", "Byrne", "Bianchi", "Lefèvre",
          "Lindqvist", "Adeyemi", "Suzuki", "Petrova", "Yılmaz", "Dvořák", "Georgiou", "López",
          "山本", "박", "Hansen", "Costa", "Ferreira"]
TOWNS = ["Lisbon", "Göteborg", "Zürich", "Łódź", "Osaka", "Accra", "Denver", "Québec",
         "Akureyri", "Córdoba", "Busan", "Thessaloniki", "Bergen", "Chennai", "Cluj"]
REGIONS = ["PT", "SE", "CH", "PL", "JP", "GH", "US", "CA", "IS", "AR", "KR", "GR", "NO", "IN",
           "RO"]
ROLES = ["owner", "editor", "viewer", "billing", "support", "beta-tester", "api", "ios",
         "android", "emea", "newsletter", "große-kunden", "été"]
MAIL_HOSTS = ["example.net", "inbox.test", "staff.example.com", "mx.invalid"]
STREETS = ["Maple", "Station", "Church", "Park", "Mill", "Kingsway", "Rosenweg", "Rua Nova"]


def make_record(rng, i):
    given = rng.choice(GIVEN)
    family = rng.choice(FAMILY)
    return {
        "id": 2_000_000 + i,
        "guid": "%032x" % rng.getrandbits(128),
        "name": "%s %s" % (given, family),
        "email": "%s.%s%05d@%s" % (given.lower(), family.lower(), rng.randrange(100_000),
                                   rng.choice(MAIL_HOSTS)),
        "enabled": rng.random() < 0.75,
        "staff": rng.random() < 0.1,
        "age": rng.randrange(16, 95),
        "rating": round(rng.uniform(0.0, 5.0), 1),
        "balance": round(rng.normalvariate(500.0, 4000.0), 2),
        "seen_at": "20%02d-%02d-%02dT%02d:%02d:%02dZ" % (
            rng.randrange(12, 26), rng.randrange(1, 13), rng.randrange(1, 29),
            rng.randrange(24), rng.randrange(60), rng.randrange(60)),
        "referrer": rng.randrange(2_000_000, 2_200_000) if rng.random() < 0.6 else None,
        "roles": [rng.choice(ROLES) for _ in range(rng.randrange(5))],
        "visits": [rng.randrange(20_000) for _ in range(rng.randrange(6))],
        "location": {
            "street": "%d %s Road" % (rng.randrange(1, 2500), rng.choice(STREETS)),
            "town": rng.choice(TOWNS),
            "region": rng.choice(REGIONS),
            "postcode": "%05d" % rng.randrange(100_000),
            "geo": [round(rng.uniform(-90.0, 90.0), 6), round(rng.uniform(-180.0, 180.0), 6)],
        },
    }


def make_records(rng):
    return [make_record(rng, i) for i in range(200_000)]


# --- strings ------------------------------------------------------------------------------------

def _chars(*ranges):
    return "".join(chr(c) for lo, hi in ranges for c in range(lo, hi + 1))


ASCII = _chars((0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)) + " -_./"
LATIN1 = _chars((0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0xFF))
GREEK_CYRILLIC = _chars((0x3B1, 0x3C9), (0x430, 0x44F))
CJK = _chars((0x4E00, 0x4E7F), (0x3041, 0x3096), (0xAC00, 0xAC3F))
EMOJI = _chars((0x1F600, 0x1F64F), (0x1F680, 0x1F6C5)) + "€✓★"

# (cumulative probability, alphabet, share of characters drawn from ASCII instead)
STRING_KINDS = [
    (0.60, ASCII, 0.0),
    (0.75, LATIN1, 0.15),
    (0.85, GREEK_CYRILLIC, 0.05),
    (0.95, CJK, 0.0),
    (1.00, EMOJI, 0.25),
]


def make_strings(rng):
    values = []
    for _ in range(500_000):
        u = rng.random()
        alphabet, ascii_share = next((a, s) for p, a, s in STRING_KINDS if u < p)
        n = rng.randint(1, 32)
        values.append("".join(
            rng.choice(ASCII) if ascii_share and rng.random() < ascii_share else rng.choice(alphabet)
            for _ in range(n)))
    return values


# --- bigbytes, nested, shared -------------------------------------------------------------------

def make_bigbytes(rng):
    return {"chunk_%d" % k: rng.randbytes(64 << 20) for k in range(4)}


def make_nested(rng):
    chain = []
    for depth in range(5_000):
        chain = [chain, depth] if depth % 3 else [chain]
    return {
        "chain": chain,
        "wide": [tuple(rng.randrange(1 << 20) for _ in range(100_000)) for _ in range(4)],
        "pairs": [(k, rng.random()) for k in range(100_000)],
        "triples": [(k, str(k), None) for k in range(50_000)],
    }


def make_shared(rng):
    block = list(range(1_000))
    return [block] * 10_000


def make_shared2(rng):
    inner = list(range(100))
    middle = [inner] * 100
    return [middle] * 100


def make_small(rng):
    return {
        "id": 7654321,
        "login": "jürgen.kühn",
        "mail": "jkuehn@example.org",
        "active": True,
        "locked": False,
        "quota": 87.5,
        "parent": None,
        "groups": ["dev", "ops", "eu"],
        "pos": [48.137154, 11.576124],
        "since": "2023-02-01T08:30:00Z",
    }


def make_vocab(rng):
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = set()
    while len(words) < 100_000:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(3, 12))))
    # Sorted, so the dict's order does not follow the str hash seed.
    return {w: i for i, w in enumerate(sorted(words))}


def make_intdict(rng):
    return {i * 7919: i for i in range(100_000)}


def make_intset(rng):
    # An int's hash is the int: the set's (pickled) order is the same in every process.
    members = set()
    while len(members) < 100_000:
        members.add(rng.randrange(10 ** 7))
    return members


def make_records5(rng):
    return [
        {
            "id": 1000 + i,
            "name": rng.choice(GIVEN),
            "email": "%s@%s" % (rng.choice(FAMILY).lower(), rng.choice(MAIL_HOSTS)),
            "active": rng.random() < 0.7,
            "score": round(rng.uniform(0.0, 100.0), 2),
            "team": rng.choice(ROLES),
            "logins": rng.randrange(1000),
            "manager": None,
        }
        for i in range(5)
    ]


def make_job(rng):
    return {
        "task": "thumbnails.resize",
        "id": "%032x" % rng.getrandbits(128),
        "args": ["s3://bucket/photos/%06d.jpg" % rng.randrange(10 ** 6), [640, 480]],
        "kwargs": {"quality": 85, "format": "webp", "strip": True},
        "retries": 0,
        "eta": None,
        "origin": ("worker-3", 4242),
    }


def make_ints100(rng):
    return list(range(100))


def make_row(rng):
    return (42, "alice", 3.25, None, True, b"\x00\x01\x02", -7, "2024-01-31")


TINY_PAYLOADS = [
    ("records5", make_records5),
    ("job", make_job),
    ("ints100", make_ints100),
    ("row", make_row),
]


KEYED_PAYLOADS = [
    ("vocab", make_vocab),
    ("intdict", make_intdict),
    ("intset", make_intset),
]


def make_misc(rng):
    return {
        "set": {3, 1, 4, 100_000, -9},
        "frozenset": frozenset({(0, 1), (2, 3)}),
        "empty_set": set(),
        "empty_frozenset": frozenset(),
        "bytearray": bytearray(b"\x00\x7f\x80\xffxyz"),
        "bytes": bytes(range(0, 256, 17)),
        "empty_bytes": b"",
        "tuple_keys": {(1, "x"): "a", (2, "y"): "b"},
        "int_keys": {0: "zero", -5: "minus five", 3 ** 50: "big"},
        "bigints": [1 << 64, -(1 << 64), (1 << 256) - 1, -(1 << 63), (1 << 63) - 1, 10 ** 30],
        "floats": [float("inf"), float("-inf"), float("nan"), -0.0, 5e-324, 1.7976931348623157e308],
        "empties": [[], (), {}, ""],
        "constants": [True, False, None],
        "text": "nul\x00 é 中 \U0001F980 \ud7ff \U0010FFFF",
    }


PAYLOADS = [
    ("ints", make_ints),
    ("floats", make_floats),
    ("records", make_records),
    ("strings", make_strings),
    ("bigbytes", make_bigbytes),
    ("nested", make_nested),
    ("shared", make_shared),
    ("shared2", make_shared2),
    ("small", make_small),
    ("misc", make_misc),
]


# --- output -------------------------------------------------------------------------------------

def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def generate(out_dir, skip_big, legacy=False, keyed=False, tiny=False):
    os.makedirs(out_dir, exist_ok=True)
    manifest_path = os.path.join(out_dir, "manifest.json")
    if os.path.exists(manifest_path):
        os.remove(manifest_path)  # incomplete until rewritten at the end
    files = []

    def emit(name, proto, kind, file_name, data):
        with open(os.path.join(out_dir, file_name), "wb") as f:
            f.write(data)
        files.append({"name": name, "proto": proto, "kind": kind, "file": file_name,
                      "bytes": len(data), "sha256": sha256_hex(data)})
        print("%-17s %13s bytes  %s" % (file_name, format(len(data), ","), files[-1]["sha256"][:16]),
              flush=True)

    protocols = (0, 1) if legacy else PROTOCOLS
    for name, make in (KEYED_PAYLOADS if keyed else TINY_PAYLOADS if tiny else PAYLOADS):
        if (skip_big or legacy) and name == "bigbytes":
            continue
        value = make(rng_for(name))
        for proto in ((0,) + PROTOCOLS if name == "small" and not legacy else protocols):
            data = pickle.dumps(value, protocol=proto)
            # CPython must read back what it wrote (nan != nan, so misc is only checked by repr).
            back = pickle.loads(data)
            assert (repr(back) == repr(value)) if name == "misc" else (back == value), (name, proto)
            del back
            emit(name, proto, "pickle", "%s.p%d.pkl" % (name, proto), data)
            del data
        if name == "records" and not legacy:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            emit(name, None, "json", "records.json", text.encode("utf-8"))
        del value

    manifest = {
        "generator": "benches/payloads.py",
        "seed": SEED,
        "python": sys.version.split()[0],
        "skip_big": skip_big or legacy,
        "legacy": legacy,
        "keyed": keyed,
        "tiny": tiny,
        "files": files,
    }
    with open(manifest_path + ".tmp", "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    os.replace(manifest_path + ".tmp", manifest_path)
    print("%d files, %.1f MB -> %s" % (len(files), sum(e["bytes"] for e in files) / 1e6, manifest_path))


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    flags = [a for a in argv if a.startswith("--")]
    unknown = [f for f in flags if f not in ("--skip-big", "--legacy", "--keyed", "--tiny")]
    if len(args) != 1 or unknown or len({"--legacy", "--keyed", "--tiny"} & set(flags)) > 1:
        sys.stderr.write(__doc__)
        return 2
    # Pickling (and comparing) the 5,000-level chain recurses once per level in C: give it room.
    sys.setrecursionlimit(100_000)
    threading.stack_size(512 << 20)
    errors = []

    def run():
        try:
            generate(args[0], "--skip-big" in flags, "--legacy" in flags, "--keyed" in flags,
                     "--tiny" in flags)
        except BaseException as e:  # noqa: BLE001 - re-raised as the exit status below
            errors.append(e)

    worker = threading.Thread(target=run, name="payloads")
    worker.start()
    worker.join()
    if errors:
        raise errors[0]
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
