//! [`PyStr`]: a Python `str` that keeps every code point, lone surrogates included.
//!
//! Python strings are sequences of code points in `0..=0x10FFFF`, and that range includes the
//! surrogates `U+D800..=U+DFFF`, which a Rust `String` cannot hold. Pickles carry them:
//! `BINUNICODE` is UTF-8 decoded with `surrogatepass`, so `b'X\x03\x00\x00\x00\xed\xa0\x80'` is the
//! one-character string `'\ud800'`.
//!
//! A `PyStr` is plain UTF-8 (`as_str()` gives the `&str`) whenever the string has no surrogate,
//! which is the case for all real text. Otherwise it is stored in *generalized UTF-8*: UTF-8 in
//! which each surrogate code point is encoded on its own as the 3-byte sequence `ED A0..=BF xx`,
//! exactly as Python's `'surrogatepass'` error handler writes it. Two surrogates that form a pair
//! stay two code points (`'\ud83d\ude00'` is not `'😀'`), as in Python.
//!
//! Long text whose code points are all below U+0100 (what protocols 0–2 pickle `bytes` as) is
//! kept one byte per code point, as CPython keeps it, and its UTF-8 made only when asked for;
//! this is invisible from the outside (equality, hashing, order and every accessor are those of
//! the same text in UTF-8).

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

use crate::reader::SHORT_BLOCK;

/// A Python `str`: cheap to clone (reference counted), lossless for lone surrogates.
///
/// Strings of up to 22 bytes of UTF-8 are stored inline. Longer ones are shared: a str of up to
/// 255 bytes decoded from a slice may share one allocation (of at most about 4.3 KiB) with the
/// strs near it in the pickle, which it keeps alive while it lives.
///
/// ```
/// use restricted_unpickler::PyStr;
/// let s = PyStr::from("héllo");
/// assert_eq!(s.as_str(), Some("héllo"));
/// assert_eq!(s.char_len(), 5);
/// ```
#[derive(Clone)]
pub struct PyStr(Repr);

#[derive(Clone)]
enum Repr {
    /// Valid UTF-8 of at most [`INLINE_MAX`] bytes: the length, then the bytes.
    Inline(u8, [u8; INLINE_MAX]),
    /// Valid UTF-8, no surrogate.
    Text(Arc<str>),
    /// Valid UTF-8, no surrogate, longer than [`INLINE_MAX`] bytes: the `len` bytes at `off`
    /// of a block that other strs of the same pickle share (see [`StrBlock`]).
    Pooled(Arc<StrBlock>, u32, u32),
    /// Generalized UTF-8 holding at least one surrogate code point.
    Wide(Arc<Box<[u8]>>),
    /// Long text of code points below U+0100, at least one of them not ASCII.
    Latin1(Arc<Latin1>),
}

/// The text of several long strs of one pickle, one after another, which those strs share
/// (one allocation, and one free when the last of them goes, instead of one of each per str).
///
/// Built by the decoder (`machine::strpool`) from strs it has already validated; a block holds
/// at most about 4 KiB of text, which is all a str kept alive alone can keep alive with it.
pub(crate) struct StrBlock(Box<str>);

impl StrBlock {
    /// A block holding `text`.
    pub(crate) fn new(text: Box<str>) -> StrBlock {
        StrBlock(text)
    }
}

/// A long string whose code points are all below U+0100, one byte each (as CPython stores such
/// a string), with its UTF-8 made the first time it is asked for.
///
/// Protocols 0–2 pickle `bytes` as `_codecs.encode(s, 'latin1')` of such a string, so a
/// `BINUNICODE` this long is most often a byte string on its way to `_codecs.encode`: kept in
/// this form it is decoded in one branch-free pass, and the encode shares its bytes.
///
/// The UTF-8 form costs one allocation of the length the str had in the pickle (so never more
/// than the input it was read from), made at most once per str: when it is hashed or compared
/// as a dict key or set member, printed, or read through [`PyStr::as_str`].
struct Latin1 {
    /// The code points, one byte each (never empty).
    bytes: Arc<[u8]>,
    /// The length of the UTF-8 form.
    utf8_len: usize,
    /// The UTF-8 form, made on first use.
    utf8: OnceLock<Box<str>>,
}

impl Latin1 {
    /// The UTF-8 form.
    fn text(&self) -> &str {
        self.utf8
            .get_or_init(|| latin1_to_utf8(&self.bytes).into_boxed_str())
    }
}

/// The text whose code points are `bytes`, one each (Latin-1), exactly sized.
fn latin1_to_utf8(bytes: &[u8]) -> String {
    let wide = bytes.iter().filter(|&&b| b >= 0x80).count();
    let mut s = String::with_capacity(bytes.len() + wide);
    s.extend(bytes.iter().map(|&b| char::from(b)));
    s
}

/// The text of a [`Repr::Pooled`] str (`None` only if `off`/`len` were not a str of the
/// block, which [`PyStr::pooled`] rules out).
#[inline(always)]
fn pooled_text(block: &StrBlock, off: u32, len: u32) -> Option<&str> {
    let start = off as usize;
    block.0.get(start..start.checked_add(len as usize)?)
}

/// `BINUNICODE` text at least this long is checked for the [`Latin1`] form.
#[cfg(not(fuzzing))]
pub(crate) const LATIN1_MIN: usize = 16 * 1024;
/// Under `cargo fuzz`: short enough for fuzzed inputs to reach the [`Latin1`] form (but longer
/// than any inline string, which stays inline).
#[cfg(fuzzing)]
pub(crate) const LATIN1_MIN: usize = 32;
const _: () = assert!(LATIN1_MIN > INLINE_MAX);

/// The longest string stored inline.
pub(crate) const INLINE_MAX: usize = 22;

impl PyStr {
    /// The empty string `''`.
    pub fn empty() -> PyStr {
        PyStr(Repr::Inline(0, [0; INLINE_MAX]))
    }

    /// Valid UTF-8 text, inline when short.
    fn text(s: &str) -> PyStr {
        let b = s.as_bytes();
        if b.len() <= INLINE_MAX {
            let mut buf = [0u8; INLINE_MAX];
            if let Some(dst) = buf.get_mut(..b.len()) {
                dst.copy_from_slice(b);
                return PyStr(Repr::Inline(b.len() as u8, buf));
            }
        }
        PyStr(Repr::Text(Arc::from(s)))
    }

    /// The string whose code points are `bytes`, one each (Latin-1), inline when short.
    pub(crate) fn from_latin1(bytes: &[u8]) -> PyStr {
        let high = bytes.iter().filter(|&&b| b >= 0x80).count();
        let n = bytes.len() + high;
        if n <= INLINE_MAX {
            // Encoded straight into the inline buffer: an ASCII byte as itself, any other as
            // its two-byte UTF-8 form (valid UTF-8 by construction).
            let mut buf = [0u8; INLINE_MAX];
            let mut out = buf.iter_mut();
            for &b in bytes {
                if b < 0x80 {
                    if let Some(o) = out.next() {
                        *o = b;
                    }
                } else if let (Some(lead), Some(cont)) = (out.next(), out.next()) {
                    *lead = 0xC0 | (b >> 6);
                    *cont = 0x80 | (b & 0x3F);
                }
            }
            return PyStr(Repr::Inline(n as u8, buf));
        }
        if high == 0 {
            if let Ok(text) = std::str::from_utf8(bytes) {
                return PyStr(Repr::Text(Arc::from(text)));
            }
        }
        PyStr(Repr::Text(Arc::from(latin1_to_utf8(bytes))))
    }

    /// The text as `&str`, or `None` if the string holds a lone surrogate.
    pub fn as_str(&self) -> Option<&str> {
        match &self.0 {
            Repr::Inline(len, buf) => std::str::from_utf8(buf.get(..usize::from(*len))?).ok(),
            Repr::Text(s) => Some(s),
            Repr::Pooled(b, off, len) => pooled_text(b, *off, *len),
            Repr::Wide(_) => None,
            Repr::Latin1(l) => Some(l.text()),
        }
    }

    /// Whether the string holds at least one surrogate code point (and so is not valid UTF-8).
    pub fn has_surrogates(&self) -> bool {
        matches!(self.0, Repr::Wide(_))
    }

    /// The string in generalized UTF-8 (plain UTF-8 when there is no surrogate).
    ///
    /// This is the same byte sequence Python's `s.encode('utf-8', 'surrogatepass')` returns.
    pub fn as_encoded_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline(len, buf) => buf.get(..usize::from(*len)).unwrap_or_default(),
            Repr::Text(s) => s.as_bytes(),
            Repr::Pooled(b, off, len) => pooled_text(b, *off, *len).map_or(&[], str::as_bytes),
            Repr::Wide(b) => b,
            Repr::Latin1(l) => l.text().as_bytes(),
        }
    }

    /// The string an inline string's [`PyStr::inline_parts`] came from (a copy of it).
    #[inline(always)]
    pub(crate) fn from_inline_parts(len: u8, buf: [u8; INLINE_MAX]) -> PyStr {
        PyStr(Repr::Inline(len, buf))
    }

    /// Makes this string the inline text of length `len` whose zero-padded bytes are `words`
    /// (little-endian; the bytes past [`INLINE_MAX`] are dropped), writing them in place.
    /// The words must be valid UTF-8 text of that length (see [`words_are_text`]).
    #[inline(always)]
    pub(crate) fn set_inline_words(&mut self, len: u8, words: &[u64; 3]) {
        debug_assert!(usize::from(len) <= INLINE_MAX);
        if !matches!(self.0, Repr::Inline(..)) {
            self.0 = Repr::Inline(0, [0; INLINE_MAX]);
        }
        if let Repr::Inline(n, buf) = &mut self.0 {
            *n = len;
            let (head, tail) = buf.split_at_mut(16);
            if let Some((a, b)) = head.split_first_chunk_mut::<8>() {
                *a = words[0].to_le_bytes();
                if let Some(b) = b.first_chunk_mut::<8>() {
                    *b = words[1].to_le_bytes();
                }
            }
            if let Some(c) = words[2].to_le_bytes().first_chunk::<6>() {
                if let Some(t) = tail.first_chunk_mut::<6>() {
                    *t = *c;
                }
            }
        }
    }

    /// Text longer than [`INLINE_MAX`] bytes, already shared (shorter text must be inline:
    /// see [`PyStr::from_utf8_surrogatepass`]).
    #[inline(always)]
    pub(crate) fn from_text(text: Arc<str>) -> PyStr {
        debug_assert!(text.len() > INLINE_MAX);
        PyStr(Repr::Text(text))
    }

    /// The `len` bytes at `off` of `block`, which must be text there (on character
    /// boundaries) and longer than [`INLINE_MAX`] bytes (else it would be inline).
    #[inline(always)]
    pub(crate) fn pooled(block: &Arc<StrBlock>, off: u32, len: u32) -> PyStr {
        debug_assert!(len as usize > INLINE_MAX);
        debug_assert!(pooled_text(block, off, len).is_some());
        PyStr(Repr::Pooled(Arc::clone(block), off, len))
    }

    /// Whether the string is part of a shared block (tests of the decoder's pooling).
    #[cfg(test)]
    pub(crate) fn is_pooled(&self) -> bool {
        matches!(self.0, Repr::Pooled(..))
    }

    /// How many strs (and other holders) keep this str's block alive (tests).
    #[cfg(test)]
    pub(crate) fn block_refs(&self) -> Option<usize> {
        match &self.0 {
            Repr::Pooled(b, ..) => Some(Arc::strong_count(b)),
            _ => None,
        }
    }

    /// How many holders share this str's allocation, if it has one (tests of `Drop`).
    #[cfg(test)]
    pub(crate) fn alloc_refs(&self) -> Option<usize> {
        match &self.0 {
            Repr::Inline(..) => None,
            Repr::Text(a) => Some(Arc::strong_count(a)),
            Repr::Pooled(b, ..) => Some(Arc::strong_count(b)),
            Repr::Wide(a) => Some(Arc::strong_count(a)),
            Repr::Latin1(a) => Some(Arc::strong_count(a)),
        }
    }

    /// A string stored inline: its length and its buffer (zero after the length), else
    /// `None`.
    pub(crate) fn inline_parts(&self) -> Option<(u8, &[u8; INLINE_MAX])> {
        match &self.0 {
            Repr::Inline(len, buf) => Some((*len, buf)),
            _ => None,
        }
    }

    /// The text with every surrogate replaced by U+FFFD, borrowed when there is none.
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        match (&self.0, self.as_str()) {
            (_, Some(s)) => Cow::Borrowed(s),
            _ => Cow::Owned(
                self.code_points()
                    .map(|c| char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER))
                    .collect(),
            ),
        }
    }

    /// The code points of the string, surrogates included (Python's `map(ord, s)`).
    pub fn code_points(&self) -> CodePoints<'_> {
        CodePoints {
            bytes: self.as_encoded_bytes(),
            pos: 0,
        }
    }

    /// The number of code points (Python's `len(s)`).
    pub fn char_len(&self) -> usize {
        if let Repr::Latin1(l) = &self.0 {
            return l.bytes.len();
        }
        match self.as_str() {
            Some(s) => s.chars().count(),
            None => self.code_points().count(),
        }
    }

    /// The length of [`PyStr::as_encoded_bytes`] (without making the UTF-8 form of a
    /// string kept one byte per code point).
    pub fn encoded_len(&self) -> usize {
        match &self.0 {
            Repr::Latin1(l) => l.utf8_len,
            _ => self.as_encoded_bytes().len(),
        }
    }

    /// Whether the string is empty.
    pub fn is_empty(&self) -> bool {
        match &self.0 {
            Repr::Latin1(l) => l.bytes.is_empty(),
            _ => self.as_encoded_bytes().is_empty(),
        }
    }

    /// The code points one byte each, when the string is kept that way (long text of code
    /// points below U+0100: what `s.encode('latin1')` returns, shared).
    pub(crate) fn latin1_bytes(&self) -> Option<&Arc<[u8]>> {
        match &self.0 {
            Repr::Latin1(l) => Some(&l.bytes),
            _ => None,
        }
    }

    /// The string `bytes` decode to, in the [`Latin1`] form, if they are UTF-8 of ASCII and
    /// U+0080–U+00FF only, with at least one of the latter, and at least [`LATIN1_MIN`] bytes
    /// long (else `None`: decode them the usual way).
    pub(crate) fn latin1_from_utf8(bytes: &[u8]) -> Option<PyStr> {
        if bytes.len() < LATIN1_MIN {
            return None;
        }
        PyStr::latin1_form(bytes)
    }

    /// [`PyStr::latin1_from_utf8`] at any length.
    fn latin1_form(bytes: &[u8]) -> Option<PyStr> {
        let n = latin1_len(bytes)?;
        let mut out: Arc<[u8]> = std::iter::repeat_n(0u8, n).collect();
        let dst = Arc::get_mut(&mut out)?;
        // Eight bytes at a time where eight output bytes fit: each byte's code point is
        // worked out in place (itself if ASCII; for a lead byte, its low bits and the next
        // byte's), then the bytes are written one after another, each continuation byte
        // overwritten by the next one (no branch per character).
        const HIGH: u64 = 0x8080_8080_8080_8080;
        const ONES: u64 = 0x0101_0101_0101_0101;
        let (mut i, mut j) = (0usize, 0usize);
        while let (Some(cur), Some(&after), Some(out)) = (
            bytes.get(i..).and_then(|r| r.first_chunk::<8>()),
            bytes.get(i + 8),
            dst.get_mut(j..).and_then(|r| r.first_chunk_mut::<8>()),
        ) {
            let w = u64::from_le_bytes(*cur);
            let next = (w >> 8) | (u64::from(after) << 56);
            let high = w & HIGH;
            let cont = high & !(w << 1);
            let lead = ((high & !cont) >> 7) * 0xff;
            let decoded = ((w & (ONES * 0x03)) << 6) | (next & (ONES * 0x3f));
            let v = (w & !lead) | (decoded & lead);
            let keep = (!cont & HIGH) >> 7;
            let mut k = 0usize;
            for byte in 0..8 {
                out[k & 7] = (v >> (8 * byte)) as u8;
                k += ((keep >> (8 * byte)) & 1) as usize;
            }
            i += 8;
            j += k;
        }
        // The rest one byte at a time, the same way.
        let rest = bytes.get(i..).unwrap_or_default();
        for (&c, &d) in rest.iter().zip(rest.get(1..).unwrap_or_default()) {
            let ascii = u8::from(c < 0x80).wrapping_neg();
            let v = (c & ascii) | ((((c & 0x03) << 6) | (d & 0x3f)) & !ascii);
            if let Some(slot) = dst.get_mut(j) {
                *slot = v;
            }
            j += usize::from(c & 0xc0 != 0x80);
        }
        // The last byte ends a character: ASCII (written here) or a continuation (its
        // character written above).
        if let (Some(&c), Some(slot)) = (bytes.last(), dst.last_mut()) {
            if c < 0x80 {
                *slot = c;
            }
        }
        Some(PyStr(Repr::Latin1(Arc::new(Latin1 {
            bytes: out,
            utf8_len: bytes.len(),
            utf8: OnceLock::new(),
        }))))
    }

    /// The address of the shared storage (identity, for caches that keep a clone alive);
    /// `None` for short strings stored inline.
    pub(crate) fn addr(&self) -> Option<usize> {
        match &self.0 {
            Repr::Inline(..) => None,
            Repr::Text(s) => Some(Arc::as_ptr(s) as *const u8 as usize),
            // Strs of one block differ by their offset in it.
            Repr::Pooled(b, off, _) => Some(b.0.as_ptr() as usize + *off as usize),
            Repr::Wide(b) => Some(Arc::as_ptr(b) as usize),
            Repr::Latin1(l) => Some(Arc::as_ptr(l) as usize),
        }
    }

    /// Decodes bytes as UTF-8 with Python's `'surrogatepass'` error handler.
    ///
    /// This is how `BINUNICODE`, `SHORT_BINUNICODE` and `BINUNICODE8` are decoded. Overlong forms,
    /// code points above U+10FFFF and truncated sequences are errors, as in CPython.
    pub fn from_utf8_surrogatepass(bytes: &[u8]) -> Result<PyStr, Utf8Error> {
        // Short ASCII text (most keys and many values): one copy into the inline buffer and a
        // check of three words, instead of the general validator.
        if let Some(len) = u8::try_from(bytes.len())
            .ok()
            .filter(|&n| usize::from(n) <= INLINE_MAX)
        {
            let mut buf = [0u8; INLINE_MAX];
            if let Some(dst) = buf.get_mut(..bytes.len()) {
                dst.copy_from_slice(bytes);
                if is_ascii_inline(&buf) {
                    return Ok(PyStr(Repr::Inline(len, buf)));
                }
            }
        }
        if let Some(s) = PyStr::latin1_from_utf8(bytes) {
            return Ok(s);
        }
        match utf8(bytes) {
            Some(s) => Ok(PyStr::text(s)),
            None => {
                validate_generalized_utf8(bytes)?;
                match std::str::from_utf8(bytes) {
                    Ok(s) => Ok(PyStr::text(s)),
                    Err(_) => Ok(PyStr(Repr::Wide(Arc::new(Box::from(bytes))))),
                }
            }
        }
    }

    /// Builds a string from bytes already known to be generalized UTF-8.
    pub(crate) fn from_generalized_utf8(bytes: Vec<u8>) -> PyStr {
        match String::from_utf8(bytes) {
            Ok(s) => PyStr::text(&s),
            Err(e) => PyStr(Repr::Wide(Arc::new(e.into_bytes().into_boxed_slice()))),
        }
    }
}

/// `bytes` as text, if they are valid UTF-8 (no surrogate): `std::str::from_utf8`, or with the
/// `simd-utf8` feature `simdutf8`'s validator (the same acceptance, tested against std; several
/// times faster on long non-ASCII text).
#[inline]
pub(crate) fn utf8(bytes: &[u8]) -> Option<&str> {
    #[cfg(feature = "simd-utf8")]
    {
        simdutf8::basic::from_utf8(bytes).ok()
    }
    #[cfg(not(feature = "simd-utf8"))]
    {
        std::str::from_utf8(bytes).ok()
    }
}

/// Whether the first `n` bytes of a zero-padded block (see [`short_block`]) are text a short
/// str keeps inline: valid UTF-8, no surrogate. ASCII (most keys) is told by one test of the
/// block's words; anything else goes through [`is_utf8_dfa`].
///
/// [`short_block`]: crate::reader::short_block
#[inline(always)]
pub(crate) fn block_is_text(block: &[u8; SHORT_BLOCK], n: usize) -> bool {
    let word = |i: usize| {
        block
            .get(8 * i..)
            .and_then(<[u8]>::first_chunk::<8>)
            .map_or(0, |w| u64::from_le_bytes(*w))
    };
    words_ascii(&[word(0), word(1), word(2)]) || is_utf8_dfa(block.get(..n).unwrap_or_default())
}

/// Whether a block's words hold only ASCII.
#[inline(always)]
fn words_ascii(words: &[u64; 3]) -> bool {
    (words[0] | words[1] | words[2]) & 0x8080_8080_8080_8080 == 0
}

/// [`block_is_text`] of a block given as its words (see [`short_words`]).
///
/// [`short_words`]: crate::reader::short_words
#[inline(always)]
pub(crate) fn words_are_text(words: &[u64; 3], n: usize) -> bool {
    if words_ascii(words) {
        return true;
    }
    let mut block = [0u8; SHORT_BLOCK];
    for (dst, w) in block.chunks_exact_mut(8).zip(words) {
        dst.copy_from_slice(&w.to_le_bytes());
    }
    is_utf8_dfa(block.get(..n).unwrap_or_default())
}

/// Whether `b` is valid UTF-8 (no surrogate, no overlong form, nothing above U+10FFFF): the
/// same answer as [`std::str::from_utf8`], from a table-driven automaton with no branch per
/// character.
///
/// For short strings of mixed scripts (names, labels, keys in any language) std's validator
/// takes a branch per character class, and those mispredict on every other character; here
/// each byte is one table load and one shift. The state is a bit offset into the byte's row:
/// `row >> state` leaves the next state in the low six bits (the shift count is taken modulo
/// 64, so the higher bits left over need no masking).
pub(crate) fn is_utf8_dfa(b: &[u8]) -> bool {
    let mut state = 0u64;
    for &byte in b {
        state = UTF8_DFA[usize::from(byte)].wrapping_shr(state as u32);
    }
    state & 63 == dfa::ACCEPT
}

/// The states of [`is_utf8_dfa`], as bit offsets into a row of [`UTF8_DFA`].
mod dfa {
    /// Between characters.
    pub(super) const ACCEPT: u64 = 0;
    /// Invalid (absorbing).
    pub(super) const ERROR: u64 = 6;
    /// One continuation byte (0x80–0xBF) to go.
    pub(super) const CONT1: u64 = 12;
    /// Two to go.
    pub(super) const CONT2: u64 = 18;
    /// Three to go.
    pub(super) const CONT3: u64 = 24;
    /// After 0xE0: 0xA0–0xBF, then one more (no overlong 3-byte form).
    pub(super) const E0: u64 = 30;
    /// After 0xED: 0x80–0x9F, then one more (no surrogate).
    pub(super) const ED: u64 = 36;
    /// After 0xF0: 0x90–0xBF, then two more (no overlong 4-byte form).
    pub(super) const F0: u64 = 42;
    /// After 0xF4: 0x80–0x8F, then two more (nothing above U+10FFFF).
    pub(super) const F4: u64 = 48;

    /// `row` with the transition from state `from` set to `next`.
    pub(super) const fn set(row: u64, from: u64, next: u64) -> u64 {
        (row & !(63 << from)) | (next << from)
    }
}

/// Per byte, the next state of [`is_utf8_dfa`] for each state: six bits at the state's offset.
static UTF8_DFA: [u64; 256] = {
    use dfa::*;
    let mut t = [0u64; 256];
    let mut b = 0usize;
    while b < 256 {
        // Every state goes to ERROR unless set below (ERROR itself always does).
        let mut row = 0u64;
        let mut from = 0;
        while from <= F4 {
            row |= ERROR << from;
            from += 6;
        }
        row = match b {
            0x00..=0x7f => set(row, ACCEPT, ACCEPT),
            0xc2..=0xdf => set(row, ACCEPT, CONT1),
            0xe0 => set(row, ACCEPT, E0),
            0xe1..=0xec | 0xee..=0xef => set(row, ACCEPT, CONT2),
            0xed => set(row, ACCEPT, ED),
            0xf0 => set(row, ACCEPT, F0),
            0xf1..=0xf3 => set(row, ACCEPT, CONT3),
            0xf4 => set(row, ACCEPT, F4),
            _ => row,
        };
        if b >= 0x80 && b <= 0xbf {
            row = set(row, CONT1, ACCEPT);
            row = set(row, CONT2, CONT1);
            row = set(row, CONT3, CONT2);
            if b >= 0xa0 {
                row = set(row, E0, CONT1);
            } else {
                row = set(row, ED, CONT1);
            }
            if b >= 0x90 {
                row = set(row, F0, CONT2);
            } else {
                row = set(row, F4, CONT2);
            }
        }
        t[b] = row;
        b += 1;
    }
    t
};

/// The number of code points in `b` if it is valid UTF-8 made only of ASCII and 2-byte
/// characters U+0080–U+00FF (lead byte 0xC2 or 0xC3), at least one of those; else `None`.
///
/// Eight bytes at a time without a branch per character (std's validator takes one per
/// non-ASCII character, which mispredicts half the time on the random bytes that protocols
/// 0–2 pickle as Latin-1 text): `lead` marks the bytes 0xC2/0xC3, `cont` the bytes
/// 0x80–0xBF; the text is valid exactly when every byte with the high bit set is one of the
/// two and the continuation bytes are exactly the bytes after a lead (`lead << 8 == cont`,
/// a lead in a word's last byte carried into the next word).
fn latin1_len(b: &[u8]) -> Option<usize> {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut carry = 0u64;
    let mut bad = 0u64;
    let mut leads = 0usize;
    let (body, tail) = b.split_at_checked(b.len() / 8 * 8)?;
    // Leads are counted per byte lane, summed every 255 words.
    for group in body.chunks(8 * 255) {
        let mut lanes = 0u64;
        for w in group.chunks_exact(8) {
            let w = u64::from_le_bytes(<[u8; 8]>::try_from(w).ok()?);
            let high = w & HIGH;
            // Bit 7 of each byte: the byte is `10xxxxxx`.
            let cont = high & !(w << 1);
            // `1100001x`: the bytes where `(w & 0xfe) ^ 0xc2` is zero (bit 7 of the sum is
            // set exactly when the low seven bits are not all zero; no carry leaves a byte).
            let x = (w & (ONES * 0xfe)) ^ (ONES * 0xc2);
            let lead = !(((x & (ONES * 0x7f)) + ONES * 0x7f) | x) & HIGH;
            bad |= (high & !cont & !lead) | (((lead << 8) | carry) ^ cont);
            carry = lead >> 56;
            lanes += lead >> 7;
        }
        let pairs = (lanes & 0x00ff_00ff_00ff_00ff) + ((lanes >> 8) & 0x00ff_00ff_00ff_00ff);
        leads += (pairs.wrapping_mul(0x0001_0001_0001_0001) >> 48) as usize;
    }
    // The last bytes (fewer than eight), one at a time.
    let mut pending = carry != 0;
    for &c in tail {
        let is_cont = c & 0xc0 == 0x80;
        let is_lead = c == 0xc2 || c == 0xc3;
        if is_cont != pending || (c >= 0x80 && !is_cont && !is_lead) {
            return None;
        }
        pending = is_lead;
        leads += usize::from(is_lead);
    }
    if bad != 0 || pending || leads == 0 {
        return None;
    }
    Some(b.len() - leads)
}

/// Whether an inline buffer (zero-padded) holds only ASCII: three overlapping words.
#[inline]
fn is_ascii_inline(buf: &[u8; INLINE_MAX]) -> bool {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const _: () = assert!(INLINE_MAX > 16 && INLINE_MAX <= 24);
    let word = |b: Option<&[u8; 8]>| b.map_or(HIGH, |w| u64::from_le_bytes(*w));
    let head = buf.first_chunk::<8>();
    let mid = buf.get(8..16).and_then(|m| m.first_chunk::<8>());
    let tail = buf.last_chunk::<8>();
    (word(head) | word(mid) | word(tail)) & HIGH == 0
}

impl Default for PyStr {
    fn default() -> Self {
        PyStr::empty()
    }
}

impl From<&str> for PyStr {
    fn from(s: &str) -> Self {
        PyStr::text(s)
    }
}

impl From<String> for PyStr {
    fn from(s: String) -> Self {
        PyStr::text(&s)
    }
}

impl From<char> for PyStr {
    fn from(c: char) -> Self {
        let mut buf = [0u8; 4];
        PyStr::from(&*c.encode_utf8(&mut buf))
    }
}

impl PartialEq for PyStr {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            // Zero-padded buffers: equal text is equal words.
            (Repr::Inline(a, x), Repr::Inline(b, y)) => a == b && x == y,
            (Repr::Latin1(a), Repr::Latin1(b)) => a.bytes == b.bytes,
            _ => {
                (self.addr().is_some() && self.addr() == other.addr())
                    || self.as_encoded_bytes() == other.as_encoded_bytes()
            }
        }
    }
}

impl Eq for PyStr {}

impl std::hash::Hash for PyStr {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_encoded_bytes().hash(state)
    }
}

impl PartialOrd for PyStr {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PyStr {
    /// Orders by code point, like Python's `<` on `str`.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.code_points().cmp(other.code_points())
    }
}

impl PartialEq<str> for PyStr {
    fn eq(&self, other: &str) -> bool {
        self.as_encoded_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for PyStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_encoded_bytes() == other.as_bytes()
    }
}

impl PartialEq<PyStr> for str {
    fn eq(&self, other: &PyStr) -> bool {
        other == self
    }
}

impl PartialEq<PyStr> for &str {
    fn eq(&self, other: &PyStr) -> bool {
        other == *self
    }
}

impl fmt::Display for PyStr {
    /// Writes the text (Python's `str(s)`), with each lone surrogate shown as U+FFFD.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

impl fmt::Debug for PyStr {
    /// Writes Python's `repr(s)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::repr::write_str_repr(f, self)
    }
}

/// Iterator over the code points of a [`PyStr`], from [`PyStr::code_points`].
#[derive(Clone)]
pub struct CodePoints<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Iterator for CodePoints<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let rest = self.bytes.get(self.pos..)?;
        let (cp, len) = decode_one(rest)?;
        self.pos += len;
        Some(cp)
    }
}

/// Decodes one code point of (already validated) generalized UTF-8.
fn decode_one(b: &[u8]) -> Option<(u32, usize)> {
    let b0 = u32::from(*b.first()?);
    let cont = |i: usize| b.get(i).map(|&x| u32::from(x) & 0x3f).unwrap_or(0);
    if b0 < 0x80 {
        Some((b0, 1))
    } else if b0 < 0xe0 {
        Some((((b0 & 0x1f) << 6) | cont(1), 2))
    } else if b0 < 0xf0 {
        Some((((b0 & 0x0f) << 12) | (cont(1) << 6) | cont(2), 3))
    } else {
        Some((
            ((b0 & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3),
            4,
        ))
    }
}

/// Why bytes are not UTF-8 under `'surrogatepass'`, in CPython's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Utf8Error {
    /// Position of the first offending byte.
    pub position: usize,
    /// How many bytes the error covers (CPython reports a range when more than one).
    pub len: usize,
    /// CPython's reason: `invalid start byte`, `invalid continuation byte`, `unexpected end of data`.
    pub reason: &'static str,
    /// The first offending byte.
    pub byte: u8,
}

impl fmt::Display for Utf8Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.len <= 1 {
            write!(
                f,
                "'utf-8' codec can't decode byte 0x{:02x} in position {}: {}",
                self.byte, self.position, self.reason
            )
        } else {
            write!(
                f,
                "'utf-8' codec can't decode bytes in position {}-{}: {}",
                self.position,
                self.position + self.len - 1,
                self.reason
            )
        }
    }
}

/// Checks generalized UTF-8 (UTF-8 that also admits encoded surrogates), CPython-style errors.
fn validate_generalized_utf8(b: &[u8]) -> Result<(), Utf8Error> {
    let mut i = 0;
    while let Some(&b0) = b.get(i) {
        if b0 < 0x80 {
            i += 1;
            continue;
        }
        let err = |len: usize, reason: &'static str| Utf8Error {
            position: i,
            len,
            reason,
            byte: b0,
        };
        // (needed continuation bytes, allowed range of the first continuation byte)
        let (n, lo, hi) = match b0 {
            0xc2..=0xdf => (1, 0x80, 0xbf),
            0xe0 => (2, 0xa0, 0xbf),
            // 0xed admits 0xa0..=0xbf too: those are the surrogates ('surrogatepass').
            0xe1..=0xef => (2, 0x80, 0xbf),
            0xf0 => (3, 0x90, 0xbf),
            0xf1..=0xf3 => (3, 0x80, 0xbf),
            0xf4 => (3, 0x80, 0x8f),
            _ => return Err(err(1, "invalid start byte")),
        };
        for k in 1..=n {
            match b.get(i + k) {
                None => return Err(err(k, "unexpected end of data")),
                Some(&c) => {
                    let (l, h) = if k == 1 { (lo, hi) } else { (0x80, 0xbf) };
                    if c < l || c > h {
                        return Err(err(k, "invalid continuation byte"));
                    }
                }
            }
        }
        i += n + 1;
    }
    Ok(())
}

/// Accumulates code points (surrogates allowed) into a [`PyStr`].
#[derive(Default)]
pub(crate) struct StrBuilder {
    bytes: Vec<u8>,
}

impl StrBuilder {
    /// A builder with room for `n` bytes.
    pub(crate) fn with_capacity(n: usize) -> Self {
        StrBuilder {
            bytes: Vec::with_capacity(n),
        }
    }

    /// Appends text.
    pub(crate) fn push_str(&mut self, s: &str) {
        self.bytes.extend_from_slice(s.as_bytes());
    }

    /// Appends one code point; values above U+10FFFF are ignored by the caller's contract.
    pub(crate) fn push_code_point(&mut self, cp: u32) {
        match char::from_u32(cp) {
            Some(c) => {
                let mut buf = [0u8; 4];
                self.bytes
                    .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            None => {
                // A surrogate (0xD800..=0xDFFF): 3-byte generalized UTF-8.
                self.bytes.push(0xe0 | ((cp >> 12) & 0x0f) as u8);
                self.bytes.push(0x80 | ((cp >> 6) & 0x3f) as u8);
                self.bytes.push(0x80 | (cp & 0x3f) as u8);
            }
        }
    }

    /// The finished string.
    pub(crate) fn finish(self) -> PyStr {
        PyStr::from_generalized_utf8(self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `utf8` (whichever validator the build uses) and the automaton of short strs
    /// (`is_utf8_dfa`) accept exactly what `std::str::from_utf8` accepts: every 1- and 2-byte input, 3-byte inputs over every lead byte from 0xC0
    /// with second and third bytes 0x70–0xCF (all continuation bytes and their neighbours),
    /// 4-byte inputs over the same lead and second bytes with edge third and fourth bytes, each also placed across the 16/32/64-byte block edges a
    /// SIMD validator works in, and random inputs rich in lead and continuation bytes.
    #[test]
    fn utf8_accepts_exactly_what_std_accepts() {
        fn check(b: &[u8]) {
            assert_eq!(utf8(b), std::str::from_utf8(b).ok(), "{b:02x?}");
            assert_eq!(is_utf8_dfa(b), utf8(b).is_some(), "automaton: {b:02x?}");
        }
        let mut seqs: Vec<Vec<u8>> = Vec::new();
        for a in 0..=255u8 {
            seqs.push(vec![a]);
            for b in 0..=255u8 {
                seqs.push(vec![a, b]);
            }
        }
        let edges = [0x00u8, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff];
        for a in 0xc0..=0xffu8 {
            for b in 0x70..=0xcfu8 {
                for c in 0x70..=0xcfu8 {
                    check(&[a, b, c]);
                }
                for &c in &edges {
                    for &d in &edges {
                        seqs.push(vec![a, b, c, d]);
                    }
                }
            }
        }
        for seq in &seqs {
            check(seq);
        }
        // Across block edges, inside ASCII text.
        for seq in seqs.iter().step_by(7) {
            for at in [0usize, 13, 15, 30, 31, 62, 63, 64, 127] {
                let mut text = vec![b'a'; 140];
                if let Some(dst) = text.get_mut(at..at + seq.len()) {
                    dst.copy_from_slice(seq);
                }
                check(&text);
            }
        }
        // Random text of ASCII, lead and continuation bytes, 0-300 bytes.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 301) as usize;
            let mut b = Vec::with_capacity(len);
            let mut y = x;
            for _ in 0..len {
                y = y
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let pick = (y >> 60) as u8;
                b.push(match pick {
                    0..=5 => (y >> 32) as u8 & 0x7f,
                    6..=10 => 0x80 | ((y >> 32) as u8 & 0x3f),
                    11 => 0xc2 + ((y >> 32) as u8 % 30),
                    12 => 0xe0 + ((y >> 32) as u8 % 16),
                    13 => 0xf0 + ((y >> 32) as u8 % 8),
                    _ => (y >> 32) as u8,
                });
            }
            check(&b);
        }
    }

    /// The short-ASCII fast path sees every byte of every inline length: one non-ASCII byte
    /// anywhere sends the input to the validator (and invalid UTF-8 there is an error).
    #[test]
    fn short_ascii_fast_path_checks_every_byte() {
        for len in 0..=INLINE_MAX + 2 {
            let ascii = vec![b'k'; len];
            let s = PyStr::from_utf8_surrogatepass(&ascii).unwrap();
            assert_eq!(s.as_str(), Some(std::str::from_utf8(&ascii).unwrap()));
            for at in 0..len {
                let mut lone = ascii.clone();
                lone[at] = 0x80;
                assert!(
                    PyStr::from_utf8_surrogatepass(&lone).is_err(),
                    "len {len} at {at}"
                );
                let mut high = ascii.clone();
                high[at] = 0xff;
                assert!(
                    PyStr::from_utf8_surrogatepass(&high).is_err(),
                    "len {len} at {at}"
                );
                if at + 1 < len {
                    let mut latin = ascii.clone();
                    latin[at] = 0xc3;
                    latin[at + 1] = 0xa9;
                    let s = PyStr::from_utf8_surrogatepass(&latin).unwrap();
                    assert_eq!(s.as_str(), Some(std::str::from_utf8(&latin).unwrap()));
                }
            }
        }
    }

    #[test]
    fn surrogatepass_keeps_lone_surrogates() {
        let s = PyStr::from_utf8_surrogatepass(b"\xed\xa0\x80").unwrap();
        assert!(s.has_surrogates());
        assert_eq!(s.code_points().collect::<Vec<_>>(), vec![0xd800]);
        let pair = PyStr::from_utf8_surrogatepass(b"\xed\xa0\xbd\xed\xb8\x80").unwrap();
        assert_eq!(pair.code_points().collect::<Vec<_>>(), vec![0xd83d, 0xde00]);
    }

    #[test]
    fn surrogatepass_errors_match_cpython() {
        let e = PyStr::from_utf8_surrogatepass(b"\xff").unwrap_err();
        assert_eq!(
            e.to_string(),
            "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"
        );
        let e = PyStr::from_utf8_surrogatepass(b"\xc0\x80").unwrap_err();
        assert_eq!(e.reason, "invalid start byte");
        let e = PyStr::from_utf8_surrogatepass(b"\xf4\x90\x80\x80").unwrap_err();
        assert_eq!(e.reason, "invalid continuation byte");
    }

    #[test]
    fn builder_round_trips() {
        let mut b = StrBuilder::default();
        b.push_str("a");
        b.push_code_point(0xdc80);
        b.push_code_point(0x1f600);
        let s = b.finish();
        assert_eq!(
            s.code_points().collect::<Vec<_>>(),
            vec![0x61, 0xdc80, 0x1f600]
        );
    }

    /// What the Latin-1 form must be: the code points one byte each, exactly when `b` is
    /// valid UTF-8 of code points below U+0100, at least one of them not ASCII.
    fn latin1_reference(b: &[u8]) -> Option<Vec<u8>> {
        let s = std::str::from_utf8(b).ok()?;
        if s.is_ascii() {
            return None;
        }
        s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
    }

    fn check_latin1(b: &[u8]) {
        let got = PyStr::latin1_form(b);
        let want = latin1_reference(b);
        assert_eq!(
            got.as_ref()
                .and_then(|s| s.latin1_bytes())
                .map(|a| a.to_vec()),
            want,
            "{b:02x?}"
        );
    }

    /// The Latin-1 form is taken exactly when the text is Latin-1 (and not all ASCII), and
    /// holds its code points: every input of up to 2 bytes, every 3-byte input over the bytes
    /// that matter, and random text with one byte broken at every position of the first and
    /// last words and around every word edge (a lead in a word's last byte needs the carry).
    #[test]
    fn latin1_form_is_taken_exactly_for_latin1_text() {
        let interesting = [
            0x00u8, 0x41, 0x7f, 0x80, 0xa9, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xdf, 0xe0, 0xed,
            0xf0, 0xff,
        ];
        check_latin1(b"");
        for a in 0..=255u8 {
            check_latin1(&[a]);
            for b in 0..=255u8 {
                check_latin1(&[a, b]);
            }
            for &b in &interesting {
                for &c in &interesting {
                    check_latin1(&[a, b, c]);
                }
            }
        }
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut rand = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..3000 {
            let len = (rand() % 70) as usize + if round % 10 == 0 { 2000 } else { 0 };
            let ascii_share = rand() % 4;
            let mut text = String::new();
            while text.len() < len {
                let c = if rand() % 4 < ascii_share {
                    char::from((rand() % 0x80) as u8)
                } else {
                    char::from((rand() % 0x80) as u8 + 0x80)
                };
                text.push(c);
            }
            let good = text.into_bytes();
            check_latin1(&good);
            let n = good.len();
            let positions: Vec<usize> = (0..n.min(20))
                .chain(n.saturating_sub(20)..n)
                .chain((7..n).step_by(8).flat_map(|p| [p, p + 1]))
                .filter(|&p| p < n)
                .collect();
            let breakers = [
                0x41u8, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xdf, 0xe2, 0xf0, 0xff,
            ];
            for &p in positions.iter().step_by(1 + (rand() % 3) as usize) {
                let mut bad = good.clone();
                if let Some(byte) = bad.get_mut(p) {
                    *byte = breakers[(rand() % breakers.len() as u64) as usize];
                }
                check_latin1(&bad);
                // A wider character (U+0100, U+20AC, U+1F600) put in at `p`.
                let mut wide = good.clone();
                let ins: &[u8] = match rand() % 3 {
                    0 => "\u{100}".as_bytes(),
                    1 => "\u{20ac}".as_bytes(),
                    _ => "\u{1f600}".as_bytes(),
                };
                if std::str::from_utf8(&good[..p]).is_ok() {
                    wide.splice(p..p, ins.iter().copied());
                    check_latin1(&wide);
                }
            }
            // Cut short, and a stray byte added at the end.
            check_latin1(&good[..n.saturating_sub(1)]);
            for last in [0x80u8, 0xc2, 0xc3, 0x41] {
                let mut longer = good.clone();
                longer.push(last);
                check_latin1(&longer);
            }
        }
    }

    /// A string in the Latin-1 form behaves exactly as the same text stored as UTF-8: equal
    /// (both ways, and to `&str`), same hash, same order, same `as_str`, encoded bytes,
    /// `len()`, code points, `repr()` and `str()`; and the encode shares its bytes.
    #[test]
    fn latin1_form_behaves_like_utf8_text() {
        use std::collections::hash_map::DefaultHasher;
        use std::hash::{Hash, Hasher};
        fn hash(s: &PyStr) -> u64 {
            let mut h = DefaultHasher::new();
            s.hash(&mut h);
            h.finish()
        }
        let mut text: String = (0..LATIN1_MIN)
            .map(|i| char::from((i * 37 % 256) as u8))
            .collect();
        text.push('\'');
        text.push('\n');
        let latin = PyStr::from_utf8_surrogatepass(text.as_bytes()).unwrap();
        assert!(latin.latin1_bytes().is_some(), "the Latin-1 form is used");
        let plain = PyStr::from(text.as_str());
        assert!(plain.latin1_bytes().is_none());
        assert_eq!(latin, plain);
        assert_eq!(plain, latin);
        assert_eq!(latin, text.as_str());
        assert_eq!(hash(&latin), hash(&plain));
        assert_eq!(latin.cmp(&plain), std::cmp::Ordering::Equal);
        let other = PyStr::from_utf8_surrogatepass(&text.as_bytes()[2..]).unwrap();
        assert_eq!(latin.cmp(&other), plain.cmp(&other));
        assert_ne!(latin, other);
        assert_eq!(latin.char_len(), text.chars().count());
        assert!(!latin.is_empty() && !latin.has_surrogates());
        assert_eq!(latin.as_str(), Some(text.as_str()));
        assert_eq!(latin.encoded_len(), text.len());
        assert_eq!(latin.as_encoded_bytes(), text.as_bytes());
        assert!(latin.code_points().eq(text.chars().map(u32::from)));
        assert_eq!(format!("{latin:?}"), format!("{plain:?}"));
        assert_eq!(latin.to_string(), text);
        let copy = latin.clone();
        assert_eq!(copy.addr(), latin.addr());
        let expected: Vec<u8> = text.chars().map(|c| u32::from(c) as u8).collect();
        assert_eq!(latin.latin1_bytes().map(|b| b.to_vec()), Some(expected));
        // Text that is only ASCII, or has a wider character, is stored as UTF-8.
        let ascii = "a".repeat(LATIN1_MIN);
        assert!(
            PyStr::from_utf8_surrogatepass(ascii.as_bytes())
                .unwrap()
                .latin1_bytes()
                .is_none()
        );
        let euro = format!("{text}\u{20ac}");
        let s = PyStr::from_utf8_surrogatepass(euro.as_bytes()).unwrap();
        assert!(s.latin1_bytes().is_none());
        assert_eq!(s.as_str(), Some(euro.as_str()));
    }

    /// A str read from a shared block behaves as the same text in its own allocation:
    /// equality (both ways, and against `&str`), hashing, order, every accessor, `repr`.
    #[test]
    fn pooled_strs_are_the_same_text_as_unpooled_ones() {
        use std::collections::hash_map::DefaultHasher;
        use std::hash::{Hash, Hasher};
        fn hash(s: &PyStr) -> u64 {
            let mut h = DefaultHasher::new();
            s.hash(&mut h);
            h.finish()
        }
        let texts = [
            "a str of exactly twenty-three",
            "héllo wörld, naïve café, 日本語のテキスト",
            "x".repeat(255).leak(),
            "quote ' and \" and \\ and \n",
        ];
        let mut all = String::new();
        let mut parts = Vec::new();
        for t in texts {
            parts.push((all.len() as u32, t.len() as u32));
            all.push_str(t);
        }
        let block = Arc::new(StrBlock::new(all.into_boxed_str()));
        for (&t, &(off, len)) in texts.iter().zip(&parts) {
            let pooled = PyStr::pooled(&block, off, len);
            let own = PyStr::from(t);
            assert!(pooled.is_pooled() && !own.is_pooled());
            assert_eq!(pooled, own);
            assert_eq!(own, pooled);
            assert_eq!(pooled, t);
            assert_eq!(hash(&pooled), hash(&own));
            assert_eq!(pooled.cmp(&own), std::cmp::Ordering::Equal);
            assert_eq!(pooled.as_str(), Some(t));
            assert_eq!(pooled.as_encoded_bytes(), t.as_bytes());
            assert_eq!(pooled.char_len(), t.chars().count());
            assert_eq!(pooled.encoded_len(), t.len());
            assert!(!pooled.is_empty() && !pooled.has_surrogates());
            assert_eq!(pooled.to_string(), t);
            assert_eq!(format!("{pooled:?}"), format!("{own:?}"));
            assert!(pooled.code_points().eq(t.chars().map(u32::from)));
            assert_eq!(pooled.clone(), own);
        }
        // Two strs of one block: different identities, different text.
        let a = PyStr::pooled(&block, parts[0].0, parts[0].1);
        let b = PyStr::pooled(&block, parts[1].0, parts[1].1);
        assert_ne!(a.addr(), b.addr());
        assert_ne!(a, b);
        assert_eq!(a.addr(), a.clone().addr());
        assert!(a < b);
    }
}
