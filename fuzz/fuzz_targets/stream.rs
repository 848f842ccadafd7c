//! Differential: the slice reader and the stream reader (default buffer, and a tiny buffer
//! that splits every read) must agree on every `load()` of the same input: same `Ok`/`Err`,
//! same error category, same value (repr) and the same position after each `Ok`.
#![no_main]

use std::io::{BufReader, Cursor};

use libfuzzer_sys::fuzz_target;
use restricted_unpickler::{Category, Error, Unpickler, Value};
use restricted_unpickler_fuzz::repr;

/// What one `load()` gave, in comparable form.
#[derive(Debug, PartialEq)]
enum Outcome {
    Ok { repr: (String, bool), pos: u64 },
    Err(Category),
}

fn outcome(r: Result<Value, Error>, pos: u64) -> Outcome {
    match r {
        Ok(v) => Outcome::Ok {
            repr: repr(&v),
            pos,
        },
        Err(e) => Outcome::Err(e.category()),
    }
}

fuzz_target!(|data: &[u8]| {
    // The tiny buffer's size comes from the input length, so seed pickles stay intact.
    let cap = data.len() % 16 + 1;
    let mut slice = Unpickler::from_slice(data);
    let mut stream = Unpickler::new(Cursor::new(data));
    let mut tiny = Unpickler::from_bufread(BufReader::with_capacity(cap, Cursor::new(data)));
    for i in 0..16 {
        let a = outcome(slice.load(), slice.position());
        let b = outcome(stream.load(), stream.position());
        let c = outcome(tiny.load(), tiny.position());
        assert_eq!(a, b, "load #{i}: slice vs stream reader");
        assert_eq!(a, c, "load #{i}: slice vs a {cap}-byte-buffered stream");
        if matches!(a, Outcome::Err(_)) {
            break;
        }
    }
});
