//! [`Unpickler`]: the options and entry points, in the shape of Python's `pickle.Unpickler`.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};

use crate::error::Result;
use crate::find_class::{DefaultPolicy, FindClass, PersistentLoad};
use crate::limits::Limits;
use crate::machine::{Config, Machine};
use crate::reader::{SliceSource, Source, StreamSource};
use crate::value::{SharedInput, Value};

/// Decodes pickles from a byte slice or a stream, under a [`FindClass`] policy and [`Limits`].
///
/// Options mirror Python's `pickle.Unpickler(file, *, fix_imports=True, encoding='ASCII',
/// errors='strict', buffers=None)` plus `find_class` and `persistent_load`. `load()` can be
/// called again to read the next pickle of the same input; the memo persists across loads, as in
/// CPython.
///
/// Over an input in memory, once the memo holds 2¹⁸ entries, the unpickler finds which memo
/// indices the rest of the input (every pickle in it) ever fetches, and drops the entries of the
/// others (less memory, and containers are finished as they are filled). The one thing this
/// changes: after a `load()` that failed, a later `load()` reads on from wherever the failure
/// left the input, possibly mid-opcode; if it then fetches an entry that was dropped, it fails
/// with `memo entry N was not kept` where CPython would fetch it.
///
/// Each thread keeps one emptied decoder: a new unpickler starts from it and gives it back when
/// dropped, so a stream of small pickles does not set up the decoder's state afresh for each.
/// What is kept: buffers while they stay small (up to 4,096 entries each), and caches that own
/// no memory (the key tables of recent dicts whose keys are all short strs, small numbers,
/// booleans or `None`; digests of short strs). No value of an earlier pickle is kept, and every
/// unpickler starts with an empty memo and a fresh budget.
///
/// ```
/// use restricted_unpickler::Unpickler;
/// // pickle.dumps(5, 2) + pickle.dumps('x', 2)
/// let data = b"\x80\x02K\x05.\x80\x02X\x01\x00\x00\x00xq\x00.";
/// let mut u = Unpickler::from_slice(data);
/// assert_eq!(u.load()?, 5);
/// assert_eq!(u.load()?, "x");
/// assert!(u.load().unwrap_err().is_eof());
/// # Ok::<(), restricted_unpickler::Error>(())
/// ```
pub struct Unpickler<'p, S> {
    source: S,
    config: Config<'p>,
    machine: PooledMachine,
}

impl<'a> Unpickler<'a, SliceSource<'a>> {
    /// An unpickler over bytes in memory (the fastest input).
    pub fn from_slice(data: &'a [u8]) -> Self {
        Unpickler::with_source(SliceSource::new(data))
    }

    /// An unpickler over a shared input whose large `bytes` and `bytearray` payloads (1 KiB or
    /// more) become windows of `input` instead of copies: a pickle of large arrays or blobs
    /// decodes without copying them, and each such value keeps the whole input alive for as
    /// long as it lives ([`Bytes::is_window`](crate::Bytes::is_window),
    /// [`Bytes::detach`](crate::Bytes::detach)). Otherwise the same as
    /// [`Unpickler::from_slice`], which copies every payload: use that when a few small parts
    /// of a large input are kept long after it.
    ///
    /// ```
    /// use restricted_unpickler::{SharedInput, Unpickler, Value};
    /// // pickle.dumps(bytes(4096), protocol=4)
    /// let mut pickle = b"\x80\x04\x95\x07\x10\x00\x00\x00\x00\x00\x00B\x00\x10\x00\x00".to_vec();
    /// pickle.extend_from_slice(&[0; 4096]);
    /// pickle.extend_from_slice(b"\x94.");
    /// let input = SharedInput::from(pickle);
    /// let v = Unpickler::from_shared(&input).load()?;
    /// let Value::Bytes(b) = &v else { unreachable!() };
    /// assert!(b.is_window() && b.len() == 4096);
    /// assert_eq!(b.as_ptr(), input.as_slice()[16..].as_ptr());
    /// # Ok::<(), restricted_unpickler::Error>(())
    /// ```
    pub fn from_shared(input: &'a SharedInput) -> Self {
        Unpickler::with_source(SliceSource::shared(input.as_slice(), input.clone()))
    }
}

impl<'p, R: Read> Unpickler<'p, StreamSource<BufReader<R>>> {
    /// An unpickler over any reader, buffered internally. It reads no further than each
    /// pickle's `STOP` from its buffer, so `load()` can be called again for the next pickle.
    pub fn new(reader: R) -> Self {
        Unpickler::with_source(StreamSource::new(BufReader::new(reader)))
    }
}

impl<'p, R: BufRead> Unpickler<'p, StreamSource<R>> {
    /// An unpickler over a buffered reader; after `load()`, the reader is positioned just past
    /// the pickle's `STOP`.
    pub fn from_bufread(reader: R) -> Self {
        Unpickler::with_source(StreamSource::new(reader))
    }

    /// The underlying reader.
    pub fn get_ref(&self) -> &R {
        self.source.get_ref()
    }

    /// The underlying reader, mutably.
    pub fn get_mut(&mut self) -> &mut R {
        self.source.get_mut()
    }

    /// Gives back the underlying reader.
    pub fn into_inner(self) -> R {
        self.source.into_inner()
    }
}

impl<'p, S: Source> Unpickler<'p, S> {
    fn with_source(source: S) -> Self {
        Unpickler {
            source,
            config: Config {
                policy: Box::new(DefaultPolicy),
                persistent_load: None,
                buffers: None,
                extensions: HashMap::new(),
                encoding: Cow::Borrowed("ASCII"),
                errors: Cow::Borrowed("strict"),
                fix_imports: true,
                limits: Limits::default(),
            },
            machine: PooledMachine::take(),
        }
    }

    /// Sets the policy for globals (Python's `find_class`). Default: [`DefaultPolicy`].
    #[must_use]
    pub fn find_class(mut self, policy: impl FindClass + 'p) -> Self {
        self.config.policy = Box::new(policy);
        self
    }

    /// Sets the hook for `PERSID`/`BINPERSID` (Python's `persistent_load`). Without one, those
    /// opcodes fail like CPython's.
    #[must_use]
    pub fn persistent_load(mut self, hook: impl PersistentLoad + 'p) -> Self {
        self.config.persistent_load = Some(Box::new(hook));
        self
    }

    /// Sets the out-of-band buffers `NEXT_BUFFER` takes, in order (Python's `buffers=`).
    /// Without this call (`buffers=None`), `NEXT_BUFFER` is an error; with an empty list it is
    /// `not enough out-of-band buffers`. Values are pushed as given (usually bytes or
    /// bytearray); `READONLY_BUFFER` turns a bytearray into bytes.
    #[must_use]
    pub fn buffers(mut self, buffers: impl IntoIterator<Item = Value>) -> Self {
        self.config.buffers = Some(buffers.into_iter().collect());
        self
    }

    /// Registers an extension code for `EXT1`/`EXT2`/`EXT4` (Python's
    /// `copyreg.add_extension`). The named global still goes through `find_class`.
    #[must_use]
    pub fn extension(mut self, code: i32, module: &str, name: &str) -> Self {
        self.config
            .extensions
            .insert(i64::from(code), (module.to_owned(), name.to_owned()));
        self
    }

    /// How Python 2 `str` (`STRING`, `BINSTRING`, `SHORT_BINSTRING`) is decoded: a codec name
    /// (`"ASCII"` by default; `"latin1"`, `"utf-8"`, `"cp1252"`, `"koi8-r"`, with Python's
    /// aliases) or `"bytes"` to keep them as bytes. Another codec fails when first needed: as
    /// unsupported if CPython has it (`codec not implemented here: NAME`), else with CPython's
    /// `unknown encoding: NAME`.
    #[must_use]
    pub fn encoding(mut self, encoding: &str) -> Self {
        self.config.encoding = Cow::Owned(encoding.to_owned());
        self
    }

    /// The error handler for [`encoding`](Unpickler::encoding): `"strict"` (default),
    /// `"replace"`, `"ignore"`, `"surrogateescape"`, `"backslashreplace"`, `"surrogatepass"`.
    #[must_use]
    pub fn errors(mut self, errors: &str) -> Self {
        self.config.errors = Cow::Owned(errors.to_owned());
        self
    }

    /// Whether Python 2 names are mapped to Python 3 ones (`__builtin__.set` → `builtins.set`)
    /// for pickles of protocol < 3, before `find_class` sees them. Default: `true`.
    #[must_use]
    pub fn fix_imports(mut self, on: bool) -> Self {
        self.config.fix_imports = on;
        self
    }

    /// Sets the resource limits. Default: [`Limits::default`].
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.config.limits = limits;
        self
    }

    /// Decodes the next pickle.
    ///
    /// A pickle of at most 4 KiB of plain data (strs, numbers, bytes, bytearrays, `None`, bools
    /// and the lists, tuples, dicts, sets and frozensets holding them) that is all of a slice,
    /// read from its start, with limits at least the defaults, is decoded on a lean path
    /// straight into values; the result is the same (every such pickle it takes is checked
    /// against the full machine in the tests and fuzz targets), only sooner.
    ///
    /// # Errors
    /// An [`Error`](crate::Error) saying what went wrong and at which byte offset: a forbidden
    /// global, malformed or truncated data (`Ran out of input` when the input ends exactly
    /// where a pickle would start), a missing hook, a limit, or I/O.
    pub fn load(&mut self) -> Result<Value> {
        self.load_first(true)
    }

    /// [`Unpickler::load`]; a small pickle of plain data at the start of a slice is tried on
    /// the lean path first, if it is the whole slice or (`whole` false: a one-shot load, with
    /// no later load to fetch its memo entries) if it is followed by anything.
    fn load_first(&mut self, whole: bool) -> Result<Value> {
        if let Some(data) = self.source.fresh_slice() {
            if self.config.limits.at_least_default() {
                if let Some((v, end)) = self.machine.get().load_lean(data, whole) {
                    self.source.skip_to(end);
                    return Ok(v);
                }
            }
        }
        self.machine.get().load(&self.config, &mut self.source)
    }

    /// The offset of the next unread byte.
    pub fn position(&self) -> u64 {
        self.source.position()
    }

    /// [`Unpickler::load`] without the lean path: the full machine, for tests comparing
    /// the two.
    #[cfg(test)]
    pub(crate) fn load_full(&mut self) -> Result<Value> {
        self.machine.get().load(&self.config, &mut self.source)
    }
}

/// Decodes one pickle from `data` with the [`DefaultPolicy`] and default [`Limits`], like
/// Python's `pickle.loads` with a restricted `find_class`. Bytes after the `STOP` are ignored,
/// as in CPython.
///
/// Like every [`Unpickler`], it starts from its thread's spare decoder, so a stream of small
/// pickles does not set up the decoder's state afresh for each; and a small pickle of plain
/// data (see [`Unpickler::load`]; here it may be followed by other bytes) is decoded on the
/// lean path.
///
/// ```
/// use restricted_unpickler::restricted_loads;
/// // pickle.dumps({1, 2}, protocol=4)
/// let v = restricted_loads(b"\x80\x04\x95\x09\x00\x00\x00\x00\x00\x00\x00\x8f\x94(K\x01K\x02\x90.")?;
/// assert_eq!(v.to_string(), "{1, 2}");
/// // pickle.dumps(os.system) is refused, whatever the protocol:
/// let err = restricted_loads(b"cposix\nsystem\n.").unwrap_err();
/// assert_eq!(err.to_string(), "global 'posix.system' is forbidden (GLOBAL at offset 0)");
/// # Ok::<(), restricted_unpickler::Error>(())
/// ```
///
/// # Errors
/// See [`Unpickler::load`].
pub fn restricted_loads(data: &[u8]) -> Result<Value> {
    // Bytes after the `STOP` are ignored: the lean path may take a pickle followed by more.
    Unpickler::from_slice(data).load_first(false)
}

/// [`restricted_loads`] over a shared input: `bytes` and `bytearray` payloads of 1 KiB or more
/// become windows of `input` instead of copies (see [`Unpickler::from_shared`]). The input can
/// be anything a [`SharedInput`] is made from: a `Vec<u8>` (not copied), an `Arc<[u8]>`, an
/// `Arc` of any byte container…
///
/// ```
/// use restricted_unpickler::{restricted_loads_shared, Value};
/// // pickle.dumps({'blob': bytes(2048)}, protocol=5)
/// let mut pickle = b"\x80\x05\x95\x11\x08\x00\x00\x00\x00\x00\x00}\x94\x8c\x04blob\x94B\x00\x08\x00\x00".to_vec();
/// pickle.extend_from_slice(&[0; 2048]);
/// pickle.extend_from_slice(b"\x94s.");
/// let v = restricted_loads_shared(pickle)?;
/// let Value::Bytes(blob) = &v["blob"] else { unreachable!() };
/// assert!(blob.is_window() && blob.iter().all(|&b| b == 0));
/// # Ok::<(), restricted_unpickler::Error>(())
/// ```
///
/// # Errors
/// See [`Unpickler::load`].
pub fn restricted_loads_shared(input: impl Into<SharedInput>) -> Result<Value> {
    let input = input.into();
    Unpickler::from_shared(&input).load()
}

thread_local! {
    /// The emptied machine the next unpickler on this thread starts with.
    static SPARE: RefCell<Option<Box<Machine>>> = const { RefCell::new(None) };
}

/// An unpickler's machine: taken from its thread's spare when there is one, and given back,
/// emptied, when the unpickler is dropped (see [`Machine::reset`]). A stream of small pickles
/// (one [`restricted_loads`] or one [`Unpickler`] each) then does not allocate the decoder's
/// state afresh each time, nor hash the keys of records of one shape again. Nothing of one
/// pickle's values is kept; every unpickler starts with an empty memo and a fresh budget.
/// (Boxed, so taking it and giving it back moves a pointer, not the machine.)
struct PooledMachine(Option<Box<Machine>>);

impl PooledMachine {
    fn take() -> PooledMachine {
        let spare = SPARE
            .try_with(|s| s.try_borrow_mut().ok().and_then(|mut s| s.take()))
            .ok()
            .flatten();
        PooledMachine(Some(spare.unwrap_or_default()))
    }

    /// The machine (there until the unpickler is dropped).
    fn get(&mut self) -> &mut Machine {
        self.0.get_or_insert_with(Box::default)
    }
}

impl Drop for PooledMachine {
    fn drop(&mut self) {
        let Some(mut spare) = self.0.take() else {
            return;
        };
        spare.reset();
        let _ = SPARE.try_with(|s| {
            if let Ok(mut s) = s.try_borrow_mut() {
                *s = Some(spare);
            }
        });
    }
}
