#!/usr/bin/env python3
"""Generate the single-byte decoding tables and codec aliases of ``src/codec.rs``.

The tables are taken from the running CPython (the source of truth, 3.11 when they were
committed): for every byte ``b`` of ``cp1252`` and ``koi8-r`` the script records
``bytes([b]).decode(codec)``, or "undefined" when CPython raises ``UnicodeDecodeError``.
The name tables list every codec CPython 3.11 finds through ``codecs.lookup`` on this
platform: the modules of the ``encodings`` package that register one, and the entries of
``encodings.aliases.aliases`` that point to such a module. Each names the Rust ``Codec``
variant for the five codecs ``src/codec.rs`` implements, ``None`` for the others (so that a
codec CPython has is told apart from a name CPython does not know).

How to regenerate (from the crate root)::

    python3 scripts/gen_codec_tables.py            # rewrites src/codec.rs in place
    python3 scripts/gen_codec_tables.py --check    # exits 1 if src/codec.rs is stale
    python3 scripts/gen_codec_tables.py --print    # prints the generated section only

Only the text between the ``BEGIN GENERATED CODEC TABLES`` and ``END GENERATED CODEC TABLES``
marker lines of ``src/codec.rs`` is replaced; everything else in the file is left untouched.
"""

import codecs
import encodings
import encodings.aliases
import pathlib
import pkgutil
import sys

BEGIN = "// BEGIN GENERATED CODEC TABLES (scripts/gen_codec_tables.py)"
END = "// END GENERATED CODEC TABLES"

# Python module name in the `encodings` package -> Rust `Codec` variant.
MODULES = {
    "ascii": "Ascii",
    "latin_1": "Latin1",
    "utf_8": "Utf8",
    "cp1252": "Cp1252",
    "koi8_r": "Koi8R",
}

# Marks a byte the codec does not map (CPython's charmap tables use U+FFFE the same way).
UNDEFINED = 0xFFFE


def table(codec):
    """The 256-entry decoding table of a single-byte codec, UNDEFINED for unmapped bytes."""
    out = []
    for b in range(256):
        try:
            s = bytes([b]).decode(codec)
        except UnicodeDecodeError:
            out.append(UNDEFINED)
            continue
        assert len(s) == 1, (codec, b, s)
        cp = ord(s)
        assert cp < 0x10000 and cp != UNDEFINED, (codec, b, cp)
        out.append(cp)
    return out


def rust_table(name, doc, values):
    """A Rust `static [u16; 256]`, eight entries a line."""
    lines = [f"/// {doc}", "#[rustfmt::skip]", f"static {name}: [u16; 256] = ["]
    for row in range(0, 256, 8):
        cells = ", ".join(f"0x{v:04x}" for v in values[row:row + 8])
        lines.append(f"    {cells}, // 0x{row:02x}")
    lines.append("];")
    return lines


def known_modules():
    """The modules of the `encodings` package that register a codec, sorted by their bytes
    (`aliases` registers none; `mbcs` and `oem` exist on Windows only)."""
    out = []
    for info in pkgutil.iter_modules(encodings.__path__):
        try:
            codecs.lookup(info.name)
        except LookupError:
            continue
        out.append(info.name)
    for module in MODULES:
        assert module in out, module
    return sorted(out, key=str.encode)


def variant(module):
    """The Rust `Option<Codec>` for a module name."""
    return f"Some(Codec::{MODULES[module]})" if module in MODULES else "None"


def aliases(known):
    """(alias, module) pairs of the aliases whose module registers a codec, sorted by the
    alias bytes."""
    pairs = [(k, v) for k, v in encodings.aliases.aliases.items() if v in known]
    for module in MODULES:
        assert module not in encodings.aliases.aliases, module
    return sorted(pairs, key=lambda p: p[0].encode())


def section():
    """The generated Rust text, marker lines included."""
    lines = [BEGIN, f"// CPython {sys.version.split()[0]}. Do not edit by hand.", ""]
    known = known_modules()
    lines.append("/// Python module names (in `encodings`) of CPython's codecs, sorted; `None`: not")
    lines.append("/// implemented here.")
    lines.append("#[rustfmt::skip]")
    lines.append("static CODEC_MODULES: &[(&str, Option<Codec>)] = &[")
    for name in known:
        lines.append(f'    ("{name}", {variant(name)}),')
    lines.append("];")
    lines.append("")
    lines.append("/// `encodings.aliases.aliases`, sorted, with the codec each names (`None`: not")
    lines.append("/// implemented here).")
    lines.append("#[rustfmt::skip]")
    lines.append("static CODEC_ALIASES: &[(&str, Option<Codec>)] = &[")
    for alias, module in aliases(known):
        lines.append(f'    ("{alias}", {variant(module)}),')
    lines.append("];")
    lines.append("")
    lines += rust_table(
        "CP1252_TABLE",
        "Decoding table of `cp1252`: code point per byte, `UNDEFINED` for unmapped bytes.",
        table("cp1252"),
    )
    lines.append("")
    lines += rust_table(
        "KOI8_R_TABLE",
        "Decoding table of `koi8-r`: code point per byte (every byte is mapped).",
        table("koi8_r"),
    )
    lines.append(END)
    return "\n".join(lines) + "\n"


def splice(text, generated):
    """`text` with the marked section replaced by `generated`."""
    start = text.index(BEGIN)
    end = text.index(END, start) + len(END)
    if text[end:end + 1] == "\n":
        end += 1
    return text[:start] + generated + text[end:]


def main(argv):
    generated = section()
    if "--print" in argv:
        sys.stdout.write(generated)
        return 0
    path = pathlib.Path(__file__).resolve().parent.parent / "src" / "codec.rs"
    old = path.read_text(encoding="utf-8")
    new = splice(old, generated)
    if "--check" in argv:
        if old != new:
            print(f"{path} is out of date; run {sys.argv[0]}", file=sys.stderr)
            return 1
        return 0
    if old != new:
        path.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
