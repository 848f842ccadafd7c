//! Python's `==` and `hash()` semantics for [`Value`], iterative and safe on hostile shapes.
//!
//! * Keys follow Python equality across numeric types (`1 == 1.0 == True`, `0.0 == -0.0`,
//!   `complex(1, 0) == 1`), `bytes == bytearray`, `set == frozenset`.
//! * The hash is a keyed SipHash (a per-process random key) of a canonical form, so colliding
//!   keys cannot be crafted (Python's own `hash(int)` is `x mod 2^61-1`: keys `k·(2^61-1)` all
//!   collide). Sets and frozensets hash from their members' stored digests, in any order.
//! * Hashing and comparing are loops over explicit stacks, never recursion. Shared sub-values are
//!   hashed once per call (memoised by address) and compared once per pair, so a "billion laughs"
//!   DAG used as a key costs time linear in its *distinct* nodes.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::Arc;

use num_bigint::{BigInt, Sign};

use super::int::{TWO_63, TWO_127};
use super::siphash::{self, Sip13};
use super::{Value, int_eq_float, integral_float_bigint};
use crate::error::{Error, ErrorKind};
use crate::pystr::INLINE_MAX;

/// A hashable value with its keyed digest.
#[derive(Clone)]
pub(crate) struct Key {
    pub(crate) digest: u64,
    pub(crate) value: Value,
}

impl Key {
    /// This key, moved out (its value left `None`).
    #[inline]
    pub(crate) fn take(&mut self) -> Key {
        Key {
            digest: self.digest,
            value: std::mem::take(&mut self.value),
        }
    }

    /// Hashes `value` as a dict key or set member.
    ///
    /// # Errors
    /// `unhashable type: '…'` for lists, dicts, sets, bytearrays (or tuples holding them).
    pub(crate) fn new(value: Value) -> Result<Key, Error> {
        let mut steps = 0;
        Key::counted(value, &mut steps)
    }

    /// Like [`Key::new`], adding the work done to `steps`.
    pub(crate) fn counted(value: Value, steps: &mut u64) -> Result<Key, Error> {
        Key::memoized(value, steps, &mut DigestMemo::default())
    }

    /// Like [`Key::counted`], reusing the digests of shared sub-values in `memo`.
    pub(crate) fn memoized(
        value: Value,
        steps: &mut u64,
        memo: &mut DigestMemo,
    ) -> Result<Key, Error> {
        let digest = digest_with(&value, Mode::Key, steps, memo)
            .map_err(|t| Error::bare(ErrorKind::Unhashable(t)))?;
        Ok(Key { digest, value })
    }
}

/// Python `==` between two keys with equal digests, counting comparisons in `steps`.
pub(crate) fn key_eq_counted(a: &Value, b: &Value, steps: &mut u64) -> bool {
    eq_impl(a, b, false, steps)
}

fn hasher(tag: u8) -> Sip13 {
    let mut h = Sip13::new();
    h.write_u8(tag);
    h
}

/// Whether a digest is for use as a key (unhashable types fail) or for `Hash for Value` (every
/// value hashes, consistently with `==`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Key,
    Any,
}

const TAG_NONE: u8 = 0;
const TAG_INT: u8 = 1;
const TAG_BIGINT: u8 = 2;
const TAG_FLOAT: u8 = 3;
const TAG_COMPLEX: u8 = 4;
const TAG_STR: u8 = 5;
const TAG_BYTES: u8 = 6;
const TAG_TUPLE: u8 = 7;
const TAG_SET: u8 = 8;
const TAG_GLOBAL: u8 = 9;
const TAG_OBJECT: u8 = 10;
const TAG_LIST: u8 = 11;
const TAG_DICT: u8 = 12;

/// The digest of an int that fits in `i64` (of a `bool` too: `True == 1`).
pub(crate) fn int_digest(v: i64) -> u64 {
    // The tag and the int's bytes (as `Hasher::write_i64` writes them) in one fixed block.
    let mut block = [0u8; 24];
    block[0] = TAG_INT;
    if let Some(dst) = block.get_mut(1..9) {
        dst.copy_from_slice(&v.to_ne_bytes());
    }
    siphash::short_digest(&block, 9)
}

fn str_digest(b: &[u8]) -> u64 {
    // Up to 23 bytes (every inline str): the tag and the bytes in one fixed block.
    if b.len() < 24 {
        let mut block = [0u8; 24];
        block[0] = TAG_STR;
        if let Some(dst) = block.get_mut(1..=b.len()) {
            dst.copy_from_slice(b);
            return siphash::short_digest(&block, b.len() + 1);
        }
    }
    let mut h = hasher(TAG_STR);
    h.write(b);
    h.finish()
}

fn bigint_digest(b: &BigInt) -> u64 {
    let mut h = hasher(TAG_BIGINT);
    h.write_u8(u8::from(b.sign() == Sign::Minus));
    for d in b.iter_u64_digits() {
        h.write_u64(d);
    }
    h.finish()
}

/// [`bigint_digest`] of an `i128`, without making the `BigInt`.
fn wide_digest(v: i128) -> u64 {
    let mut h = hasher(TAG_BIGINT);
    h.write_u8(u8::from(v < 0));
    let magnitude = v.unsigned_abs();
    // `iter_u64_digits`: little-endian, no zero digit at the top (the value is never zero).
    h.write_u64(magnitude as u64);
    let high = (magnitude >> 64) as u64;
    if high != 0 {
        h.write_u64(high);
    }
    h.finish()
}

fn float_digest(f: f64) -> u64 {
    // An integral float hashes as the int it equals (Python: `hash(2.0**70) == hash(2**70)`),
    // whatever form that int takes: inline in the `i64` range [-2**63, 2**63), wide up to
    // 2**127 (both conversions below are exact there), big above.
    if f.is_finite() && f.fract() == 0.0 {
        if (-TWO_63..TWO_63).contains(&f) {
            return int_digest(f as i64);
        }
        if (-TWO_127..TWO_127).contains(&f) {
            return wide_digest(f as i128);
        }
        if let Some(b) = integral_float_bigint(f) {
            return bigint_digest(&b);
        }
    }
    let mut h = hasher(TAG_FLOAT);
    h.write_u64(f.to_bits());
    h.finish()
}

/// Combines member digests in an order-independent way.
fn unordered_digest<'a>(tag: u8, digests: impl Iterator<Item = &'a Key>) -> u64 {
    let (mut sum, mut xor, mut n) = (0u64, 0u64, 0u64);
    for k in digests {
        let d = k.digest;
        sum = sum.wrapping_add(d);
        xor ^= d.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        n += 1;
    }
    let mut h = hasher(tag);
    h.write_u64(sum);
    h.write_u64(xor);
    h.write_u64(n);
    h.finish()
}

/// The digest of a value that needs no traversal, or `None` for a list/tuple.
fn leaf_digest(v: &Value, mode: Mode) -> Option<Result<u64, &'static str>> {
    let unhashable = |t: &'static str| {
        if mode == Mode::Key {
            Some(Err(t))
        } else {
            None
        }
    };
    Some(Ok(match v {
        Value::None => hasher(TAG_NONE).finish(),
        Value::Bool(b) => int_digest(i64::from(*b)),
        Value::Int(i) => match (i.as_i64(), i.as_i128()) {
            (Some(s), _) => int_digest(s),
            (None, Some(w)) => wide_digest(w),
            (None, None) => i.as_bigint().map_or_else(|| int_digest(0), bigint_digest),
        },
        Value::Float(f) => float_digest(*f),
        Value::Complex(c) => {
            if c.im == 0.0 {
                float_digest(c.re)
            } else {
                let re = if c.re == 0.0 { 0.0 } else { c.re };
                let mut h = hasher(TAG_COMPLEX);
                h.write_u64(re.to_bits());
                h.write_u64(c.im.to_bits());
                h.finish()
            }
        }
        Value::Str(s) => str_digest(s.as_encoded_bytes()),
        Value::Bytes(b) => {
            let mut h = hasher(TAG_BYTES);
            h.write(b);
            h.finish()
        }
        Value::ByteArray(b) => {
            if let Some(e) = unhashable("bytearray") {
                return Some(e);
            }
            let mut h = hasher(TAG_BYTES);
            h.write(b);
            h.finish()
        }
        Value::FrozenSet(s) => unordered_digest(TAG_SET, s.0.keys().iter()),
        Value::Set(s) => {
            if let Some(e) = unhashable("set") {
                return Some(e);
            }
            unordered_digest(TAG_SET, s.0.keys().iter())
        }
        Value::Dict(d) => {
            if let Some(e) = unhashable("dict") {
                return Some(e);
            }
            unordered_digest(TAG_DICT, d.key_entries())
        }
        Value::Global(g) => {
            let mut h = hasher(TAG_GLOBAL);
            h.write(g.module().as_encoded_bytes());
            h.write_u8(0xff);
            h.write(g.name().as_encoded_bytes());
            h.finish()
        }
        Value::Object(o) => {
            let mut h = hasher(TAG_OBJECT);
            h.write_usize(Arc::as_ptr(&o.0) as usize);
            h.finish()
        }
        Value::List(_) => {
            if let Some(e) = unhashable("list") {
                return Some(e);
            }
            return None;
        }
        Value::Tuple(_) => return None,
    }))
}

/// The tag, items and address of a list or tuple.
fn open_seq(v: &Value) -> Option<(u8, &[Value], usize)> {
    match v {
        Value::Tuple(t) => Some((TAG_TUPLE, t.as_slice(), t.0.addr())),
        Value::List(l) => Some((TAG_LIST, l.as_slice(), l.0.addr())),
        _ => None,
    }
}

/// Digests already computed, by the address of the shared value they belong to.
///
/// Within one call of [`digest`] the values are borrowed, so their addresses are stable. A memo
/// that outlives a call (the machine keeps one for all the keys of a pickle, so a shared tuple
/// reused inside many keys is hashed once) also keeps a clone of each value, so an address can
/// never be reused by another value while its entry exists.
///
/// A persistent memo also caches the digests of short (inline) strs, which have no address to
/// key on: pickles use the same few dict keys over and over (`'id'`, `'name'`…), and each use
/// would otherwise be hashed again. The cache is direct-mapped and checked byte for byte, so a
/// crafted pickle can only make it miss (costing the SipHash it saves), never return a wrong
/// digest.
#[derive(Default)]
pub(crate) struct DigestMemo {
    map: HashMap<usize, u64, BuildHasherDefault<AddrHasher>>,
    keep: Option<Vec<Value>>,
    inline: Vec<InlineDigest>,
    inline_seen: u32,
}

/// The most entries of the digests kept by address whose room a persistent memo keeps from
/// one pickle to the next.
const KEPT_ENTRIES: usize = 256;

/// Hashes the addresses the digest memo is keyed by with a multiply and a fold, where the
/// default hasher would run SipHash. Unlike a key's bytes, an address is not chosen by the
/// pickle: it is where this process's allocator put a value.
#[derive(Default)]
pub(crate) struct AddrHasher(u64);

impl Hasher for AddrHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    /// The product's high bits folded into the low ones (the table takes its index from the
    /// low bits, its tag from the high ones).
    #[inline]
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 29)
    }
}

/// A cached digest of an inline str: its length, buffer (zero-padded) and digest.
#[derive(Clone, Copy, Default)]
struct InlineDigest {
    len: u8,
    bytes: [u8; INLINE_MAX],
    digest: u64,
}

/// Entries of the inline-str digest cache (a power of two).
const INLINE_CACHE: usize = 256;

/// Inline-str digests computed before the cache is allocated.
const INLINE_CACHE_AFTER: u32 = 64;

impl DigestMemo {
    /// A memo that may outlive the values it was computed from.
    pub(crate) fn persistent() -> Self {
        DigestMemo {
            map: HashMap::default(),
            keep: Some(Vec::new()),
            inline: Vec::new(),
            inline_seen: 0,
        }
    }

    /// The digest of an inline str (length and zero-padded buffer), from the cache when it
    /// was seen.
    #[inline]
    pub(crate) fn inline_str(&mut self, len: u8, buf: &[u8; INLINE_MAX]) -> u64 {
        // A cheap mix of the buffer's words picks the slot; equality is checked in full below.
        let word = |i: usize| {
            buf.get(i..i + 8)
                .and_then(|w| <[u8; 8]>::try_from(w).ok())
                .map_or(0, u64::from_le_bytes)
        };
        let x = word(0).wrapping_mul(0x9e37_79b9_7f4a_7c15)
            ^ word(8).wrapping_mul(0xc2b2_ae3d_27d4_eb4f)
            ^ word(INLINE_MAX - 8).wrapping_mul(0x1656_67b1_9e37_79f9)
            ^ u64::from(len);
        let slot = (x >> 56) as usize % INLINE_CACHE;
        let bytes = buf.get(..usize::from(len)).unwrap_or_default();
        if self.inline.is_empty() {
            // Small pickles never pay for the cache: it starts after a few keys.
            self.inline_seen += 1;
            if self.inline_seen < INLINE_CACHE_AFTER {
                return str_digest(bytes);
            }
            self.inline = vec![InlineDigest::default(); INLINE_CACHE];
        }
        match self.inline.get_mut(slot) {
            Some(e) if e.len == len && e.bytes == *buf && e.digest != 0 => e.digest,
            Some(e) => {
                let d = str_digest(bytes);
                *e = InlineDigest {
                    len,
                    bytes: *buf,
                    digest: d,
                };
                d
            }
            None => str_digest(bytes),
        }
    }

    /// Forgets the digests kept by address (and the values kept alive for them), keeping the
    /// short-str cache, which is checked byte for byte and owns nothing: for a memo reused for
    /// an unrelated pickle.
    pub(crate) fn forget_shared(&mut self) {
        // A small table is kept for the next pickle (most use a few entries, and would
        // allocate it again); a large one is given back.
        if self.map.capacity() <= KEPT_ENTRIES {
            self.map.clear();
        } else {
            self.map = HashMap::default();
        }
        if let Some(keep) = &mut self.keep {
            if keep.capacity() <= KEPT_ENTRIES {
                keep.clear();
            } else {
                *keep = Vec::new();
            }
        }
    }

    fn get(&self, addr: usize) -> Option<u64> {
        self.map.get(&addr).copied()
    }

    fn insert(&mut self, addr: usize, value: &Value, digest: u64) {
        if self.map.insert(addr, digest).is_none() {
            if let Some(keep) = &mut self.keep {
                keep.push(value.clone());
            }
        }
    }
}

/// The keyed digest of `v`, iterative, memoising shared values by address within the call.
pub(crate) fn digest(v: &Value, mode: Mode, steps: &mut u64) -> Result<u64, &'static str> {
    digest_with(v, mode, steps, &mut DigestMemo::default())
}

/// The keyed digest of `v`, using and filling `memo` for shared sub-values (tuples, lists, long
/// strs, bytes and ints).
pub(crate) fn digest_with(
    v: &Value,
    mode: Mode,
    steps: &mut u64,
    memo: &mut DigestMemo,
) -> Result<u64, &'static str> {
    struct Frame<'a> {
        items: std::slice::Iter<'a, Value>,
        h: Sip13,
        value: &'a Value,
        addr: usize,
    }
    /// The open sequences, the outermost apart from the rest: a flat tuple (most keys and
    /// members that are not scalars) is digested without allocating.
    struct Frames<'a> {
        root: Option<Frame<'a>>,
        rest: Vec<Frame<'a>>,
    }
    impl<'a> Frames<'a> {
        fn push(&mut self, f: Frame<'a>) {
            if self.root.is_none() {
                self.root = Some(f);
            } else {
                self.rest.push(f);
            }
        }
        fn last_mut(&mut self) -> Option<&mut Frame<'a>> {
            match self.rest.last_mut() {
                Some(f) => Some(f),
                None => self.root.as_mut(),
            }
        }
        fn pop(&mut self) -> Option<Frame<'a>> {
            self.rest.pop().or_else(|| self.root.take())
        }
    }
    let mut stack = Frames {
        root: None,
        rest: Vec::new(),
    };
    let mut next = Some(v);
    loop {
        if let Some(child) = next.take() {
            // A leaf or a sequence to open; its digest goes to the parent frame (or is the
            // result at the top).
            let weight = child.weight();
            let shared = if weight > 1 || child.is_container() {
                child.shared_addr()
            } else {
                None
            };
            let known = shared.and_then(|a| memo.get(a));
            let inline = match child {
                Value::Str(s) if memo.keep.is_some() => s.inline_parts(),
                _ => None,
            };
            let d = if let Some(d) = known {
                *steps += 1;
                d
            } else if let Some((len, buf)) = inline {
                *steps += weight;
                memo.inline_str(len, buf)
            } else if let Some(d) = leaf_digest(child, mode) {
                *steps += weight;
                let d = d?;
                if let Some(a) = shared {
                    memo.insert(a, child, d);
                }
                d
            } else {
                *steps += 1;
                let (tag, items, addr) = open_seq(child).ok_or("object")?;
                let mut h = hasher(tag);
                h.write_usize(items.len());
                stack.push(Frame {
                    items: items.iter(),
                    h,
                    value: child,
                    addr,
                });
                continue;
            };
            match stack.last_mut() {
                Some(parent) => parent.h.write_u64(d),
                None => return Ok(d),
            }
            continue;
        }
        let Some(top) = stack.last_mut() else {
            return Err("object");
        };
        match top.items.next() {
            Some(child) => next = Some(child),
            None => {
                let Some(done) = stack.pop() else {
                    return Err("object");
                };
                let d = done.h.finish();
                match stack.last_mut() {
                    Some(parent) => {
                        memo.insert(done.addr, done.value, d);
                        parent.h.write_u64(d);
                    }
                    // The value asked for: kept only by a memo that outlives the call (a
                    // one-off memo would never be asked again).
                    None => {
                        if memo.keep.is_some() {
                            memo.insert(done.addr, done.value, d);
                        }
                        return Ok(d);
                    }
                }
            }
        }
    }
}

/// The digest of a hashable value, for lookups.
pub(crate) fn digest_key(v: &Value) -> Result<u64, &'static str> {
    let mut steps = 0;
    digest(v, Mode::Key, &mut steps)
}

impl Hash for Value {
    /// Consistent with `==` (Python semantics): equal values hash equal, whatever their type.
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut steps = 0;
        state.write_u64(digest(self, Mode::Any, &mut steps).unwrap_or(0));
    }
}

/// Numeric equality across bool/int/float/complex; `None` when either side is not a number.
fn numeric_eq(a: &Value, b: &Value) -> Option<bool> {
    use Value::*;
    Some(match (a, b) {
        (Bool(x), Bool(y)) => x == y,
        (Bool(x), Int(i)) | (Int(i), Bool(x)) => i.as_i64() == Some(i64::from(*x)),
        (Int(x), Int(y)) => x == y,
        (Float(x), Float(y)) => x == y,
        (Bool(x), Float(f)) | (Float(f), Bool(x)) => f64::from(u8::from(*x)) == *f,
        (Int(i), Float(f)) | (Float(f), Int(i)) => int_eq_float(i, *f),
        (Complex(x), Complex(y)) => x.re == y.re && x.im == y.im,
        (Complex(c), other) | (other, Complex(c)) => {
            c.im == 0.0 && numeric_eq(&Float(c.re), other).unwrap_or(false)
        }
        _ => return Option::None,
    })
}

/// Python's `a == b`, iterative.
pub(crate) fn py_eq(a: &Value, b: &Value) -> bool {
    let mut steps = 0;
    eq_impl(a, b, false, &mut steps)
}

/// Type-exact, bit-exact structural equality.
pub(crate) fn strict_eq(a: &Value, b: &Value) -> bool {
    let mut steps = 0;
    eq_impl(a, b, true, &mut steps)
}

/// Container pairs compared before shared sub-values start being remembered.
const VISITED_AFTER: u64 = 1024;

fn eq_impl(a: &Value, b: &Value, strict: bool, steps: &mut u64) -> bool {
    use Value::*;
    // The stack only allocates when a container is compared.
    let mut stack: Vec<(&Value, &Value)> = Vec::new();
    let mut first = Some((a, b));
    let mut visited: Option<HashSet<(usize, usize)>> = Option::None;
    let mut containers = 0u64;
    while let Some((x, y)) = first.take().or_else(|| stack.pop()) {
        *steps += match (x.shared_addr(), y.shared_addr()) {
            (Some(a), Some(b)) if a == b => 1,
            _ => x.weight(),
        };
        // Pairs of shared containers already being compared are not compared again.
        if let (Some(px), Some(py)) = (container_addr(x), container_addr(y)) {
            if px == py {
                continue;
            }
            containers += 1;
            if containers > VISITED_AFTER {
                let seen = visited.get_or_insert_with(HashSet::new);
                if !seen.insert((px, py)) {
                    continue;
                }
            }
        }
        let same = match (x, y) {
            _ if !strict && numeric_eq(x, y).is_some() => numeric_eq(x, y).unwrap_or(false),
            (None, None) => true,
            (Bool(p), Bool(q)) => p == q,
            (Int(p), Int(q)) => p == q,
            (Float(p), Float(q)) => p.to_bits() == q.to_bits(),
            (Complex(p), Complex(q)) => {
                p.re.to_bits() == q.re.to_bits() && p.im.to_bits() == q.im.to_bits()
            }
            (Str(p), Str(q)) => p == q,
            (Bytes(p), Bytes(q)) | (ByteArray(p), ByteArray(q)) => p == q,
            (Bytes(p), ByteArray(q)) | (ByteArray(p), Bytes(q)) => !strict && p == q,
            (List(p), List(q)) => push_seq(&mut stack, p, q),
            (Tuple(p), Tuple(q)) => push_seq(&mut stack, p, q),
            (Dict(p), Dict(q)) => {
                if p.len() != q.len() {
                    false
                } else if strict {
                    for ((k1, v1), (k2, v2)) in p.iter().zip(q.iter()) {
                        stack.push((k1, k2));
                        stack.push((v1, v2));
                    }
                    true
                } else {
                    let mut ok = true;
                    for (k, v1) in p.key_values() {
                        match q.find_digest(k.digest) {
                            Some((k2, v2)) => {
                                stack.push((&k.value, &k2.value));
                                stack.push((v1, v2));
                            }
                            Option::None => ok = false,
                        }
                        if !ok {
                            break;
                        }
                    }
                    ok
                }
            }
            (Set(p), Set(q)) | (FrozenSet(p), FrozenSet(q)) => push_set(&mut stack, p, q),
            (Set(p), FrozenSet(q)) | (FrozenSet(p), Set(q)) => {
                !strict && push_set(&mut stack, p, q)
            }
            (Global(p), Global(q)) => p.module() == q.module() && p.name() == q.name(),
            (Object(p), Object(q)) => {
                if !strict {
                    p.ptr_eq(q)
                } else {
                    let (p, q) = (&p.0, &q.0);
                    if p.construct != q.construct
                        || p.kwargs.is_some() != q.kwargs.is_some()
                        || p.state.is_some() != q.state.is_some()
                        || p.list_items.len() != q.list_items.len()
                        || p.dict_items.len() != q.dict_items.len()
                    {
                        false
                    } else {
                        stack.push((&p.callable, &q.callable));
                        stack.push((&p.args, &q.args));
                        if let (Some(k1), Some(k2)) = (&p.kwargs, &q.kwargs) {
                            stack.push((k1, k2));
                        }
                        if let (Some(s1), Some(s2)) = (&p.state, &q.state) {
                            stack.push((s1, s2));
                        }
                        for (i, j) in p.list_items.iter().zip(q.list_items.iter()) {
                            stack.push((i, j));
                        }
                        for ((k1, v1), (k2, v2)) in p.dict_items.iter().zip(q.dict_items.iter()) {
                            stack.push((k1, k2));
                            stack.push((v1, v2));
                        }
                        true
                    }
                }
            }
            _ => false,
        };
        if !same {
            return false;
        }
    }
    true
}

fn push_seq<'a>(stack: &mut Vec<(&'a Value, &'a Value)>, p: &'a [Value], q: &'a [Value]) -> bool {
    if p.len() != q.len() {
        return false;
    }
    for pair in p.iter().zip(q.iter()).rev() {
        stack.push(pair);
    }
    true
}

/// Pushes member pairs matched by digest; `false` if some member has no counterpart.
fn push_set<'a>(
    stack: &mut Vec<(&'a Value, &'a Value)>,
    p: &'a super::Set,
    q: &'a super::Set,
) -> bool {
    if p.len() != q.len() {
        return false;
    }
    for k in p.0.keys() {
        match q.0.find_digest(k.digest) {
            Some(k2) => stack.push((&k.value, &k2.value)),
            None => return false,
        }
    }
    true
}

/// The address of a container's shared allocation.
fn container_addr(v: &Value) -> Option<usize> {
    match v {
        Value::List(l) => Some(l.0.addr()),
        Value::Tuple(t) => Some(t.0.addr()),
        Value::Dict(d) => Some(d.addr()),
        Value::Set(s) | Value::FrozenSet(s) => Some(s.0.addr()),
        Value::Object(o) => Some(Arc::as_ptr(&o.0) as usize),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Addresses as an allocator hands them out (runs 16, 48 or 4096 bytes apart) spread over
    /// the table as random hashes would: 1,024 of them take about 630 of 1,024 buckets (their
    /// low bits), and their high seven bits (the tag) take most values. (Without the fold, a
    /// multiple of 16 times the odd constant keeps four zero low bits: 64 buckets.)
    #[test]
    fn addresses_spread_over_the_table() {
        use std::hash::BuildHasher;
        let build = BuildHasherDefault::<AddrHasher>::default();
        for step in [16usize, 48, 4096] {
            let hashes: Vec<u64> = (0..1024)
                .map(|i| build.hash_one(0x5555_0000_1230usize + i * step))
                .collect();
            let buckets: HashSet<u64> = hashes.iter().map(|h| h & 1023).collect();
            let tags: HashSet<u64> = hashes.iter().map(|h| h >> 57).collect();
            assert!(
                buckets.len() > 560,
                "step {step}: {} buckets",
                buckets.len()
            );
            assert!(tags.len() > 100, "step {step}: {} tags", tags.len());
        }
    }

    /// An int's one-block digest is the streamed digest of its tag and bytes (what it was
    /// before the block form), for every magnitude and sign.
    #[test]
    fn int_digest_is_the_streamed_digest() {
        let mut values = vec![0, 1, -1, i64::MIN, i64::MAX];
        for shift in 0..63 {
            values.extend([1i64 << shift, -(1i64 << shift), (1i64 << shift) - 1]);
        }
        for v in values {
            let mut h = hasher(TAG_INT);
            h.write_i64(v);
            assert_eq!(int_digest(v), h.finish(), "{v}");
        }
    }

    /// Wide ints (and the floats equal to them) hash as their `BigInt` form would, so a key
    /// stays one key whichever form computed its digest.
    #[test]
    fn wide_digest_is_the_bigint_digest() {
        let mut values = vec![i128::MIN, i128::MAX, i128::MIN + 1, -(1 << 64), 1 << 64];
        for shift in 63..127 {
            values.push(1i128 << shift);
            values.push(-(1i128 << shift));
            values.push((1i128 << shift) + 12345);
            values.push(-(1i128 << shift) - 1);
        }
        for v in values {
            assert_eq!(wide_digest(v), bigint_digest(&BigInt::from(v)), "{v}");
        }
        for f in [
            2f64.powi(63),
            -2f64.powi(64),
            2f64.powi(100),
            -2f64.powi(127),
        ] {
            let b = integral_float_bigint(f).unwrap_or_default();
            assert_eq!(float_digest(f), bigint_digest(&b), "{f}");
        }
        assert_eq!(float_digest(-(2f64.powi(63))), int_digest(i64::MIN));
        assert_eq!(float_digest(9.21e18), int_digest(9_210_000_000_000_000_000));
    }
}
