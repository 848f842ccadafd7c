//! The only code that touches input bytes: a slice cursor and a buffered stream cursor, both
//! enforcing PEP 3154 framing.
//!
//! Neither can panic, and neither allocates from a length it has not seen bytes for: the slice
//! reader borrows, the stream reader grows its scratch buffer only as data arrives.
//!
//! Framing (PEP 3154) is enforced strictly: an opcode that starts inside a frame must end inside
//! it (argument included), a `FRAME` may not start before the current frame is consumed, and a
//! frame may not claim more bytes than the input holds. Unframed opcodes between frames are legal
//! (CPython writes large payloads that way).

use std::io::BufRead;

use crate::error::{Error, ErrorKind, PyException, Result};
use crate::opcode::{INT_LONG1, INT_SIGNED, Opcode, SMALL_INT_ARG};
use crate::value::{Bytes, SharedInput};

/// The position of the first `needle` in `haystack`: eight bytes at a time (protocol 0 is
/// made of lines, and its `UNICODE` lines are long runs of escapes).
#[inline]
pub(crate) fn find_byte(haystack: &[u8], needle: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let pattern = ONES * u64::from(needle);
    let mut chunks = haystack.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let Some(word) = chunk.first_chunk::<8>() else {
            break;
        };
        let x = u64::from_le_bytes(*word) ^ pattern;
        // The lowest byte of `x` that is zero sets its high bit here (a borrow can only mark
        // the bytes above it).
        let found = x.wrapping_sub(ONES) & !x & HIGH;
        if found != 0 {
            return Some(base + (found.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    let rest = chunks.remainder();
    rest.iter().position(|&b| b == needle).map(|i| base + i)
}

/// A cursor over pickle bytes (sealed: not nameable outside the crate).
pub trait Source {
    /// Offset of the next unread byte.
    fn position(&self) -> u64;

    /// Reads the next opcode byte; `None` at a clean end of input. Ends an exhausted frame.
    fn next_opcode(&mut self) -> Result<Option<u8>>;

    /// Reads exactly `n` bytes of the current opcode's argument.
    fn read_bytes(&mut self, n: usize) -> Result<&[u8]>;

    /// Reads a `\n`-terminated line of the current opcode's argument, without the `\n`.
    fn read_line(&mut self) -> Result<&[u8]>;

    /// Starts a frame of `len` bytes at the current position.
    fn start_frame(&mut self, len: u64) -> Result<()>;

    /// Where the data ran out, for truncation errors: the input's length for a slice, the
    /// bytes consumed for a stream.
    fn data_end(&self) -> u64;

    /// How many input bytes are known to be left (0 when unknown).
    fn remaining_hint(&self) -> usize {
        0
    }

    /// The rest of the input from the current position, when it is all in memory (a slice).
    fn unread(&self) -> Option<&[u8]> {
        None
    }

    /// The whole input, when it is in memory, not shared, and nothing of it has been read:
    /// what the lean path may decode (see `machine::lean`).
    fn fresh_slice(&self) -> Option<&[u8]> {
        None
    }

    /// Moves to `pos`, the end of a pickle the lean path decoded from the start: the end of
    /// the input (any frame is then over), or, for a one-shot load, wherever its `STOP` is.
    fn skip_to(&mut self, pos: usize) {
        let _ = pos;
    }

    /// Whether the input is known to hold nothing more (a slice read to its end). A stream
    /// never is: more data may follow.
    fn at_end(&self) -> bool {
        false
    }

    /// Reads the next `n` bytes (`n` ≤ [`SHORT_BLOCK`] − 2) as one zero-padded block of
    /// [`SHORT_BLOCK`] bytes, when the input holds a whole block from here; `None` (nothing
    /// read) otherwise, and the caller reads them with [`Source::read_bytes`].
    #[inline]
    fn read_short_block(&mut self, n: usize) -> Option<[u8; SHORT_BLOCK]> {
        let _ = n;
        None
    }

    /// Reads the opcodes that follow, for as long as each pushes an int held in at most eight
    /// bytes (`BININT1`, `BININT2`, `BININT`, `LONG1` of at most eight bytes) and the input
    /// holds ten more bytes from it, handing each to `f` as a [`SmallInt`]; stops at the first
    /// other one (left unread) or at the first error `f` returns (that int stays read). A
    /// random mix of int opcodes mispredicts the dispatch's indirect jump: runs of ints are
    /// decoded here without it. Readers without a whole block read nothing.
    #[inline]
    fn read_small_ints<E>(
        &mut self,
        f: impl FnMut(SmallInt) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let _ = f;
        Ok(())
    }

    /// After a `BINFLOAT`: reads every `BINFLOAT` that follows while the current frame holds
    /// it whole, handing each value and its opcode's offset to `f`; stops at the first other
    /// opcode (left unread) or at the first error `f` returns (that float stays read). A list
    /// of floats is decoded here without a dispatch per float. Readers without a whole block
    /// read nothing.
    #[inline]
    fn read_floats<E>(
        &mut self,
        f: impl FnMut(f64, u64) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let _ = f;
        Ok(())
    }

    /// After a `BINFLOAT` opcode byte (its argument unread): how many `BINFLOAT`s, this one
    /// first, follow back to back with an `APPENDS` right after the last, all in the current
    /// frame; `None` (nothing read) if the run ends in anything else or at the frame's end.
    /// Readers without a whole block find nothing.
    #[inline]
    fn float_batch(&self) -> Option<usize> {
        None
    }

    /// Reads the run of `n` `BINFLOAT`s that [`Source::float_batch`] found and the `APPENDS`
    /// after it, returning the run's bytes (each opcode and its argument). Only after
    /// `float_batch` returned `n`, with nothing read since.
    #[inline]
    fn take_float_batch(&mut self, n: usize) -> &[u8] {
        let _ = n;
        &[]
    }

    /// After an opcode of `N` bytes (opcode and argument, such as `BINGET 1`) has been read:
    /// reads the copies of those `N` bytes that follow it, back to back, while the current
    /// frame holds them whole, at most `max` of them, and returns how many it read. A list of
    /// one object repeated (`[x] * n`: `n` identical memo `GET`s) is read here without a
    /// dispatch per `GET`. Readers without a whole block read nothing.
    #[inline]
    fn read_repeats<const N: usize>(&mut self, max: usize) -> usize {
        let _ = max;
        0
    }

    /// The `len` bytes at offset `start` (already read) as a window of the input, when the
    /// input is shared ([`Unpickler::from_shared`](crate::Unpickler::from_shared)): no copy.
    /// `None` for other inputs.
    #[inline]
    fn window(&self, start: u64, len: usize) -> Option<Bytes> {
        let _ = (start, len);
        None
    }

    /// Reads `N` bytes as an array.
    #[inline]
    fn read_array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let b = self.read_bytes(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(b);
        Ok(out)
    }

    /// Reads one byte.
    #[inline]
    fn read_u8(&mut self) -> Result<u8> {
        let [b] = self.read_array::<1>()?;
        Ok(b)
    }
}

/// An int opcode read whole by [`Source::read_small_ints`].
#[derive(Clone, Copy)]
pub struct SmallInt {
    /// The opcode byte.
    pub(crate) op: u8,
    /// The argument's length in bytes.
    pub(crate) len: u8,
    /// The memory the opcode charges: `LONG1` charges its payload as `op_long` does (32 + its
    /// length), the others nothing.
    pub(crate) charge: u64,
    /// The value.
    pub(crate) value: i64,
    /// The offset of the opcode.
    pub(crate) start: u64,
    /// The offset just after the argument.
    pub(crate) end: u64,
}

/// Decodes the int opcode at the start of `block` (at offset `pos`), branch-free once it is
/// known to be one; `None` if it is not a small int opcode.
#[inline(always)]
fn small_int_at(block: &[u8; 10], pos: usize) -> Option<SmallInt> {
    let [op, len_byte, ..] = *block;
    let arg = SMALL_INT_ARG[usize::from(op)];
    if arg == 0 {
        return None;
    }
    // Everything below is chosen by masks made from the table's bits, not by branches: ints of
    // each opcode come in any order, and a branch on the opcode mispredicts.
    let long1 = (arg & INT_LONG1) >> 5;
    let m8 = 0u8.wrapping_sub(long1);
    let m64 = 0u64.wrapping_sub(u64::from(long1));
    // The argument's length and start.
    let n = (len_byte & m8) | (arg & 0x0f);
    let start = 1 + usize::from(long1);
    if n > 8 {
        return None;
    }
    // The word at the argument, loaded from a computed offset (selecting one of two loaded
    // words became a branch).
    let raw = block
        .get(start..)
        .and_then(<[u8]>::first_chunk::<8>)
        .map_or(0, |w| u64::from_le_bytes(*w));
    // Keep the low `n` bytes, then sign-extend them when the opcode is signed. `n` = 0 is
    // `LONG1`'s zero: the word is cleared, and the mask (a shift of 64, masked to 0) and the
    // sign step keep it so.
    let bits = 8 * u32::from(n);
    let raw = raw & 0u64.wrapping_sub(u64::from(n != 0));
    let low = raw & (u64::MAX >> ((64 - bits) & 63));
    let signed = 0u64.wrapping_sub(u64::from((arg & INT_SIGNED) >> 4));
    let sign = (1u64 << (bits.wrapping_sub(1) & 63)) & signed;
    let value = (low ^ sign).wrapping_sub(sign) as i64;
    Some(SmallInt {
        op,
        len: n,
        charge: (32 + u64::from(n)) & m64,
        value,
        start: pos as u64,
        end: (pos + start + usize::from(n)) as u64,
    })
}

/// The size of a [`Source::read_short_block`] block: three words.
pub(crate) const SHORT_BLOCK: usize = 24;

/// Per length `n` ≤ [`SHORT_BLOCK`] − 2, the three words that keep the first `n` bytes of a
/// block and clear the rest (a table load instead of a branch per word).
const SHORT_BLOCK_MASKS: [[u64; SHORT_BLOCK / 8]; SHORT_BLOCK - 1] = {
    let mut t = [[0u64; SHORT_BLOCK / 8]; SHORT_BLOCK - 1];
    let mut n = 0;
    while n < SHORT_BLOCK - 1 {
        let mut byte = 0;
        while byte < n {
            t[n][byte / 8] |= 0xff << (8 * (byte % 8));
            byte += 1;
        }
        n += 1;
    }
    t
};

/// The `n` bytes (`n` ≤ [`SHORT_BLOCK`] − 2) at `pos` in `window` as one zero-padded block of
/// [`SHORT_BLOCK`] bytes, when `window` holds a whole block from `pos` (`None` otherwise).
#[inline(always)]
pub(crate) fn short_block(window: &[u8], pos: usize, n: usize) -> Option<[u8; SHORT_BLOCK]> {
    let words = short_words(window, pos, n)?;
    let mut out = [0u8; SHORT_BLOCK];
    for (dst, word) in out.chunks_exact_mut(8).zip(words) {
        dst.copy_from_slice(&word.to_le_bytes());
    }
    Some(out)
}

/// [`short_block`] as its three little-endian words (kept in registers: a block written to
/// memory a byte or a word at a time and read back in other widths stalls the CPU).
#[inline(always)]
pub(crate) fn short_words(window: &[u8], pos: usize, n: usize) -> Option<[u64; 3]> {
    if n > SHORT_BLOCK - 2 {
        return None;
    }
    // A fixed-size load (the bytes after the `n` wanted ones belong to the next opcodes,
    // and are masked off), rather than a copy of `n` bytes.
    let block = window.get(pos..)?.first_chunk::<SHORT_BLOCK>()?;
    let [m0, m1, m2] = *SHORT_BLOCK_MASKS.get(n)?;
    let word = |i: usize| {
        block
            .get(8 * i..)
            .and_then(<[u8]>::first_chunk::<8>)
            .map_or(0, |w| u64::from_le_bytes(*w))
    };
    Some([word(0) & m0, word(1) & m1, word(2) & m2])
}

/// The FRAME length CPython rejects outright.
fn frame_too_long() -> Error {
    Error::py(
        PyException::OverflowError,
        "FRAME length exceeds system's maximum of 9223372036854775807 bytes",
    )
}

/// The input of an [`Unpickler`](crate::Unpickler) over a byte slice.
pub struct SliceSource<'a> {
    data: &'a [u8],
    /// What the current opcode may read: `data` up to the frame's end inside a frame, else all
    /// of `data`. One bounds check against it covers both the input and the frame.
    window: &'a [u8],
    pos: usize,
    /// Whether `window` ends at a frame end.
    in_frame: bool,
    /// The input that `data` is, when it is shared: large payloads become windows of it.
    shared: Option<SharedInput>,
}

impl<'a> SliceSource<'a> {
    /// A cursor at the start of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        SliceSource {
            data,
            window: data,
            pos: 0,
            in_frame: false,
            shared: None,
        }
    }

    /// A cursor at the start of `data`, which is the whole of `input`: large payloads become
    /// windows of `input` rather than copies. (An `input` whose bytes are not `data` is not
    /// shared.)
    pub(crate) fn shared(data: &'a [u8], input: SharedInput) -> Self {
        let same = std::ptr::eq(input.as_slice(), data);
        SliceSource {
            shared: same.then_some(input),
            ..SliceSource::new(data)
        }
    }

    /// Whether the next opcode is a `BINFLOAT`.
    #[inline(always)]
    pub(crate) fn next_is_float(&self) -> bool {
        self.window.get(self.pos) == Some(&(Opcode::BINFLOAT as u8))
    }

    /// The next `n` bytes as [`short_words`], not read (the lean path's short strs).
    #[inline(always)]
    pub(crate) fn peek_short_words(&self, n: usize) -> Option<[u64; 3]> {
        short_words(self.window, self.pos, n)
    }

    /// The error for a read past the window.
    /// (Inside a frame the data is known to exist up to the frame's end, which was checked when
    /// the frame started, so reading past that end is always a framing error.)
    #[cold]
    #[inline(never)]
    fn overrun(&self) -> Error {
        if self.in_frame {
            Error::bare(ErrorKind::FrameOverrun)
        } else {
            Error::bare(ErrorKind::Truncated)
        }
    }

    /// `next_opcode` at the end of the window: closes an exhausted frame.
    #[cold]
    #[inline(never)]
    fn next_opcode_slow(&mut self) -> Option<u8> {
        if self.in_frame {
            self.in_frame = false;
            self.window = self.data;
        }
        let b = *self.window.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }
}

impl Source for SliceSource<'_> {
    #[inline(always)]
    fn position(&self) -> u64 {
        self.pos as u64
    }

    #[inline]
    fn window(&self, start: u64, len: usize) -> Option<Bytes> {
        Bytes::window(self.shared.as_ref()?, usize::try_from(start).ok()?, len)
    }

    #[inline(always)]
    fn next_opcode(&mut self) -> Result<Option<u8>> {
        match self.window.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(Some(b))
            }
            None => Ok(self.next_opcode_slow()),
        }
    }

    #[inline(always)]
    fn read_bytes(&mut self, n: usize) -> Result<&[u8]> {
        let window: &[u8] = self.window;
        match self
            .pos
            .checked_add(n)
            .and_then(|stop| window.get(self.pos..stop))
        {
            Some(out) => {
                self.pos += n;
                Ok(out)
            }
            None => Err(self.overrun()),
        }
    }

    #[inline(always)]
    fn read_short_block(&mut self, n: usize) -> Option<[u8; SHORT_BLOCK]> {
        let block = short_block(self.window, self.pos, n)?;
        self.pos += n;
        Some(block)
    }

    #[inline(always)]
    fn read_small_ints<E>(
        &mut self,
        mut f: impl FnMut(SmallInt) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        // The position stays in a register for the whole run.
        let window = self.window;
        let mut pos = self.pos;
        let result = loop {
            let block = window.get(pos..).and_then(<[u8]>::first_chunk::<10>);
            let Some(int) = block.and_then(|b| small_int_at(b, pos)) else {
                break Ok(());
            };
            pos = int.end as usize;
            if let Err(e) = f(int) {
                break Err(e);
            }
        };
        self.pos = pos;
        result
    }

    #[inline(always)]
    fn read_floats<E>(
        &mut self,
        mut f: impl FnMut(f64, u64) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let window = self.window;
        let mut pos = self.pos;
        let result = loop {
            let Some([op, arg @ ..]) = window.get(pos..).and_then(<[u8]>::first_chunk::<9>) else {
                break Ok(());
            };
            if *op != Opcode::BINFLOAT as u8 {
                break Ok(());
            }
            let start = pos as u64;
            pos += 9;
            if let Err(e) = f(f64::from_be_bytes(*arg), start) {
                break Err(e);
            }
        };
        self.pos = pos;
        result
    }

    #[inline]
    fn float_batch(&self) -> Option<usize> {
        let run = self.window.get(self.pos.checked_sub(1)?..)?;
        let n = run
            .chunks_exact(9)
            .take_while(|c| c.first() == Some(&(Opcode::BINFLOAT as u8)))
            .count();
        (run.get(n * 9) == Some(&(Opcode::APPENDS as u8))).then_some(n)
    }

    #[inline]
    fn take_float_batch(&mut self, n: usize) -> &[u8] {
        let window: &[u8] = self.window;
        let start = self.pos.saturating_sub(1);
        let end = start.saturating_add(n.saturating_mul(9));
        match window.get(start..end) {
            Some(run) if window.get(end) == Some(&(Opcode::APPENDS as u8)) => {
                self.pos = end + 1;
                run
            }
            _ => &[],
        }
    }

    #[inline]
    fn read_repeats<const N: usize>(&mut self, max: usize) -> usize {
        let window = self.window;
        let Some(unit) = self
            .pos
            .checked_sub(N)
            .and_then(|start| window.get(start..))
            .and_then(<[u8]>::first_chunk::<N>)
        else {
            return 0;
        };
        let n = window
            .get(self.pos..)
            .unwrap_or_default()
            .chunks_exact(N)
            .take(max)
            .take_while(|c| *c == unit)
            .count();
        self.pos += n * N;
        n
    }

    #[inline(always)]
    fn read_array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let window: &[u8] = self.window;
        match window
            .get(self.pos..)
            .and_then(|rest| rest.first_chunk::<N>())
        {
            Some(out) => {
                self.pos += N;
                Ok(*out)
            }
            None => Err(self.overrun()),
        }
    }

    fn read_line(&mut self) -> Result<&[u8]> {
        let window: &[u8] = self.window;
        let rest = window.get(self.pos..).unwrap_or_default();
        match find_byte(rest, b'\n') {
            Some(i) => {
                let line = rest.get(..i).unwrap_or_default();
                self.pos += i + 1;
                Ok(line)
            }
            None => Err(self.overrun()),
        }
    }

    fn start_frame(&mut self, len: u64) -> Result<()> {
        if self.in_frame && self.pos < self.window.len() {
            return Err(Error::bare(ErrorKind::NestedFrame));
        }
        if len > i64::MAX as u64 {
            return Err(frame_too_long());
        }
        let data: &[u8] = self.data;
        let window = usize::try_from(len)
            .ok()
            .and_then(|l| self.pos.checked_add(l))
            .and_then(|end| data.get(..end))
            .ok_or_else(|| Error::bare(ErrorKind::Truncated))?;
        self.window = window;
        self.in_frame = true;
        Ok(())
    }

    fn data_end(&self) -> u64 {
        self.data.len() as u64
    }

    fn at_end(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn remaining_hint(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }

    fn unread(&self) -> Option<&[u8]> {
        self.data.get(self.pos..)
    }

    fn fresh_slice(&self) -> Option<&[u8]> {
        (self.pos == 0 && self.shared.is_none()).then_some(self.data)
    }

    fn skip_to(&mut self, pos: usize) {
        self.pos = pos.min(self.data.len());
        self.window = self.data;
        self.in_frame = false;
    }
}

/// The input of an [`Unpickler`](crate::Unpickler) over a buffered stream. It never reads past
/// the `STOP` of a pickle (except to the end of the frame holding it, as CPython does), so the
/// stream can hold several pickles (or other data) back to back.
///
/// A frame is read whole when its `FRAME` opcode is met, in chunks as the data arrives (never
/// from the claimed length alone), so a frame longer than the stream is truncation, as in CPython.
pub struct StreamSource<R> {
    inner: R,
    /// Offset of the next byte to decode.
    pos: u64,
    /// The current frame's bytes, and the read position in them.
    frame: Vec<u8>,
    frame_pos: usize,
    /// Whether a frame is open.
    in_frame: bool,
    /// Whether the current opcode started inside a frame.
    op_in_frame: bool,
    scratch: Vec<u8>,
}

/// Bytes read from the stream per step while filling a frame.
const FRAME_CHUNK: usize = 1 << 16;

impl<R: BufRead> StreamSource<R> {
    /// A cursor over `inner`.
    pub(crate) fn new(inner: R) -> Self {
        StreamSource {
            inner,
            pos: 0,
            frame: Vec::new(),
            frame_pos: 0,
            in_frame: false,
            op_in_frame: false,
            scratch: Vec::new(),
        }
    }

    /// The underlying reader.
    pub(crate) fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The underlying reader, mutably.
    pub(crate) fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Gives back the underlying reader.
    pub(crate) fn into_inner(self) -> R {
        self.inner
    }

    /// The unread rest of the current frame.
    fn frame_rest(&self) -> &[u8] {
        self.frame.get(self.frame_pos..).unwrap_or_default()
    }
}

/// Fills the reader's buffer, retrying on `Interrupted`.
fn fill<R: BufRead>(r: &mut R) -> Result<&[u8]> {
    loop {
        match r.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(r.fill_buf()?)
}

impl<R: BufRead> Source for StreamSource<R> {
    fn position(&self) -> u64 {
        self.pos
    }

    fn next_opcode(&mut self) -> Result<Option<u8>> {
        if self.in_frame && self.frame_pos >= self.frame.len() {
            self.in_frame = false;
        }
        self.op_in_frame = self.in_frame;
        if self.in_frame {
            let b = self.frame_rest().first().copied();
            self.frame_pos += 1;
            self.pos += 1;
            return Ok(b);
        }
        let b = match fill(&mut self.inner)?.first() {
            Some(&b) => b,
            None => return Ok(None),
        };
        self.inner.consume(1);
        self.pos += 1;
        Ok(Some(b))
    }

    fn read_bytes(&mut self, n: usize) -> Result<&[u8]> {
        if self.op_in_frame {
            let start = self.frame_pos;
            let stop = start
                .checked_add(n)
                .filter(|&e| e <= self.frame.len())
                .ok_or_else(|| Error::bare(ErrorKind::FrameOverrun))?;
            self.frame_pos = stop;
            self.pos += n as u64;
            return Ok(self.frame.get(start..stop).unwrap_or_default());
        }
        self.scratch.clear();
        let mut need = n;
        while need > 0 {
            let buf = fill(&mut self.inner)?;
            if buf.is_empty() {
                return Err(Error::bare(ErrorKind::Truncated));
            }
            let take = need.min(buf.len());
            let chunk = buf.get(..take).unwrap_or_default();
            self.scratch.extend_from_slice(chunk);
            self.inner.consume(take);
            self.pos += take as u64;
            need -= take;
        }
        Ok(&self.scratch)
    }

    fn read_line(&mut self) -> Result<&[u8]> {
        if self.op_in_frame {
            let start = self.frame_pos;
            let i = find_byte(self.frame_rest(), b'\n')
                .ok_or_else(|| Error::bare(ErrorKind::FrameOverrun))?;
            self.frame_pos = start + i + 1;
            self.pos += i as u64 + 1;
            return Ok(self.frame.get(start..start + i).unwrap_or_default());
        }
        self.scratch.clear();
        loop {
            let buf = fill(&mut self.inner)?;
            if buf.is_empty() {
                return Err(Error::bare(ErrorKind::Truncated));
            }
            let (take, done) = match find_byte(buf, b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            let chunk = buf.get(..take).unwrap_or_default();
            self.scratch.extend_from_slice(chunk);
            self.inner.consume(take);
            self.pos += take as u64;
            if done {
                self.scratch.pop();
                return Ok(&self.scratch);
            }
        }
    }

    fn start_frame(&mut self, len: u64) -> Result<()> {
        if self.in_frame && self.frame_pos < self.frame.len() {
            return Err(Error::bare(ErrorKind::NestedFrame));
        }
        if len > i64::MAX as u64 {
            return Err(frame_too_long());
        }
        self.frame.clear();
        self.frame_pos = 0;
        self.in_frame = true;
        let mut need = len;
        while need > 0 {
            let buf = fill(&mut self.inner)?;
            if buf.is_empty() {
                return Err(Error::bare(ErrorKind::Truncated));
            }
            let take = usize::try_from(need)
                .unwrap_or(usize::MAX)
                .min(buf.len())
                .min(FRAME_CHUNK);
            let chunk = buf.get(..take).unwrap_or_default();
            self.frame.extend_from_slice(chunk);
            self.inner.consume(take);
            need -= take as u64;
        }
        Ok(())
    }

    fn data_end(&self) -> u64 {
        if self.in_frame {
            self.pos + self.frame_rest().len() as u64
        } else {
            self.pos
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `find_byte` finds what `position` finds: the needle at every offset of slices of every
    /// length up to 40, alone, repeated, next to bytes one above and below it (which the
    /// word-at-a-time test must not mistake for it), and absent.
    #[test]
    fn find_byte_finds_the_first_needle() {
        for needle in [b'\n', b'\\', 0x00, 0x80, 0xff] {
            for len in 0..=40usize {
                let near = [needle.wrapping_sub(1), needle.wrapping_add(1)];
                for fill in [b'a', near[0], near[1]] {
                    let hay = vec![fill; len];
                    assert_eq!(find_byte(&hay, needle), None);
                    for at in 0..len {
                        for second in [None, Some(at + 1), Some(len - 1)] {
                            let mut hay = vec![fill; len];
                            if let Some(j) = second.filter(|&j| j < len) {
                                hay[j] = needle;
                            }
                            hay[at] = needle;
                            let want = hay.iter().position(|&b| b == needle);
                            assert_eq!(find_byte(&hay, needle), want, "{needle} {hay:?}");
                        }
                    }
                }
            }
        }
    }

    /// A short block holds the `n` bytes asked for and zeros after them, for every `n` a block
    /// can hold and at every offset; `n` too long, or a block past the input's end, reads
    /// nothing.
    #[test]
    fn short_blocks_keep_the_bytes_asked_for_and_zero_the_rest() {
        let data: Vec<u8> = (0..64u32).map(|i| (i * 37 + 0x81) as u8).collect();
        for start in 0..data.len() {
            for n in 0..=SHORT_BLOCK {
                let mut src = SliceSource::new(&data);
                src.pos = start;
                let got = src.read_short_block(n);
                if n > SHORT_BLOCK - 2 || start + SHORT_BLOCK > data.len() {
                    assert_eq!(got, None, "start {start} n {n}");
                    assert_eq!(src.pos, start);
                    continue;
                }
                let mut want = [0u8; SHORT_BLOCK];
                want[..n].copy_from_slice(&data[start..start + n]);
                assert_eq!(got, Some(want), "start {start} n {n}");
                assert_eq!(src.pos, start + n);
            }
        }
    }

    /// Every small int opcode and `LONG1` length, at the edges of each length and sign, decoded
    /// by the branch-free [`small_int_at`] as the opcodes define them (little-endian; unsigned
    /// for `BININT1`/`BININT2`, two's complement for `BININT`/`LONG1`).
    #[test]
    fn small_ints_decode_as_their_opcodes_define() {
        let mut cases: Vec<(Vec<u8>, i64)> = Vec::new();
        for v in [0u8, 1, 0x7f, 0x80, 0xff] {
            cases.push((vec![b'K', v], i64::from(v)));
        }
        for v in [0u16, 1, 0x7fff, 0x8000, 0xffff] {
            cases.push((
                [vec![b'M'], v.to_le_bytes().to_vec()].concat(),
                i64::from(v),
            ));
        }
        for v in [0i32, 1, -1, i32::MAX, i32::MIN, 0x80, -0x81] {
            cases.push((
                [vec![b'J'], v.to_le_bytes().to_vec()].concat(),
                i64::from(v),
            ));
        }
        for n in 0..=8usize {
            for v in [
                0i64,
                1,
                -1,
                i64::MAX,
                i64::MIN,
                0x7f,
                -0x80,
                0x1234_5678_9abc_def0,
            ] {
                // The low `n` bytes of `v`, read back as an `n`-byte two's complement int.
                let bytes = v.to_le_bytes().get(..n).unwrap_or_default().to_vec();
                let want = if n == 0 {
                    0
                } else {
                    let shift = 64 - 8 * n as u32;
                    (v << shift) >> shift
                };
                let op = vec![Opcode::LONG1 as u8, n as u8];
                cases.push(([op, bytes].concat(), want));
            }
        }
        for (code, want) in cases {
            // Whatever follows the argument must not change it.
            for fill in [0x00, 0xff, 0x5a] {
                let mut block = [fill; 10];
                block[..code.len()].copy_from_slice(&code);
                let int = small_int_at(&block, 7).expect("a small int");
                assert_eq!(int.value, want, "{code:x?} then {fill:#x}");
                assert_eq!(int.op, code[0]);
                assert_eq!(int.start, 7);
                assert_eq!(int.end, 7 + code.len() as u64, "{code:x?}");
                let long1 = code[0] == Opcode::LONG1 as u8;
                let len = if long1 {
                    code.len() - 2
                } else {
                    code.len() - 1
                };
                assert_eq!(usize::from(int.len), len);
                let charge = if long1 { 32 + len as u64 } else { 0 };
                assert_eq!(int.charge, charge, "{code:x?}");
            }
        }
        // Longer `LONG1`s and other opcodes are left to the general path.
        for code in [
            [Opcode::LONG1 as u8, 9],
            [Opcode::LONG1 as u8, 0xff],
            [b'N', 1],
            [b'I', b'1'],
        ] {
            let mut block = [0; 10];
            block[..2].copy_from_slice(&code);
            assert!(small_int_at(&block, 0).is_none(), "{code:x?}");
        }
    }

    /// Repeats of the opcode just read are counted up to `max`, stop at the first differing
    /// byte and at a frame's end, and are read (the position moves past them, and only them).
    #[test]
    fn repeats_stop_at_a_difference_the_frame_end_and_max() {
        // `h\x01` five times, then `h\x02`.
        let mut data = b"h\x01".repeat(5);
        data.extend_from_slice(b"h\x02");
        for max in 0..8 {
            let mut s = SliceSource::new(&data);
            assert_eq!(s.next_opcode().unwrap(), Some(b'h'));
            assert_eq!(s.read_u8().unwrap(), 1);
            let n = s.read_repeats::<2>(max);
            assert_eq!(n, max.min(4), "max {max}");
            assert_eq!(s.pos, 2 + 2 * n);
        }
        // Nothing read yet: no unit to repeat.
        assert_eq!(SliceSource::new(&data).read_repeats::<2>(9), 0);
        // A repeat cut by the end of the input is not read.
        let mut s = SliceSource::new(b"h\x01h\x01h");
        s.pos = 2;
        assert_eq!(s.read_repeats::<2>(9), 1);
        assert_eq!(s.pos, 4);
        // In a frame of 7 bytes (three whole repeats and one byte), only what it holds whole.
        let mut s = SliceSource::new(&data);
        s.start_frame(7).unwrap();
        s.pos = 2;
        assert_eq!(s.read_repeats::<2>(9), 2);
        assert_eq!(s.pos, 6);
        // Five-byte units (`LONG_BINGET`), a difference in the last byte.
        let mut data = b"j\x00\x01\x00\x00".repeat(3);
        data.extend_from_slice(b"j\x00\x01\x00\x01");
        let mut s = SliceSource::new(&data);
        s.pos = 5;
        assert_eq!(s.read_repeats::<5>(9), 2);
        assert_eq!(s.pos, 15);
        // A stream never reads ahead for repeats.
        let mut s = StreamSource::new(std::io::BufReader::new(&b"h\x01h\x01"[..]));
        assert_eq!(s.next_opcode().unwrap(), Some(b'h'));
        assert_eq!(s.read_u8().unwrap(), 1);
        assert_eq!(s.read_repeats::<2>(9), 0);
    }

    #[test]
    fn slice_reads_and_truncates() {
        let mut s = SliceSource::new(b"Kab\ncd");
        assert_eq!(s.next_opcode().unwrap(), Some(b'K'));
        assert_eq!(s.read_line().unwrap(), b"ab");
        assert!(s.read_bytes(3).unwrap_err().is_eof());
        assert_eq!(s.read_bytes(2).unwrap(), b"cd");
        assert_eq!(s.next_opcode().unwrap(), None);
    }

    #[test]
    fn slice_frame_is_strict() {
        // FRAME of 2 bytes holding 'J' and one byte of its 4-byte argument.
        let mut s = SliceSource::new(b"J\x01\x00\x00\x00");
        s.start_frame(2).unwrap();
        assert_eq!(s.next_opcode().unwrap(), Some(b'J'));
        assert!(matches!(
            s.read_bytes(4).unwrap_err().kind(),
            ErrorKind::FrameOverrun
        ));
        let mut s = SliceSource::new(b"NN");
        s.start_frame(1).unwrap();
        assert!(matches!(
            s.start_frame(1).unwrap_err().kind(),
            ErrorKind::NestedFrame
        ));
        let mut s = SliceSource::new(b"N");
        assert!(s.start_frame(2).unwrap_err().is_eof());
    }

    #[test]
    fn stream_matches_slice() {
        let data: &[u8] = b"Kab\ncd";
        let mut s = StreamSource::new(std::io::BufReader::with_capacity(1, data));
        assert_eq!(s.next_opcode().unwrap(), Some(b'K'));
        assert_eq!(s.read_line().unwrap(), b"ab");
        assert_eq!(s.read_bytes(2).unwrap(), b"cd");
        assert_eq!(s.next_opcode().unwrap(), None);
        assert_eq!(s.position(), 6);
    }
}
