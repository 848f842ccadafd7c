//! CPython's own unpickling cases (pickletester.py inputs and the edge-case corpus of
//! cpython-semantics.md §3), run through CPython 3.11's `pickle.loads` with a restricted
//! `find_class` by `tests/fixtures/cpython_cases.py`, which wrote `cpython_cases.json`.
//!
//! For every case CPython accepts, we must return the same value (canonical form), unless the
//! case is one where we are deliberately stricter (listed below, each documented in the README).
//! For every case CPython rejects, we must reject too, with the same exception class where the
//! classes are comparable.

mod common;

use common::{canon, unhex};
use restricted_unpickler::{PyException, Unpickler, Value};

/// Cases CPython accepts that we refuse on purpose (README: "Stricter than CPython").
const STRICTER: &[&str] = &[
    // INT/LONG/PUT: C-only strtol quirks (octal, NUL-terminated).
    "e1_int_06",
    "e1_int_07",
    "e1_int_19",
    "e1_int_30",
    "e6_memo_15",
    // Container opcodes on non-containers, even with zero items (CVE-2026-24747).
    "e8_containers_13",
    "e8_containers_14",
    "x_setitem_on_list",
    "x_setitems_on_list",
    // PEP 3154 framing (cpython#154848).
    "e13_frame_02",
    "e13_frame_03",
    "e13_frame_04",
    "e13_frame_05",
    "x_frame_straddle_binunicode",
    "x_frame_straddle_global",
    // Builtin calls only for data-constructor shapes.
    "x_reduce_complex_of_str",
    "x_reduce_int_kwargs_via_newobj_ex",
    "x_codecs_encode_rot13",
    "x_codecs_encode_utf16",
    "x_codecs_encode_hex_bytes",
    "x_codecs_encode_zlib",
    "x_reduce_str_of_list",
    "x_short_binstring_codec_not_implemented",
    "x_reduce_bytes_codec_not_implemented",
    "x_reduce_str_codec_not_implemented",
    // An ordered result of a set's members: CPython's order is its hash table's.
    "x_reduce_tuple_of_set_3",
    "x_reduce_list_of_frozenset_2",
    "x_reduce_dict_of_set_of_pairs",
    "x_reduce_bytes_of_set",
    // Cycles are not represented.
    "emit_cyclic_list_p0",
    "emit_cyclic_list_p1",
    "emit_cyclic_list_p2",
    "emit_cyclic_list_p3",
    "emit_cyclic_list_p4",
    "emit_cyclic_list_p5",
    "emit_cyclic_dict_p0",
    "emit_cyclic_dict_p1",
    "emit_cyclic_dict_p2",
    "emit_cyclic_dict_p3",
    "emit_cyclic_dict_p4",
    "emit_cyclic_dict_p5",
    "emit_cyclic_tuple_p0",
    "emit_cyclic_tuple_p1",
    "emit_cyclic_tuple_p2",
    "emit_cyclic_tuple_p3",
    "emit_cyclic_tuple_p4",
    "emit_cyclic_tuple_p5",
];

/// Stricter cases that are calls CPython would evaluate and this crate deliberately does not:
/// they must fail as unsupported (`Error::is_unsupported`), not as malformed input.
const NOT_EVALUATED: &[&str] = &[
    "x_reduce_complex_of_str",
    "x_reduce_int_kwargs_via_newobj_ex",
    "x_reduce_str_of_list",
    "x_codecs_encode_rot13",
    "x_codecs_encode_utf16",
    "x_short_binstring_codec_not_implemented",
    "x_reduce_bytes_codec_not_implemented",
    "x_reduce_str_codec_not_implemented",
    "x_reduce_tuple_of_set_3",
    "x_reduce_list_of_frozenset_2",
    "x_reduce_dict_of_set_of_pairs",
    "x_reduce_bytes_of_set",
];

/// Failures whose message (without our ` (OPCODE at offset N)`) must be CPython's, word for
/// word: the argument checks and encoding errors of the builtin calls, the int text of
/// `LONG`/`GET`/`PUT`, the UTF-8 errors of `GLOBAL` names.
const SAME_MESSAGE: &[&str] = &[
    "x_codecs_encode_bad_type",
    "x_reduce_str_of_str_with_encoding",
    "x_reduce_str_of_list_with_encoding",
    "x_reduce_str_encoding_not_str",
    "x_reduce_str_encoding_nul",
    "x_reduce_complex_str_and_second",
    "x_reduce_complex_second_str",
    "x_reduce_complex_of_list",
    "x_reduce_complex_second_list",
    "x_reduce_bytes_encoding_not_str",
    "x_reduce_bytes_encoding_nul",
    "x_reduce_bytes_errors_not_str",
    "x_reduce_bytes_errors_nul",
    "x_reduce_bytes_of_bytes_with_encoding",
    "x_reduce_bytes_of_none_encoding",
    "x_reduce_bytearray_of_int_with_encoding",
    "x_reduce_bytes_ascii_run",
    "x_reduce_bytes_ascii_one",
    "x_reduce_bytes_ascii_above_latin1",
    "x_reduce_bytes_ascii_astral",
    "x_reduce_bytes_latin1_run",
    "x_reduce_bytes_latin1_astral",
    "x_reduce_bytes_utf8_surrogate",
    "x_reduce_bytes_utf8_surrogate_run",
    "x_codecs_encode_latin1_unencodable",
    "x_codecs_encode_nul_in_encoding",
    "x_codecs_encode_nul_in_errors",
    "x_codecs_encode_nul_unknown_codec",
    "x_codecs_encode_encoding_not_str",
    "x_codecs_encode_errors_not_str",
    "x_codecs_encode_four_args",
    "x_codecs_encode_no_args",
    "x_long_invalid",
    "x_long_invalid_with_l",
    "x_long_invalid_hex",
    "x_long_invalid_signed_bin",
    "x_long_invalid_octal_l",
    "x_long_invalid_utf8",
    "x_long_invalid_not_utf8",
    "x_long_only_space",
    "x_get_invalid",
    "x_get_invalid_quote",
    "x_get_invalid_long_text",
    "x_get_invalid_cut_utf8",
    "x_get_invalid_not_utf8",
    "x_put_invalid_empty_stack",
    "x_put_invalid_after_mark",
    "x_put_invalid",
    "x_global_module_surrogate",
    "x_global_module_cut",
    "x_global_name_cut_two_bytes",
    "x_global_module_invalid_start",
    "x_inst_module_not_ascii",
    "x_codecs_encode_unknown_codec",
    "x_codecs_encode_unknown_codec_int",
    "x_reduce_bytes_unknown_codec",
    "x_reduce_str_unknown_codec",
    "x_short_binstring_unknown_codec",
    "x_reduce_bytes_errors_unknown_needed",
    "x_codecs_encode_surrogate_in_encoding",
    "x_reduce_bytes_surrogate_in_encoding",
    "x_reduce_bytes_surrogates_in_errors",
    "x_reduce_str_surrogate_and_nul_in_encoding",
];

/// Cases where our (accepted) result differs from CPython's, documented in the README.
const KNOWN_DIFFERENT: &[&str] = &[
    // One NaN object used twice as a key (via the memo): CPython's identity check merges them;
    // floats have no identity here, and NaN != NaN.
    "x_same_nan_key_twice",
];

fn run(case: &serde_json::Value) -> Result<Value, restricted_unpickler::Error> {
    let data = unhex(case["pickle"].as_str().expect("pickle"));
    let mut u = Unpickler::from_slice(&data);
    if let Some(opts) = case.get("options") {
        if let Some(e) = opts.get("encoding").and_then(|v| v.as_str()) {
            u = u.encoding(e);
        }
        if let Some(e) = opts.get("errors").and_then(|v| v.as_str()) {
            u = u.errors(e);
        }
        if let Some(f) = opts.get("fix_imports").and_then(|v| v.as_bool()) {
            u = u.fix_imports(f);
        }
        if let Some(b) = opts.get("buffers").and_then(|v| v.as_array()) {
            u = u.buffers(
                b.iter()
                    .map(|h| Value::bytes(&unhex(h.as_str().unwrap_or("")))),
            );
        }
    }
    u.load()
}

#[test]
fn cpython_cases_match() {
    let text = std::fs::read_to_string("tests/fixtures/cpython_cases.json").expect("cases");
    let cases: Vec<serde_json::Value> = serde_json::from_str(&text).expect("json");
    assert!(cases.len() > 250, "too few cases: {}", cases.len());
    let mut failures = Vec::new();
    let mut stricter_seen = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap_or("?");
        let outcome = case["outcome"].as_str().unwrap_or("?");
        let result = run(case);
        match (outcome, &result) {
            ("ok", Ok(v)) => {
                let want = case["canon"].as_str().unwrap_or("");
                if canon(v) != want && !KNOWN_DIFFERENT.contains(&name) {
                    failures.push(format!("{name}: value {} != CPython {}", canon(v), want));
                }
            }
            ("ok", Err(e)) => {
                if NOT_EVALUATED.contains(&name) && !e.is_unsupported() {
                    failures.push(format!("{name}: not evaluated, but fails as {e:?}"));
                }
                if STRICTER.contains(&name) {
                    stricter_seen.push(name);
                } else {
                    failures.push(format!(
                        "{name}: we fail ({e}) where CPython returns {}",
                        case["repr"].as_str().unwrap_or("")
                    ));
                }
            }
            // CPython ran out of memory on a valid pickle that we decode in bounded memory.
            // Or went past its recursion limit comparing keys nested a thousand levels deep,
            // which we compare without recursion.
            ("error", Ok(_))
                if case["error_type"] == "MemoryError"
                    || case["error_type"] == "RecursionError" => {}
            ("error", Ok(v)) => failures.push(format!(
                "{name}: we return {v} where CPython raises {}({})",
                case["error_type"].as_str().unwrap_or(""),
                case["error_message"].as_str().unwrap_or("")
            )),
            ("error", Err(e)) => {
                let want = case["error_type"].as_str().unwrap_or("");
                let got = e.py_exception().name();
                let comparable = !matches!(want, "MemoryError" | "IndexError")
                    && e.py_exception() != PyException::MemoryError
                    && !e.is_forbidden()
                    && !e.is_unsupported();
                if comparable && want != got {
                    failures.push(format!(
                        "{name}: we raise {got}({e}) where CPython raises {want}({})",
                        case["error_message"].as_str().unwrap_or("")
                    ));
                }
                let message = case["error_message"].as_str().unwrap_or("");
                if SAME_MESSAGE.contains(&name) && (want != got || e.kind().to_string() != message)
                {
                    failures.push(format!(
                        "{name}: we raise {got}({}) where CPython raises {want}({message})",
                        e.kind()
                    ));
                }
            }
            // CPython crashed or hung: anything but a panic is fine.
            _ => {}
        }
    }
    for s in NOT_EVALUATED.iter().chain(SAME_MESSAGE) {
        assert!(
            cases.iter().any(|c| c["name"] == *s),
            "{s} is not a case any more"
        );
    }
    for s in STRICTER {
        assert!(
            stricter_seen.contains(s),
            "{s} is listed as stricter but we now accept it (or it is gone)"
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from CPython:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
