//! Long strs that share blocks: one allocation for many strs of a pickle in memory.
//!
//! A str longer than [`INLINE_MAX`] bytes needs storage of its own. Given one allocation each
//! (an `Arc<str>`), a list of 250,000 such strs is 250,000 small allocations to make and, worse,
//! 250,000 to free: glibc keeps small freed chunks in its fastbins and merges them when a large
//! block is next freed, which made dropping the `strings` payload slower than CPython's free.
//! Here the strs that follow one another in the input share a block of at most
//! [`BLOCK_TEXT`] bytes of text ([`StrBlock`]): one allocation (and one free) per block, an
//! atomic count per str.
//!
//! When the machine meets a long str that no block holds, it steps ahead over the opcodes that
//! follow in the input ([`scan::FIXED_LEN`]), collecting the `SHORT_BINUNICODE`/`BINUNICODE`
//! strs of [`POOL_MIN`]`..=`[`POOL_MAX`] bytes that are valid UTF-8, until the block is full,
//! it meets an opcode it cannot step over, or the strs are sparse (more than [`DENSE_SPAN`]
//! bytes of input per str, so a walk never steps over more than about 18 KiB: then the next
//! [`BACKOFF_MIN`]`..=`[`BACKOFF_MAX`] bytes are read without walks, as stepping over them
//! would cost more than the allocations it saves). Each
//! collected str is noted by the input position of its bytes and its length; the block is
//! their text, back to back. As the machine reads on, a str whose bytes start at a noted
//! position and have the noted length is the same bytes of the same input, so it takes its
//! part of the block (without validating it again); any other str is decoded the usual way.
//! So what the walk reads ahead can make a block larger than needed (if the machine fails, or
//! reads the input differently, before reaching a noted str), never a str different from its
//! bytes.
//!
//! Once the memo's pass over the rest of the input has run (`Machine::plan_memo`, on large
//! pickles), it has noted every such str on its way ([`StrPool::ahead`]): blocks are then made
//! from its notes, validated the same way, without walks.
//!
//! Walks never cover the same input twice (a str before the end of the last walk and not noted
//! by it is decoded the usual way), so they cost at most one step per opcode of the input in
//! all. A block is made only for two strs or more; a str alone gets its own `Arc<str>`.
//!
//! The cost, written down: a str kept alive keeps its whole block alive (at most
//! [`BLOCK_TEXT`] + [`POOL_MAX`] bytes), as a slice of a shared buffer does. Only inputs in
//! memory (a slice) have their strs pooled; a stream's are not.

use std::sync::Arc;

use super::scan;
use crate::opcode::Opcode;
use crate::pystr::{self, INLINE_MAX, PyStr, StrBlock};

const SHORT_BINUNICODE: u8 = Opcode::SHORT_BINUNICODE as u8;
const BINUNICODE: u8 = Opcode::BINUNICODE as u8;
const SHORT_BINBYTES: u8 = Opcode::SHORT_BINBYTES as u8;
const BINBYTES: u8 = Opcode::BINBYTES as u8;
const SHORT_BINSTRING: u8 = Opcode::SHORT_BINSTRING as u8;
const LONG1: u8 = Opcode::LONG1 as u8;

/// The shortest str pooled: one byte longer than the longest inline one.
pub(crate) const POOL_MIN: usize = INLINE_MAX + 1;
/// The longest str pooled (longer strs are not what glibc's fastbins hold, and a block of them
/// would keep more alive).
pub(crate) const POOL_MAX: usize = 255;
/// A block is closed once it holds this many bytes of text.
#[cfg(not(fuzzing))]
const BLOCK_TEXT: usize = 4096;
/// Under `cargo fuzz`, small, so fuzzed inputs make several blocks.
#[cfg(fuzzing)]
const BLOCK_TEXT: usize = 64;
/// A walk pays for itself where the strs it notes are dense: it stops once it has stepped over
/// more than this many bytes of input per str noted (plus [`SPARSE_SLACK`]): the `strings`
/// payload has about 55–65 per str of 23 bytes or more, records about 130.
const DENSE_SPAN: usize = 96;
const SPARSE_SLACK: usize = 512;
/// After a walk that stopped for sparseness, the input this much past its end is read without
/// walks (doubling after each such walk, up to [`BACKOFF_MAX`]; a walk that fills its block
/// resets it): sparse long strs get their own allocations, as without the pool, and walks
/// cost a small share of the input.
const BACKOFF_MIN: usize = 4096;
const BACKOFF_MAX: usize = 1 << 20;

/// A str noted by a walk.
#[derive(Clone, Copy, Debug)]
struct Noted {
    /// The input position of its bytes.
    pos: usize,
    /// Its length in bytes.
    len: u32,
    /// Where its text starts in the block.
    off: u32,
}

/// The strs of the current block, and how far walks have read. One per machine, emptied after
/// each pickle (a block must not outlive the strs of its pickle in a pooled machine).
#[derive(Default)]
pub(crate) struct StrPool {
    block: Option<Arc<StrBlock>>,
    /// The strs of `block`, by position.
    noted: Vec<Noted>,
    /// The next of `noted` the machine has not passed.
    next: usize,
    /// The input position up to which walks have read.
    walked_to: usize,
    /// No walk starts before this input position: it is set `backoff` bytes past the end of a
    /// walk that found the strs sparse ([`BACKOFF_MIN`], doubling up to [`BACKOFF_MAX`]; 0
    /// after a walk that did not).
    resume: usize,
    backoff: usize,
    /// The text of the block being made (reused: the block is an exact copy of it).
    text: String,
    /// The strs the memo's pass over the rest of the input found (see [`StrPool::ahead`]),
    /// from input position `ahead_at`, and the next of them not passed.
    ahead: Vec<u64>,
    ahead_at: usize,
    ahead_next: usize,
}

impl StrPool {
    /// The str of `len` bytes whose bytes start at input position `pos`, from a block, where
    /// `rest` is the input from `pos` on (at least `len` bytes: the caller read them). `None`:
    /// decode it the usual way (not in a block, or not valid UTF-8).
    #[inline]
    pub(crate) fn take(&mut self, pos: usize, len: usize, rest: &[u8]) -> Option<PyStr> {
        while let Some(n) = self.noted.get(self.next) {
            if n.pos >= pos {
                if n.pos == pos && n.len as usize == len {
                    self.next += 1;
                    return Some(PyStr::pooled(self.block.as_ref()?, n.off, n.len));
                }
                break;
            }
            self.next += 1;
        }
        if pos < self.walked_to {
            return None;
        }
        if self.ahead_next < self.ahead.len() {
            if let Some(s) = self.block_ahead(pos, len, rest) {
                return Some(s);
            }
        }
        if pos < self.resume {
            return None;
        }
        self.walk(pos, len, rest)
    }

    /// The strs of the rest of the input from input position `at` on, found by the pass over
    /// it that the memo makes (`scan::fetched`), to take blocks from without walks of their own:
    /// each the position of its bytes from `at`, shifted left 8 bits, plus its length.
    pub(crate) fn ahead(&mut self, at: usize, strs: Vec<u64>) {
        self.ahead = strs;
        self.ahead_at = at;
        self.ahead_next = 0;
    }

    /// [`StrPool::walk`] from the strs of [`StrPool::ahead`], if the str at `pos` is the next of
    /// them (else `None`: walk).
    #[inline(never)]
    fn block_ahead(&mut self, pos: usize, len: usize, rest: &[u8]) -> Option<PyStr> {
        let base = self.ahead_at;
        let at = move |e: u64| base.saturating_add((e >> 8) as usize);
        while let Some(&e) = self.ahead.get(self.ahead_next) {
            if at(e) >= pos {
                break;
            }
            self.ahead_next += 1;
        }
        let &e = self.ahead.get(self.ahead_next)?;
        if at(e) != pos || (e & 0xff) as usize != len {
            return None;
        }
        let mut text = self.begin(pos, len, rest)?;
        self.ahead_next += 1;
        while text.len() < BLOCK_TEXT {
            let Some(&e) = self.ahead.get(self.ahead_next) else {
                break;
            };
            let (p, n) = (at(e), (e & 0xff) as usize);
            let Some(bytes) = p
                .checked_sub(pos)
                .and_then(|d| rest.get(d..d.checked_add(n)?))
            else {
                break;
            };
            self.ahead_next += 1;
            if let Some(s) = pystr::utf8(bytes) {
                self.note(&mut text, p, s);
                self.walked_to = p + n;
            }
        }
        self.seal(text, len)
    }

    /// Collects the strs from `pos` on into a new block; the first of them (at `pos`, `len`
    /// bytes) is returned.
    #[inline(never)]
    fn walk(&mut self, pos: usize, len: usize, rest: &[u8]) -> Option<PyStr> {
        let mut text = self.begin(pos, len, rest)?;
        // `at`: an opcode boundary in `rest`, if the machine reads the input as the walk does.
        let mut at = len;
        // How far the walk goes before it is sparse.
        let mut limit = DENSE_SPAN + SPARSE_SLACK;
        let mut sparse = false;
        loop {
            if at > limit {
                sparse = true;
                break;
            }
            let Some(&op) = rest.get(at) else {
                break;
            };
            let fixed = scan::FIXED_LEN[usize::from(op)];
            if fixed != 0 {
                at += usize::from(fixed);
                continue;
            }
            // A str or bytes payload: its length, then its bytes.
            let (head, n) = match op {
                SHORT_BINUNICODE | SHORT_BINBYTES | SHORT_BINSTRING | LONG1 => {
                    let Some(&n) = rest.get(at + 1) else {
                        break;
                    };
                    (2, usize::from(n))
                }
                BINUNICODE | BINBYTES => {
                    let Some(&n) = rest.get(at + 1..).and_then(<[u8]>::first_chunk::<4>) else {
                        break;
                    };
                    (5, u32::from_le_bytes(n) as usize)
                }
                _ => break,
            };
            let start = at + head;
            let Some(bytes) = start.checked_add(n).and_then(|end| rest.get(start..end)) else {
                break;
            };
            at = start + n;
            if (op == SHORT_BINUNICODE || op == BINUNICODE) && (POOL_MIN..=POOL_MAX).contains(&n) {
                if let Some(s) = pystr::utf8(bytes) {
                    self.note(&mut text, pos + start, s);
                    limit += DENSE_SPAN;
                    if text.len() >= BLOCK_TEXT {
                        break;
                    }
                }
            }
        }
        if sparse {
            self.backoff = (self.backoff * 2).clamp(BACKOFF_MIN, BACKOFF_MAX);
            self.resume = pos.saturating_add(at).saturating_add(self.backoff);
        } else {
            self.backoff = 0;
        }
        self.walked_to = pos.saturating_add(at);
        self.seal(text, len)
    }

    /// Starts a new block with the str of `len` bytes at `pos` (`rest`: the input from there):
    /// the block's text so far (the reused buffer), or `None` if the str is not valid UTF-8 (it
    /// is decoded the usual way, and no walk starts before its end).
    fn begin(&mut self, pos: usize, len: usize, rest: &[u8]) -> Option<String> {
        self.block = None;
        self.noted.clear();
        self.next = 0;
        self.walked_to = pos.saturating_add(len);
        let first = pystr::utf8(rest.get(..len)?)?;
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        self.note(&mut text, pos, first);
        Some(text)
    }

    /// Makes the block of `text` (the noted strs'), and returns the first str, of `len` bytes.
    /// (`text` is kept for the next block: an allocation of the block's exact size is cheaper
    /// than one of the largest size, shrunk.)
    fn seal(&mut self, text: String, len: usize) -> Option<PyStr> {
        let out = if self.noted.len() < 2 {
            // A str alone: its own allocation, as without the pool.
            self.noted.clear();
            text.get(..len).map(|t| PyStr::from_text(Arc::from(t)))
        } else {
            let block = Arc::new(StrBlock::new(Box::from(text.as_str())));
            self.next = 1;
            let out = PyStr::pooled(&block, 0, len as u32);
            self.block = Some(block);
            Some(out)
        };
        self.text = text;
        out
    }

    /// Notes a str of the walk, whose text goes into the block's `text`.
    #[inline(always)]
    fn note(&mut self, text: &mut String, pos: usize, s: &str) {
        self.noted.push(Noted {
            pos,
            len: s.len() as u32,
            off: text.len() as u32,
        });
        text.push_str(s);
    }

    /// Forgets the block and the walks (after a pickle), keeping small buffers.
    pub(crate) fn clear(&mut self) {
        self.block = None;
        super::empty(&mut self.noted, 4096);
        self.next = 0;
        self.walked_to = 0;
        self.resume = 0;
        self.backoff = 0;
        self.ahead = Vec::new();
        self.ahead_next = 0;
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::{BLOCK_TEXT, POOL_MAX, POOL_MIN};
    use crate::testing::xorshift;
    use crate::{PyStr, Unpickler, Value, restricted_loads};

    /// `SHORT_BINUNICODE` (or `BINUNICODE` when `long`, or past 255 bytes) of `b`.
    fn str_op(out: &mut Vec<u8>, b: &[u8], long: bool) {
        match u8::try_from(b.len()) {
            Ok(n) if !long => out.extend([0x8c, n]),
            _ => {
                out.push(b'X');
                out.extend((b.len() as u32).to_le_bytes());
            }
        }
        out.extend(b);
    }

    /// A protocol-4 pickle of a list of `body`'s items (one `APPENDS`).
    fn list_of(body: &[u8]) -> Vec<u8> {
        let mut p = vec![0x80, 4, b']', b'('];
        p.extend(body);
        p.extend(b"e.");
        p
    }

    /// The strs of a decoded list.
    fn strs(v: &Value) -> Vec<PyStr> {
        match v {
            Value::List(l) => l
                .iter()
                .filter_map(|x| match x {
                    Value::Str(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            other => panic!("not a list: {other}"),
        }
    }

    /// How many blocks hold the pooled strs of `s`, in order: a new block is wherever a str
    /// does not start where the one before it ended.
    fn blocks(s: &[PyStr]) -> usize {
        let mut n = 0;
        let mut end = None;
        for x in s.iter().filter(|x| x.is_pooled()) {
            if x.addr() != end {
                n += 1;
            }
            end = x.addr().map(|a| a + x.encoded_len());
        }
        n
    }

    /// Long strs that follow each other share blocks of about `BLOCK_TEXT` bytes, each str
    /// its own text; the shortest and the longest pooled lengths are pooled, one byte outside
    /// them not.
    #[test]
    fn strs_that_follow_each_other_share_blocks() {
        let mut body = Vec::new();
        for i in 0..1000 {
            str_op(&mut body, format!("{i:040}").as_bytes(), i % 2 == 0);
        }
        let v = restricted_loads(&list_of(&body)).unwrap();
        let s = strs(&v);
        assert_eq!(s.len(), 1000);
        for (i, x) in s.iter().enumerate() {
            assert!(x.is_pooled(), "{i}");
            assert_eq!(x.as_str(), Some(format!("{i:040}").as_str()));
        }
        assert_eq!(blocks(&s), 1000usize.div_ceil(BLOCK_TEXT.div_ceil(40)));

        for (len, pooled) in [
            (POOL_MIN - 1, false),
            (POOL_MIN, true),
            (POOL_MAX, true),
            (POOL_MAX + 1, false),
        ] {
            let mut body = Vec::new();
            for c in [b'a', b'b', b'c'] {
                str_op(&mut body, &vec![c; len], false);
            }
            // Past the lean path's size (it pools nothing).
            for _ in 0..3000 {
                body.extend(b"K\x07");
            }
            let s = strs(&restricted_loads(&list_of(&body)).unwrap());
            assert!(s.iter().all(|x| x.is_pooled() == pooled), "{len}");
            assert_eq!(s[2].as_str(), Some("c".repeat(len).as_str()));
        }
    }

    /// The pooled strs are all that keep their block alive once the load returns: the machine
    /// (given back to its thread) and its memo keep nothing of it.
    #[test]
    fn a_block_lives_as_long_as_its_strs() {
        let mut body = Vec::new();
        for i in 0..5 {
            str_op(&mut body, format!("{i:030}").as_bytes(), false);
            body.push(0x94); // MEMOIZE
        }
        body.extend(b"h\x01h\x03"); // BINGET 1, BINGET 3
        // Long enough for the full machine (the lean path takes only short pickles).
        let mut big = body.clone();
        for _ in 0..5000 {
            big.extend(b"K\x07");
        }
        for data in [list_of(&body), list_of(&big)] {
            let v = restricted_loads(&data).unwrap();
            let s = strs(&v);
            assert_eq!(s.len(), 7);
            assert_eq!(s[5], s[1]);
            // Seven in the list, seven more in `s`.
            assert_eq!(s[0].block_refs(), Some(14));
            drop(s);
            let s = strs(&v);
            drop(v);
            assert_eq!(s[0].block_refs(), Some(7));
        }
    }

    /// A str alone is not pooled (a block for one str would be two allocations for one); a
    /// walk that finds the strs sparse stops, and no walk starts in the `BACKOFF_MIN` bytes
    /// after it (the strs there get allocations of their own), one after them does; a walk
    /// stops at an opcode it cannot step over (a text opcode).
    #[test]
    fn walks_stop_where_they_must() {
        let ints = |body: &mut Vec<u8>, n: usize| {
            for _ in 0..n {
                body.extend(b"K\x07");
            }
        };
        let mut body = Vec::new();
        str_op(&mut body, &[b'a'; 30], false);
        ints(&mut body, 1000);
        str_op(&mut body, &[b'b'; 30], false);
        str_op(&mut body, &[b'c'; 30], false);
        ints(&mut body, 3000);
        str_op(&mut body, &[b'd'; 30], false);
        str_op(&mut body, &[b'e'; 30], false);
        body.extend(b"Vtext\n");
        str_op(&mut body, &[b'f'; 30], false);
        str_op(&mut body, &[b'g'; 30], false);
        let v = restricted_loads(&list_of(&body)).unwrap();
        let s = strs(&v);
        assert_eq!(s.len(), 8);
        let pooled: Vec<bool> = s.iter().map(PyStr::is_pooled).collect();
        assert_eq!(pooled, [false, false, false, true, true, false, true, true]);
        for (x, c) in s.iter().zip("abcdetfg".chars()) {
            let want = if c == 't' {
                "text".to_string()
            } else {
                c.to_string().repeat(30)
            };
            assert_eq!(x.as_str(), Some(want.as_str()));
        }
    }

    /// Pooled or not, every input decodes as the stream reader (which pools nothing) decodes
    /// it: random lists of strs of every kind (ASCII, other scripts, surrogates, invalid
    /// UTF-8, around the pooled lengths, text holding the byte of `SHORT_BINUNICODE`), bytes that look
    /// like str opcodes, ints, memo puts
    /// and `GET`s, text opcodes, frames right and wrong, and a third of them damaged.
    #[test]
    fn pooled_decoding_equals_unpooled_decoding() {
        let mut rng = xorshift(0x5eed_57a7);
        let mut pooled_seen = 0usize;
        let pieces: [&[u8]; 7] = [
            b"a",
            b"Z",
            "\u{e9}".as_bytes(),
            "\u{65e5}".as_bytes(),
            "\u{1f600}".as_bytes(),
            b"\xed\xa0\x80",
            "\u{10c}".as_bytes(),
        ];
        for case in 0..3000 {
            let mut body = Vec::new();
            let mut memo = 0u32;
            for _ in 0..rng() % 60 {
                match rng() % 40 {
                    0..=24 => {
                        let target = match rng() % 4 {
                            0 => (rng() % 300) as usize,
                            _ => POOL_MIN - 3 + (rng() % 40) as usize,
                        };
                        let mut b = Vec::new();
                        while b.len() < target {
                            let p = pieces[(rng() % 7) as usize];
                            // Surrogates and stray bytes are rare.
                            if p.len() == 3 && p[0] == 0xed && rng() % 64 != 0 {
                                continue;
                            }
                            b.extend(p);
                        }
                        if rng() % 400 == 0 {
                            b.push(0xff);
                        }
                        str_op(&mut body, &b, rng() % 3 == 0);
                    }
                    25..=29 => {
                        let n = (rng() % 40) as u8;
                        body.extend([b'C', n]);
                        body.extend((0..n).map(|_| [0x8c, 0x58, 0x94, 0x30][(rng() % 4) as usize]));
                    }
                    30..=34 => body.extend([b'K', rng() as u8]),
                    35..=38 if memo > 0 => body.extend([b'h', (rng() % u64::from(memo)) as u8]),
                    _ => body.extend(b"Vt\n"),
                }
                if rng() % 2 == 0 && memo < 255 {
                    body.push(0x94);
                    memo += 1;
                }
            }
            let mut data = list_of(&body);
            if rng() % 3 == 0 {
                // A frame around the list, of the right length or not.
                let n = (data.len() - 2) as u64 + [0, 0, 1][(rng() % 3) as usize];
                let mut framed = vec![0x80, 4, 0x95];
                framed.extend(n.saturating_sub(rng() % 2).to_le_bytes());
                framed.extend(&data[2..]);
                data = framed;
            }
            if rng() % 3 == 0 && !data.is_empty() {
                let i = (rng() % data.len() as u64) as usize;
                if rng() % 2 == 0 {
                    data[i] = rng() as u8;
                } else {
                    data.truncate(i);
                }
            }
            let stream = Unpickler::new(Cursor::new(&data)).load();
            for (how, got) in [
                ("restricted_loads", restricted_loads(&data)),
                ("from_slice", Unpickler::from_slice(&data).load()),
            ] {
                match (&got, &stream) {
                    (Ok(a), Ok(b)) => {
                        assert!(a.strict_eq(b), "case {case} {how}: {a:?} != {b:?}");
                        pooled_seen += strs(a).iter().filter(|s| s.is_pooled()).count();
                    }
                    (Err(a), Err(b)) => {
                        assert_eq!(a.category(), b.category(), "case {case} {how}: {a} / {b}")
                    }
                    _ => panic!("case {case} {how}: {got:?} / {stream:?} ({data:02x?})"),
                }
            }
        }
        assert!(pooled_seen > 10_000, "{pooled_seen}");
    }

    /// Past the memo's plan (a large memo), blocks are taken from the strs the memo's pass
    /// found, without walks (so past text opcodes, where a walk stops): the same strs, and
    /// strs the pass noted that are not valid text decoded (or failing) as without the pool.
    #[test]
    fn blocks_from_the_memo_pass_are_the_same() {
        let mut body = Vec::new();
        // Enough memo entries for the plan (and its pass over the rest).
        for _ in 0..(1 << 18) + 10 {
            body.extend(b"K\x01\x94");
        }
        let mut expect = Vec::new();
        for i in 0..3000 {
            let t = match i % 7 {
                0 => format!("{i:0>30}\u{e9}\u{65e5}"),
                1 => format!("{i:0>200}"),
                _ => format!("{i:0>25}"),
            };
            str_op(&mut body, t.as_bytes(), i % 5 == 0);
            body.push(0x94);
            // A text opcode: a walk stops there, the memo's pass steps over it.
            body.extend(b"Vt\n");
            if i % 500 == 250 {
                // A surrogate: noted by the pass, not text; decoded the usual way.
                str_op(&mut body, b"0123456789012345678901234\xed\xa0\x80", false);
            }
            expect.push(t);
        }
        let data = list_of(&body);
        let v = restricted_loads(&data).unwrap();
        let stream = Unpickler::new(Cursor::new(&data)).load().unwrap();
        assert!(v.strict_eq(&stream));
        let s: Vec<PyStr> = strs(&v)
            .into_iter()
            .filter(|x| x.encoded_len() > 22)
            .collect();
        assert_eq!(s.len(), 3006);
        assert_eq!(s.iter().filter(|x| x.has_surrogates()).count(), 6);
        let text: Vec<&PyStr> = s.iter().filter(|x| !x.has_surrogates()).collect();
        for (x, t) in text.iter().zip(&expect) {
            assert!(x.is_pooled());
            assert_eq!(x.as_str(), Some(t.as_str()));
        }
        let total: usize = expect.iter().map(String::len).sum();
        let n = blocks(&s);
        assert!(
            n >= total / (BLOCK_TEXT + POOL_MAX) && n <= total / BLOCK_TEXT + 14,
            "{n}"
        );

        // A str the pass noted that is not UTF-8: the same error as without the pool.
        let mut bad = body.clone();
        str_op(&mut bad, b"0123456789012345678901234\xff", false);
        let data = list_of(&bad);
        let a = restricted_loads(&data).unwrap_err();
        let b = Unpickler::new(Cursor::new(&data)).load().unwrap_err();
        assert_eq!(a.to_string(), b.to_string());
    }
}
