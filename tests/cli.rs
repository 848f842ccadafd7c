//! The `unpickle` example's contract: repr + newline on stdout and exit 0; `--quiet` prints
//! nothing; exit 1 forbidden global, 2 other invalid/unsupported, 3 limit, 4 I/O.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn exe() -> PathBuf {
    // tests run from target/<profile>/deps; examples are built next to it by `cargo test`.
    let mut p = std::env::current_exe().expect("test exe");
    p.pop();
    if p.ends_with("deps") {
        p.pop();
    }
    p.join("examples")
        .join(format!("unpickle{}", std::env::consts::EXE_SUFFIX))
}

fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(exe())
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the unpickle example is built by `cargo test`");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.unwrap_or_default()).expect("write");
    drop(input);
    child.wait_with_output().expect("wait")
}

fn write_temp(name: &str, data: &[u8]) -> PathBuf {
    let p = std::env::temp_dir().join(format!("unpickle-test-{}-{name}", std::process::id()));
    std::fs::write(&p, data).expect("temp file");
    p
}

#[test]
fn sample_prints_cpython_repr() {
    let out = run(&["examples/data/sample.pkl"], None);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.starts_with("{'name': 'Zoë', 'id': 12345678901234567890, "));
    assert!(text.ends_with("'nested': {'ok': True, 'none': None, 'c': (1+2j)}}\n"));
}

#[test]
fn quiet_prints_nothing() {
    let out = run(&["--quiet", "examples/data/sample.pkl"], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

#[test]
fn stdin_is_read_with_dash() {
    let out = run(&["-"], Some(b"\x80\x04K\x07."));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"7\n");
}

#[test]
fn forbidden_global_exits_1() {
    let out = run(&["examples/data/evil.pkl"], None);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("global 'posix.system' is forbidden"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn allow_records_the_global() {
    // pickle.dumps(collections.OrderedDict, protocol=0)
    let p = write_temp("od.pkl", b"ccollections\nOrderedDict\np0\n.");
    let path = p.to_str().expect("path");
    assert_eq!(run(&[path], None).status.code(), Some(1));
    let out = run(&["--allow", "collections.OrderedDict", path], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"<global 'collections.OrderedDict'>\n");
    let out = run(&["--allow", "collections:OrderedDict", path], None);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn malformed_exits_2() {
    let out = run(&["-"], Some(b"\xff"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid load key, '\\xff'."));
    let out = run(&["-"], Some(b"\x80\x04\x8c\x05ab"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pickle data was truncated"));
}

#[test]
fn limit_exits_3() {
    // A LONG_BINPUT index above the default max_memo_index is fine (u32), so use depth:
    // 20,000 nested lists is deeper than the default max_depth of 10,000.
    let mut data = b"\x80\x02".to_vec();
    data.extend(std::iter::repeat_n(b']', 20_000));
    data.extend(std::iter::repeat_n(b'a', 19_999));
    data.push(b'.');
    let out = run(&["-"], Some(&data));
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_depth"));
}

#[test]
fn missing_file_exits_4() {
    let out = run(&["/nonexistent/file.pkl"], None);
    assert_eq!(out.status.code(), Some(4));
}

#[test]
fn bad_usage_exits_2() {
    assert_eq!(run(&[], None).status.code(), Some(2));
    assert_eq!(run(&["--allow"], None).status.code(), Some(2));
    assert_eq!(run(&["--allow", "nodot", "x"], None).status.code(), Some(2));
}
