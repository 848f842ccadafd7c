//! Structure-aware: an `Arbitrary` sequence of opcode-level operations, serialized into
//! valid-ish pickle bytes (correct FRAME lengths, real global names, memo indices in range)
//! and decoded under the default policy, an allowlist and the permissive policy.
#![no_main]

use libfuzzer_sys::fuzz_target;
use restricted_unpickler::{Unpickler, restricted_loads};
use restricted_unpickler_fuzz::{Op, allowlist, encode, exercise, format_error, permissive};

fuzz_target!(|ops: Vec<Op>| {
    let data = encode(&ops);
    for r in [
        restricted_loads(&data),
        Unpickler::from_slice(&data).find_class(allowlist()).load(),
        permissive(&data).load(),
    ] {
        match r {
            Ok(v) => exercise(&v),
            Err(e) => format_error(&e),
        }
    }
});
