//! Every global allowed (recorded), plus persistent_load, out-of-band buffers, an extension
//! registry and latin1: reaches the object paths (REDUCE, NEWOBJ(_EX), OBJ, INST, BUILD,
//! APPENDS/SETITEMS on objects). Each pickle of the input is loaded in turn (the memo persists).
#![no_main]

use libfuzzer_sys::fuzz_target;
use restricted_unpickler_fuzz::{format_bounded, format_error, permissive};

fuzz_target!(|data: &[u8]| {
    let mut u = permissive(data);
    for _ in 0..4 {
        match u.load() {
            Ok(v) => format_bounded(&v),
            Err(e) => {
                format_error(&e);
                break;
            }
        }
    }
});
