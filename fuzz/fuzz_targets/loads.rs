//! `restricted_loads` on arbitrary bytes: never panics, hangs, overflows the stack or allocates
//! without bound; a decoded value formats (bounded) without trouble.
#![no_main]

use libfuzzer_sys::fuzz_target;
use restricted_unpickler::restricted_loads;
use restricted_unpickler_fuzz::{format_bounded, format_error};

fuzz_target!(|data: &[u8]| {
    match restricted_loads(data) {
        Ok(v) => format_bounded(&v),
        Err(e) => format_error(&e),
    }
});
