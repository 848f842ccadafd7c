//! Helpers for the unit tests.

/// A xorshift64 generator of pseudo-random `u64`s from `seed` (not zero): reproducible inputs
/// for the randomized unit tests.
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}
