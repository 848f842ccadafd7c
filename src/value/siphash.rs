//! SipHash-1-3 with a per-process random key: the keyed hash behind every key digest.
//!
//! It is the algorithm of std's `DefaultHasher` (checked against it in the tests), kept here so
//! that the digest of a short `str` — most dict keys — can be computed from one fixed 24-byte
//! block without the general streaming buffer: [`short_digest`] gives the same digest as
//! streaming the same bytes through [`Sip13`].
//!
//! The key comes from std's `RandomState` (the operating system's randomness): a pickle cannot
//! predict it, so it cannot pick keys that collide (hash flooding).

use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::OnceLock;

/// The process-wide random key.
fn key() -> (u64, u64) {
    static KEY: OnceLock<(u64, u64)> = OnceLock::new();
    *KEY.get_or_init(|| {
        let s = RandomState::new();
        (s.hash_one(0x5eed_u64), s.hash_one(0x5eed_5eed_u64))
    })
}

#[derive(Clone, Copy)]
struct State {
    v0: u64,
    v1: u64,
    v2: u64,
    v3: u64,
}

impl State {
    #[inline]
    fn new((k0, k1): (u64, u64)) -> State {
        State {
            v0: k0 ^ 0x736f_6d65_7073_6575,
            v1: k1 ^ 0x646f_7261_6e64_6f6d,
            v2: k0 ^ 0x6c79_6765_6e65_7261,
            v3: k1 ^ 0x7465_6462_7974_6573,
        }
    }

    #[inline(always)]
    fn round(&mut self) {
        self.v0 = self.v0.wrapping_add(self.v1);
        self.v1 = self.v1.rotate_left(13) ^ self.v0;
        self.v0 = self.v0.rotate_left(32);
        self.v2 = self.v2.wrapping_add(self.v3);
        self.v3 = self.v3.rotate_left(16) ^ self.v2;
        self.v0 = self.v0.wrapping_add(self.v3);
        self.v3 = self.v3.rotate_left(21) ^ self.v0;
        self.v2 = self.v2.wrapping_add(self.v1);
        self.v1 = self.v1.rotate_left(17) ^ self.v2;
        self.v2 = self.v2.rotate_left(32);
    }

    /// One compression round over a message word.
    #[inline(always)]
    fn compress(&mut self, m: u64) {
        self.v3 ^= m;
        self.round();
        self.v0 ^= m;
    }

    /// The last word (the message length in its top byte), then three finalization rounds.
    #[inline(always)]
    fn finish(mut self, last: u64) -> u64 {
        self.compress(last);
        self.v2 ^= 0xff;
        self.round();
        self.round();
        self.round();
        self.v0 ^ self.v1 ^ self.v2 ^ self.v3
    }
}

/// A streaming SipHash-1-3 hasher under the process key.
#[derive(Clone)]
pub(crate) struct Sip13 {
    state: State,
    /// Bytes not yet compressed (fewer than 8), little-endian.
    tail: u64,
    ntail: usize,
    length: usize,
}

impl Sip13 {
    /// A hasher under the process key.
    pub(crate) fn new() -> Sip13 {
        Sip13::with_key(key())
    }

    fn with_key(k: (u64, u64)) -> Sip13 {
        Sip13 {
            state: State::new(k),
            tail: 0,
            ntail: 0,
            length: 0,
        }
    }
}

/// Little-endian word from up to 8 bytes.
#[inline]
fn load_le(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    let n = bytes.len().min(8);
    if let (Some(dst), Some(src)) = (w.get_mut(..n), bytes.get(..n)) {
        dst.copy_from_slice(src);
    }
    u64::from_le_bytes(w)
}

impl Hasher for Sip13 {
    fn write(&mut self, mut bytes: &[u8]) {
        self.length = self.length.wrapping_add(bytes.len());
        if self.ntail != 0 {
            let need = 8 - self.ntail;
            let take = need.min(bytes.len());
            let (head, rest) = bytes.split_at_checked(take).unwrap_or((bytes, &[]));
            self.tail |= load_le(head) << (8 * self.ntail);
            bytes = rest;
            if take < need {
                self.ntail += take;
                return;
            }
            self.state.compress(self.tail);
            self.tail = 0;
            self.ntail = 0;
        }
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            self.state.compress(load_le(w));
        }
        let rest = words.remainder();
        self.tail = load_le(rest);
        self.ntail = rest.len();
    }

    fn finish(&self) -> u64 {
        let last = ((self.length as u64 & 0xff) << 56) | self.tail;
        self.state.finish(last)
    }
}

/// The digest of the message `tag` followed by up to 23 bytes, given as a zero-padded block
/// whose first byte is `tag` and whose message length (tag included) is `len`: the same value
/// as streaming `[tag]` and the bytes through [`Sip13`], in at most three compressions.
#[inline]
pub(crate) fn short_digest(block: &[u8; 24], len: usize) -> u64 {
    let word = |i: usize| {
        block
            .get(i * 8..i * 8 + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok())
            .map_or(0, u64::from_le_bytes)
    };
    let mut s = State::new(key());
    let full = len / 8;
    let mut i = 0;
    while i < full {
        s.compress(word(i));
        i += 1;
    }
    // The bytes after the last full word are followed by the block's zero padding.
    let tail = if full < 3 { word(full) } else { 0 };
    s.finish(((len as u64 & 0xff) << 56) | tail)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// std's `DefaultHasher::new()` is SipHash-1-3 under the zero key.
    fn std_digest(parts: &[&[u8]]) -> u64 {
        let mut h = std::hash::DefaultHasher::new();
        for p in parts {
            h.write(p);
        }
        h.finish()
    }

    fn ours(parts: &[&[u8]]) -> u64 {
        let mut h = Sip13::with_key((0, 0));
        for p in parts {
            h.write(p);
        }
        h.finish()
    }

    #[test]
    fn matches_std_siphash13() {
        let data: Vec<u8> = (0..100u8).map(|i| i.wrapping_mul(37)).collect();
        for n in 0..data.len() {
            let msg = &data[..n];
            assert_eq!(ours(&[msg]), std_digest(&[msg]), "len {n}");
            for cut in 0..=n {
                let (a, b) = msg.split_at(cut);
                assert_eq!(ours(&[a, b]), std_digest(&[msg]), "len {n} cut {cut}");
            }
        }
        assert_eq!(
            ours(&[&[5], b"ab", b"", b"cdefghij"]),
            std_digest(&[b"\x05abcdefghij"])
        );
    }

    #[test]
    fn short_block_matches_streaming() {
        let data: Vec<u8> = (0..23u8).map(|i| i.wrapping_mul(91) | 1).collect();
        for n in 0..=23 {
            let mut block = [0u8; 24];
            block[0] = 5;
            block[1..1 + n].copy_from_slice(&data[..n]);
            let mut h = Sip13::new();
            h.write(&[5]);
            h.write(&data[..n]);
            assert_eq!(short_digest(&block, n + 1), h.finish(), "len {n}");
        }
    }
}
