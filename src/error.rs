//! [`Error`]: what went wrong, at which byte offset, under which opcode.
//!
//! Messages follow CPython's wording wherever CPython has one (`unpickling stack underflow`,
//! `Memo value not found at index 5`, `unhashable type: 'list'`), so people who know Python's
//! pickle recognise them. [`Error::category`] and the `is_*` classifiers tell a *forbidden* pickle
//! (a policy decision) from a *malformed* one (corrupt or hostile bytes), a truncated one, one that
//! needs a hook that was not given, one that hit a [`Limits`](crate::Limits) bound, and an I/O
//! failure.

use std::fmt;

use crate::opcode::Opcode;

/// A `Result` whose error is this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error from decoding a pickle.
///
/// The error is boxed so that `Result<Value, Error>` stays small. `Display` prints the message,
/// then the opcode and byte offset where decoding stopped:
/// `global 'posix.system' is forbidden (GLOBAL at offset 2)`.
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    offset: Option<u64>,
    opcode: Option<Opcode>,
}

/// The broad class of an [`Error`], for callers that route failures (see [`Error::category`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Category {
    /// The pickle names a global that the [`FindClass`](crate::FindClass) policy does not allow.
    Forbidden,
    /// The bytes are not a valid pickle, or describe a value CPython would refuse to build.
    Malformed,
    /// The input ended before the pickle did.
    Truncated,
    /// A valid pickle that needs something not configured (a `persistent_load` hook, out-of-band
    /// buffers, an extension registry) or that this crate deliberately does not represent.
    Unsupported,
    /// A [`Limits`](crate::Limits) bound was reached.
    Limit,
    /// Reading the underlying stream failed.
    Io,
}

/// The exception class CPython raises for the same failure (where CPython would fail too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PyException {
    /// `pickle.UnpicklingError`
    UnpicklingError,
    /// `EOFError`
    EOFError,
    /// `ValueError`
    ValueError,
    /// `TypeError`
    TypeError,
    /// `UnicodeDecodeError`
    UnicodeDecodeError,
    /// `UnicodeEncodeError`
    UnicodeEncodeError,
    /// `OverflowError`
    OverflowError,
    /// `LookupError`
    LookupError,
    /// `AttributeError`
    AttributeError,
    /// `IndexError`
    IndexError,
    /// `MemoryError` (CPython runs out of memory where this crate hits a limit)
    MemoryError,
    /// `OSError` (I/O)
    OSError,
}

impl PyException {
    /// The Python name of the exception class, e.g. `"UnpicklingError"`.
    pub fn name(self) -> &'static str {
        match self {
            PyException::UnpicklingError => "UnpicklingError",
            PyException::EOFError => "EOFError",
            PyException::ValueError => "ValueError",
            PyException::TypeError => "TypeError",
            PyException::UnicodeDecodeError => "UnicodeDecodeError",
            PyException::UnicodeEncodeError => "UnicodeEncodeError",
            PyException::OverflowError => "OverflowError",
            PyException::LookupError => "LookupError",
            PyException::AttributeError => "AttributeError",
            PyException::IndexError => "IndexError",
            PyException::MemoryError => "MemoryError",
            PyException::OSError => "OSError",
        }
    }
}

/// What went wrong. Each variant's `Display` is the message (without the offset).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// `find_class` refused a global: `global 'posix.system' is forbidden`.
    #[error("global '{module}.{name}' is forbidden")]
    ForbiddenGlobal {
        /// The module, after the `fix_imports` mapping (escaped if it held a lone surrogate).
        module: String,
        /// The name, after the `fix_imports` mapping (escaped if it held a lone surrogate).
        name: String,
    },
    /// The input ended exactly at an opcode boundary, before `STOP` (CPython's `EOFError`).
    #[error("Ran out of input")]
    RanOutOfInput,
    /// The input ended inside an opcode's argument.
    #[error("pickle data was truncated")]
    Truncated,
    /// A byte that is not an opcode of protocols 0–5.
    #[error("invalid load key, '{}'.", display_load_key(*.0))]
    InvalidOpcode(u8),
    /// An opcode needed more stack items than there are, and no MARK is open.
    #[error("unpickling stack underflow")]
    StackUnderflow,
    /// An opcode needed stack items from below the topmost MARK.
    #[error("unexpected MARK found")]
    UnexpectedMark,
    /// An opcode that consumes a MARK found none.
    #[error("could not find MARK")]
    MarkNotFound,
    /// `GET`/`BINGET`/`LONG_BINGET` of an index that was never stored.
    #[error("Memo value not found at index {0}")]
    MemoNotFound(i64),
    /// `PROTO` announced a protocol this crate (and CPython 3.11) does not know.
    #[error("unsupported pickle protocol: {0}")]
    UnsupportedProtocol(u8),
    /// An opcode would cross the end of the current frame (PEP 3154).
    #[error("pickle exhausted before end of frame")]
    FrameOverrun,
    /// A `FRAME` started before the current frame was consumed (PEP 3154).
    #[error("beginning of a new frame before end of current frame")]
    NestedFrame,
    /// A dict key or set member of an unhashable type.
    #[error("unhashable type: '{0}'")]
    Unhashable(&'static str),
    /// The object graph contains a cycle (for example `l = []; l.append(l)`); this crate returns
    /// immutable, shared values and cannot represent one.
    #[error("recursive structure: a {0} that contains itself cannot be represented")]
    Recursive(&'static str),
    /// `PERSID`/`BINPERSID` without a [`PersistentLoad`](crate::PersistentLoad) hook.
    #[error(
        "A load persistent id instruction was encountered,\nbut no persistent_load function was specified."
    )]
    NoPersistentLoad,
    /// `NEXT_BUFFER` without out-of-band buffers.
    #[error("pickle stream refers to out-of-band data but no *buffers* argument was given")]
    NoBuffers,
    /// `NEXT_BUFFER` after every out-of-band buffer was used.
    #[error("not enough out-of-band buffers")]
    NotEnoughBuffers,
    /// An `EXT1`/`EXT2`/`EXT4` code that the extension registry does not know.
    #[error("unregistered extension code {0}")]
    UnregisteredExtension(i64),
    /// A [`Limits`](crate::Limits) bound was reached.
    #[error("limit exceeded: {limit} ({value})")]
    LimitExceeded {
        /// The name of the `Limits` field, e.g. `max_depth`.
        limit: &'static str,
        /// Its value.
        value: u64,
    },
    /// A failure with CPython's exception class and message (`ValueError('negative PUT
    /// argument')`, `TypeError("'NoneType' object is not callable")`, …).
    #[error("{message}")]
    Python {
        /// The exception class CPython raises here.
        exception: PyException,
        /// CPython's message, or one in its style where this crate is stricter.
        message: String,
    },
    /// Something this crate does not decode on purpose (documented in the README).
    #[error("{0}")]
    Unsupported(String),
    /// Reading from the underlying stream failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// CPython's rendering of an invalid opcode byte in `invalid load key, 'X'.`.
fn display_load_key(b: u8) -> String {
    if (0x20..=0x7e).contains(&b) && b != b'\'' && b != b'\\' {
        char::from(b).to_string()
    } else {
        format!("\\x{b:02x}")
    }
}

impl ErrorKind {
    /// The broad class of this error.
    pub fn category(&self) -> Category {
        match self {
            ErrorKind::ForbiddenGlobal { .. } => Category::Forbidden,
            ErrorKind::RanOutOfInput | ErrorKind::Truncated => Category::Truncated,
            ErrorKind::NoPersistentLoad
            | ErrorKind::NoBuffers
            | ErrorKind::NotEnoughBuffers
            | ErrorKind::UnregisteredExtension(_)
            | ErrorKind::Recursive(_)
            | ErrorKind::Unsupported(_) => Category::Unsupported,
            ErrorKind::LimitExceeded { .. } => Category::Limit,
            ErrorKind::Io(_) => Category::Io,
            _ => Category::Malformed,
        }
    }

    /// The exception class CPython 3.11 raises for the same input, where it fails too.
    pub fn py_exception(&self) -> PyException {
        match self {
            ErrorKind::RanOutOfInput => PyException::EOFError,
            ErrorKind::UnsupportedProtocol(_) | ErrorKind::UnregisteredExtension(_) => {
                PyException::ValueError
            }
            ErrorKind::Unhashable(_) => PyException::TypeError,
            ErrorKind::LimitExceeded { .. } => PyException::MemoryError,
            ErrorKind::Python { exception, .. } => *exception,
            ErrorKind::Io(_) => PyException::OSError,
            _ => PyException::UnpicklingError,
        }
    }
}

impl Error {
    /// Builds an error of `kind` at `offset`, under `opcode`.
    #[cold]
    pub(crate) fn new(kind: ErrorKind, offset: Option<u64>, opcode: Option<Opcode>) -> Error {
        Error(Box::new(Inner {
            kind,
            offset,
            opcode,
        }))
    }

    /// Builds an error with no position yet; the machine adds it.
    #[cold]
    pub(crate) fn bare(kind: ErrorKind) -> Error {
        Error::new(kind, None, None)
    }

    /// A `Python` error of the given exception class and message.
    #[cold]
    pub(crate) fn py(exception: PyException, message: impl Into<String>) -> Error {
        Error::bare(ErrorKind::Python {
            exception,
            message: message.into(),
        })
    }

    /// A limit error.
    #[cold]
    pub(crate) fn limit(limit: &'static str, value: u64) -> Error {
        Error::bare(ErrorKind::LimitExceeded { limit, value })
    }

    /// Fills in the offset and opcode if they are not set yet.
    #[cold]
    pub(crate) fn at(mut self, offset: u64, opcode: Option<Opcode>) -> Error {
        if self.0.offset.is_none() {
            self.0.offset = Some(offset);
            if self.0.opcode.is_none() {
                self.0.opcode = opcode;
            }
        }
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// Byte offset (from the start of the input, or of the stream for an
    /// [`Unpickler`](crate::Unpickler) over a reader) of the opcode that failed, or of the end of
    /// the input for a truncated pickle.
    pub fn offset(&self) -> Option<u64> {
        self.0.offset
    }

    /// The opcode being executed when decoding failed, if any.
    pub fn opcode(&self) -> Option<Opcode> {
        self.0.opcode
    }

    /// The broad class of this error.
    pub fn category(&self) -> Category {
        self.0.kind.category()
    }

    /// The exception class CPython 3.11 raises for the same input.
    pub fn py_exception(&self) -> PyException {
        self.0.kind.py_exception()
    }

    /// Whether a global was refused by the [`FindClass`](crate::FindClass) policy.
    pub fn is_forbidden(&self) -> bool {
        self.category() == Category::Forbidden
    }

    /// Whether the bytes are not a valid pickle (or describe a value CPython refuses to build).
    pub fn is_malformed(&self) -> bool {
        self.category() == Category::Malformed
    }

    /// Whether the input ended before the pickle did.
    pub fn is_eof(&self) -> bool {
        self.category() == Category::Truncated
    }

    /// Whether the pickle needs a hook or feature that was not configured or is not supported.
    pub fn is_unsupported(&self) -> bool {
        self.category() == Category::Unsupported
    }

    /// Whether a [`Limits`](crate::Limits) bound was reached.
    pub fn is_limit(&self) -> bool {
        self.category() == Category::Limit
    }

    /// Whether reading the underlying stream failed.
    pub fn is_io(&self) -> bool {
        self.category() == Category::Io
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.kind)?;
        match (self.0.opcode, self.0.offset) {
            (Some(op), Some(off)) => write!(f, " ({} at offset {off})", op.name()),
            (None, Some(off)) => write!(f, " (at offset {off})"),
            _ => Ok(()),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({:?}: {self})", self.category())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0.kind {
            ErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::bare(ErrorKind::Io(e))
    }
}
