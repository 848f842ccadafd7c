//! `restricted_loads` on arbitrary bytes: never panics, hangs, overflows the stack or allocates
//! without bound; a decoded value formats (bounded) without trouble. The same bytes decoded as
//! a shared input (`restricted_loads_shared`, payloads lent as windows) give a strictly equal
//! value, or the same error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use restricted_unpickler::{restricted_loads, restricted_loads_shared};
use restricted_unpickler_fuzz::{format_bounded, format_error};

fuzz_target!(|data: &[u8]| {
    let plain = restricted_loads(data);
    let shared = restricted_loads_shared(data.to_vec());
    match (&plain, &shared) {
        (Ok(a), Ok(b)) => assert!(a.strict_eq(b), "shared input decodes differently"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("shared input: {plain:?} against {shared:?}"),
    }
    match plain {
        Ok(v) => format_bounded(&v),
        Err(e) => format_error(&e),
    }
});
