#!/usr/bin/env python3
"""Writes examples/data/sample.pkl (protocol 4) and examples/data/evil.pkl, the README's first
commands. Run from anywhere: python3 examples/data/make_sample.py"""
import os
import pickle

HERE = os.path.dirname(os.path.abspath(__file__))

sample = {
    "name": "Zoë",
    "id": 12345678901234567890,
    "scores": [9.5, -0.0, float("inf")],
    "tags": {"admin", "beta"},
    "raw": b"\x00\xffdata",
    "point": (1, 2),
    "nested": {"ok": True, "none": None, "c": 1 + 2j},
}

class Evil:
    def __reduce__(self):
        return (os.system, ("echo Hacked!",))

with open(os.path.join(HERE, "sample.pkl"), "wb") as f:
    pickle.dump(sample, f, protocol=4)
with open(os.path.join(HERE, "evil.pkl"), "wb") as f:
    pickle.dump(Evil(), f, protocol=4)
