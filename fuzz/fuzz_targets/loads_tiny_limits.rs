//! Every limit small, so every limit check (depth, stack, marks, memo, payload, digits, long
//! bytes, alloc and work budgets) is hit constantly: a limit must fail cleanly, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use restricted_unpickler::Unpickler;
use restricted_unpickler_fuzz::{
    allowlist, format_bounded, format_error, permissive_policy, tiny_limits,
};

fuzz_target!(|data: &[u8]| {
    // The policy is chosen by the input length, so seed pickles stay intact.
    let u = Unpickler::from_slice(data).limits(tiny_limits());
    let mut u = match data.len() % 3 {
        0 => u,
        1 => u.find_class(allowlist()),
        _ => u.find_class(permissive_policy),
    };
    match u.load() {
        Ok(v) => format_bounded(&v),
        Err(e) => format_error(&e),
    }
});
