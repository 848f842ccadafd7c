//! Fixtures written by CPython 3.11 (`tests/fixtures/generate.py`): every safe builtin type and
//! edge case, in protocols 0–5. Each `NAME.pN.pickle` has a `NAME.pN.expected` with CPython's
//! `repr()` of the value (line 1) and the canonical form of `pickle.loads(data)` (line 2).
//! Committed, so this test needs no Python.

mod common;

use std::path::Path;

use common::{canon, push_children};
use restricted_unpickler::{Value, restricted_loads};

fn has_multi_member_set(v: &Value) -> bool {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Set(s) | Value::FrozenSet(s) if s.len() > 1 => return true,
            _ => push_children(v, &mut stack),
        }
    }
    false
}

#[test]
fn every_fixture_decodes_like_cpython() {
    let dir = Path::new("tests/fixtures/values");
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pickle"))
        .collect();
    names.sort();
    assert!(names.len() >= 300, "only {} fixtures", names.len());
    let mut failures = Vec::new();
    for path in &names {
        let data = std::fs::read(path).expect("read");
        let expected = std::fs::read_to_string(path.with_extension("expected")).expect("expected");
        let mut lines = expected.lines();
        let (want_repr, want_canon) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""));
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        match restricted_loads(&data) {
            Err(e) => failures.push(format!("{name}: {e}")),
            Ok(v) => {
                let got = canon(&v);
                if got != want_canon {
                    failures.push(format!("{name}: canon {got} != {want_canon}"));
                }
                let repr = v.to_string();
                if repr != want_repr && !has_multi_member_set(&v) {
                    failures.push(format!("{name}: repr {repr} != {want_repr}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}
