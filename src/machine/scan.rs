//! The pass over the rest of an input in memory that finds which memo indices it fetches.
//!
//! Picklers memoize nearly everything (protocol 2+ `pickle.dumps` puts every str and every
//! container in the memo) and fetch little of it again: a list of 200,000 records memoizes 2.2
//! million values and fetches 62 of them (the dict keys). When the memo grows large, the machine
//! makes one pass over the opcodes that follow — payloads skipped by their length, nothing
//! decoded — collecting the indices of every `GET`, `BINGET` and `LONG_BINGET`; it then drops the
//! memo entries of the other indices and counts rather than stores the next ones (`MEMOIZE`
//! still numbers entries as CPython does). See `Machine::plan_memo`.
//!
//! The pass reads opcodes exactly where the machine will: from the current opcode boundary to
//! the end of the input, through every pickle that follows (the memo outlives a `load()`), each
//! opcode's argument skipped by the layout the machine reads. Where it cannot tell what follows
//! (an unknown opcode, a negative or truncated length, a line with no end, a `GET` line that is
//! not a number) it stops: the machine fails at that opcode or before it. A load that fails may
//! leave the input mid-opcode, where a later load reads different opcodes than the pass did, so
//! the machine stops dropping entries after a failed load (see [`super::memo`] for what that
//! leaves).

use super::strpool::{POOL_MAX, POOL_MIN};
use crate::opcode::Opcode;

/// How an opcode's argument is laid out, enough to step over it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Layout {
    /// `n` bytes.
    Fixed(u8),
    /// A length of `n` bytes (little-endian, unsigned), then that many bytes.
    Counted(u8),
    /// A 4-byte signed length, then that many bytes (`BINSTRING`, `LONG4`: negative fails).
    Signed4,
    /// `n` lines, each up to a `\n`.
    Lines(u8),
}

/// The argument layout of `op` (`pickletools`' argument descriptors, by opcode).
pub(crate) const fn layout(op: Opcode) -> Layout {
    use Opcode::*;
    match op {
        BININT1 | BINGET | BINPUT | PROTO | EXT1 => Layout::Fixed(1),
        BININT2 | EXT2 => Layout::Fixed(2),
        BININT | LONG_BINGET | LONG_BINPUT | EXT4 => Layout::Fixed(4),
        BINFLOAT | FRAME => Layout::Fixed(8),
        LONG1 | SHORT_BINSTRING | SHORT_BINUNICODE | SHORT_BINBYTES => Layout::Counted(1),
        BINUNICODE | BINBYTES => Layout::Counted(4),
        BINUNICODE8 | BINBYTES8 | BYTEARRAY8 => Layout::Counted(8),
        BINSTRING | LONG4 => Layout::Signed4,
        FLOAT | INT | LONG | PERSID | STRING | UNICODE | GET | PUT => Layout::Lines(1),
        GLOBAL | INST => Layout::Lines(2),
        _ => Layout::Fixed(0),
    }
}

// What the pass does per opcode byte, one byte each ([`STEP`]): values up to 8 skip that many
// argument bytes (the hot case); the others are below.
const COUNTED1: u8 = 16;
const COUNTED4: u8 = 17;
const COUNTED8: u8 = 18;
const SIGNED4: u8 = 19;
const LINES1: u8 = 20;
const LINES2: u8 = 21;
const BINGET: u8 = 32;
const LONG_BINGET: u8 = 33;
const GET: u8 = 34;
/// `SHORT_BINUNICODE` and `BINUNICODE`: counted, and noted for the str pool.
const STR1: u8 = 22;
const STR4: u8 = 23;
const INVALID: u8 = 255;

/// The step for each byte: [`layout`] as one byte, with the three `GET`s apart.
const STEP: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < Opcode::ALL.len() {
        let op = Opcode::ALL[i];
        t[op as usize] = match (op, layout(op)) {
            (Opcode::BINGET, _) => BINGET,
            (Opcode::LONG_BINGET, _) => LONG_BINGET,
            (Opcode::GET, _) => GET,
            (Opcode::SHORT_BINUNICODE, _) => STR1,
            (Opcode::BINUNICODE, _) => STR4,
            (_, Layout::Fixed(n)) => n,
            (_, Layout::Counted(1)) => COUNTED1,
            (_, Layout::Counted(4)) => COUNTED4,
            (_, Layout::Counted(_)) => COUNTED8,
            (_, Layout::Signed4) => SIGNED4,
            (_, Layout::Lines(1)) => LINES1,
            (_, Layout::Lines(_)) => LINES2,
        };
        i += 1;
    }
    t
};

/// More distinct indices than this at or above the input's length (which only crafted pickles
/// use) and the pass gives up: every entry is kept, as without it.
const HIGH_MAX: usize = 1 << 12;

/// The memo indices a pickle fetches.
#[derive(Debug, Default)]
pub(crate) struct Fetched {
    /// One bit per index below the input's length (grown to the largest fetched).
    bits: Vec<u64>,
    /// Fetched indices at or above the input's length, sorted.
    high: Vec<u64>,
}

impl Fetched {
    /// Whether some `GET` fetches `idx`.
    #[inline]
    pub(crate) fn contains(&self, idx: u64) -> bool {
        match usize::try_from(idx / 64)
            .ok()
            .and_then(|w| self.bits.get(w))
        {
            Some(word) => word >> (idx % 64) & 1 != 0,
            None => !self.high.is_empty() && self.high.binary_search(&idx).is_ok(),
        }
    }

    /// Notes a fetched index. `None`: too many high ones.
    #[inline(always)]
    fn add(&mut self, idx: u64, len: u64) -> Option<()> {
        // The common case, inline: an index already within the bits (records fetch a few
        // dozen indices millions of times).
        if idx < len {
            if let Some(word) = usize::try_from(idx / 64)
                .ok()
                .and_then(|w| self.bits.get_mut(w))
            {
                *word |= 1 << (idx % 64);
                return Some(());
            }
        }
        self.add_new(idx, len)
    }

    /// [`Fetched::add`] of an index beyond the bits so far, or at or above the input's length.
    #[inline(never)]
    fn add_new(&mut self, idx: u64, len: u64) -> Option<()> {
        if idx < len {
            let w = usize::try_from(idx / 64).ok()?;
            if w >= self.bits.len() {
                self.bits.resize(w + 1, 0);
            }
            if let Some(word) = self.bits.get_mut(w) {
                *word |= 1 << (idx % 64);
            }
        } else {
            self.high.push(idx);
            if self.high.len() > HIGH_MAX {
                self.high.sort_unstable();
                self.high.dedup();
                if self.high.len() > HIGH_MAX / 2 {
                    return None;
                }
            }
        }
        Some(())
    }
}

/// The memo indices fetched by the opcodes in `data`, read from its start (an opcode boundary)
/// as the machine will read them. `None` when the pass gives up (see [`HIGH_MAX`]): keep every entry.
///
/// The same pass notes in `strs` where the strs the str pool takes are ([`StrPool::ahead`]):
/// each `SHORT_BINUNICODE`/`BINUNICODE` of [`POOL_MIN`]`..=`[`POOL_MAX`] bytes as the position
/// of its bytes in `data`, shifted left 8 bits, plus its length (as far as the pass went, also
/// when it gives up).
///
/// [`StrPool::ahead`]: super::strpool::StrPool::ahead
pub(crate) fn fetched(data: &[u8], strs: &mut Vec<u64>) -> Option<Fetched> {
    let len = data.len() as u64;
    let mut out = Fetched::default();
    let mut pos = 0usize;
    // Every step either moves `pos` forward or ends the pass (a step past the end ends it: the
    // input is truncated there, and the machine fails at that opcode).
    while let Some(&byte) = data.get(pos) {
        let step = STEP[usize::from(byte)];
        pos += 1;
        if step <= 8 {
            pos += usize::from(step);
            continue;
        }
        let count = match step {
            COUNTED1 => {
                let Some(&n) = data.get(pos) else {
                    break;
                };
                pos += 1 + usize::from(n);
                continue;
            }
            STR1 => {
                let Some(&n) = data.get(pos) else {
                    break;
                };
                if usize::from(n) >= POOL_MIN {
                    strs.push(((pos as u64 + 1) << 8) | u64::from(n));
                }
                pos += 1 + usize::from(n);
                continue;
            }
            STR4 => data
                .get(pos..)
                .and_then(|b| b.first_chunk::<4>())
                .map(|&b| {
                    pos += 4;
                    let n = u32::from_le_bytes(b);
                    if (POOL_MIN..=POOL_MAX).contains(&(n as usize)) {
                        strs.push(((pos as u64) << 8) | u64::from(n));
                    }
                    u64::from(n)
                }),
            COUNTED4 => data
                .get(pos..)
                .and_then(|b| b.first_chunk::<4>())
                .map(|&b| {
                    pos += 4;
                    u64::from(u32::from_le_bytes(b))
                }),
            COUNTED8 => data
                .get(pos..)
                .and_then(|b| b.first_chunk::<8>())
                .map(|&b| {
                    pos += 8;
                    u64::from_le_bytes(b)
                }),
            // Negative: the machine fails here.
            SIGNED4 => data
                .get(pos..)
                .and_then(|b| b.first_chunk::<4>())
                .and_then(|&b| {
                    pos += 4;
                    u64::try_from(i32::from_le_bytes(b)).ok()
                }),
            BINGET => {
                let Some(&idx) = data.get(pos) else {
                    break;
                };
                out.add(u64::from(idx), len)?;
                pos += 1;
                continue;
            }
            LONG_BINGET => {
                let Some(&b) = data.get(pos..).and_then(|b| b.first_chunk::<4>()) else {
                    break;
                };
                out.add(u64::from(u32::from_le_bytes(b)), len)?;
                pos += 4;
                continue;
            }
            GET | LINES1 | LINES2 => {
                let Some(end) = line_end(data, pos) else {
                    break;
                };
                if step == GET {
                    // Not a number or a negative index: the machine fails here.
                    let line = data.get(pos..end).unwrap_or_default();
                    match super::parse_memo_index(line).map(u64::try_from) {
                        Ok(Ok(idx)) => out.add(idx, len)?,
                        _ => break,
                    }
                }
                pos = end + 1;
                if step == LINES2 {
                    let Some(end) = line_end(data, pos) else {
                        break;
                    };
                    pos = end + 1;
                }
                continue;
            }
            _ => break,
        };
        match count
            .and_then(|n| usize::try_from(n).ok())
            .and_then(|n| pos.checked_add(n))
        {
            Some(next) => pos = next,
            None => break,
        }
    }
    out.high.sort_unstable();
    out.high.dedup();
    Some(out)
}

/// The length of each opcode with its argument when that is fixed (`BINGET` and `LONG_BINGET`
/// included), else 0 (a counted argument, lines, or not an opcode).
pub(crate) const FIXED_LEN: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = match STEP[i] {
            n @ 0..=8 => 1 + n,
            BINGET => 2,
            LONG_BINGET => 5,
            _ => 0,
        };
        i += 1;
    }
    t
};

/// The position of the `\n` that ends the line starting at `pos`.
#[inline]
fn line_end(data: &[u8], pos: usize) -> Option<usize> {
    Some(pos + crate::reader::find_byte(data.get(pos..)?, b'\n')?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_opcode_has_a_step() {
        for &op in Opcode::ALL {
            assert_ne!(STEP[op as usize], INVALID, "{}", op.name());
        }
        assert_eq!(
            STEP.iter().filter(|&&s| s != INVALID).count(),
            Opcode::ALL.len()
        );
    }

    #[test]
    fn layouts_agree_with_the_argument_descriptors() {
        // The width each `pickletools` descriptor implies.
        for &op in Opcode::ALL {
            let expected = match op.argument() {
                "" => "0",
                "uint1" => "1",
                "uint2" => "2",
                "int4" | "uint4" => "4",
                "float8" | "uint8" => "8",
                "long1" | "string1" | "unicodestring1" | "bytes1" => "c1",
                "unicodestring4" | "bytes4" => "c4",
                "unicodestring8" | "bytes8" | "bytearray8" => "c8",
                "long4" | "string4" => "s4",
                "stringnl_noescape_pair" => "l2",
                a if a.ends_with("nl") || a.ends_with("nl_short") || a.ends_with("nl_long") => "l1",
                "stringnl_noescape" => "l1",
                other => panic!("unknown descriptor {other}"),
            };
            let got = match layout(op) {
                Layout::Fixed(n) => n.to_string(),
                Layout::Counted(n) => format!("c{n}"),
                Layout::Signed4 => "s4".into(),
                Layout::Lines(n) => format!("l{n}"),
            };
            assert_eq!(got, expected, "{}", op.name());
        }
    }

    fn indices(data: &[u8]) -> Vec<u64> {
        let f = fetched(data, &mut Vec::new()).unwrap();
        (0..2000u64)
            .chain([1 << 40])
            .filter(|&i| f.contains(i))
            .collect()
    }

    #[test]
    fn finds_every_kind_of_get_and_skips_payloads() {
        // BINGET 3, LONG_BINGET 700, GET 12, with look-alike bytes inside payloads.
        let mut p = b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00".to_vec();
        p.extend_from_slice(b"\x8c\x02hh\x94"); // SHORT_BINUNICODE 'hh'
        p.extend_from_slice(b"X\x03\x00\x00\x00j\x01\x00"); // BINUNICODE 'j\x01\x00'
        p.extend_from_slice(b"S'g5'\n"); // STRING "'g5'"
        p.extend_from_slice(b"cmod\nh\n"); // GLOBAL over two lines
        p.extend_from_slice(b"T\x01\x00\x00\x00g"); // BINSTRING
        p.extend_from_slice(b"h\x03j\xbc\x02\x00\x00g12\n0.");
        assert_eq!(indices(&p), vec![3, 12, 700]);
    }

    #[test]
    fn reads_past_stop_into_the_next_pickle() {
        assert_eq!(indices(b"K\x01q\x05.h\x05h\x07."), vec![5, 7]);
    }

    #[test]
    fn stops_where_the_machine_would_fail() {
        // An unknown opcode, a negative BINSTRING length, a truncated payload, a GET that is
        // not a number: nothing after them is read.
        assert_eq!(indices(b"h\x01\xffh\x02"), vec![1]);
        assert_eq!(indices(b"h\x01T\xff\xff\xff\xffh\x02"), vec![1]);
        assert_eq!(indices(b"h\x01B\x09\x00\x00\x00h\x02"), vec![1]);
        assert_eq!(indices(b"h\x01gx\nh\x02"), vec![1]);
        assert_eq!(indices(b"h\x01g-1\nh\x02"), vec![1]);
        assert_eq!(indices(b"h\x01g4"), vec![1]);
        assert_eq!(indices(b"h\x01h"), vec![1]);
        assert_eq!(indices(b"h\x01j\x02\x00\x00"), vec![1]);
    }

    #[test]
    fn high_indices_are_kept_exactly_and_bounded() {
        // Indices at or above the input's length are listed, not given bits.
        assert_eq!(indices(b"j\x00\x00\x00\x00h\x01."), vec![0, 1]);
        let f = fetched(b"j\x10\x27\x00\x00.", &mut Vec::new()).unwrap();
        assert!(f.contains(10_000) && !f.contains(9_999) && f.bits.is_empty());
        // Thousands of distinct high indices: the pass gives up.
        let mut p = Vec::new();
        for i in 0..5000u32 {
            p.push(b'j');
            p.extend_from_slice(&(1_000_000 + i).to_le_bytes());
        }
        assert!(fetched(&p, &mut Vec::new()).is_none());
        // The same index many times is one.
        let mut p = Vec::new();
        for _ in 0..10_000 {
            p.extend_from_slice(b"j\x40\x42\x0f\x00");
        }
        let f = fetched(&p, &mut Vec::new()).unwrap();
        assert_eq!(f.high, vec![1_000_000]);
    }

    /// The pass notes each `SHORT_BINUNICODE`/`BINUNICODE` of a pooled length (23 to 255
    /// bytes) by where its bytes are and its length, and nothing else (bytes, shorter or
    /// longer strs, strs inside other payloads).
    #[test]
    fn notes_the_strs_the_pool_takes() {
        let mut p = Vec::new();
        let mut want = Vec::new();
        for (op, n) in [
            (0x8cu8, 22usize),
            (0x8c, 23),
            (b'C', 40),
            (b'X', 23),
            (0x8c, 255),
            (b'X', 255),
            (b'X', 256),
            (b'X', 30),
        ] {
            p.push(op);
            if op == b'X' {
                p.extend((n as u32).to_le_bytes());
            } else {
                p.push(n as u8);
            }
            if (op == 0x8c || op == b'X') && (23..=255).contains(&n) {
                want.push(((p.len() as u64) << 8) | n as u64);
            }
            // Payloads that hold str opcodes of their own.
            p.extend((0..n).map(|i| if i % 2 == 0 { 0x8c } else { 30 }));
            p.push(0x94);
        }
        p.push(b'.');
        let mut strs = Vec::new();
        fetched(&p, &mut strs).unwrap();
        assert_eq!(strs, want);
    }
}
