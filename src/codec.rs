//! Text decoding for the pickle opcodes, matching CPython 3.11 byte for byte.
//!
//! * [`raw_unicode_escape_decode`]: `data.decode('raw-unicode-escape')`, used by the protocol-0
//!   `UNICODE` opcode (`V`).
//! * [`escape_decode`]: `codecs.escape_decode(data)[0]`, used by the protocol-0 `STRING` opcode
//!   (`S`) once its quotes are stripped.
//! * [`decode_bytes`]: `data.decode(encoding, errors)` for the codecs `ascii`, `latin-1`,
//!   `utf-8`, `cp1252` and `koi8-r`, used to turn a Python 2 `str` (`STRING`, `BINSTRING`,
//!   `SHORT_BINSTRING`) into a Python 3 `str` with the unpickler's `encoding`/`errors` options.
//!
//! Error values are the text of the exception CPython raises (`str(exc)`), without the
//! exception type.

use crate::pystr::{INLINE_MAX, PyStr, StrBuilder};
use crate::reader::find_byte;

/// Whether `encoding` is the unpickler's special value `'bytes'` (keep Python 2 `str` as
/// `bytes`). The comparison is exact, as in CPython: `'BYTES'` is an (unknown) codec name.
pub(crate) fn is_bytes_encoding(encoding: &str) -> bool {
    encoding == "bytes"
}

/// CPython's `str(UnicodeDecodeError(codec, data, start, end, reason))`.
fn decode_error_message(
    codec: &str,
    data: &[u8],
    start: usize,
    end: usize,
    reason: &str,
) -> String {
    match data.get(start) {
        Some(byte) if end == start.saturating_add(1) => {
            format!("'{codec}' codec can't decode byte 0x{byte:02x} in position {start}: {reason}")
        }
        _ => format!(
            "'{codec}' codec can't decode bytes in position {start}-{}: {reason}",
            end.saturating_sub(1)
        ),
    }
}

/// The value of each byte as a hex digit, or 16 for a byte that is not one.
static HEX_VALUE: [u8; 256] = {
    let mut t = [16u8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// The value of an ASCII hex digit, as CPython's escape decoders read it.
fn hex_digit(b: u8) -> Option<u32> {
    HEX_VALUE
        .get(usize::from(b))
        .filter(|&&d| d < 16)
        .map(|&d| u32::from(d))
}

/// Appends Latin-1 bytes (each byte is the code point of the same value) to `out`.
fn push_latin1(out: &mut StrBuilder, bytes: &[u8]) {
    let ascii = if bytes.is_ascii() {
        std::str::from_utf8(bytes).ok()
    } else {
        None
    };
    match ascii {
        Some(text) => out.push_str(text),
        None => {
            for &b in bytes {
                out.push_code_point(u32::from(b));
            }
        }
    }
}

/// `data` as an inline str if it is short ASCII text with no backslash (see
/// [`raw_unicode_escape_decode`]).
#[inline]
fn short_ascii_text(data: &[u8]) -> Option<PyStr> {
    let len = u8::try_from(data.len())
        .ok()
        .filter(|&n| usize::from(n) <= INLINE_MAX)?;
    // Zero padding is neither a backslash nor a high byte.
    let mut buf = [0u8; 24];
    buf.get_mut(..data.len())?.copy_from_slice(data);
    let mut words = [0u64; 3];
    for (w, word) in words
        .iter_mut()
        .zip(buf.chunks_exact(8).filter_map(|w| w.first_chunk::<8>()))
    {
        *w = u64::from_le_bytes(*word);
    }
    if !words_plain_ascii(&words) {
        return None;
    }
    let text = buf.first_chunk::<INLINE_MAX>()?;
    Some(PyStr::from_inline_parts(len, *text))
}

/// Whether zero-padded little-endian words hold only ASCII bytes other than `\\` (a short
/// `raw-unicode-escape` line that is its own text), tested a word at a time.
#[inline(always)]
pub(crate) fn words_plain_ascii(words: &[u64; 3]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const BACKSLASH: u64 = 0x5c5c_5c5c_5c5c_5c5c;
    let mut bad = 0u64;
    for &w in words {
        let x = w ^ BACKSLASH;
        // (A zero byte of `x`, a backslash of `w`, sets its high bit here.)
        bad |= w | (x.wrapping_sub(ONES) & !x);
    }
    bad & HIGH == 0
}

/// Decodes `data` like Python's `data.decode('raw-unicode-escape')`.
///
/// Every byte is the Latin-1 code point of the same value, except the escapes `\uXXXX`
/// (exactly 4 hex digits) and `\UXXXXXXXX` (exactly 8 hex digits, at most `0x10FFFF`). A
/// backslash followed by any other byte is kept together with that byte, so in a run of
/// backslashes only the odd-numbered ones can start an escape (`\\u0041` stays as is). Lone
/// surrogates such as `\ud800` are allowed. Errors are CPython's message, e.g.
/// `'rawunicodeescape' codec can't decode bytes in position 0-3: truncated \uXXXX escape`.
pub(crate) fn raw_unicode_escape_decode(data: &[u8]) -> Result<PyStr, String> {
    // A short line of ASCII without a backslash (most keys and values): the text as it is,
    // inline. Checked a word at a time: any byte with its high bit set, or equal to `\\`.
    if let Some(s) = short_ascii_text(data) {
        return Ok(s);
    }
    // No backslash: no escape, every byte is its code point.
    if !data.contains(&b'\\') {
        return Ok(PyStr::from_latin1(data));
    }
    // Escapes (how protocol 0 writes every character above U+00FF): decoded straight into a
    // `String`, which needs no validation at the end; a lone surrogate, which a `String`
    // cannot hold, sends the line to the general decoder. (An escape is never shorter in
    // UTF-8 than in the pickle, and other bytes at most double: the room is grown at most
    // once or twice, by amounts the line itself bounds.)
    let mut text = String::with_capacity(data.len());
    let mut pos = 0;
    while let Some(rest) = data.get(pos..) {
        // The usual escape, `\\uXXXX`, read whole.
        if let Some(&[b'\\', b'u', a, b, c, d]) = rest.first_chunk::<6>() {
            let [a, b, c, d] = [a, b, c, d].map(|x| u32::from(HEX_VALUE[usize::from(x)]));
            if (a | b | c | d) < 16 {
                match char::from_u32(a << 12 | b << 8 | c << 4 | d) {
                    Some(c) => {
                        text.push(c);
                        pos += 6;
                        continue;
                    }
                    None => return raw_unicode_escape_decode_wide(data),
                }
            }
        }
        let Some(offset) = find_byte(rest, b'\\') else {
            push_latin1_str(&mut text, rest);
            break;
        };
        push_latin1_str(&mut text, rest.get(..offset).unwrap_or_default());
        let start = pos + offset;
        match read_escape(data, start)? {
            Escape::Code(code, next) => match char::from_u32(code) {
                Some(c) => {
                    text.push(c);
                    pos = next;
                }
                None => return raw_unicode_escape_decode_wide(data),
            },
            Escape::Kept(next) => {
                push_latin1_str(&mut text, data.get(start..next).unwrap_or_default());
                pos = next;
            }
        }
    }
    Ok(PyStr::from(text.as_str()))
}

/// What a backslash of a `raw-unicode-escape` line starts.
enum Escape {
    /// `\uXXXX` or `\UXXXXXXXX`: the code point (at most U+10FFFF, perhaps a surrogate), and
    /// the position after the escape.
    Code(u32, usize),
    /// Anything else: the bytes up to the position given (the backslash and the byte after
    /// it, or the backslash alone at the end) stay as they are.
    Kept(usize),
}

/// Reads the escape at `data[start]` (a backslash), with CPython's errors.
#[inline]
fn read_escape(data: &[u8], start: usize) -> Result<Escape, String> {
    let mut pos = start + 1;
    let (digits, message) = match data.get(pos) {
        None => return Ok(Escape::Kept(pos)),
        Some(b'u') => (4, "truncated \\uXXXX escape"),
        Some(b'U') => (8, "truncated \\UXXXXXXXX escape"),
        // Any other byte (a backslash included) is kept, after the backslash.
        Some(_) => return Ok(Escape::Kept(pos + 1)),
    };
    pos += 1;
    let mut code: u32 = 0;
    for _ in 0..digits {
        match data.get(pos).copied().and_then(hex_digit) {
            Some(digit) => {
                code = (code << 4) | digit;
                pos += 1;
            }
            None => {
                return Err(decode_error_message(
                    "rawunicodeescape",
                    data,
                    start,
                    pos,
                    message,
                ));
            }
        }
    }
    if code > 0x10FFFF {
        return Err(decode_error_message(
            "rawunicodeescape",
            data,
            start,
            pos,
            "\\Uxxxxxxxx out of range",
        ));
    }
    Ok(Escape::Code(code, pos))
}

/// Appends Latin-1 bytes (each byte is the code point of the same value) to `text`.
#[inline]
fn push_latin1_str(text: &mut String, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    match bytes
        .is_ascii()
        .then(|| std::str::from_utf8(bytes).ok())
        .flatten()
    {
        Some(ascii) => text.push_str(ascii),
        None => text.extend(bytes.iter().map(|&b| char::from(b))),
    }
}

/// [`raw_unicode_escape_decode`] of a line with a lone surrogate, into generalized UTF-8.
fn raw_unicode_escape_decode_wide(data: &[u8]) -> Result<PyStr, String> {
    // Each byte gives at most two bytes of UTF-8 (an escape gives at most four from six or
    // ten): room enough, never grown.
    let high = data.iter().filter(|&&b| b >= 0x80).count();
    let mut out = StrBuilder::with_capacity(data.len() + high);
    let mut pos = 0;
    while let Some(rest) = data.get(pos..) {
        let Some(offset) = find_byte(rest, b'\\') else {
            push_latin1(&mut out, rest);
            break;
        };
        push_latin1(&mut out, rest.get(..offset).unwrap_or_default());
        let start = pos + offset;
        match read_escape(data, start)? {
            Escape::Code(code, next) => {
                out.push_code_point(code);
                pos = next;
            }
            Escape::Kept(next) => {
                push_latin1(&mut out, data.get(start..next).unwrap_or_default());
                pos = next;
            }
        }
    }
    Ok(out.finish())
}

/// Decodes the escapes of a Python bytes literal like `codecs.escape_decode(data)[0]`.
///
/// Handles `\\ \' \" \a \b \f \n \r \t \v`, `\<newline>` (removed), `\ooo` (1 to 3 octal
/// digits, the value masked to 8 bits: `\400` is `\x00`) and `\xhh` (exactly two hex digits).
/// Any other escape is kept verbatim, backslash included (`\q`, `\u0041`, `\8`). CPython emits
/// a `DeprecationWarning` for those and for octal values above `\377`; no warning is produced
/// here. Errors: `invalid \x escape at position N` (N: the position of the backslash) and
/// `Trailing \ in string`.
pub(crate) fn escape_decode(data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(data.len());
    let mut pos = 0;
    while let Some(rest) = data.get(pos..) {
        let Some(offset) = find_byte(rest, b'\\') else {
            out.extend_from_slice(rest);
            break;
        };
        out.extend_from_slice(rest.get(..offset).unwrap_or_default());
        let start = pos + offset;
        pos = start + 1;
        let Some(&kind) = data.get(pos) else {
            return Err("Trailing \\ in string".to_owned());
        };
        pos += 1;
        match kind {
            b'\n' => {}
            b'\\' => out.push(b'\\'),
            b'\'' => out.push(b'\''),
            b'"' => out.push(b'"'),
            b'a' => out.push(0x07),
            b'b' => out.push(0x08),
            b'f' => out.push(0x0c),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(0x0b),
            b'0'..=b'7' => {
                let mut value = u32::from(kind - b'0');
                for _ in 0..2 {
                    match data.get(pos) {
                        Some(&d @ b'0'..=b'7') => {
                            value = (value << 3) | u32::from(d - b'0');
                            pos += 1;
                        }
                        _ => break,
                    }
                }
                out.push((value & 0xff) as u8);
            }
            b'x' => {
                let high = data.get(pos).copied().and_then(hex_digit);
                let low = data.get(pos + 1).copied().and_then(hex_digit);
                match (high, low) {
                    (Some(high), Some(low)) => {
                        out.push((((high << 4) | low) & 0xff) as u8);
                        pos += 2;
                    }
                    _ => return Err(format!("invalid \\x escape at position {start}")),
                }
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    Ok(out)
}

/// A codec [`decode_bytes`] implements, named after its module in Python's `encodings`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Codec {
    /// `ascii`: bytes below 0x80 only.
    Ascii,
    /// `latin_1`: every byte is the code point of the same value.
    Latin1,
    /// `utf_8`.
    Utf8,
    /// `cp1252` (Windows Western European), five bytes unmapped.
    Cp1252,
    /// `koi8_r` (Russian), every byte mapped.
    Koi8R,
}

impl Codec {
    /// The name of the C function CPython's codec encodes with (`latin_1_encode`), as its
    /// errors name it.
    pub(crate) fn encode_function(self) -> &'static str {
        match self {
            Codec::Ascii => "ascii_encode",
            Codec::Latin1 => "latin_1_encode",
            Codec::Utf8 => "utf_8_encode",
            Codec::Cp1252 | Codec::Koi8R => "charmap_encode",
        }
    }
}

/// Marks an unmapped byte in the single-byte decoding tables.
const UNDEFINED: u16 = 0xfffe;

// BEGIN GENERATED CODEC TABLES (scripts/gen_codec_tables.py)
// CPython 3.11.7. Do not edit by hand.

/// Python module names (in `encodings`) of CPython's codecs, sorted; `None`: not
/// implemented here.
#[rustfmt::skip]
static CODEC_MODULES: &[(&str, Option<Codec>)] = &[
    ("ascii", Some(Codec::Ascii)),
    ("base64_codec", None),
    ("big5", None),
    ("big5hkscs", None),
    ("bz2_codec", None),
    ("charmap", None),
    ("cp037", None),
    ("cp1006", None),
    ("cp1026", None),
    ("cp1125", None),
    ("cp1140", None),
    ("cp1250", None),
    ("cp1251", None),
    ("cp1252", Some(Codec::Cp1252)),
    ("cp1253", None),
    ("cp1254", None),
    ("cp1255", None),
    ("cp1256", None),
    ("cp1257", None),
    ("cp1258", None),
    ("cp273", None),
    ("cp424", None),
    ("cp437", None),
    ("cp500", None),
    ("cp720", None),
    ("cp737", None),
    ("cp775", None),
    ("cp850", None),
    ("cp852", None),
    ("cp855", None),
    ("cp856", None),
    ("cp857", None),
    ("cp858", None),
    ("cp860", None),
    ("cp861", None),
    ("cp862", None),
    ("cp863", None),
    ("cp864", None),
    ("cp865", None),
    ("cp866", None),
    ("cp869", None),
    ("cp874", None),
    ("cp875", None),
    ("cp932", None),
    ("cp949", None),
    ("cp950", None),
    ("euc_jis_2004", None),
    ("euc_jisx0213", None),
    ("euc_jp", None),
    ("euc_kr", None),
    ("gb18030", None),
    ("gb2312", None),
    ("gbk", None),
    ("hex_codec", None),
    ("hp_roman8", None),
    ("hz", None),
    ("idna", None),
    ("iso2022_jp", None),
    ("iso2022_jp_1", None),
    ("iso2022_jp_2", None),
    ("iso2022_jp_2004", None),
    ("iso2022_jp_3", None),
    ("iso2022_jp_ext", None),
    ("iso2022_kr", None),
    ("iso8859_1", None),
    ("iso8859_10", None),
    ("iso8859_11", None),
    ("iso8859_13", None),
    ("iso8859_14", None),
    ("iso8859_15", None),
    ("iso8859_16", None),
    ("iso8859_2", None),
    ("iso8859_3", None),
    ("iso8859_4", None),
    ("iso8859_5", None),
    ("iso8859_6", None),
    ("iso8859_7", None),
    ("iso8859_8", None),
    ("iso8859_9", None),
    ("johab", None),
    ("koi8_r", Some(Codec::Koi8R)),
    ("koi8_t", None),
    ("koi8_u", None),
    ("kz1048", None),
    ("latin_1", Some(Codec::Latin1)),
    ("mac_arabic", None),
    ("mac_croatian", None),
    ("mac_cyrillic", None),
    ("mac_farsi", None),
    ("mac_greek", None),
    ("mac_iceland", None),
    ("mac_latin2", None),
    ("mac_roman", None),
    ("mac_romanian", None),
    ("mac_turkish", None),
    ("palmos", None),
    ("ptcp154", None),
    ("punycode", None),
    ("quopri_codec", None),
    ("raw_unicode_escape", None),
    ("rot_13", None),
    ("shift_jis", None),
    ("shift_jis_2004", None),
    ("shift_jisx0213", None),
    ("tis_620", None),
    ("undefined", None),
    ("unicode_escape", None),
    ("utf_16", None),
    ("utf_16_be", None),
    ("utf_16_le", None),
    ("utf_32", None),
    ("utf_32_be", None),
    ("utf_32_le", None),
    ("utf_7", None),
    ("utf_8", Some(Codec::Utf8)),
    ("utf_8_sig", None),
    ("uu_codec", None),
    ("zlib_codec", None),
];

/// `encodings.aliases.aliases`, sorted, with the codec each names (`None`: not
/// implemented here).
#[rustfmt::skip]
static CODEC_ALIASES: &[(&str, Option<Codec>)] = &[
    ("037", None),
    ("1026", None),
    ("1125", None),
    ("1140", None),
    ("1250", None),
    ("1251", None),
    ("1252", Some(Codec::Cp1252)),
    ("1253", None),
    ("1254", None),
    ("1255", None),
    ("1256", None),
    ("1257", None),
    ("1258", None),
    ("273", None),
    ("424", None),
    ("437", None),
    ("500", None),
    ("646", Some(Codec::Ascii)),
    ("775", None),
    ("850", None),
    ("852", None),
    ("855", None),
    ("857", None),
    ("858", None),
    ("860", None),
    ("861", None),
    ("862", None),
    ("863", None),
    ("864", None),
    ("865", None),
    ("866", None),
    ("869", None),
    ("8859", Some(Codec::Latin1)),
    ("932", None),
    ("936", None),
    ("949", None),
    ("950", None),
    ("ansi_x3.4_1968", Some(Codec::Ascii)),
    ("ansi_x3.4_1986", Some(Codec::Ascii)),
    ("ansi_x3_4_1968", Some(Codec::Ascii)),
    ("arabic", None),
    ("asmo_708", None),
    ("base64", None),
    ("base_64", None),
    ("big5_hkscs", None),
    ("big5_tw", None),
    ("bz2", None),
    ("chinese", None),
    ("cp1051", None),
    ("cp1361", None),
    ("cp154", None),
    ("cp367", Some(Codec::Ascii)),
    ("cp65001", Some(Codec::Utf8)),
    ("cp819", Some(Codec::Latin1)),
    ("cp866u", None),
    ("cp936", None),
    ("cp_gr", None),
    ("cp_is", None),
    ("csHPRoman8", None),
    ("csascii", Some(Codec::Ascii)),
    ("csbig5", None),
    ("csibm037", None),
    ("csibm1026", None),
    ("csibm273", None),
    ("csibm424", None),
    ("csibm500", None),
    ("csibm855", None),
    ("csibm857", None),
    ("csibm858", None),
    ("csibm860", None),
    ("csibm861", None),
    ("csibm863", None),
    ("csibm864", None),
    ("csibm865", None),
    ("csibm866", None),
    ("csibm869", None),
    ("csiso2022jp", None),
    ("csiso2022kr", None),
    ("csiso58gb231280", None),
    ("csisolatin1", Some(Codec::Latin1)),
    ("csisolatin2", None),
    ("csisolatin3", None),
    ("csisolatin4", None),
    ("csisolatin5", None),
    ("csisolatin6", None),
    ("csisolatinarabic", None),
    ("csisolatincyrillic", None),
    ("csisolatingreek", None),
    ("csisolatinhebrew", None),
    ("cskoi8r", Some(Codec::Koi8R)),
    ("cspc775baltic", None),
    ("cspc850multilingual", None),
    ("cspc862latinhebrew", None),
    ("cspc8codepage437", None),
    ("cspcp852", None),
    ("csptcp154", None),
    ("csshiftjis", None),
    ("cyrillic", None),
    ("cyrillic_asian", None),
    ("ebcdic_cp_be", None),
    ("ebcdic_cp_ca", None),
    ("ebcdic_cp_ch", None),
    ("ebcdic_cp_he", None),
    ("ebcdic_cp_nl", None),
    ("ebcdic_cp_us", None),
    ("ebcdic_cp_wt", None),
    ("ecma_114", None),
    ("ecma_118", None),
    ("elot_928", None),
    ("euc_cn", None),
    ("euc_jis2004", None),
    ("euccn", None),
    ("eucgb2312_cn", None),
    ("eucjis2004", None),
    ("eucjisx0213", None),
    ("eucjp", None),
    ("euckr", None),
    ("gb18030_2000", None),
    ("gb2312_1980", None),
    ("gb2312_80", None),
    ("greek", None),
    ("greek8", None),
    ("hebrew", None),
    ("hex", None),
    ("hkscs", None),
    ("hz_gb", None),
    ("hz_gb_2312", None),
    ("hzgb", None),
    ("ibm037", None),
    ("ibm039", None),
    ("ibm1026", None),
    ("ibm1051", None),
    ("ibm1125", None),
    ("ibm1140", None),
    ("ibm273", None),
    ("ibm367", Some(Codec::Ascii)),
    ("ibm424", None),
    ("ibm437", None),
    ("ibm500", None),
    ("ibm775", None),
    ("ibm819", Some(Codec::Latin1)),
    ("ibm850", None),
    ("ibm852", None),
    ("ibm855", None),
    ("ibm857", None),
    ("ibm858", None),
    ("ibm860", None),
    ("ibm861", None),
    ("ibm862", None),
    ("ibm863", None),
    ("ibm864", None),
    ("ibm865", None),
    ("ibm866", None),
    ("ibm869", None),
    ("iso2022jp", None),
    ("iso2022jp_1", None),
    ("iso2022jp_2", None),
    ("iso2022jp_2004", None),
    ("iso2022jp_3", None),
    ("iso2022jp_ext", None),
    ("iso2022kr", None),
    ("iso646_us", Some(Codec::Ascii)),
    ("iso8859", Some(Codec::Latin1)),
    ("iso8859_1", Some(Codec::Latin1)),
    ("iso_2022_jp", None),
    ("iso_2022_jp_1", None),
    ("iso_2022_jp_2", None),
    ("iso_2022_jp_2004", None),
    ("iso_2022_jp_3", None),
    ("iso_2022_jp_ext", None),
    ("iso_2022_kr", None),
    ("iso_646.irv_1991", Some(Codec::Ascii)),
    ("iso_8859_1", Some(Codec::Latin1)),
    ("iso_8859_10", None),
    ("iso_8859_10_1992", None),
    ("iso_8859_11", None),
    ("iso_8859_11_2001", None),
    ("iso_8859_13", None),
    ("iso_8859_14", None),
    ("iso_8859_14_1998", None),
    ("iso_8859_15", None),
    ("iso_8859_16", None),
    ("iso_8859_16_2001", None),
    ("iso_8859_1_1987", Some(Codec::Latin1)),
    ("iso_8859_2", None),
    ("iso_8859_2_1987", None),
    ("iso_8859_3", None),
    ("iso_8859_3_1988", None),
    ("iso_8859_4", None),
    ("iso_8859_4_1988", None),
    ("iso_8859_5", None),
    ("iso_8859_5_1988", None),
    ("iso_8859_6", None),
    ("iso_8859_6_1987", None),
    ("iso_8859_7", None),
    ("iso_8859_7_1987", None),
    ("iso_8859_8", None),
    ("iso_8859_8_1988", None),
    ("iso_8859_9", None),
    ("iso_8859_9_1989", None),
    ("iso_celtic", None),
    ("iso_ir_100", Some(Codec::Latin1)),
    ("iso_ir_101", None),
    ("iso_ir_109", None),
    ("iso_ir_110", None),
    ("iso_ir_126", None),
    ("iso_ir_127", None),
    ("iso_ir_138", None),
    ("iso_ir_144", None),
    ("iso_ir_148", None),
    ("iso_ir_157", None),
    ("iso_ir_166", None),
    ("iso_ir_199", None),
    ("iso_ir_226", None),
    ("iso_ir_58", None),
    ("iso_ir_6", Some(Codec::Ascii)),
    ("jisx0213", None),
    ("korean", None),
    ("ks_c_5601", None),
    ("ks_c_5601_1987", None),
    ("ks_x_1001", None),
    ("ksc5601", None),
    ("ksx1001", None),
    ("kz_1048", None),
    ("l1", Some(Codec::Latin1)),
    ("l10", None),
    ("l2", None),
    ("l3", None),
    ("l4", None),
    ("l5", None),
    ("l6", None),
    ("l7", None),
    ("l8", None),
    ("l9", None),
    ("latin", Some(Codec::Latin1)),
    ("latin1", Some(Codec::Latin1)),
    ("latin10", None),
    ("latin2", None),
    ("latin3", None),
    ("latin4", None),
    ("latin5", None),
    ("latin6", None),
    ("latin7", None),
    ("latin8", None),
    ("latin9", None),
    ("mac_centeuro", None),
    ("maccentraleurope", None),
    ("maccyrillic", None),
    ("macgreek", None),
    ("maciceland", None),
    ("macintosh", None),
    ("maclatin2", None),
    ("macroman", None),
    ("macturkish", None),
    ("ms1361", None),
    ("ms932", None),
    ("ms936", None),
    ("ms949", None),
    ("ms950", None),
    ("ms_kanji", None),
    ("mskanji", None),
    ("pt154", None),
    ("quopri", None),
    ("quoted_printable", None),
    ("quotedprintable", None),
    ("r8", None),
    ("rk1048", None),
    ("roman8", None),
    ("rot13", None),
    ("ruscii", None),
    ("s_jis", None),
    ("s_jis_2004", None),
    ("s_jisx0213", None),
    ("shiftjis", None),
    ("shiftjis2004", None),
    ("shiftjisx0213", None),
    ("sjis", None),
    ("sjis_2004", None),
    ("sjisx0213", None),
    ("strk1048_2002", None),
    ("thai", None),
    ("tis620", None),
    ("tis_620_0", None),
    ("tis_620_2529_0", None),
    ("tis_620_2529_1", None),
    ("u16", None),
    ("u32", None),
    ("u7", None),
    ("u8", Some(Codec::Utf8)),
    ("u_jis", None),
    ("uhc", None),
    ("ujis", None),
    ("unicode_1_1_utf_7", None),
    ("unicodebigunmarked", None),
    ("unicodelittleunmarked", None),
    ("us", Some(Codec::Ascii)),
    ("us_ascii", Some(Codec::Ascii)),
    ("utf", Some(Codec::Utf8)),
    ("utf16", None),
    ("utf32", None),
    ("utf7", None),
    ("utf8", Some(Codec::Utf8)),
    ("utf8_ucs2", Some(Codec::Utf8)),
    ("utf8_ucs4", Some(Codec::Utf8)),
    ("utf_16be", None),
    ("utf_16le", None),
    ("utf_32be", None),
    ("utf_32le", None),
    ("uu", None),
    ("windows_1250", None),
    ("windows_1251", None),
    ("windows_1252", Some(Codec::Cp1252)),
    ("windows_1253", None),
    ("windows_1254", None),
    ("windows_1255", None),
    ("windows_1256", None),
    ("windows_1257", None),
    ("windows_1258", None),
    ("x_mac_japanese", None),
    ("x_mac_korean", None),
    ("x_mac_simp_chinese", None),
    ("x_mac_trad_chinese", None),
    ("zip", None),
    ("zlib", None),
];

/// Decoding table of `cp1252`: code point per byte, `UNDEFINED` for unmapped bytes.
#[rustfmt::skip]
static CP1252_TABLE: [u16; 256] = [
    0x0000, 0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0006, 0x0007, // 0x00
    0x0008, 0x0009, 0x000a, 0x000b, 0x000c, 0x000d, 0x000e, 0x000f, // 0x08
    0x0010, 0x0011, 0x0012, 0x0013, 0x0014, 0x0015, 0x0016, 0x0017, // 0x10
    0x0018, 0x0019, 0x001a, 0x001b, 0x001c, 0x001d, 0x001e, 0x001f, // 0x18
    0x0020, 0x0021, 0x0022, 0x0023, 0x0024, 0x0025, 0x0026, 0x0027, // 0x20
    0x0028, 0x0029, 0x002a, 0x002b, 0x002c, 0x002d, 0x002e, 0x002f, // 0x28
    0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037, // 0x30
    0x0038, 0x0039, 0x003a, 0x003b, 0x003c, 0x003d, 0x003e, 0x003f, // 0x38
    0x0040, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047, // 0x40
    0x0048, 0x0049, 0x004a, 0x004b, 0x004c, 0x004d, 0x004e, 0x004f, // 0x48
    0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057, // 0x50
    0x0058, 0x0059, 0x005a, 0x005b, 0x005c, 0x005d, 0x005e, 0x005f, // 0x58
    0x0060, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067, // 0x60
    0x0068, 0x0069, 0x006a, 0x006b, 0x006c, 0x006d, 0x006e, 0x006f, // 0x68
    0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077, // 0x70
    0x0078, 0x0079, 0x007a, 0x007b, 0x007c, 0x007d, 0x007e, 0x007f, // 0x78
    0x20ac, 0xfffe, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, // 0x80
    0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0xfffe, 0x017d, 0xfffe, // 0x88
    0xfffe, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, // 0x90
    0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0xfffe, 0x017e, 0x0178, // 0x98
    0x00a0, 0x00a1, 0x00a2, 0x00a3, 0x00a4, 0x00a5, 0x00a6, 0x00a7, // 0xa0
    0x00a8, 0x00a9, 0x00aa, 0x00ab, 0x00ac, 0x00ad, 0x00ae, 0x00af, // 0xa8
    0x00b0, 0x00b1, 0x00b2, 0x00b3, 0x00b4, 0x00b5, 0x00b6, 0x00b7, // 0xb0
    0x00b8, 0x00b9, 0x00ba, 0x00bb, 0x00bc, 0x00bd, 0x00be, 0x00bf, // 0xb8
    0x00c0, 0x00c1, 0x00c2, 0x00c3, 0x00c4, 0x00c5, 0x00c6, 0x00c7, // 0xc0
    0x00c8, 0x00c9, 0x00ca, 0x00cb, 0x00cc, 0x00cd, 0x00ce, 0x00cf, // 0xc8
    0x00d0, 0x00d1, 0x00d2, 0x00d3, 0x00d4, 0x00d5, 0x00d6, 0x00d7, // 0xd0
    0x00d8, 0x00d9, 0x00da, 0x00db, 0x00dc, 0x00dd, 0x00de, 0x00df, // 0xd8
    0x00e0, 0x00e1, 0x00e2, 0x00e3, 0x00e4, 0x00e5, 0x00e6, 0x00e7, // 0xe0
    0x00e8, 0x00e9, 0x00ea, 0x00eb, 0x00ec, 0x00ed, 0x00ee, 0x00ef, // 0xe8
    0x00f0, 0x00f1, 0x00f2, 0x00f3, 0x00f4, 0x00f5, 0x00f6, 0x00f7, // 0xf0
    0x00f8, 0x00f9, 0x00fa, 0x00fb, 0x00fc, 0x00fd, 0x00fe, 0x00ff, // 0xf8
];

/// Decoding table of `koi8-r`: code point per byte (every byte is mapped).
#[rustfmt::skip]
static KOI8_R_TABLE: [u16; 256] = [
    0x0000, 0x0001, 0x0002, 0x0003, 0x0004, 0x0005, 0x0006, 0x0007, // 0x00
    0x0008, 0x0009, 0x000a, 0x000b, 0x000c, 0x000d, 0x000e, 0x000f, // 0x08
    0x0010, 0x0011, 0x0012, 0x0013, 0x0014, 0x0015, 0x0016, 0x0017, // 0x10
    0x0018, 0x0019, 0x001a, 0x001b, 0x001c, 0x001d, 0x001e, 0x001f, // 0x18
    0x0020, 0x0021, 0x0022, 0x0023, 0x0024, 0x0025, 0x0026, 0x0027, // 0x20
    0x0028, 0x0029, 0x002a, 0x002b, 0x002c, 0x002d, 0x002e, 0x002f, // 0x28
    0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037, // 0x30
    0x0038, 0x0039, 0x003a, 0x003b, 0x003c, 0x003d, 0x003e, 0x003f, // 0x38
    0x0040, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047, // 0x40
    0x0048, 0x0049, 0x004a, 0x004b, 0x004c, 0x004d, 0x004e, 0x004f, // 0x48
    0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057, // 0x50
    0x0058, 0x0059, 0x005a, 0x005b, 0x005c, 0x005d, 0x005e, 0x005f, // 0x58
    0x0060, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067, // 0x60
    0x0068, 0x0069, 0x006a, 0x006b, 0x006c, 0x006d, 0x006e, 0x006f, // 0x68
    0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077, // 0x70
    0x0078, 0x0079, 0x007a, 0x007b, 0x007c, 0x007d, 0x007e, 0x007f, // 0x78
    0x2500, 0x2502, 0x250c, 0x2510, 0x2514, 0x2518, 0x251c, 0x2524, // 0x80
    0x252c, 0x2534, 0x253c, 0x2580, 0x2584, 0x2588, 0x258c, 0x2590, // 0x88
    0x2591, 0x2592, 0x2593, 0x2320, 0x25a0, 0x2219, 0x221a, 0x2248, // 0x90
    0x2264, 0x2265, 0x00a0, 0x2321, 0x00b0, 0x00b2, 0x00b7, 0x00f7, // 0x98
    0x2550, 0x2551, 0x2552, 0x0451, 0x2553, 0x2554, 0x2555, 0x2556, // 0xa0
    0x2557, 0x2558, 0x2559, 0x255a, 0x255b, 0x255c, 0x255d, 0x255e, // 0xa8
    0x255f, 0x2560, 0x2561, 0x0401, 0x2562, 0x2563, 0x2564, 0x2565, // 0xb0
    0x2566, 0x2567, 0x2568, 0x2569, 0x256a, 0x256b, 0x256c, 0x00a9, // 0xb8
    0x044e, 0x0430, 0x0431, 0x0446, 0x0434, 0x0435, 0x0444, 0x0433, // 0xc0
    0x0445, 0x0438, 0x0439, 0x043a, 0x043b, 0x043c, 0x043d, 0x043e, // 0xc8
    0x043f, 0x044f, 0x0440, 0x0441, 0x0442, 0x0443, 0x0436, 0x0432, // 0xd0
    0x044c, 0x044b, 0x0437, 0x0448, 0x044d, 0x0449, 0x0447, 0x044a, // 0xd8
    0x042e, 0x0410, 0x0411, 0x0426, 0x0414, 0x0415, 0x0424, 0x0413, // 0xe0
    0x0425, 0x0418, 0x0419, 0x041a, 0x041b, 0x041c, 0x041d, 0x041e, // 0xe8
    0x041f, 0x042f, 0x0420, 0x0421, 0x0422, 0x0423, 0x0416, 0x0412, // 0xf0
    0x042c, 0x042b, 0x0417, 0x0428, 0x042d, 0x0429, 0x0427, 0x042a, // 0xf8
];
// END GENERATED CODEC TABLES

/// Normalizes a codec name like CPython's `_Py_normalize_encoding`.
///
/// ASCII letters are lowercased, ASCII digits and `.` are kept, and every run of other bytes
/// (non-ASCII ones included) becomes one `_` between two kept characters; leading and trailing
/// runs are dropped. So `Latin-1`, ` latin 1 ` and `latin\u{e9}1` all give `latin_1`.
fn normalize_encoding(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut punct = false;
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'.' {
            if punct && !out.is_empty() {
                out.push('_');
            }
            punct = false;
            out.push(char::from(b.to_ascii_lowercase()));
        } else {
            punct = true;
        }
    }
    out
}

/// Looks `key` up in a table sorted by key.
fn find_codec(table: &[(&str, Option<Codec>)], key: &str) -> Option<Option<Codec>> {
    table
        .binary_search_by(|(name, _)| (*name).cmp(key))
        .ok()
        .and_then(|i| table.get(i))
        .map(|&(_, codec)| codec)
}

/// Finds the codec for `name` like CPython's `codecs.lookup`: `None` when CPython 3.11 has no
/// codec of that name, `Some(None)` for one of its codecs that this module does not implement.
///
/// The name is normalized, then looked up in `encodings.aliases` (as is, then with `.`
/// replaced by `_`), and the aliased module name, else the normalized name itself, is taken as
/// the module name, skipping names that are empty or contain a `.`.
pub(crate) fn lookup_python_codec(name: &str) -> Option<Option<Codec>> {
    let normalized = normalize_encoding(name);
    let alias = find_codec(CODEC_ALIASES, &normalized)
        .or_else(|| find_codec(CODEC_ALIASES, &normalized.replace('.', "_")));
    if alias.is_some() {
        return alias;
    }
    if normalized.is_empty() || normalized.contains('.') {
        return None;
    }
    find_codec(CODEC_MODULES, &normalized)
}

/// The start of [`decode_bytes`]' error for a codec CPython has and this module does not
/// implement (an unsupported feature, where `unknown encoding` is CPython's `LookupError`).
pub(crate) const NOT_IMPLEMENTED: &str = "codec not implemented here: ";

/// An error handler of Python's codec registry, as far as decoding goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Handler {
    /// `strict`: raise the `UnicodeDecodeError`.
    Strict,
    /// `ignore`: drop the bad bytes.
    Ignore,
    /// `replace`: one U+FFFD for the bad bytes.
    Replace,
    /// `surrogateescape`: byte `b` (>= 0x80) becomes U+DC00 + `b`.
    SurrogateEscape,
    /// `backslashreplace`: byte `b` becomes `\xNN`.
    BackslashReplace,
    /// `surrogatepass`: an encoded surrogate is decoded (UTF-8 only).
    SurrogatePass,
    /// `xmlcharrefreplace` and `namereplace`, which only handle encoding errors.
    EncodeOnly,
}

impl Handler {
    /// Looks the handler up by name like `codecs.lookup_error` (case-sensitive).
    fn lookup(name: &str) -> Result<Handler, DecodeError> {
        match name {
            "strict" => Ok(Handler::Strict),
            "ignore" => Ok(Handler::Ignore),
            "replace" => Ok(Handler::Replace),
            "surrogateescape" => Ok(Handler::SurrogateEscape),
            "backslashreplace" => Ok(Handler::BackslashReplace),
            "surrogatepass" => Ok(Handler::SurrogatePass),
            "xmlcharrefreplace" | "namereplace" => Ok(Handler::EncodeOnly),
            _ => Err(DecodeError::Other {
                kind: "LookupError",
                message: unknown_handler_message(name),
            }),
        }
    }
}

/// CPython's `LookupError` text for an error handler name its registry does not have (the
/// registry: `strict`, `ignore`, `replace`, `backslashreplace`, `xmlcharrefreplace`,
/// `namereplace`, `surrogateescape`, `surrogatepass`); `None` for those.
pub(crate) fn unknown_handler(name: &str) -> Option<String> {
    match Handler::lookup(name) {
        Err(DecodeError::Other { message, .. } | DecodeError::Unicode(message)) => Some(message),
        Ok(_) => None,
    }
}

/// `unknown error handler name 'NAME'`: CPython formats the name with `%.400s` (at most 400
/// bytes; a character cut in the middle becomes U+FFFD).
fn unknown_handler_message(name: &str) -> String {
    let bytes = name.as_bytes();
    let shown = String::from_utf8_lossy(bytes.get(..400).unwrap_or(bytes));
    format!("unknown error handler name '{shown}'")
}

/// Why [`decode_bytes`] failed, before the message gets its final form.
enum DecodeError {
    /// A `UnicodeDecodeError`, with its message.
    Unicode(String),
    /// Another exception raised while handling a decoding error: `LookupError` (unknown handler)
    /// or `TypeError` (encode-only handler). CPython wraps these when the codec was found
    /// through the codec registry rather than a built-in shortcut.
    Other {
        /// The exception type name.
        kind: &'static str,
        /// The exception message.
        message: String,
    },
}

/// One decoding error: the bytes `start..end` of the input cannot be decoded.
struct DecodeFailure {
    /// The codec name CPython puts in the message (`ascii`, `utf-8`, `charmap`).
    codec: &'static str,
    /// Position of the first bad byte.
    start: usize,
    /// Position after the last bad byte.
    end: usize,
    /// CPython's reason text.
    reason: &'static str,
}

/// Applies the error handler to a failure, the way CPython's decoders call it.
struct ErrorPolicy<'a> {
    /// The handler name given by the caller.
    name: &'a str,
    /// The handler, looked up at the first failure only (as CPython does).
    handler: Option<Handler>,
}

impl ErrorPolicy<'_> {
    /// Handles `failure` in `data`: appends the replacement to `out` and returns the position
    /// to resume decoding at, or the error message.
    fn handle(
        &mut self,
        data: &[u8],
        failure: &DecodeFailure,
        out: &mut StrBuilder,
    ) -> Result<usize, DecodeError> {
        let handler = match self.handler {
            Some(handler) => handler,
            None => {
                let handler = Handler::lookup(self.name)?;
                self.handler = Some(handler);
                handler
            }
        };
        let message = || {
            DecodeError::Unicode(decode_error_message(
                failure.codec,
                data,
                failure.start,
                failure.end,
                failure.reason,
            ))
        };
        let bad = data.get(failure.start..failure.end).unwrap_or_default();
        match handler {
            Handler::Strict => Err(message()),
            Handler::EncodeOnly => Err(DecodeError::Other {
                kind: "TypeError",
                message: "don't know how to handle UnicodeDecodeError in error callback".to_owned(),
            }),
            Handler::Ignore => Ok(failure.end),
            Handler::Replace => {
                out.push_code_point(0xfffd);
                Ok(failure.end)
            }
            Handler::BackslashReplace => {
                for b in bad {
                    out.push_str(&format!("\\x{b:02x}"));
                }
                Ok(failure.end)
            }
            Handler::SurrogateEscape => {
                // CPython refuses to escape ASCII bytes (none of these codecs reports one).
                let escaped = bad.iter().take_while(|&&b| b >= 0x80).count();
                if escaped == 0 {
                    return Err(message());
                }
                for &b in bad.iter().take(escaped) {
                    out.push_code_point(0xdc00 + u32::from(b));
                }
                Ok(failure.start + escaped)
            }
            Handler::SurrogatePass => {
                // Only UTF-8 knows how surrogates are encoded; other codecs re-raise.
                let surrogate = match data.get(failure.start..) {
                    Some([b0, b1, b2, ..])
                        if failure.codec == "utf-8"
                            && b0 & 0xf0 == 0xe0
                            && b1 & 0xc0 == 0x80
                            && b2 & 0xc0 == 0x80 =>
                    {
                        let code = (u32::from(b0 & 0x0f) << 12)
                            | (u32::from(b1 & 0x3f) << 6)
                            | u32::from(b2 & 0x3f);
                        (0xd800..=0xdfff).contains(&code).then_some(code)
                    }
                    _ => None,
                };
                match surrogate {
                    Some(code) => {
                        out.push_code_point(code);
                        Ok(failure.start + 3)
                    }
                    None => Err(message()),
                }
            }
        }
    }
}

/// Decodes `data` like Python 3.11's `data.decode(encoding, errors)`.
///
/// Supported codecs: `ascii`, `latin-1`, `utf-8`, `cp1252` and `koi8-r`, under any of the
/// names `codecs.lookup` accepts for them. Another codec of CPython's gives
/// `codec not implemented here: NAME (…)` (see [`NOT_IMPLEMENTED`]); a name CPython does not
/// know gives its `unknown encoding: NAME`. The error handlers are `strict`, `ignore`, `replace`,
/// `surrogateescape`, `backslashreplace` and `surrogatepass`; the handler is only looked up
/// when an error occurs, so an unknown name is accepted as long as the input decodes cleanly,
/// and gives `unknown error handler name 'NAME'` otherwise.
///
/// As in CPython, empty input decodes to `''` without looking the codec up at all, and a NUL
/// in `encoding` or `errors` is the error `embedded null character`. When the codec is not
/// one of CPython's built-in shortcuts (`utf-8`, `utf8`, `ascii`, `us-ascii`, `latin-1`,
/// `latin1`, `iso-8859-1`, `iso8859-1`, in any case/punctuation) but found through the codec
/// registry (e.g. `u8`, `646`, `cp1252`), an unknown or encode-only handler gives CPython's
/// wrapped text, e.g. `decoding with 'u8' codec failed (LookupError: unknown error handler
/// name 'NAME')`. `UnicodeDecodeError` messages are never wrapped.
pub(crate) fn decode_bytes(data: &[u8], encoding: &str, errors: &str) -> Result<PyStr, String> {
    if encoding.contains('\0') || errors.contains('\0') {
        return Err("embedded null character".to_owned());
    }
    if data.is_empty() {
        return Ok(PyStr::empty());
    }
    let codec = match lookup_python_codec(encoding) {
        Some(Some(codec)) => codec,
        Some(None) => {
            return Err(format!(
                "{NOT_IMPLEMENTED}{encoding} (only ascii, latin-1, utf-8, cp1252 and koi8-r)"
            ));
        }
        None => return Err(format!("unknown encoding: {encoding}")),
    };
    // Fast path: valid UTF-8 (or pure ASCII) never needs the error handler.
    let clean = match codec {
        Codec::Utf8 => crate::pystr::utf8(data),
        Codec::Ascii if data.is_ascii() => std::str::from_utf8(data).ok(),
        _ => None,
    };
    if let Some(text) = clean {
        return Ok(PyStr::from(text));
    }
    let mut policy = ErrorPolicy {
        name: errors,
        handler: None,
    };
    let mut out = StrBuilder::with_capacity(data.len());
    let decoded = match codec {
        Codec::Utf8 => decode_utf8(data, &mut policy, &mut out),
        Codec::Ascii => decode_ascii(data, &mut policy, &mut out),
        Codec::Latin1 => {
            push_latin1(&mut out, data);
            Ok(())
        }
        Codec::Cp1252 => decode_charmap(data, &CP1252_TABLE, &mut policy, &mut out),
        Codec::Koi8R => decode_charmap(data, &KOI8_R_TABLE, &mut policy, &mut out),
    };
    match decoded {
        Ok(()) => Ok(out.finish()),
        Err(DecodeError::Unicode(message)) => Err(message),
        Err(DecodeError::Other { message, .. }) if is_builtin_shortcut(encoding) => Err(message),
        Err(DecodeError::Other { kind, message }) => Err(format!(
            "decoding with '{encoding}' codec failed ({kind}: {message})"
        )),
    }
}

/// Whether CPython's `PyUnicode_Decode` decodes `encoding` through a built-in shortcut instead
/// of the codec registry (which wraps exceptions other than `UnicodeDecodeError` raised by the
/// error handler, e.g. `decoding with 'u8' codec failed (LookupError: ...)`).
fn is_builtin_shortcut(encoding: &str) -> bool {
    matches!(
        normalize_encoding(encoding).as_str(),
        "utf8" | "utf_8" | "ascii" | "us_ascii" | "latin1" | "latin_1" | "iso_8859_1" | "iso8859_1"
    )
}

/// The ASCII decoder: each byte >= 0x80 is a failure of its own.
fn decode_ascii(
    data: &[u8],
    policy: &mut ErrorPolicy<'_>,
    out: &mut StrBuilder,
) -> Result<(), DecodeError> {
    let mut pos = 0;
    while let Some(rest) = data.get(pos..) {
        let Some(offset) = rest.iter().position(|&b| b >= 0x80) else {
            push_latin1(out, rest);
            break;
        };
        push_latin1(out, rest.get(..offset).unwrap_or_default());
        let start = pos + offset;
        let failure = DecodeFailure {
            codec: "ascii",
            start,
            end: start + 1,
            reason: "ordinal not in range(128)",
        };
        pos = policy.handle(data, &failure, out)?;
    }
    Ok(())
}

/// A single-byte (charmap) decoder: each unmapped byte is a failure of its own.
fn decode_charmap(
    data: &[u8],
    table: &[u16; 256],
    policy: &mut ErrorPolicy<'_>,
    out: &mut StrBuilder,
) -> Result<(), DecodeError> {
    let mut pos = 0;
    while let Some(&b) = data.get(pos) {
        let code = table.get(usize::from(b)).copied().unwrap_or(UNDEFINED);
        if code == UNDEFINED {
            let failure = DecodeFailure {
                codec: "charmap",
                start: pos,
                end: pos + 1,
                reason: "character maps to <undefined>",
            };
            pos = policy.handle(data, &failure, out)?;
        } else {
            out.push_code_point(u32::from(code));
            pos += 1;
        }
    }
    Ok(())
}

/// The UTF-8 decoder for input that is not valid UTF-8.
///
/// Failures are CPython's: each maximal invalid subpart (the longest prefix of a well-formed
/// sequence, or a single byte) is one failure, which is exactly what
/// [`std::str::Utf8Error::error_len`] reports. Truncated input fails from the start of the
/// incomplete sequence to the end of the data with `unexpected end of data`.
fn decode_utf8(
    data: &[u8],
    policy: &mut ErrorPolicy<'_>,
    out: &mut StrBuilder,
) -> Result<(), DecodeError> {
    let mut pos = 0;
    while let Some(rest) = data.get(pos..) {
        let error = match std::str::from_utf8(rest) {
            Ok(text) => {
                out.push_str(text);
                break;
            }
            Err(error) => error,
        };
        let valid = error.valid_up_to();
        if let Some(Ok(text)) = rest.get(..valid).map(std::str::from_utf8) {
            out.push_str(text);
        }
        let start = pos + valid;
        let lead = data.get(start).copied().unwrap_or(0);
        let (end, reason) = match error.error_len() {
            Some(1) if !(0xc2..=0xf4).contains(&lead) => (start + 1, "invalid start byte"),
            Some(len) => (start + len, "invalid continuation byte"),
            None => (data.len(), "unexpected end of data"),
        };
        let failure = DecodeFailure {
            codec: "utf-8",
            start,
            end,
            reason,
        };
        pos = policy.handle(data, &failure, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected results: the generalized UTF-8 bytes of the decoded text, or the error text.
    type Expected = Result<&'static [u8], &'static str>;

    /// `data.decode('raw-unicode-escape')`, from `scripts/codec_test_expectations.py`.
    #[rustfmt::skip]
    const RAW_UNICODE_ESCAPE_CASES: &[(&[u8], Expected)] = &[
        (b"", Ok(b"")),
        (b"abc", Ok(b"abc")),
        (b"\xe9\xff\x00", Ok(b"\xc3\xa9\xc3\xbf\x00")),
        (b"\\u0041", Ok(b"A")),
        (b"\\u00e9x", Ok(b"\xc3\xa9x")),
        (b"\\U0001F600", Ok(b"\xf0\x9f\x98\x80")),
        (b"\\U0010ffff", Ok(b"\xf4\x8f\xbf\xbf")),
        (b"\\ud800", Ok(b"\xed\xa0\x80")),
        (b"\\udc80\\ud83d", Ok(b"\xed\xb2\x80\xed\xa0\xbd")),
        (b"ab\\u12", Err("'rawunicodeescape' codec can't decode bytes in position 2-5: truncated \\uXXXX escape")),
        (b"\\U00110000", Err("'rawunicodeescape' codec can't decode bytes in position 0-9: \\Uxxxxxxxx out of range")),
        (b"\\U0001F60", Err("'rawunicodeescape' codec can't decode bytes in position 0-8: truncated \\UXXXXXXXX escape")),
        (b"\\\\u0041", Ok(b"\\\\u0041")),
        (b"\\\\\\u0041", Ok(b"\\\\A")),
        (b"\\", Ok(b"\\")),
        (b"a\\", Ok(b"a\\")),
        (b"\\x41\\n\\t", Ok(b"\\x41\\n\\t")),
        (b"\\\\", Ok(b"\\\\")),
        (b"\\u12x4", Err("'rawunicodeescape' codec can't decode bytes in position 0-3: truncated \\uXXXX escape")),
        (b"\\U", Err("'rawunicodeescape' codec can't decode bytes in position 0-1: truncated \\UXXXXXXXX escape")),
        (b"\\uFFFF", Ok(b"\xef\xbf\xbf")),
        (b"\\UFFFFFFFF", Err("'rawunicodeescape' codec can't decode bytes in position 0-9: \\Uxxxxxxxx out of range")),
        (b"\\u004", Err("'rawunicodeescape' codec can't decode bytes in position 0-4: truncated \\uXXXX escape")),
        (b"\\\xe9", Ok(b"\\\xc3\xa9")),
        (b"x\\U0000004", Err("'rawunicodeescape' codec can't decode bytes in position 1-9: truncated \\UXXXXXXXX escape")),
    ];

    /// `codecs.escape_decode(data)[0]`, from `scripts/codec_test_expectations.py`.
    #[rustfmt::skip]
    const ESCAPE_DECODE_CASES: &[(&[u8], Expected)] = &[
        (b"", Ok(b"")),
        (b"plain", Ok(b"plain")),
        (b"\\\\", Ok(b"\\")),
        (b"\\'\\\"", Ok(b"'\"")),
        (b"\\a\\b\\f\\n\\r\\t\\v", Ok(b"\x07\x08\x0c\n\x0d\x09\x0b")),
        (b"a\\\nb", Ok(b"ab")),
        (b"\\0", Ok(b"\x00")),
        (b"\\12a", Ok(b"\na")),
        (b"\\101\\1012", Ok(b"AA2")),
        (b"\\400", Ok(b"\x00")),
        (b"\\777", Ok(b"\xff")),
        (b"\\8\\9", Ok(b"\\8\\9")),
        (b"\\q\\u0041", Ok(b"\\q\\u0041")),
        (b"\\x41\\xfF", Ok(b"A\xff")),
        (b"\\x4", Err("invalid \\x escape at position 0")),
        (b"ab\\x", Err("invalid \\x escape at position 2")),
        (b"\\xzz", Err("invalid \\x escape at position 0")),
        (b"\\x4g", Err("invalid \\x escape at position 0")),
        (b"\\", Err("Trailing \\ in string")),
        (b"a\\\\\\", Err("Trailing \\ in string")),
        (b"\\\xe9\xff", Ok(b"\\\xe9\xff")),
        (b"\\x41\\x", Err("invalid \\x escape at position 4")),
    ];

    /// `data.decode(encoding, errors)`, from `scripts/codec_test_expectations.py`.
    #[rustfmt::skip]
    const DECODE_CASES: &[(&[u8], &str, &str, Expected)] = &[
        (b"", "nonexistent", "strict", Ok(b"")),
        (b"", "ascii", "bogus", Ok(b"")),
        (b"hello", "ascii", "strict", Ok(b"hello")),
        (b"ab\xa0c", "ascii", "strict", Err("'ascii' codec can't decode byte 0xa0 in position 2: ordinal not in range(128)")),
        (b"ab\xa0c", "ASCII", "replace", Ok(b"ab\xef\xbf\xbdc")),
        (b"ab\xa0c", "us-ascii", "ignore", Ok(b"abc")),
        (b"ab\xa0\xffc", "646", "surrogateescape", Ok(b"ab\xed\xb2\xa0\xed\xb3\xbfc")),
        (b"ab\xa0c", "ascii", "backslashreplace", Ok(b"ab\\xa0c")),
        (b"ab\xa0c", "ascii", "surrogatepass", Err("'ascii' codec can't decode byte 0xa0 in position 2: ordinal not in range(128)")),
        (b"ab\xa0c", "ascii", "bogus", Err("unknown error handler name 'bogus'")),
        (b"abc", "ascii", "bogus", Ok(b"abc")),
        (b"ab\xa0c", "646", "bogus", Err("decoding with '646' codec failed (LookupError: unknown error handler name 'bogus')")),
        (b"\xff", "ascii", "xmlcharrefreplace", Err("don't know how to handle UnicodeDecodeError in error callback")),
        (b"\xff", "ansi_x3.4-1968", "namereplace", Err("decoding with 'ansi_x3.4-1968' codec failed (TypeError: don't know how to handle UnicodeDecodeError in error callback)")),
        (b"\xe9\xff\x80", "latin-1", "strict", Ok(b"\xc3\xa9\xc3\xbf\xc2\x80")),
        (b"\xe9\xff", "L1", "bogus", Ok(b"\xc3\xa9\xc3\xbf")),
        (b"\xe9", "iso8859-1", "strict", Ok(b"\xc3\xa9")),
        (b"\xe9", "Latin 1", "strict", Ok(b"\xc3\xa9")),
        (b"\xe9", "cp819", "strict", Ok(b"\xc3\xa9")),
        (b"\xe9", "8859", "strict", Ok(b"\xc3\xa9")),
        (b"caf\xc3\xa9 \xf0\x9f\x98\x80", "utf-8", "strict", Ok(b"caf\xc3\xa9 \xf0\x9f\x98\x80")),
        (b"\xff", "utf-8", "strict", Err("'utf-8' codec can't decode byte 0xff in position 0: invalid start byte")),
        (b"a\xe1\x80", "utf-8", "strict", Err("'utf-8' codec can't decode bytes in position 1-2: unexpected end of data")),
        (b"\xe1\x80A", "UTF8", "strict", Err("'utf-8' codec can't decode bytes in position 0-1: invalid continuation byte")),
        (b"\xe1A", "utf_8", "strict", Err("'utf-8' codec can't decode byte 0xe1 in position 0: invalid continuation byte")),
        (b"\xc0\xaf", "U8", "strict", Err("'utf-8' codec can't decode byte 0xc0 in position 0: invalid start byte")),
        (b"\xed\xa0\x80", "utf", "strict", Err("'utf-8' codec can't decode byte 0xed in position 0: invalid continuation byte")),
        (b"\xf4\x90\x80\x80", "utf-8", "strict", Err("'utf-8' codec can't decode byte 0xf4 in position 0: invalid continuation byte")),
        (b"\xe1\x80A\xf0\x90\x80\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xe1\x80", "utf-8", "replace", Ok(b"\xef\xbf\xbdA\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd")),
        (b"\xe1\x80A\xf0\x90\x80\xe1\x80", "utf-8", "ignore", Ok(b"A")),
        (b"\xe1\x80A\xed\xa0\x80", "utf-8", "surrogateescape", Ok(b"\xed\xb3\xa1\xed\xb2\x80A\xed\xb3\xad\xed\xb2\xa0\xed\xb2\x80")),
        (b"\xe1\x80A\xed\xa0\x80", "utf-8", "backslashreplace", Ok(b"\\xe1\\x80A\\xed\\xa0\\x80")),
        (b"\xed\xa0\x80\xed\xbf\xbfa", "utf-8", "surrogatepass", Ok(b"\xed\xa0\x80\xed\xbf\xbfa")),
        (b"\xed\xa0", "utf-8", "surrogatepass", Err("'utf-8' codec can't decode byte 0xed in position 0: invalid continuation byte")),
        (b"\xe0\x80\x80", "utf-8", "surrogatepass", Err("'utf-8' codec can't decode byte 0xe0 in position 0: invalid continuation byte")),
        (b"\xff", "utf-8", "bogus", Err("unknown error handler name 'bogus'")),
        (b"\xff", "u8", "bogus", Err("decoding with 'u8' codec failed (LookupError: unknown error handler name 'bogus')")),
        (b"\xff", "utf-8", "Strict", Err("unknown error handler name 'Strict'")),
        (b"ok", "utf-8", "bogus", Ok(b"ok")),
        (b"\x80\x81\x8d\x9f", "cp1252", "strict", Err("'charmap' codec can't decode byte 0x81 in position 1: character maps to <undefined>")),
        (b"\x80\x81\x8d\x9f", "windows-1252", "replace", Ok(b"\xe2\x82\xac\xef\xbf\xbd\xef\xbf\xbd\xc5\xb8")),
        (b"\x80\x81\x8d\x9f", "cp1252", "ignore", Ok(b"\xe2\x82\xac\xc5\xb8")),
        (b"\x81\x8d", "cp1252", "surrogateescape", Ok(b"\xed\xb2\x81\xed\xb2\x8d")),
        (b"\x81\x8d", "cp1252", "backslashreplace", Ok(b"\\x81\\x8d")),
        (b"\x81", "cp1252", "surrogatepass", Err("'charmap' codec can't decode byte 0x81 in position 0: character maps to <undefined>")),
        (b"\x81", "cp1252", "bogus", Err("decoding with 'cp1252' codec failed (LookupError: unknown error handler name 'bogus')")),
        (b"\xc1\xd7\xff\x80", "koi8-r", "strict", Ok(b"\xd0\xb0\xd0\xb2\xd0\xaa\xe2\x94\x80")),
        (b"\xc1\xd7", "KOI8_R", "bogus", Ok(b"\xd0\xb0\xd0\xb2")),
        (b"x", "bogus", "strict", Err("unknown encoding: bogus")),
        (b"x", "Foo Bar", "strict", Err("unknown encoding: Foo Bar")),
        (b"x", "latin.1", "strict", Err("unknown encoding: latin.1")),
        (b"x", "..utf--8..", "strict", Err("unknown encoding: ..utf--8..")),
        (b"x", "bytes", "strict", Err("unknown encoding: bytes")),
        (b"x", " utf\u{e9} 8 ", "strict", Ok(b"x")),
        (b"x", "a\u{0}b", "strict", Err("embedded null character")),
        (b"", "ascii", "a\u{0}b", Err("embedded null character")),
    ];

    /// The decoded text as generalized UTF-8 bytes, or the error.
    fn bytes_of(result: Result<PyStr, String>) -> Result<Vec<u8>, String> {
        result.map(|s| s.as_encoded_bytes().to_vec())
    }

    /// The expectation in the same shape as [`bytes_of`].
    fn owned(expected: &Expected) -> Result<Vec<u8>, String> {
        expected.map(<[u8]>::to_vec).map_err(str::to_owned)
    }

    /// Every `RAW_UNICODE_ESCAPE_CASES` row gives CPython's result.
    #[test]
    fn raw_unicode_escape_matches_cpython() {
        for (data, expected) in RAW_UNICODE_ESCAPE_CASES {
            let got = bytes_of(raw_unicode_escape_decode(data));
            assert_eq!(
                got,
                owned(expected),
                "input {:?}",
                data.escape_ascii().to_string()
            );
        }
    }

    /// Every `ESCAPE_DECODE_CASES` row gives CPython's result.
    #[test]
    fn escape_decode_matches_cpython() {
        for (data, expected) in ESCAPE_DECODE_CASES {
            let got = escape_decode(data);
            assert_eq!(
                got,
                owned(expected),
                "input {:?}",
                data.escape_ascii().to_string()
            );
        }
    }

    /// Every `DECODE_CASES` row gives CPython's result.
    #[test]
    fn decode_bytes_matches_cpython() {
        for (data, encoding, errors, expected) in DECODE_CASES {
            let got = bytes_of(decode_bytes(data, encoding, errors));
            assert_eq!(
                got,
                owned(expected),
                "input {:?} encoding {encoding:?} errors {errors:?}",
                data.escape_ascii().to_string()
            );
        }
    }

    /// Lines without an escape decode to their bytes as Latin-1 code points, inline exactly
    /// when their UTF-8 fits; a backslash escape or a byte above 0x7F at any position of a
    /// short line is seen (the word-at-a-time check of short ASCII lines).
    #[test]
    fn escape_free_lines_are_latin1_and_escapes_are_seen_anywhere() {
        let mut next = crate::testing::xorshift(0x9e37_79b9_7f4a_7c15_u64);
        for len in 0..=40usize {
            for round in 0..200 {
                let data: Vec<u8> = (0..len)
                    .map(|_| {
                        let r = next();
                        let b = match round % 3 {
                            0 => (r % 0x60 + 0x20) as u8,
                            1 if r % 7 == 0 => (r >> 8) as u8 | 0x80,
                            1 => (r % 0x80) as u8,
                            _ => (r >> 8) as u8,
                        };
                        if b == b'\\' { b'/' } else { b }
                    })
                    .collect();
                let s = raw_unicode_escape_decode(&data).unwrap();
                let want: String = data.iter().map(|&b| char::from(b)).collect();
                assert_eq!(s.as_str(), Some(want.as_str()), "{data:02x?}");
                assert_eq!(
                    s.inline_parts().is_some(),
                    want.len() <= INLINE_MAX,
                    "{data:02x?}"
                );
            }
        }
        for len in 0..=INLINE_MAX {
            for at in 0..len {
                let mut line = vec![b'a'; len];
                line[at] = 0xe9;
                let s = raw_unicode_escape_decode(&line).unwrap();
                let want: String = line.iter().map(|&b| char::from(b)).collect();
                assert_eq!(s.as_str(), Some(want.as_str()), "{line:02x?}");
                if at + 6 <= len {
                    let mut line = vec![b'a'; len];
                    line[at..at + 6].copy_from_slice(b"\\u00e9");
                    let s = raw_unicode_escape_decode(&line).unwrap();
                    let want = format!("{}\u{e9}{}", "a".repeat(at), "a".repeat(len - at - 6));
                    assert_eq!(s.as_str(), Some(want.as_str()), "{line:02x?}");
                }
            }
        }
    }

    /// The `String` path of lines with escapes gives what the general (generalized UTF-8)
    /// decoder gives, errors included, on random lines of escapes, backslash runs, ASCII and
    /// high bytes.
    #[test]
    fn escaped_lines_decode_alike_on_both_paths() {
        let mut next = crate::testing::xorshift(0x2545_f491_4f6c_dd1d_u64);
        let pieces: &[&[u8]] = &[
            b"\\u0446",
            b"\\u00e9",
            b"\\U0001f600",
            b"\\u20ac",
            b"\\",
            b"\\\\",
            b"\\x",
            b"a",
            b"xyz",
            b"\xe9",
            b"\xff",
            b"\\u12",
            b"\\U00110000",
            b"\\ud800",
            b"\\udfff",
            b"\\uZZZZ",
            b"\\U0010ffff",
            b"\n",
        ];
        for _ in 0..20_000 {
            let n = (next() % 8) as usize;
            let mut line = Vec::new();
            for _ in 0..n {
                line.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
            }
            let fast = bytes_of(raw_unicode_escape_decode(&line));
            let wide = bytes_of(raw_unicode_escape_decode_wide(&line));
            assert_eq!(fast, wide, "{:?}", line.escape_ascii().to_string());
        }
    }

    /// `\ud800` decodes to a lone surrogate, kept as such.
    #[test]
    fn lone_surrogates_survive_raw_unicode_escape() {
        let s = raw_unicode_escape_decode(b"\\ud800x").unwrap();
        assert!(s.has_surrogates());
        assert_eq!(s.code_points().collect::<Vec<_>>(), vec![0xd800, 0x78]);
    }

    /// Codec names and aliases resolve as `codecs.lookup` resolves them.
    #[test]
    fn codec_names_resolve_like_codecs_lookup() {
        // `codecs.lookup(name).name` in CPython 3.11 for each of these.
        let cases: &[(&str, Option<Codec>)] = &[
            ("ASCII", Some(Codec::Ascii)),
            ("us-ascii", Some(Codec::Ascii)),
            ("646", Some(Codec::Ascii)),
            ("ANSI_X3.4-1968", Some(Codec::Ascii)),
            ("iso_646.irv:1991", Some(Codec::Ascii)),
            ("iso-646-irv-1991", None),
            ("latin1", Some(Codec::Latin1)),
            ("latin_1", Some(Codec::Latin1)),
            ("Latin-1", Some(Codec::Latin1)),
            ("iso-8859-1", Some(Codec::Latin1)),
            ("ISO8859-1", Some(Codec::Latin1)),
            ("l1", Some(Codec::Latin1)),
            ("8859", Some(Codec::Latin1)),
            ("cp819", Some(Codec::Latin1)),
            ("latin", Some(Codec::Latin1)),
            ("latin.1", None),
            ("utf8", Some(Codec::Utf8)),
            ("utf_8", Some(Codec::Utf8)),
            ("UTF-8", Some(Codec::Utf8)),
            ("U8", Some(Codec::Utf8)),
            ("UTF", Some(Codec::Utf8)),
            ("cp65001", Some(Codec::Utf8)),
            ("utf8-ucs4", Some(Codec::Utf8)),
            ("  utf 8  ", Some(Codec::Utf8)),
            ("utf.8", None),
            ("cp1252", Some(Codec::Cp1252)),
            ("windows-1252", Some(Codec::Cp1252)),
            ("1252", Some(Codec::Cp1252)),
            ("koi8_r", Some(Codec::Koi8R)),
            ("KOI8-R", Some(Codec::Koi8R)),
            ("cskoi8r", Some(Codec::Koi8R)),
            ("koi8r", None),
            ("", None),
            ("bytes", None),
        ];
        for &(name, expected) in cases {
            assert_eq!(lookup_python_codec(name).flatten(), expected, "{name:?}");
        }
    }

    /// Codecs CPython has but this module lacks are told apart from names CPython does not
    /// know.
    #[test]
    fn python_codecs_not_implemented_here_are_not_unknown() {
        // CPython knows these (as modules or aliases); this module deliberately does not.
        for name in [
            "utf-16",
            "cp437",
            "iso8859-2",
            "utf-8-sig",
            "Latin2",
            "u16",
            "mbcs_x",
        ] {
            let err = decode_bytes(b"x", name, "strict").unwrap_err();
            if name == "mbcs_x" {
                assert_eq!(err, format!("unknown encoding: {name}"));
            } else {
                assert!(
                    err.starts_with(&format!("{NOT_IMPLEMENTED}{name} (")),
                    "{err}"
                );
            }
        }
        // `mbcs` and `oem` are Windows-only: unknown to the CPython on Linux the tables come
        // from, as is an alias of theirs; `Latin 2` normalizes to `latin_2`, which no alias
        // has (`latin2` is one).
        for name in ["mbcs", "oem", "dbcs", "latin0", "utf-9", "Latin 2"] {
            assert_eq!(lookup_python_codec(name), None, "{name}");
        }
        assert_eq!(lookup_python_codec("cp1251"), Some(None));
        assert_eq!(lookup_python_codec("KOI8-R"), Some(Some(Codec::Koi8R)));
    }

    /// Long names in error messages are cut (or not) as CPython does.
    #[test]
    fn long_error_handler_names_are_cut_like_cpython() {
        // `%.400s`: 400 bytes, a split character becomes U+FFFD.
        let name = "a".repeat(399) + "\u{e9}";
        let err = decode_bytes(b"\xff", "ascii", &name).unwrap_err();
        assert_eq!(
            err,
            format!("unknown error handler name '{}\u{fffd}'", "a".repeat(399))
        );
        let long = "e".repeat(500);
        let err = decode_bytes(b"\xff", "ascii", &long).unwrap_err();
        assert_eq!(err.len(), 429);
        let err = decode_bytes(b"\xff", &long, "strict").unwrap_err();
        assert_eq!(err, format!("unknown encoding: {long}"));
    }

    /// The generated name tables are sorted, as binary search needs.
    #[test]
    fn lookup_tables_are_sorted() {
        for table in [CODEC_MODULES, CODEC_ALIASES] {
            assert!(table.windows(2).all(|w| w[0].0 < w[1].0));
        }
    }

    /// Only the exact string `bytes` is the special encoding.
    #[test]
    fn bytes_encoding_is_exact() {
        assert!(is_bytes_encoding("bytes"));
        assert!(!is_bytes_encoding("BYTES"));
        assert!(!is_bytes_encoding(" bytes"));
    }

    /// Spot checks of the generated `cp1252` and `koi8-r` tables.
    #[test]
    fn single_byte_tables_match_cpython_spot_checks() {
        // bytes([b]).decode(codec) in CPython 3.11.
        let cp1252 = decode_bytes(b"\x80\x8e\x9f\xa0\xff", "cp1252", "strict").unwrap();
        assert_eq!(cp1252, "\u{20ac}\u{17d}\u{178}\u{a0}\u{ff}");
        let undefined: Vec<u8> = (0..=255u8)
            .filter(|&b| decode_bytes(&[b], "cp1252", "strict").is_err())
            .collect();
        assert_eq!(undefined, vec![0x81, 0x8d, 0x8f, 0x90, 0x9d]);
        let koi8 = decode_bytes(b"\x80\xa3\xb3\xc0\xff", "koi8-r", "strict").unwrap();
        assert_eq!(koi8, "\u{2500}\u{451}\u{401}\u{44e}\u{42a}");
        assert!((0..=255u8).all(|b| decode_bytes(&[b], "koi8-r", "strict").is_ok()));
    }

    /// Valid UTF-8 decodes without consulting the error handler.
    #[test]
    fn long_valid_utf8_takes_the_fast_path() {
        let text = "h\u{e9}llo \u{1f600} ".repeat(10_000);
        let s = decode_bytes(text.as_bytes(), "utf-8", "no-such-handler").unwrap();
        assert_eq!(s.as_str(), Some(text.as_str()));
    }
}
