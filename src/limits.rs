//! [`Limits`]: every resource bound of the machine, in one place.
//!
//! A pickle is a program, and a few bytes of it can ask for gigabytes (`BINBYTES8` claiming
//! 2^63 bytes, `LONG_BINPUT` with index 2^32−1, a memo "billion laughs"). The machine checks each
//! claim against these limits *before* it allocates. The defaults are safe for untrusted input
//! of any size: memory stays within a small multiple of the input plus a constant, work stays
//! linear, and every `Value` operation stays iterative. Exceeding a limit is an
//! [`Error`](crate::Error) whose [`category`](crate::Error::category) is
//! [`Limit`](crate::Category::Limit) and whose message names the limit and its value.
//!
//! ```
//! use restricted_unpickler::{Limits, Unpickler};
//! let mut limits = Limits::default();
//! limits.max_depth = 50;
//! let value = Unpickler::from_slice(b"\x80\x04]\x94.").limits(limits).load()?;
//! assert!(value.is_list());
//! # Ok::<(), restricted_unpickler::Error>(())
//! ```

/// Default for [`Limits::max_depth`]: deeper than anything CPython's own (recursive) pickler can
/// write with its default recursion limit, and shallow enough for recursive consumers.
pub const DEFAULT_MAX_DEPTH: usize = 10_000;
/// Default for [`Limits::max_stack`]: a 4M-item tuple is far beyond real data; 4M stack slots
/// is 96 MiB.
pub const DEFAULT_MAX_STACK: usize = 4 << 20;
/// Default for [`Limits::max_marks`]: CPython opens one MARK per nesting level of tuples.
pub const DEFAULT_MAX_MARKS: usize = 1 << 20;
/// Default for [`Limits::max_memo_entries`].
pub const DEFAULT_MAX_MEMO_ENTRIES: usize = 16 << 20;
/// Default for [`Limits::max_memo_index`]: CPython numbers memo entries from 0, so real indices
/// never exceed the entry count; `LONG_BINPUT` can name up to 2^32−1.
pub const DEFAULT_MAX_MEMO_INDEX: u64 = u32::MAX as u64;
/// Default for [`Limits::max_payload_len`]: one str/bytes/bytearray of 2 GiB.
pub const DEFAULT_MAX_PAYLOAD_LEN: u64 = 2 << 30;
/// Default for [`Limits::max_int_digits`]: CPython's `sys.int_max_str_digits` (CVE-2020-10735).
pub const DEFAULT_MAX_INT_DIGITS: usize = 4300;
/// Default for [`Limits::max_long_bytes`]: a 64 Mbit integer.
pub const DEFAULT_MAX_LONG_BYTES: u64 = 8 << 20;
/// Default for [`Limits::alloc_per_input_byte`]: the worst legitimate ratio we know is one
/// empty container per 2 input bytes (`]\x94`), about 64 bytes of result each.
pub const DEFAULT_ALLOC_PER_INPUT_BYTE: u64 = 128;
/// Default for [`Limits::alloc_base`]: room for small pickles that build out-of-band or
/// constructor-made data (`bytes(n)`, `set(x)`).
pub const DEFAULT_ALLOC_BASE: u64 = 64 << 20;
/// Default for [`Limits::work_per_input_byte`]: every element copied, hashed or compared costs 1
/// (opcodes need no charge: each takes at least one input byte); real pickles stay below 8 per byte, and a flood of keys that
/// compare unequal under one digest (NaNs) stops within a second.
pub const DEFAULT_WORK_PER_INPUT_BYTE: u64 = 64;
/// Default for [`Limits::work_base`].
pub const DEFAULT_WORK_BASE: u64 = 16 << 20;

/// Resource bounds for one [`Unpickler`](crate::Unpickler).
///
/// Build one with [`Limits::default`] (safe for untrusted input) and adjust fields, or start from
/// [`Limits::none`] to lift every bound (only for trusted input: a hostile pickle can then
/// exhaust memory). The struct is `#[non_exhaustive]` so new limits can be added; set fields on a
/// value obtained from `default()` or `none()`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Maximum nesting depth of the result (a scalar has depth 0, `[1]` depth 1).
    pub max_depth: usize,
    /// Maximum number of items on the unpickling stack.
    pub max_stack: usize,
    /// Maximum number of open MARKs.
    pub max_marks: usize,
    /// Maximum number of memo entries.
    pub max_memo_entries: usize,
    /// Largest memo index a `PUT`/`BINPUT`/`LONG_BINPUT` may use.
    pub max_memo_index: u64,
    /// Maximum length in bytes of one str (UTF-8), bytes or bytearray.
    pub max_payload_len: u64,
    /// Maximum decimal digits of a text `INT`/`LONG` (and of `int(str)`); 0 means no limit.
    pub max_int_digits: usize,
    /// Maximum bytes of a `LONG1`/`LONG4` integer.
    pub max_long_bytes: u64,
    /// The result and the machine may hold at most `alloc_per_input_byte × input bytes read +
    /// alloc_base` bytes (estimated as the sizes of the values created).
    pub alloc_per_input_byte: u64,
    /// See [`alloc_per_input_byte`](Limits::alloc_per_input_byte).
    pub alloc_base: u64,
    /// Decoding may do at most `work_per_input_byte × input bytes read + work_base` units of
    /// work: one per element copied, hashed or compared (opcodes are bounded by the input
    /// itself, one byte at least each).
    pub work_per_input_byte: u64,
    /// See [`work_per_input_byte`](Limits::work_per_input_byte).
    pub work_base: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

impl Limits {
    /// The default limits (what [`Limits::default`] returns).
    pub(crate) const DEFAULT: Limits = Limits {
        max_depth: DEFAULT_MAX_DEPTH,
        max_stack: DEFAULT_MAX_STACK,
        max_marks: DEFAULT_MAX_MARKS,
        max_memo_entries: DEFAULT_MAX_MEMO_ENTRIES,
        max_memo_index: DEFAULT_MAX_MEMO_INDEX,
        max_payload_len: DEFAULT_MAX_PAYLOAD_LEN,
        max_int_digits: DEFAULT_MAX_INT_DIGITS,
        max_long_bytes: DEFAULT_MAX_LONG_BYTES,
        alloc_per_input_byte: DEFAULT_ALLOC_PER_INPUT_BYTE,
        alloc_base: DEFAULT_ALLOC_BASE,
        work_per_input_byte: DEFAULT_WORK_PER_INPUT_BYTE,
        work_base: DEFAULT_WORK_BASE,
    };

    /// Whether every limit is at least its default: then no limit can be reached by a pickle
    /// the lean path decodes (at most 4 KiB of plain data, see `machine::lean`; its text ints
    /// are parsed under the default digit limit), and the lean path need not check any.
    pub(crate) fn at_least_default(&self) -> bool {
        let d = Limits::DEFAULT;
        self.max_depth >= d.max_depth
            && self.max_stack >= d.max_stack
            && self.max_marks >= d.max_marks
            && self.max_memo_entries >= d.max_memo_entries
            && self.max_memo_index >= d.max_memo_index
            && self.max_payload_len >= d.max_payload_len
            && self.max_long_bytes >= d.max_long_bytes
            && self.max_int_digits >= d.max_int_digits
            && self.alloc_per_input_byte >= d.alloc_per_input_byte
            && self.alloc_base >= d.alloc_base
            && self.work_per_input_byte >= d.work_per_input_byte
            && self.work_base >= d.work_base
    }

    /// Every bound lifted. Use only for trusted input.
    ///
    /// Even without limits the machine never recurses, so a deep value cannot overflow the
    /// stack; but a hostile pickle can make it allocate as much memory as it asks for.
    pub fn none() -> Self {
        Limits {
            max_depth: usize::MAX,
            max_stack: usize::MAX,
            max_marks: usize::MAX,
            max_memo_entries: usize::MAX,
            max_memo_index: u64::MAX,
            max_payload_len: u64::MAX,
            max_int_digits: 0,
            max_long_bytes: u64::MAX,
            alloc_per_input_byte: u64::MAX,
            alloc_base: u64::MAX,
            work_per_input_byte: u64::MAX,
            work_base: u64::MAX,
        }
    }
}

/// Running totals checked against the limits: bytes held and work done, both allowed to grow
/// with the input read so far.
#[derive(Clone, Debug, Default)]
pub(crate) struct Budget {
    pub(crate) alloc: u64,
    pub(crate) work: u64,
}

impl Budget {
    /// How many bytes may be charged once `input` bytes of the pickle are read:
    /// `alloc_per_input_byte × input + alloc_base`.
    #[inline(always)]
    pub(crate) fn allowed_alloc(&self, limits: &Limits, input: u64) -> u64 {
        limits
            .alloc_per_input_byte
            .saturating_mul(input)
            .saturating_add(limits.alloc_base)
    }

    /// Charges `bytes` of memory; fails when over `alloc_per_input_byte × input + alloc_base`.
    #[inline]
    pub(crate) fn alloc(
        &mut self,
        limits: &Limits,
        input: u64,
        bytes: u64,
    ) -> Result<(), crate::Error> {
        self.alloc = self.alloc.saturating_add(bytes);
        let allowed = self.allowed_alloc(limits, input);
        if self.alloc > allowed {
            return Err(crate::Error::limit("max_alloc", allowed));
        }
        Ok(())
    }

    /// Charges `units` of work; fails when over `work_per_input_byte × input + work_base`.
    #[inline]
    pub(crate) fn work(
        &mut self,
        limits: &Limits,
        input: u64,
        units: u64,
    ) -> Result<(), crate::Error> {
        self.work = self.work.saturating_add(units);
        let allowed = limits
            .work_per_input_byte
            .saturating_mul(input)
            .saturating_add(limits.work_base);
        if self.work > allowed {
            return Err(crate::Error::limit("max_work", allowed));
        }
        Ok(())
    }
}
