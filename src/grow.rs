//! Growing small vectors by a fresh allocation instead of `realloc`.
//!
//! A container filled one item at a time (protocol 0 and 1 `SETITEM` and `APPEND`, a
//! recorded object's items) grows its vectors by doubling. `Vec` grows with `realloc`, and
//! glibc's `realloc` of a small block that cannot grow in place takes its new block from the
//! bins behind its per-thread cache, never from the cache itself: the slow path of `malloc`
//! every time (about 350 instructions per growth, measured with callgrind on `small.p0.pkl`,
//! against about 100 for a cached `malloc`, a copy of a few dozen bytes and a cached `free`).
//! So while the new block is small, a fresh vector takes the items over and the old block
//! is freed; larger blocks still use `realloc`, which for a block in its own mapping moves
//! pages instead of copying them.

/// The largest block, in bytes, grown by a fresh allocation (glibc's per-thread cache holds
/// blocks up to 1,032 bytes).
const FRESH_MAX: usize = 1024;

/// Makes room for `additional` more items, doubling the capacity (at least 4 items), as
/// `Vec::reserve` does.
#[inline]
pub(crate) fn reserve<T>(v: &mut Vec<T>, additional: usize) {
    if v.capacity() - v.len() < additional {
        let need = v.len().saturating_add(additional);
        grow_to(v, need.max(v.capacity().saturating_mul(2)).max(4));
    }
}

/// Makes room for exactly `additional` more items, as `Vec::reserve_exact` does.
#[inline]
pub(crate) fn reserve_exact<T>(v: &mut Vec<T>, additional: usize) {
    if v.capacity() - v.len() < additional {
        grow_to(v, v.len().saturating_add(additional));
    }
}

/// Appends `item`, growing as [`reserve`] does.
#[inline]
pub(crate) fn push<T>(v: &mut Vec<T>, item: T) {
    reserve(v, 1);
    v.push(item);
}

/// Grows `v` to a capacity of `cap` items (more than it has).
#[cold]
fn grow_to<T>(v: &mut Vec<T>, cap: usize) {
    match cap.checked_mul(size_of::<T>()) {
        Some(bytes) if bytes <= FRESH_MAX && v.capacity() > 0 => {
            let mut fresh = Vec::with_capacity(cap);
            fresh.append(v);
            *v = fresh;
        }
        _ => v.reserve_exact(cap.saturating_sub(v.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::{push, reserve, reserve_exact};

    #[test]
    fn grows_like_vec_and_keeps_items() {
        let mut v: Vec<u64> = Vec::new();
        for i in 0..1000 {
            push(&mut v, i);
            assert!(v.capacity() >= v.len());
        }
        assert_eq!(v, (0..1000).collect::<Vec<_>>());
        // Doubling from 4: 4, 8, ..., 1024.
        assert_eq!(v.capacity(), 1024);
        let mut w: Vec<String> = vec!["a".into()];
        reserve(&mut w, 10);
        assert!(w.capacity() >= 11);
        assert_eq!(w, ["a"]);
        reserve(&mut w, 0);
        assert_eq!(w, ["a"]);
        let mut x: Vec<u8> = vec![1, 2];
        reserve_exact(&mut x, 3);
        assert_eq!(x.capacity(), 5);
        assert_eq!(x, [1, 2]);
    }
}
