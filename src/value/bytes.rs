//! [`Bytes`]: the contents of a `bytes` or `bytearray`, owned or a window of a shared input.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// Pickle bytes that decoded `bytes` values may share instead of copying: the input of
/// [`restricted_loads_shared`](crate::restricted_loads_shared) and
/// [`Unpickler::from_shared`](crate::Unpickler::from_shared). Cloning is O(1).
///
/// Made from a `Vec<u8>` or a `Box<[u8]>` (no copy), a `&'static [u8]`, an `Arc<[u8]>`, or an
/// `Arc` of any byte container (`Arc<Vec<u8>>`, a memory map…), whose `as_ref()` must give the
/// same bytes every time it is called (every type of the standard library does).
///
/// ```
/// use std::sync::Arc;
/// use restricted_unpickler::SharedInput;
/// let a = SharedInput::from(vec![1, 2, 3]);
/// let b = SharedInput::from(Arc::<[u8]>::from(&[1, 2, 3][..]));
/// assert_eq!(a.as_slice(), b.as_slice());
/// ```
#[derive(Clone)]
pub struct SharedInput(InputRepr);

#[derive(Clone)]
enum InputRepr {
    Slice(Arc<[u8]>),
    Container(Arc<dyn AsRef<[u8]> + Send + Sync>),
}

impl SharedInput {
    /// The bytes.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            InputRepr::Slice(b) => b,
            InputRepr::Container(c) => (**c).as_ref(),
        }
    }
}

impl From<Arc<[u8]>> for SharedInput {
    fn from(b: Arc<[u8]>) -> Self {
        SharedInput(InputRepr::Slice(b))
    }
}

impl<T: AsRef<[u8]> + Send + Sync + 'static> From<Arc<T>> for SharedInput {
    fn from(c: Arc<T>) -> Self {
        SharedInput(InputRepr::Container(c))
    }
}

impl From<Vec<u8>> for SharedInput {
    fn from(v: Vec<u8>) -> Self {
        SharedInput::from(Arc::new(v))
    }
}

impl From<Box<[u8]>> for SharedInput {
    fn from(b: Box<[u8]>) -> Self {
        SharedInput::from(Arc::new(b))
    }
}

impl From<&'static [u8]> for SharedInput {
    fn from(b: &'static [u8]) -> Self {
        SharedInput::from(Arc::new(b))
    }
}

impl fmt::Debug for SharedInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SharedInput({} bytes)", self.as_slice().len())
    }
}

/// The bytes of a `bytes` or `bytearray`, shared: cloning is O(1).
///
/// Decoded from a shared input ([`restricted_loads_shared`](crate::restricted_loads_shared),
/// [`Unpickler::from_shared`](crate::Unpickler::from_shared)), a large payload is a window of
/// that input rather than a copy, and keeps the whole input alive for as long as it lives
/// ([`Bytes::is_window`] tells; [`Bytes::detach`] copies it out).
///
/// ```
/// use restricted_unpickler::Bytes;
/// let b = Bytes::from(&b"abc"[..]);
/// assert_eq!(b.as_slice(), b"abc");
/// assert_eq!(&b[1..], b"bc");
/// assert!(!b.is_window());
/// ```
#[derive(Clone)]
pub struct Bytes(Repr);

#[derive(Clone)]
enum Repr {
    /// Bytes of their own.
    Owned(Arc<[u8]>),
    /// A window of a shared input (its own allocation holds the window, so this variant is
    /// one word and `Bytes` stays two).
    Window(Arc<Window>),
}

struct Window {
    input: SharedInput,
    start: usize,
    len: usize,
}

impl Bytes {
    /// How many holders share these bytes' allocation (tests of `Drop`).
    #[cfg(test)]
    pub(crate) fn alloc_refs(&self) -> usize {
        match &self.0 {
            Repr::Owned(a) => Arc::strong_count(a),
            Repr::Window(w) => Arc::strong_count(w),
        }
    }

    /// The bytes.
    #[inline]
    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            Repr::Owned(b) => b,
            Repr::Window(w) => w
                .input
                .as_slice()
                .get(w.start..w.start.saturating_add(w.len))
                .unwrap_or_default(),
        }
    }

    /// Whether these bytes are a window of a shared input (which they keep alive) rather than
    /// bytes of their own.
    pub fn is_window(&self) -> bool {
        matches!(self.0, Repr::Window(_))
    }

    /// Makes these bytes their own (a copy) if they are a window of a shared input, so they no
    /// longer keep that input alive. Other clones are not changed.
    pub fn detach(&mut self) {
        if self.is_window() {
            self.0 = Repr::Owned(Arc::from(self.as_slice()));
        }
    }

    /// The address of the shared storage (the same for every clone; identity for caches).
    pub(crate) fn addr(&self) -> usize {
        match &self.0 {
            Repr::Owned(b) => Arc::as_ptr(b) as *const u8 as usize,
            Repr::Window(w) => Arc::as_ptr(w) as usize,
        }
    }

    /// Bytes already shared (no copy).
    pub(crate) fn from_shared(b: Arc<[u8]>) -> Bytes {
        Bytes(Repr::Owned(b))
    }

    /// The window `start..start + len` of `input` (no copy), if `input` holds it.
    pub(crate) fn window(input: &SharedInput, start: usize, len: usize) -> Option<Bytes> {
        input.as_slice().get(start..start.checked_add(len)?)?;
        Some(Bytes(Repr::Window(Arc::new(Window {
            input: input.clone(),
            start,
            len,
        }))))
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl From<&[u8]> for Bytes {
    fn from(b: &[u8]) -> Self {
        Bytes(Repr::Owned(Arc::from(b)))
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(b: Vec<u8>) -> Self {
        Bytes(Repr::Owned(Arc::from(b)))
    }
}

impl PartialEq for Bytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Bytes {}

impl Hash for Bytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl PartialOrd for Bytes {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Bytes {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::repr::write_bytes_repr(f, "b", self.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_stay_two_words() {
        // A window must not make `Value` larger.
        assert_eq!(std::mem::size_of::<Bytes>(), 16);
    }

    #[test]
    fn a_window_is_its_part_of_the_input_and_keeps_it_alive() {
        let vec = Arc::new(b"0123456789".to_vec());
        let input = SharedInput::from(Arc::clone(&vec));
        let mut w = Bytes::window(&input, 2, 5).expect("inside");
        assert!(w.is_window());
        let owned = Bytes::from(&b"23456"[..]);
        assert!(w == owned && w.cmp(&owned) == Ordering::Equal);
        let hash = |b: &Bytes| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            b.hash(&mut h);
            h.finish()
        };
        assert_eq!(hash(&w), hash(&owned));
        assert_eq!(format!("{w:?}"), "b'23456'");
        let base = vec.as_ptr() as usize;
        assert_eq!(w.as_slice().as_ptr() as usize, base + 2);
        drop(input);
        assert_eq!(Arc::strong_count(&vec), 2, "the window keeps the input");
        assert_eq!(w.as_slice(), b"23456");
        w.detach();
        assert!(!w.is_window() && w.as_slice() == b"23456");
    }

    #[test]
    fn every_kind_of_input_is_its_bytes_without_a_copy() {
        static STATIC: [u8; 3] = [1, 2, 3];
        let vec = vec![1u8, 2, 3];
        let at = vec.as_ptr();
        assert_eq!(SharedInput::from(vec).as_slice().as_ptr(), at);
        let boxed: Box<[u8]> = Box::new([1, 2, 3]);
        let at = boxed.as_ptr();
        assert_eq!(SharedInput::from(boxed).as_slice().as_ptr(), at);
        assert_eq!(
            SharedInput::from(&STATIC[..]).as_slice().as_ptr(),
            STATIC.as_ptr()
        );
        let arc: Arc<[u8]> = Arc::from(&STATIC[..]);
        assert_eq!(
            SharedInput::from(Arc::clone(&arc)).as_slice().as_ptr(),
            arc.as_ptr()
        );
        assert_eq!(
            format!("{:?}", SharedInput::from(arc)),
            "SharedInput(3 bytes)"
        );
    }

    #[test]
    fn a_window_outside_the_input_is_refused() {
        let input = SharedInput::from(vec![0u8; 4]);
        assert!(Bytes::window(&input, 0, 4).is_some());
        assert!(Bytes::window(&input, 4, 0).is_some());
        assert!(Bytes::window(&input, 3, 2).is_none());
        assert!(Bytes::window(&input, usize::MAX, 2).is_none());
    }
}
