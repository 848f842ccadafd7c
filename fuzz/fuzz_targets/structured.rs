//! Structure-aware: an `Arbitrary` sequence of opcode-level operations, serialized into
//! valid-ish pickle bytes (correct FRAME lengths, real global names, memo indices in range)
//! and decoded under the default policy, an allowlist and the permissive policy.
//! `restricted_loads` (which takes the lean path for small plain pickles) and the full
//! machine (`Unpickler::from_shared`, which never does) give a strictly equal value, or the
//! same error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use restricted_unpickler::{SharedInput, Unpickler, restricted_loads};
use restricted_unpickler_fuzz::{Op, allowlist, encode, exercise, format_error, permissive};

fuzz_target!(|ops: Vec<Op>| {
    let data = encode(&ops);
    let lean = restricted_loads(&data);
    let full = Unpickler::from_shared(&SharedInput::from(data.clone())).load();
    match (&lean, &full) {
        (Ok(a), Ok(b)) => assert!(a.strict_eq(b), "lean path decodes differently"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("lean path: {lean:?} against {full:?}"),
    }
    for r in [
        lean,
        Unpickler::from_slice(&data).find_class(allowlist()).load(),
        permissive(&data).load(),
    ] {
        match r {
            Ok(v) => exercise(&v),
            Err(e) => format_error(&e),
        }
    }
});
