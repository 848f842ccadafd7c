#!/usr/bin/env python3
"""Generate the single-byte decoding tables and codec aliases of ``src/codec.rs``.

The tables are taken from the running CPython (the source of truth, 3.11 when they were
committed): for every byte ``b`` of ``cp1252`` and ``koi8-r`` the script records
``bytes([b]).decode(codec)``, or "undefined" when CPython raises ``UnicodeDecodeError``.
The aliases are those of ``encodings.aliases.aliases`` that point to one of the five
codecs ``src/codec.rs`` implements.

How to regenerate (from the crate root)::

    python3 scripts/gen_codec_tables.py            # rewrites src/codec.rs in place
    python3 scripts/gen_codec_tables.py --check    # exits 1 if src/codec.rs is stale
    python3 scripts/gen_codec_tables.py --print    # prints the generated section only

Only the text between the ``BEGIN GENERATED CODEC TABLES`` and ``END GENERATED CODEC TABLES``
marker lines of ``src/codec.rs`` is replaced; everything else in the file is left untouched.
"""

import encodings.aliases
import pathlib
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


def aliases():
    """(alias, variant) pairs for the five codecs, sorted by the alias bytes."""
    pairs = [(k, MODULES[v]) for k, v in encodings.aliases.aliases.items() if v in MODULES]
    for module in MODULES:
        assert module not in encodings.aliases.aliases, module
    return sorted(pairs, key=lambda p: p[0].encode())


def section():
    """The generated Rust text, marker lines included."""
    lines = [BEGIN, f"// CPython {sys.version.split()[0]}. Do not edit by hand.", ""]
    lines.append("/// Python module names (in `encodings`) of the supported codecs, sorted.")
    lines.append("#[rustfmt::skip]")
    lines.append("static CODEC_MODULES: &[(&str, Codec)] = &[")
    for name in sorted(MODULES, key=str.encode):
        lines.append(f'    ("{name}", Codec::{MODULES[name]}),')
    lines.append("];")
    lines.append("")
    lines.append("/// `encodings.aliases.aliases` entries naming a supported codec, sorted.")
    lines.append("#[rustfmt::skip]")
    lines.append("static CODEC_ALIASES: &[(&str, Codec)] = &[")
    for alias, variant in aliases():
        lines.append(f'    ("{alias}", Codec::{variant}),')
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
