#!/usr/bin/env python3
"""Print the expected values of the table tests in ``src/codec.rs``, computed by CPython.

Run ``python3 scripts/codec_test_expectations.py`` and paste each printed block over the body of
the matching table (``RAW_UNICODE_ESCAPE_CASES``, ``ESCAPE_DECODE_CASES``, ``DECODE_CASES``) in
the ``tests`` module of ``src/codec.rs``. Decoded text is written as its
``s.encode('utf-8', 'surrogatepass')`` bytes (what ``PyStr::as_encoded_bytes`` returns), errors
as ``str(exception)``.
"""

import codecs
import warnings

warnings.simplefilter("ignore")  # escape_decode's DeprecationWarning for unknown escapes


def rust_bytes(b):
    out = []
    for c in b:
        if c == 0x5C:
            out.append("\\\\")
        elif c == 0x22:
            out.append('\\"')
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        elif c == 0x0A:
            out.append("\\n")
        else:
            out.append(f"\\x{c:02x}")
    return 'b"' + "".join(out) + '"'


def rust_str(s):
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif 0x20 <= ord(ch) < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\u{{{ord(ch):x}}}")
    return '"' + "".join(out) + '"'


def result(f):
    try:
        value = f()
    except Exception as e:  # the message is what the Rust code returns
        return f"Err({rust_str(str(e))})"
    if isinstance(value, str):
        value = value.encode("utf-8", "surrogatepass")
    return f"Ok({rust_bytes(value)})"


RAW = [
    b"", b"abc", b"\xe9\xff\x00", b"\\u0041", b"\\u00e9x", b"\\U0001F600", b"\\U0010ffff",
    b"\\ud800", b"\\udc80\\ud83d", b"ab\\u12", b"\\U00110000", b"\\U0001F60", b"\\\\u0041",
    b"\\\\\\u0041", b"\\", b"a\\", b"\\x41\\n\\t", b"\\\\", b"\\u12x4", b"\\U", b"\\uFFFF",
    b"\\UFFFFFFFF", b"\\u004", b"\\\xe9", b"x\\U0000004",
]

ESCAPE = [
    b"", b"plain", b"\\\\", b"\\'\\\"", b"\\a\\b\\f\\n\\r\\t\\v", b"a\\\nb", b"\\0", b"\\12a",
    b"\\101\\1012", b"\\400", b"\\777", b"\\8\\9", b"\\q\\u0041", b"\\x41\\xfF", b"\\x4",
    b"ab\\x", b"\\xzz", b"\\x4g", b"\\", b"a\\\\\\", b"\\\xe9\xff", b"\\x41\\x",
]

DECODE = [
    (b"", "nonexistent", "strict"),
    (b"", "ascii", "bogus"),
    (b"hello", "ascii", "strict"),
    (b"ab\xa0c", "ascii", "strict"),
    (b"ab\xa0c", "ASCII", "replace"),
    (b"ab\xa0c", "us-ascii", "ignore"),
    (b"ab\xa0\xffc", "646", "surrogateescape"),
    (b"ab\xa0c", "ascii", "backslashreplace"),
    (b"ab\xa0c", "ascii", "surrogatepass"),
    (b"ab\xa0c", "ascii", "bogus"),
    (b"abc", "ascii", "bogus"),
    (b"ab\xa0c", "646", "bogus"),
    (b"\xff", "ascii", "xmlcharrefreplace"),
    (b"\xff", "ansi_x3.4-1968", "namereplace"),
    (b"\xe9\xff\x80", "latin-1", "strict"),
    (b"\xe9\xff", "L1", "bogus"),
    (b"\xe9", "iso8859-1", "strict"),
    (b"\xe9", "Latin 1", "strict"),
    (b"\xe9", "cp819", "strict"),
    (b"\xe9", "8859", "strict"),
    (b"caf\xc3\xa9 \xf0\x9f\x98\x80", "utf-8", "strict"),
    (b"\xff", "utf-8", "strict"),
    (b"a\xe1\x80", "utf-8", "strict"),
    (b"\xe1\x80A", "UTF8", "strict"),
    (b"\xe1A", "utf_8", "strict"),
    (b"\xc0\xaf", "U8", "strict"),
    (b"\xed\xa0\x80", "utf", "strict"),
    (b"\xf4\x90\x80\x80", "utf-8", "strict"),
    (b"\xe1\x80A\xf0\x90\x80\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xe1\x80", "utf-8", "replace"),
    (b"\xe1\x80A\xf0\x90\x80\xe1\x80", "utf-8", "ignore"),
    (b"\xe1\x80A\xed\xa0\x80", "utf-8", "surrogateescape"),
    (b"\xe1\x80A\xed\xa0\x80", "utf-8", "backslashreplace"),
    (b"\xed\xa0\x80\xed\xbf\xbfa", "utf-8", "surrogatepass"),
    (b"\xed\xa0", "utf-8", "surrogatepass"),
    (b"\xe0\x80\x80", "utf-8", "surrogatepass"),
    (b"\xff", "utf-8", "bogus"),
    (b"\xff", "u8", "bogus"),
    (b"\xff", "utf-8", "Strict"),
    (b"ok", "utf-8", "bogus"),
    (b"\x80\x81\x8d\x9f", "cp1252", "strict"),
    (b"\x80\x81\x8d\x9f", "windows-1252", "replace"),
    (b"\x80\x81\x8d\x9f", "cp1252", "ignore"),
    (b"\x81\x8d", "cp1252", "surrogateescape"),
    (b"\x81\x8d", "cp1252", "backslashreplace"),
    (b"\x81", "cp1252", "surrogatepass"),
    (b"\x81", "cp1252", "bogus"),
    (b"\xc1\xd7\xff\x80", "koi8-r", "strict"),
    (b"\xc1\xd7", "KOI8_R", "bogus"),
    (b"x", "bogus", "strict"),
    (b"x", "Foo Bar", "strict"),
    (b"x", "latin.1", "strict"),
    (b"x", "..utf--8..", "strict"),
    (b"x", "bytes", "strict"),
    (b"x", " utf\u00e9 8 ", "strict"),
    (b"x", "a\0b", "strict"),
    (b"", "ascii", "a\0b"),
]


def main():
    print("// RAW_UNICODE_ESCAPE_CASES")
    for data in RAW:
        print(f"    ({rust_bytes(data)}, {result(lambda: data.decode('raw-unicode-escape'))}),")
    print("// ESCAPE_DECODE_CASES")
    for data in ESCAPE:
        print(f"    ({rust_bytes(data)}, {result(lambda: codecs.escape_decode(data)[0])}),")
    print("// DECODE_CASES")
    for data, enc, err in DECODE:
        expected = result(lambda: data.decode(enc, err))
        print(f"    ({rust_bytes(data)}, {rust_str(enc)}, {rust_str(err)}, {expected}),")


if __name__ == "__main__":
    main()
