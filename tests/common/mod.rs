//! Shared helpers for the integration tests: the canonical form shared with the Python
//! generators (`tests/differential/canon.py`), hex decoding, a tiny JSON-lines reader, and
//! running `python3`.

#![allow(dead_code)]

use restricted_unpickler::Value;

/// The canonical, type-exact text form of a value, identical to `canon()` in
/// `tests/differential/canon.py`. Iterative, so deep values are fine.
pub fn canon(v: &Value) -> String {
    enum Task<'a> {
        Value(&'a Value),
        Text(&'static str),
        Owned(String),
    }
    let mut out = String::new();
    let mut stack = vec![Task::Value(v)];
    while let Some(task) = stack.pop() {
        let v = match task {
            Task::Text(t) => {
                out.push_str(t);
                continue;
            }
            Task::Owned(t) => {
                out.push_str(&t);
                continue;
            }
            Task::Value(v) => v,
        };
        match v {
            Value::None => out.push('N'),
            Value::Bool(b) => out.push_str(if *b { "B1" } else { "B0" }),
            Value::Int(i) => {
                out.push('I');
                out.push_str(&i.to_bigint().to_string());
            }
            Value::Float(f) => out.push_str(&format!("F{:016x}", f.to_bits())),
            Value::Complex(c) => {
                out.push_str(&format!("C{:016x},{:016x}", c.re.to_bits(), c.im.to_bits()))
            }
            Value::Str(s) => {
                out.push('S');
                out.push_str(&hex(s.as_encoded_bytes()));
            }
            Value::Bytes(b) => {
                out.push('Y');
                out.push_str(&hex(b));
            }
            Value::ByteArray(b) => {
                out.push('A');
                out.push_str(&hex(b));
            }
            Value::List(l) => seq(&mut stack, "L[", l),
            Value::Tuple(t) => seq(&mut stack, "T[", t),
            Value::Dict(d) => {
                stack.push(Task::Text("}"));
                let pairs: Vec<_> = d.iter().collect();
                for (i, (k, val)) in pairs.iter().enumerate().rev() {
                    stack.push(Task::Value(val));
                    stack.push(Task::Text(":"));
                    stack.push(Task::Value(k));
                    if i > 0 {
                        stack.push(Task::Text(","));
                    }
                }
                stack.push(Task::Text("D{"));
            }
            Value::Set(s) | Value::FrozenSet(s) => {
                let tag = if v.is_set() { "E{" } else { "Z{" };
                let mut members: Vec<String> = s.iter().map(canon).collect();
                members.sort();
                out.push_str(tag);
                out.push_str(&members.join(","));
                out.push('}');
            }
            other => {
                stack.push(Task::Owned(format!("?{}", other.type_name())));
            }
        }
    }
    return out;

    fn seq<'a>(stack: &mut Vec<Task<'a>>, open: &'static str, items: &'a [Value]) {
        stack.push(Task::Text("]"));
        for (i, item) in items.iter().enumerate().rev() {
            stack.push(Task::Value(item));
            if i > 0 {
                stack.push(Task::Text(","));
            }
        }
        stack.push(Task::Text(open));
    }
}

/// Pushes the items of a list, tuple, set or frozenset, or the keys and values of a dict, onto
/// `stack` (for walks over a value without recursion).
pub fn push_children<'a>(v: &'a Value, stack: &mut Vec<&'a Value>) {
    match v {
        Value::List(l) => stack.extend(l.iter()),
        Value::Tuple(t) => stack.extend(t.iter()),
        Value::Dict(d) => {
            for (k, x) in d.iter() {
                stack.push(k);
                stack.push(x);
            }
        }
        Value::Set(s) | Value::FrozenSet(s) => stack.extend(s.iter()),
        _ => {}
    }
}

/// Lowercase hex of bytes.
pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

/// Bytes from lowercase/uppercase hex.
pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// A string field of a flat JSON object line (enough for the generators' output: values are
/// strings, numbers or flat objects; strings may contain JSON escapes).
pub fn json_str(line: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\": \"");
    let start = line.find(&pat)? + pat.len();
    let mut out = String::new();
    let mut chars = line[start..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let code: String = chars.by_ref().take(4).collect();
                    let cp = u32::from_str_radix(&code, 16).ok()?;
                    if (0xd800..0xdc00).contains(&cp) {
                        // A surrogate pair escape.
                        let rest: String = chars.by_ref().take(6).collect();
                        let lo = u32::from_str_radix(rest.get(2..)?, 16).ok()?;
                        let full = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        out.push(char::from_u32(full)?);
                    } else {
                        out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                    }
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// Runs `python3` with `args` and returns what it printed; fails the test (with Python's
/// stderr) if it cannot run or exits with an error.
pub fn python3(args: &[&str]) -> String {
    let out = std::process::Command::new("python3")
        .args(args)
        .output()
        .expect("python3 must be installed to run this test");
    assert!(
        out.status.success(),
        "python3 {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("python3 prints ASCII")
}

/// Starts `tests/differential/replay_worker.py` (CPython's `pickle.loads` under the policy of
/// `restricted_loads`: one hex pickle a line in, one JSON answer a line out), its stdin and
/// stdout piped, its stderr (the noise of CPython's finalizers) dropped.
pub fn spawn_replay_worker() -> std::process::Child {
    use std::process::{Command, Stdio};
    Command::new("python3")
        .arg("tests/differential/replay_worker.py")
        .env("PYTHONHASHSEED", "0")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("python3 must be installed to run this test")
}

/// Fails with the number of `failures` and the first 40 of them, one per line, after `what`
/// (`"calls differ from CPython"`).
pub fn assert_no_failures(failures: &[String], what: &str) {
    assert!(
        failures.is_empty(),
        "{} {what}:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
