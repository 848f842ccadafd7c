//! Every operation on a decoded `Value` (permissive policy, so objects and globals appear):
//! Display/Debug (bounded), clone, `==`, `strict_eq`, `Hash`, indexing, accessors, iteration
//! and drop. All of them are iterative and must not overflow the stack or panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use restricted_unpickler_fuzz::{exercise, permissive};

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = permissive(data).load() {
        exercise(&v);
        drop(v);
    }
});
