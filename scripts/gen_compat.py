#!/usr/bin/env python3
"""Generate the Python 2 -> 3 name tables of ``src/compat.rs`` from CPython's ``_compat_pickle``.

``_compat_pickle.NAME_MAPPING`` maps ``(module, name)`` to ``(module, name)`` and
``IMPORT_MAPPING`` maps a module to a module; the unpickler's ``find_class`` applies them when
the pickle protocol is below 3 and ``fix_imports`` is on. This script copies both dictionaries,
entries sorted by their UTF-8 bytes (the order of Rust's ``str`` comparison, so the Rust code can
binary-search them), into ``src/compat.rs``.

One entry depends on the platform CPython runs on: on Windows ``NAME_MAPPING`` also holds
``('exceptions', 'WindowsError') -> ('builtins', 'WindowsError')``. The script always drops it,
so the generated tables are those of CPython on Linux/macOS whatever machine runs it.

How to regenerate (from the crate root)::

    python3 scripts/gen_compat.py            # rewrites the tables in src/compat.rs in place
    python3 scripts/gen_compat.py --check    # exits 1 if src/compat.rs is stale
    python3 scripts/gen_compat.py --print    # prints the generated section only

Only the text between the ``BEGIN GENERATED COMPAT TABLES`` and ``END GENERATED COMPAT TABLES``
marker lines is replaced. If the table sizes change, update the sizes asserted by the tests in
``src/compat.rs`` (``len(NAME_MAPPING)`` and ``len(IMPORT_MAPPING)``, printed by ``--print``).
"""

import _compat_pickle
import pathlib
import sys

BEGIN = "// BEGIN GENERATED COMPAT TABLES (scripts/gen_compat.py)"
END = "// END GENERATED COMPAT TABLES"


def rust_str(s):
    """A Rust string literal (the tables are plain ASCII identifiers and dotted names)."""
    assert s.isascii() and s.isprintable() and '"' not in s and "\\" not in s, s
    return f'"{s}"'


def tables():
    """The two tables as sorted lists of pairs, without the Windows-only entry."""
    names = dict(_compat_pickle.NAME_MAPPING)
    names.pop(("exceptions", "WindowsError"), None)
    name_rows = sorted(names.items(), key=lambda kv: (kv[0][0].encode(), kv[0][1].encode()))
    import_rows = sorted(_compat_pickle.IMPORT_MAPPING.items(), key=lambda kv: kv[0].encode())
    return name_rows, import_rows


def section():
    """The generated Rust text, marker lines included."""
    name_rows, import_rows = tables()
    lines = [
        BEGIN,
        f"// CPython {sys.version.split()[0]} `_compat_pickle`: "
        f"len(NAME_MAPPING) == {len(name_rows)}, len(IMPORT_MAPPING) == {len(import_rows)}.",
        "// Do not edit by hand.",
        "",
        "/// `_compat_pickle.NAME_MAPPING`: `((module, name), (new_module, new_name))`, sorted.",
        "#[rustfmt::skip]",
        "pub(crate) static NAME_MAPPING: &[(Global, Global)] = &[",
    ]
    for (module, name), (new_module, new_name) in name_rows:
        lines.append(
            f"    (({rust_str(module)}, {rust_str(name)}), "
            f"({rust_str(new_module)}, {rust_str(new_name)})),"
        )
    lines += [
        "];",
        "",
        "/// `_compat_pickle.IMPORT_MAPPING`: `(module, new_module)`, sorted.",
        "#[rustfmt::skip]",
        "pub(crate) static IMPORT_MAPPING: &[(&str, &str)] = &[",
    ]
    for module, new_module in import_rows:
        lines.append(f"    ({rust_str(module)}, {rust_str(new_module)}),")
    lines += ["];", END]
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
    path = pathlib.Path(__file__).resolve().parent.parent / "src" / "compat.rs"
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
