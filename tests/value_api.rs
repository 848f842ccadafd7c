//! The `Value` API (serde_json's grammar), the `Unpickler` options, and error reporting.

mod common;

use std::collections::HashSet;

use restricted_unpickler::{
    Allowlist, Builtin, Category, Class, ErrorKind, Int, Limits, Opcode, PyException, PyStr,
    Unpickler, Value, restricted_loads,
};

fn load(data: &[u8]) -> Value {
    restricted_loads(data).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn accessors_and_type_names() {
    // pickle.dumps([None, True, 1, 2.5, 1j, 'é', b'b', bytearray(b'c'), (), {}, set(), frozenset(), 2**70], 4)
    let v = load(b"\x80\x04\x95P\x00\x00\x00\x00\x00\x00\x00]\x94(N\x88K\x01G@\x04\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x94\x8c\x07complex\x94\x93\x94G\x00\x00\x00\x00\x00\x00\x00\x00G?\xf0\x00\x00\x00\x00\x00\x00\x86\x94R\x94\x8c\x02\xc3\xa9\x94C\x01b\x94\x8c\x08builtins\x94\x8c\tbytearray\x94\x93\x94C\x01c\x94\x85\x94R\x94)}\x94\x8f\x94(\x91\x94\x8a\t\x00\x00\x00\x00\x00\x00\x00\x00@e.");
    let items = v.as_list().expect("list");
    let names: Vec<&str> = items.iter().map(Value::type_name).collect();
    assert_eq!(
        names,
        [
            "NoneType",
            "bool",
            "int",
            "float",
            "complex",
            "str",
            "bytes",
            "bytearray",
            "tuple",
            "dict",
            "set",
            "frozenset",
            "int"
        ]
    );
    assert!(v[0].is_none());
    assert_eq!(v[1].as_bool(), Some(true));
    assert_eq!(v[2].as_i64(), Some(1));
    assert_eq!(v[3].as_f64(), Some(2.5));
    assert_eq!(v[4].as_complex().map(|c| (c.re, c.im)), Some((0.0, 1.0)));
    assert_eq!(v[5].as_str(), Some("é"));
    assert_eq!(v[6].as_bytes(), Some(&b"b"[..]));
    assert!(v[7].is_bytearray());
    assert_eq!(v[7].as_bytes(), Some(&b"c"[..]));
    assert_eq!(v[12].as_i64(), None);
    assert_eq!(v[12].as_int().map(Int::bit_length), Some(71));
    assert_eq!(v[12].to_string(), "1180591620717411303424");
    assert_eq!(v.get(99), None);
    assert!(v[99].is_none(), "Index never panics");
    assert!(v["nope"].is_none());
    assert!(v[2][0].is_none());
}

#[test]
fn python_equality_and_hash_are_consistent() {
    let one = Value::from(1);
    let t = Value::Bool(true);
    let f = Value::from(1.0);
    assert_eq!(one, t);
    assert_eq!(one, f);
    assert_eq!(one, 1);
    assert_eq!(1.0, one);
    assert!(one == true);
    assert!(!one.strict_eq(&t));
    assert!(!one.strict_eq(&f));
    let h = |v: &Value| {
        use std::hash::{BuildHasher, RandomState};
        RandomState::new().hash_one(v)
    };
    let _ = HashSet::<u64>::new();
    let state = std::hash::RandomState::new();
    let hs = |v: &Value| std::hash::BuildHasher::hash_one(&state, v);
    assert_eq!(hs(&one), hs(&t), "equal values hash equal");
    assert_eq!(hs(&one), hs(&f));
    assert_eq!(
        hs(&Value::bytes(b"x")),
        hs(&Value::ByteArray(b"x"[..].into()))
    );
    let _ = h;
    assert_ne!(Value::from(f64::NAN), Value::from(f64::NAN));
    assert!(Value::from(f64::NAN).strict_eq(&Value::from(f64::NAN)));
    assert_eq!(Value::from(0.0), Value::from(-0.0));
    assert!(!Value::from(0.0).strict_eq(&Value::from(-0.0)));
    // 2**53 + 1 is not equal to the float 2**53.
    assert_ne!(
        Value::from((1i64 << 53) + 1),
        Value::from((1i64 << 53) as f64)
    );
    assert_eq!(Value::bytes(b"a"), Value::ByteArray(b"a"[..].into()));
}

#[test]
fn dict_keeps_first_key_and_last_value() {
    // (K\x01K\x02\x88K\x03d : {1: 2, True: 3} -> {1: 3}
    let v = load(b"(K\x01K\x02\x88K\x03d.");
    let d = v.as_dict().expect("dict");
    assert_eq!(d.len(), 1);
    let (k, val) = d.iter().next().expect("one item");
    assert!(k.strict_eq(&Value::from(1)));
    assert_eq!(*val, 3);
    assert_eq!(d.get(&Value::Bool(true)), Some(&Value::from(3)));
    assert_eq!(d.get(&Value::from(1.0)), Some(&Value::from(3)));
    assert_eq!(v.to_string(), "{1: 3}");
    // {0.0: 'a', -0.0: 'b'} -> {0.0: 'b'}
    let v = load(b"(G\x00\x00\x00\x00\x00\x00\x00\x00X\x01\x00\x00\x00aG\x80\x00\x00\x00\x00\x00\x00\x00X\x01\x00\x00\x00bd.");
    assert_eq!(v.to_string(), "{0.0: 'b'}");
    // Two separate NaNs are two keys.
    let v =
        load(b"(G\x7f\xf8\x00\x00\x00\x00\x00\x00K\x01G\x7f\xf8\x00\x00\x00\x00\x00\x00K\x02d.");
    assert_eq!(v.as_dict().map(|d| d.len()), Some(2));
}

#[test]
fn unhashable_keys_fail_like_cpython() {
    for (data, t) in [
        (&b"(]Nd."[..], "list"),
        (b"(}Nd.", "dict"),
        (b"(\x8fNd.", "set"),
        (b"(]\x91.", "list"),
        (b"(]\x85Nd.", "list"),
        (
            b"(\x80\x05\x96\x01\x00\x00\x00\x00\x00\x00\x00aNd.",
            "bytearray",
        ),
    ] {
        let e = restricted_loads(data).unwrap_err();
        assert_eq!(
            e.kind().to_string(),
            format!("unhashable type: '{t}'"),
            "{data:?}"
        );
        assert_eq!(e.py_exception(), PyException::TypeError);
    }
}

#[test]
fn shared_references_stay_shared() {
    // b'(]q\x00h\x00K\x01at.' -> ([1], [1]), one list
    let v = load(b"(]q\x00h\x00K\x01at.");
    assert_eq!(v.to_string(), "([1], [1])");
    let t = v.as_tuple().expect("tuple");
    let (a, b) = (t[0].as_list().expect("list"), t[1].as_list().expect("list"));
    assert!(a.ptr_eq(b));
}

#[test]
fn strings_keep_lone_surrogates() {
    let v = load(b"X\x03\x00\x00\x00\xed\xa0\x80.");
    let s = v.as_pystr().expect("str");
    assert!(s.has_surrogates());
    assert_eq!(v.as_str(), None);
    assert_eq!(s.code_points().collect::<Vec<_>>(), [0xd800]);
    assert_eq!(v.to_string(), "'\\ud800'");
    let v = load(b"X\x06\x00\x00\x00\xed\xa0\xbd\xed\xb8\x80.");
    assert_eq!(
        v.as_pystr().map(PyStr::char_len),
        Some(2),
        "a pair stays two code points"
    );
}

#[test]
fn from_conversions() {
    assert!(Value::from(u64::MAX).as_i64().is_none());
    assert_eq!(Value::from(u64::MAX).as_u64(), Some(u64::MAX));
    assert_eq!(Value::from(vec![1, 2]).to_string(), "[1, 2]");
    assert_eq!(Value::from("x").to_string(), "'x'");
    assert_eq!(Value::from(Some(3)).to_string(), "3");
    assert_eq!(Value::from(None::<i32>).to_string(), "None");
    assert_eq!(Value::tuple(vec![Value::from(1)]).to_string(), "(1,)");
    assert_eq!(i64::try_from(Value::from(5)), Ok(5));
    assert!(i64::try_from(Value::from("5")).is_err());
    assert_eq!(
        String::try_from(Value::from("s")).ok().as_deref(),
        Some("s")
    );
}

#[test]
fn reprs_match_cpython() {
    for (data, repr) in [
        (&b"G\x43\x41\xc3\x79\x37\xe0\x80\x00."[..], "1e+16"),
        (b"G?\xb9\x99\x99\x99\x99\x99\x9a.", "0.1"),
        (b"G\x80\x00\x00\x00\x00\x00\x00\x00.", "-0.0"),
        (b"Fnan\n.", "nan"),
        (b"F-inf\n.", "-inf"),
        (b"(K\x01t.", "(1,)"),
        (b"\x8f.", "set()"),
        (b"(K\x01\x91.", "frozenset({1})"),
        (
            b"\x80\x05\x96\x01\x00\x00\x00\x00\x00\x00\x00x.",
            "bytearray(b'x')",
        ),
        (b"X\x04\x00\x00\x00it's.", "\"it's\""),
        (b"C\x03a'\".", "b'a\\'\"'"),
        (b"()\x8f}])t.", "((), set(), {}, [], ())"),
    ] {
        assert_eq!(load(data).to_string(), repr);
    }
}

#[test]
fn stream_reads_consecutive_pickles_and_keeps_the_memo() {
    // b'K\x05q\x00.h\x00.' with two loads gives 5 and 5 (memo persists).
    let data: &[u8] = b"K\x05q\x00.h\x00.N.";
    let mut u = Unpickler::new(data);
    assert_eq!(u.load().expect("first"), 5);
    assert_eq!(u.position(), 5);
    assert_eq!(u.load().expect("second"), 5);
    assert!(u.load().expect("third").is_none());
    let e = u.load().unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::RanOutOfInput));
    // The same over a slice.
    let mut u = Unpickler::from_slice(data);
    assert_eq!(u.load().expect("first"), 5);
    assert_eq!(u.load().expect("second"), 5);
    // A BufRead is left just past the STOP.
    let mut cursor = std::io::Cursor::new(b"K\x01.rest".to_vec());
    let mut u = Unpickler::from_bufread(&mut cursor);
    assert_eq!(u.load().expect("one"), 1);
    assert_eq!(cursor.position(), 3);
}

#[test]
fn stream_frames_are_strict_too() {
    let data: &[u8] = b"\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00J\x01\x00\x00\x00.";
    let e = Unpickler::new(data).load().unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::FrameOverrun), "{e}");
    let ok: &[u8] = b"\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00K\x01.";
    assert_eq!(Unpickler::new(ok).load().expect("framed"), 1);
}

#[test]
fn persistent_load_buffers_and_extensions() {
    let hook = |pid: &Value| -> Result<Value, String> {
        if pid == "bad" {
            Err("no such id".into())
        } else {
            Ok(Value::tuple(vec![Value::from("got"), pid.clone()]))
        }
    };
    let v = Unpickler::from_slice(b"(K\x01K\x02tQ.")
        .persistent_load(hook)
        .load()
        .expect("binpersid");
    assert_eq!(v.to_string(), "('got', (1, 2))");
    let v = Unpickler::from_slice(b"P\n.")
        .persistent_load(hook)
        .load()
        .expect("empty pid");
    assert_eq!(v.to_string(), "('got', '')");
    let e = Unpickler::from_slice(b"Pbad\n.")
        .persistent_load(hook)
        .load()
        .unwrap_err();
    assert_eq!(e.kind().to_string(), "no such id");
    let e = restricted_loads(b"Pabc\n.").unwrap_err();
    assert!(e.is_unsupported());
    assert!(e.to_string().starts_with("A load persistent id instruction was encountered,\nbut no persistent_load function was specified."));

    let data = b"\x80\x05\x97\x97\x98\x86.";
    let v = Unpickler::from_slice(data)
        .buffers([Value::bytes(b"a"), Value::ByteArray(b"b"[..].into())])
        .load()
        .expect("buffers");
    assert_eq!(
        v.to_string(),
        "(b'a', b'b')",
        "READONLY_BUFFER makes the bytearray bytes"
    );
    assert!(matches!(
        restricted_loads(data).unwrap_err().kind(),
        ErrorKind::NoBuffers
    ));
    let e = Unpickler::from_slice(data).buffers([]).load().unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::NotEnoughBuffers));

    let v = Unpickler::from_slice(b"\x80\x02\x82\x07)R.")
        .extension(7, "builtins", "set")
        .load()
        .expect("ext1");
    assert_eq!(v.to_string(), "set()");
}

#[test]
fn python2_strings_follow_encoding_and_errors() {
    let data = b"U\x03a\x00\xa0.";
    let e = restricted_loads(data).unwrap_err();
    assert_eq!(e.py_exception(), PyException::UnicodeDecodeError);
    assert_eq!(
        e.kind().to_string(),
        "'ascii' codec can't decode byte 0xa0 in position 2: ordinal not in range(128)"
    );
    let v = Unpickler::from_slice(data)
        .encoding("latin1")
        .load()
        .expect("latin1");
    assert_eq!(v.to_string(), "'a\\x00\\xa0'");
    let v = Unpickler::from_slice(data)
        .encoding("bytes")
        .load()
        .expect("bytes");
    assert_eq!(v.to_string(), "b'a\\x00\\xa0'");
    let v = Unpickler::from_slice(data)
        .errors("replace")
        .load()
        .expect("replace");
    assert_eq!(v.to_string(), "'a\\x00�'");
    let e = Unpickler::from_slice(b"U\x01a.")
        .encoding("nope")
        .load()
        .unwrap_err();
    assert_eq!(e.py_exception(), PyException::LookupError);
    assert!(Unpickler::from_slice(b"N.").encoding("nope").load().is_ok());
}

#[test]
fn errors_name_opcode_and_offset() {
    let e = restricted_loads(b"\x80\x02]q\x00X\x05\x00\x00\x00ab").unwrap_err();
    assert!(e.is_eof());
    assert_eq!(e.opcode(), Some(Opcode::BINUNICODE));
    assert_eq!(e.offset(), Some(12), "truncated at the end of the input");
    let e = restricted_loads(b"N0\x80\x07.").unwrap_err();
    assert_eq!(
        e.to_string(),
        "unsupported pickle protocol: 7 (PROTO at offset 2)"
    );
    assert_eq!(e.category(), Category::Malformed);
    let e = restricted_loads(b"").unwrap_err();
    assert_eq!(e.to_string(), "Ran out of input (at offset 0)");
    let e = restricted_loads(b"z").unwrap_err();
    assert_eq!(e.to_string(), "invalid load key, 'z'. (at offset 0)");
    let e = restricted_loads(b"Nh\x05.").unwrap_err();
    assert_eq!(
        e.to_string(),
        "Memo value not found at index 5 (BINGET at offset 1)"
    );
    let e = restricted_loads(b"(").unwrap_err();
    assert!(e.is_eof());
}

#[test]
fn custom_policies() {
    // OrderedDict evaluated as a plain dict.
    let data = b"\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01X\x01\x00\x00\x00aq\x02K\x01s.";
    let policy =
        Allowlist::new().allow_as("collections", "OrderedDict", Class::Builtin(Builtin::Dict));
    let v = Unpickler::from_slice(data)
        .find_class(policy)
        .load()
        .expect("dict");
    assert_eq!(v.to_string(), "{'a': 1}");
    // An empty allowlist refuses even the builtins.
    let e = Unpickler::from_slice(b"c__builtin__\nset\n)R.")
        .find_class(Allowlist::new())
        .load()
        .unwrap_err();
    assert_eq!(e.kind().to_string(), "global 'builtins.set' is forbidden");
    assert!(Allowlist::builtins().contains("builtins", "set"));
    assert!(!Allowlist::builtins().contains("builtins", "eval"));
}

#[test]
fn limits_can_be_lifted() {
    let mut data = b"\x80\x02".to_vec();
    data.extend(std::iter::repeat_n(b']', 20_000));
    data.extend(std::iter::repeat_n(b'a', 19_999));
    data.push(b'.');
    let e = restricted_loads(&data).unwrap_err();
    assert!(e.is_limit());
    assert!(e.to_string().contains("max_depth"));
    let v = Unpickler::from_slice(&data)
        .limits(Limits::none())
        .load()
        .expect("deep");
    assert!(v.is_list());
}

/// Repeated keys inside one `SETITEMS` batch (only a crafted pickle has them), with values that
/// are containers under construction: the first key object stays, the last value wins, as in
/// CPython (expected reprs recorded with CPython 3.11 `pickle.loads`).
#[test]
fn repeated_keys_in_one_batch_with_container_values() {
    let cases: &[(&[u8], &str)] = &[
        (
            b"\x80\x02}(X\x01\x00\x00\x00a]K\x01aX\x01\x00\x00\x00aK\x02u.",
            "{'a': 2}",
        ),
        (
            b"\x80\x02}(X\x01\x00\x00\x00aK\x02X\x01\x00\x00\x00a]K\x01au.",
            "{'a': [1]}",
        ),
        (
            b"\x80\x02}(K\x01]K\x07aG?\xf0\x00\x00\x00\x00\x00\x00K\x02\x88]K\taX\x01\x00\x00\x00b]u.",
            "{1: [9], 'b': []}",
        ),
        (
            b"\x80\x02}(X\x01\x00\x00\x00a]K\x01aX\x01\x00\x00\x00a]K\x02au.",
            "{'a': [2]}",
        ),
    ];
    for (data, want) in cases {
        let v = load(data);
        assert_eq!(v.to_string(), *want);
        // A second batch into the same dict reopens it; the result must not change.
        let mut twice = data[..data.len() - 1].to_vec();
        twice.extend_from_slice(b"(X\x01\x00\x00\x00zK\x03u.");
        let v2 = load(&twice);
        let want2 = format!("{}, 'z': 3}}", want.trim_end_matches('}'));
        assert_eq!(v2.to_string(), want2);
    }
}

/// At the end of the input the machine moves objects into the result instead of cloning them;
/// every reference to a shared object must still be there, and shared.
#[test]
fn shared_objects_survive_the_final_conversion() {
    // l = [1]; pickle.dumps([l, l, {'a': l}, (l,)], 2)
    let v = load(
        b"\x80\x02]q\x00(]q\x01K\x01ah\x01}q\x02X\x01\x00\x00\x00aq\x03h\x01sh\x01\x85q\x04e.",
    );
    assert_eq!(v.to_string(), "[[1], [1], {'a': [1]}, ([1],)]");
    let first = v[0].as_list().expect("list");
    for other in [&v[1], &v[2]["a"], &v[3][0]] {
        assert!(first.ptr_eq(other.as_list().expect("list")));
    }
    // t = (1, 2); pickle.dumps({t: t, 'x': [t, t]}, 2): a tuple that is a key and a value.
    let v =
        load(b"\x80\x02}q\x00(K\x01K\x02\x86q\x01h\x01X\x01\x00\x00\x00xq\x02]q\x03(h\x01h\x01eu.");
    assert_eq!(v.to_string(), "{(1, 2): (1, 2), 'x': [(1, 2), (1, 2)]}");
}

/// Two pickles from one `Pickler` share its memo: the second refers to the first's objects.
/// The first load is not the end of the input, so its objects stay available.
#[test]
fn memo_carries_over_to_the_next_pickle() {
    // p = pickle.Pickler(f, 2); d = {'k': [1, 2]}; p.dump(d); p.dump([d, d['k']])
    let data: &[u8] =
        b"\x80\x02}q\x00X\x01\x00\x00\x00kq\x01]q\x02(K\x01K\x02es.\x80\x02]q\x03(h\x00h\x02e.";
    let mut u = restricted_unpickler::Unpickler::from_slice(data);
    let first = u.load().expect("first pickle");
    assert_eq!(first.to_string(), "{'k': [1, 2]}");
    let second = u.load().expect("second pickle");
    assert_eq!(second.to_string(), "[{'k': [1, 2]}, [1, 2]]");
    assert!(
        second[0]
            .as_dict()
            .expect("dict")
            .ptr_eq(first.as_dict().expect("dict"))
    );
}

/// A list grown over several `APPENDS` batches (or item by item with `APPEND`) keeps the
/// vector it grew in; it must read, compare, share and drop like any other list.
#[test]
fn lists_grown_batch_by_batch() {
    fn binint2(out: &mut Vec<u8>, i: u16) {
        out.push(b'M');
        out.extend_from_slice(&i.to_le_bytes());
    }
    let expected_repr = |n: u16| {
        let items: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        format!("[{}]", items.join(", "))
    };
    for n in [0u16, 5, 1000, 1001, 2500] {
        // l = list(range(n)); pickle.dumps([l, l], 2): the inner list in batches of 1000.
        let mut data = b"\x80\x02]q\x00(]q\x01".to_vec();
        for batch in (0..n).collect::<Vec<_>>().chunks(1000) {
            data.push(b'(');
            for &i in batch {
                binint2(&mut data, i);
            }
            data.push(b'e');
        }
        data.extend_from_slice(b"h\x01e.");
        let v = load(&data);
        let (a, b) = (v[0].as_list().expect("list"), v[1].as_list().expect("list"));
        assert_eq!(a.len(), usize::from(n));
        assert!(a.ptr_eq(b), "the memo's list is one object");
        assert_eq!(v[0].to_string(), expected_repr(n));
        let flat = Value::List(
            (0..n)
                .map(|i| Value::from(i64::from(i)))
                .collect::<Vec<_>>()
                .into(),
        );
        assert_eq!(v[0], flat);
        assert_eq!(v[0].get(usize::from(n).wrapping_sub(1)).is_some(), n > 0);

        // Protocol 0: `(lp0\nI0\naI1\na...` — one APPEND per item.
        let mut p0 = b"(lp0\n".to_vec();
        for i in 0..n {
            p0.extend_from_slice(format!("I{i}\na").as_bytes());
        }
        p0.push(b'.');
        let w = load(&p0);
        assert_eq!(w, flat);
        assert_eq!(w.to_string(), expected_repr(n));

        // The same bytes through a reader (the machine clones instead of moving at the end).
        let mut u = restricted_unpickler::Unpickler::new(std::io::Cursor::new(&data[..]));
        assert_eq!(u.load().expect("stream"), v);
    }
}

/// Dicts whose keys are the same share one key table; keys that are merely equal in Python
/// (`1`, `1.0`, `True`) or are objects with their own identity (tuples) must keep their own.
/// Expected reprs recorded from CPython 3.11.
#[test]
fn dicts_with_the_same_keys_share_only_identical_keys() {
    // data = [{'a': 1, 'b': 2}, {'a': 3, 'b': 4}, {'b': 5, 'a': 6}, {1: 'x', 2: 0},
    //         {1.0: 'y', 2: 0}, {True: 'z', 2: 0}, {0: 'n', 2: 0}, {False: 'f', 2: 0},
    //         {t1: 'p', 2: 0}, {t2: 'q', 2: 0} (two equal tuples), {'a': [1], 'b': {'a': 1,
    //         'b': 2}}, {'a': 10, 'b': 11}, {b'k': 1, 2: 0}, {'k': 2, 2: 0}, {None: 0, 2: 0},
    //         {nan: 1, 2: 0}, {nan: 1, 2: 0}]; pickle.dumps(data, 2), pickle.dumps(data, 5)
    let p2: &[u8] = b"\x80\x02]q\x00(}q\x01(X\x01\x00\x00\x00aq\x02K\x01X\x01\x00\x00\x00bq\x03K\x02u}q\x04(h\x02K\x03h\x03K\x04u}q\x05(h\x03K\x05h\x02K\x06u}q\x06(K\x01X\x01\x00\x00\x00xq\x07K\x02K\x00u}q\x08(G?\xf0\x00\x00\x00\x00\x00\x00X\x01\x00\x00\x00yq\tK\x02K\x00u}q\n(\x88X\x01\x00\x00\x00zq\x0bK\x02K\x00u}q\x0c(K\x00X\x01\x00\x00\x00nq\rK\x02K\x00u}q\x0e(\x89X\x01\x00\x00\x00fq\x0fK\x02K\x00u}q\x10(K\x01K\x02\x86q\x11X\x01\x00\x00\x00pq\x12K\x02K\x00u}q\x13(K\x01K\x02\x86q\x14X\x01\x00\x00\x00qq\x15K\x02K\x00u}q\x16(h\x02]q\x17K\x01ah\x03}q\x18(h\x02K\x01h\x03K\x02uu}q\x19(h\x02K\nh\x03K\x0bu}q\x1a(c_codecs\nencode\nq\x1bX\x01\x00\x00\x00kq\x1cX\x06\x00\x00\x00latin1q\x1d\x86q\x1eRq\x1fK\x01K\x02K\x00u}q (X\x01\x00\x00\x00kq!K\x02K\x02K\x00u}q\"(NK\x00K\x02K\x00u}q#(G\x7f\xf8\x00\x00\x00\x00\x00\x00K\x01K\x02K\x00u}q$(G\x7f\xf8\x00\x00\x00\x00\x00\x00K\x01K\x02K\x00ue.";
    let p5: &[u8] = b"\x80\x05\x95\x0e\x01\x00\x00\x00\x00\x00\x00]\x94(}\x94(\x8c\x01a\x94K\x01\x8c\x01b\x94K\x02u}\x94(h\x02K\x03h\x03K\x04u}\x94(h\x03K\x05h\x02K\x06u}\x94(K\x01\x8c\x01x\x94K\x02K\x00u}\x94(G?\xf0\x00\x00\x00\x00\x00\x00\x8c\x01y\x94K\x02K\x00u}\x94(\x88\x8c\x01z\x94K\x02K\x00u}\x94(K\x00\x8c\x01n\x94K\x02K\x00u}\x94(\x89\x8c\x01f\x94K\x02K\x00u}\x94(K\x01K\x02\x86\x94\x8c\x01p\x94K\x02K\x00u}\x94(K\x01K\x02\x86\x94\x8c\x01q\x94K\x02K\x00u}\x94(h\x02]\x94K\x01ah\x03}\x94(h\x02K\x01h\x03K\x02uu}\x94(h\x02K\nh\x03K\x0bu}\x94(C\x01k\x94K\x01K\x02K\x00u}\x94(\x8c\x01k\x94K\x02K\x02K\x00u}\x94(NK\x00K\x02K\x00u}\x94(G\x7f\xf8\x00\x00\x00\x00\x00\x00K\x01K\x02K\x00u}\x94(G\x7f\xf8\x00\x00\x00\x00\x00\x00K\x01K\x02K\x00ue.";
    let expected = "[{'a': 1, 'b': 2}, {'a': 3, 'b': 4}, {'b': 5, 'a': 6}, {1: 'x', 2: 0}, \
                    {1.0: 'y', 2: 0}, {True: 'z', 2: 0}, {0: 'n', 2: 0}, {False: 'f', 2: 0}, \
                    {(1, 2): 'p', 2: 0}, {(1, 2): 'q', 2: 0}, {'a': [1], 'b': {'a': 1, 'b': 2}}, \
                    {'a': 10, 'b': 11}, {b'k': 1, 2: 0}, {'k': 2, 2: 0}, {None: 0, 2: 0}, \
                    {nan: 1, 2: 0}, {nan: 1, 2: 0}]";
    for data in [p2, p5] {
        let v = load(data);
        assert_eq!(v.to_string(), expected);
        assert_eq!(v[1].get("a"), Some(&Value::from(3)));
        assert_eq!(v[2].get("a"), Some(&Value::from(6)));
        let key = |i: usize| v[i].as_dict().unwrap().keys().next().unwrap().clone();
        assert!(matches!(key(3), Value::Int(_)));
        assert!(matches!(key(4), Value::Float(_)));
        assert!(matches!(key(5), Value::Bool(true)));
        assert!(matches!(key(6), Value::Int(_)));
        assert!(matches!(key(7), Value::Bool(false)));
        let (t1, t2) = (key(8), key(9));
        assert!(!t1.as_tuple().unwrap().ptr_eq(t2.as_tuple().unwrap()));
        assert!(matches!(key(12), Value::Bytes(_)));
        assert!(matches!(key(13), Value::Str(_)));
        assert_eq!(v[3].get(Value::from(2)), Some(&Value::from(0)));
        assert_eq!(v[5].get(Value::from(1.0)), Some(&Value::from("z")));
    }
    // A dict sealed with a shared table, then grown by SETITEM (the table must not change):
    // [{'a': 1, 'b': 2}, d, d, {'a': 6, 'b': 7}] with d = {'a': 3, 'b': 4}; d['c'] = 5
    let v = load(
        b"\x80\x02]q\x00(}q\x01(X\x01\x00\x00\x00aq\x02K\x01X\x01\x00\x00\x00bq\x03K\x02u}q\x04(h\x02K\x03h\x03K\x04uh\x04X\x01\x00\x00\x00cK\x05s}q\x05(h\x02K\x06h\x03K\x07ue.",
    );
    assert_eq!(
        v.to_string(),
        "[{'a': 1, 'b': 2}, {'a': 3, 'b': 4, 'c': 5}, {'a': 3, 'b': 4, 'c': 5}, {'a': 6, 'b': 7}]"
    );
    // A repeated key inside one batch, beside dicts whose keys are the cached table's.
    let v = load(
        b"\x80\x02]q\x00(}q\x01(X\x01\x00\x00\x00aq\x02K\x01X\x01\x00\x00\x00bq\x03K\x02u}q\x04(h\x02K\x03h\x02K\x04u}q\x05(h\x02K\x05h\x03K\x06ue.",
    );
    assert_eq!(
        v.to_string(),
        "[{'a': 1, 'b': 2}, {'a': 4}, {'a': 5, 'b': 6}]"
    );
}

/// Short strs are read as one fixed block when the input holds one (and byte by byte near its
/// end): every length up to the inline limit, ASCII or not, must come out the same either way,
/// and invalid UTF-8 must fail the same way.
#[test]
fn short_strs_read_as_blocks_or_bytes_agree() {
    let mut texts: Vec<String> = Vec::new();
    for n in 0..=23usize {
        texts.push("k".repeat(n));
        if n >= 2 {
            texts.push(format!("{}é", "a".repeat(n - 2)));
            texts.push(format!("é{}", "z".repeat(n - 2)));
        }
    }
    texts.push("\u{1F600}ab".to_owned());
    // [t0, t1, ...] at protocol 4: SHORT_BINUNICODE each, MEMOIZE, one APPENDS. The last
    // strs sit at the end of the input, where no whole block is left.
    let mut data = b"\x80\x04]\x94(".to_vec();
    for t in &texts {
        data.push(0x8c);
        data.push(t.len() as u8);
        data.extend_from_slice(t.as_bytes());
        data.push(0x94);
    }
    data.extend_from_slice(b"e.");
    let v = load(&data);
    let got: Vec<String> = v
        .as_list()
        .expect("list")
        .iter()
        .map(|s| s.as_str().expect("str").to_owned())
        .collect();
    assert_eq!(got, texts);
    // Each alone, last in the input (read byte by byte), and followed by padding (as a block).
    for t in &texts {
        for pad in [0usize, 30] {
            let mut one = b"\x80\x04\x8c".to_vec();
            one.push(t.len() as u8);
            one.extend_from_slice(t.as_bytes());
            one.extend(std::iter::repeat_n(b'N', pad));
            one.extend_from_slice(b"0".repeat(pad).as_slice());
            one.push(b'.');
            let v = load(&one);
            assert_eq!(v.as_str(), Some(t.as_str()), "{t:?} pad {pad}");
            // Equal as values too (short strs compare their whole zero-padded buffers), and
            // usable as a dict key.
            assert_eq!(v, Value::from(t.as_str()), "{t:?} pad {pad}");
            let d = restricted_unpickler::Dict::from_pairs([(v, Value::None)]).expect("dict");
            assert!(d.get_str(t).is_some(), "{t:?} pad {pad}");
        }
    }
    // Invalid UTF-8 and a lone surrogate, short, both ways.
    for pad in [0usize, 30] {
        let tail: Vec<u8> = [b"N".repeat(pad), b"0".repeat(pad)].concat();
        let bad = [b"\x80\x04\x8c\x03a\xffb".as_slice(), &tail, b"."].concat();
        let err = restricted_loads(&bad).expect_err("invalid UTF-8");
        assert!(err.to_string().contains("codec can't decode"), "{err}");
        let lone = [b"\x80\x04\x8c\x03\xed\xa0\x80".as_slice(), &tail, b"."].concat();
        match load(&lone) {
            Value::Str(s) => assert!(s.has_surrogates()),
            other => panic!("not a str: {other}"),
        }
    }
}

/// One int opcode with its argument, and the value it must decode to (as Python prints it).
fn encode_int(rng: &mut u64, out: &mut Vec<u8>) -> String {
    *rng = rng
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let r = *rng >> 16;
    let bytes = (r >> 8).to_le_bytes();
    match r % 5 {
        0 => {
            out.extend_from_slice(&[b'K', bytes[0]]);
            bytes[0].to_string()
        }
        1 => {
            out.push(b'M');
            out.extend_from_slice(&bytes[..2]);
            u16::from_le_bytes([bytes[0], bytes[1]]).to_string()
        }
        2 => {
            out.push(b'J');
            out.extend_from_slice(&bytes[..4]);
            i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]).to_string()
        }
        _ => {
            // LONG1 of 0 to 9 bytes (non-minimal encodings included), the sign from the top bit.
            let n = ((r >> 3) % 10) as usize;
            let mut arg = [0u8; 16];
            for (i, b) in arg.iter_mut().take(n).enumerate() {
                *b = (r.rotate_left(7 * i as u32) ^ (i as u64 * 0x9e)) as u8;
            }
            out.extend_from_slice(&[0x8a, n as u8]);
            out.extend_from_slice(&arg[..n]);
            if n > 0 && arg[n - 1] & 0x80 != 0 {
                for b in arg.iter_mut().skip(n) {
                    *b = 0xff;
                }
            }
            i128::from_le_bytes(arg).to_string()
        }
    }
}

#[test]
fn number_runs_decode_like_one_number_at_a_time() {
    // Runs of BININT1/BININT2/BININT/LONG1 and of BINFLOAT, and mixes of both (decoded whole by
    // the slice reader, one by one by the stream reader), unframed and split into frames at
    // every few opcodes (a number near a frame's end or the input's end is read the general way).
    let mut rng = 20261127u64;
    for framed in [false, true] {
        let mut ops: Vec<Vec<u8>> = Vec::new();
        let mut expected = Vec::new();
        for i in 0..3000 {
            let mut op = Vec::new();
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            // Stretches of floats only, of ints only, and of both mixed.
            let float = match (i / 200) % 3 {
                0 => true,
                1 => false,
                _ => rng >> 63 == 1,
            };
            if float {
                let mut f = f64::from_bits(rng.rotate_left(17));
                if f.is_nan() {
                    f = -0.25;
                }
                op.push(b'G');
                op.extend_from_slice(&f.to_be_bytes());
                expected.push(Value::from(f).to_string());
            } else {
                expected.push(encode_int(&mut rng, &mut op));
            }
            ops.push(op);
        }
        let mut body: Vec<u8> = b"](".to_vec();
        let mut pending: Vec<u8> = Vec::new();
        let flush = |body: &mut Vec<u8>, pending: &mut Vec<u8>| {
            if framed && !pending.is_empty() {
                body.push(0x95);
                body.extend_from_slice(&(pending.len() as u64).to_le_bytes());
            }
            body.append(pending);
        };
        for (i, op) in ops.iter().enumerate() {
            pending.extend_from_slice(op);
            if i % 7 == 6 {
                flush(&mut body, &mut pending);
            }
        }
        pending.extend_from_slice(b"e.");
        flush(&mut body, &mut pending);
        let data = [b"\x80\x04".as_slice(), &body].concat();
        let v = load(&data);
        let got: Vec<String> = v
            .as_list()
            .expect("list")
            .iter()
            .map(Value::to_string)
            .collect();
        assert_eq!(got, expected, "framed: {framed}");
        let streamed = Unpickler::new(std::io::Cursor::new(&data))
            .load()
            .expect("stream");
        assert_eq!(streamed, v);
        // The limits hit inside a run are reported at that number's own offset and opcode, as
        // the stream reader (which reads every number the general way) reports them.
        let mut limits = [
            Limits::default(),
            Limits::default(),
            Limits::default(),
            Limits::default(),
        ];
        limits[0].max_stack = 1000;
        limits[3].max_stack = 150; // inside the first stretch: floats only
        limits[1].max_long_bytes = 3;
        limits[2].alloc_base = 20_000;
        limits[2].alloc_per_input_byte = 0;
        // The stack and allocation limits are hit deep inside a run.
        for (i, limits) in limits.into_iter().enumerate() {
            let fast = Unpickler::from_slice(&data)
                .limits(limits.clone())
                .load()
                .expect_err("over the limit");
            let slow = Unpickler::new(std::io::Cursor::new(&data))
                .limits(limits)
                .load()
                .expect_err("over the limit");
            assert_eq!(fast.to_string(), slow.to_string());
            assert_eq!(fast.offset(), slow.offset());
            assert_eq!(fast.opcode(), slow.opcode());
            if i != 1 {
                assert!(fast.offset().unwrap_or(0) > 1000, "{fast}");
            }
            if i == 3 {
                assert_eq!(fast.opcode(), Some(Opcode::BINFLOAT));
            }
        }
    }
}

#[test]
fn restricted_loads_keeps_nothing_of_earlier_calls() {
    // Unpicklers (and so `restricted_loads`) reuse an emptied machine per thread. Whatever the earlier calls did
    // (filled the memo, failed half way, met a cycle), later calls see a fresh memo, budget and
    // arena, and dict key tables are shared only between type-exact equal keys.
    let record = b"\x80\x04\x95%\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x02id\x94K\x01\x8c\x04name\x94\x8c\x01x\x94\x8c\x04tags\x94]\x94\x8c\x01a\x94au.";
    // pickle.dumps({True: 'b', 2.0: None}, 4) and pickle.dumps({1: 'b', 2: None}, 4)
    let bool_keys = b"\x80\x04\x95\x14\x00\x00\x00\x00\x00\x00\x00}\x94(\x88\x8c\x01b\x94G@\x00\x00\x00\x00\x00\x00\x00Nu.";
    let int_keys = b"\x80\x04\x95\x0e\x00\x00\x00\x00\x00\x00\x00}\x94(K\x01\x8c\x01b\x94K\x02Nu.";
    let failures: [&[u8]; 5] = [
        // A memo entry, then a forbidden global.
        b"\x80\x02]q\x00(K\x01ecos\nsystem\n.",
        // A list that contains itself used as a dict key (unhashable), half built.
        b"\x80\x02]q\x00h\x00\x85q\x01}q\x02(h\x01K\x01u.",
        // Truncated in the middle of a dict.
        b"\x80\x04}\x94(\x8c\x02id\x94K\x01",
        // MARKs, then an invalid opcode.
        b"((((((((\xff",
        // A list that contains itself (a cycle, which a `Value` cannot hold).
        b"\x80\x02]q\x00h\x00a.",
    ];
    let mut first = None;
    for round in 0..3 {
        for bad in failures {
            assert!(restricted_loads(bad).is_err(), "round {round}: {bad:?}");
            let v = load(record);
            assert_eq!(
                v.to_string(),
                "{'id': 1, 'name': 'x', 'tags': ['a']}",
                "round {round}"
            );
            first.get_or_insert(v);
            // The memo is empty again: `h\x00` (GET 0) before any PUT fails.
            let err = restricted_loads(b"\x80\x02h\x00.").expect_err("empty memo");
            assert!(
                err.to_string().contains("Memo value not found at index 0"),
                "{err}"
            );
            // Key tables: `True`/`2.0` keys never become `1`/`2`, nor the other way round.
            assert_eq!(load(bool_keys).to_string(), "{True: 'b', 2.0: None}");
            assert_eq!(load(int_keys).to_string(), "{1: 'b', 2: None}");
            assert_eq!(load(bool_keys).to_string(), "{True: 'b', 2.0: None}");
        }
    }
    assert_eq!(first, Some(load(record)));
    // Unpicklers alive at once: the second starts empty, and dropping it (its machine goes
    // back to the thread) leaves the first one's memo alone. pickle.dumps('x', 2), then a
    // pickle that GETs the memo entry the first one PUT.
    let data = b"\x80\x02X\x01\x00\x00\x00xq\x00.\x80\x02h\x00.";
    let mut outer = Unpickler::from_slice(data);
    assert_eq!(outer.load().expect("first"), "x");
    for _ in 0..3 {
        let err = Unpickler::from_slice(b"\x80\x02h\x00.")
            .load()
            .expect_err("a new unpickler's memo is empty");
        assert!(err.to_string().contains("Memo value not found"), "{err}");
        assert!(restricted_loads(b"\x80\x02h\x00.").is_err());
    }
    assert_eq!(outer.load().expect("second, from the memo"), "x");
    drop(outer);
    assert!(restricted_loads(b"\x80\x02h\x00.").is_err());
    // Many threads at once, each with its own machine.
    let handles: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..200 {
                    let data = if (i + t) % 2 == 0 {
                        bool_keys.as_slice()
                    } else {
                        int_keys.as_slice()
                    };
                    let v = restricted_loads(data).expect("loads");
                    let expected = if (i + t) % 2 == 0 {
                        "{True: 'b', 2.0: None}"
                    } else {
                        "{1: 'b', 2: None}"
                    };
                    assert_eq!(v.to_string(), expected);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread");
    }
}

#[test]
fn finished_tuples_count_for_the_depth_limit() {
    // Tuples of scalars are held as plain values while the pickle runs (no arena node); the
    // depth limit still counts them exactly: each pickle decodes under `max_depth` = its depth
    // and fails under one less. (pickle.dumps of the values in the comments.)
    let mut grown = b"\x80\x04]".to_vec();
    for _ in 0..3 {
        grown.push(b'(');
        for i in 0..1000u32 {
            grown.extend_from_slice(&[b'K', (i % 256) as u8, 0x85]);
        }
        grown.push(b'e');
    }
    grown.push(b'.');
    let cases: [(&str, usize, &[u8]); 13] = [
        // [(1, 2), (3, 4)], protocol 2
        ("list_of_tuples_p2", 2, b"\x80\x02\x5d\x71\x00\x28\x4b\x01\x4b\x02\x86\x71\x01\x4b\x03\x4b\x04\x86\x71\x02\x65\x2e".as_slice()),
        // [(1, 2), (3, 4)], protocol 0
        ("list_of_tuples_p0", 2, b"\x28\x6c\x70\x30\x0a\x28\x49\x31\x0a\x49\x32\x0a\x74\x70\x31\x0a\x61\x28\x49\x33\x0a\x49\x34\x0a\x74\x70\x32\x0a\x61\x2e".as_slice()),
        // ((1,),), protocol 4
        ("tuple_in_tuple", 2, b"\x80\x04\x95\x07\x00\x00\x00\x00\x00\x00\x00\x4b\x01\x85\x94\x85\x94\x2e".as_slice()),
        // [((1,),)], protocol 4
        ("tuple_in_tuple_in_list", 3, b"\x80\x04\x95\x0a\x00\x00\x00\x00\x00\x00\x00\x5d\x94\x4b\x01\x85\x94\x85\x94\x61\x2e".as_slice()),
        // tuple((i,) for i in range(5)), protocol 4
        ("big_tuple_of_tuples", 2, b"\x80\x04\x95\x18\x00\x00\x00\x00\x00\x00\x00\x28\x4b\x00\x85\x94\x4b\x01\x85\x94\x4b\x02\x85\x94\x4b\x03\x85\x94\x4b\x04\x85\x94\x74\x94\x2e".as_slice()),
        // {'a': (1, 2)}, protocol 4
        ("dict_value_tuple", 2, b"\x80\x04\x95\x0e\x00\x00\x00\x00\x00\x00\x00\x7d\x94\x8c\x01\x61\x94\x4b\x01\x4b\x02\x86\x94\x73\x2e".as_slice()),
        // {(1, 2): 'a'}, protocol 4
        ("dict_key_tuple", 2, b"\x80\x04\x95\x0e\x00\x00\x00\x00\x00\x00\x00\x7d\x94\x4b\x01\x4b\x02\x86\x94\x8c\x01\x61\x94\x73\x2e".as_slice()),
        // {(1, 2)}, protocol 4
        ("set_of_tuples", 2, b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00\x8f\x94\x28\x4b\x01\x4b\x02\x86\x94\x90\x2e".as_slice()),
        // frozenset({(1, 2)}), protocol 4
        ("frozenset_of_tuples", 2, b"\x80\x04\x95\x0a\x00\x00\x00\x00\x00\x00\x00\x28\x4b\x01\x4b\x02\x86\x94\x91\x94\x2e".as_slice()),
        // [(1, 2)], protocol 0
        ("list_append_one", 2, b"\x28\x6c\x70\x30\x0a\x28\x49\x31\x0a\x49\x32\x0a\x74\x70\x31\x0a\x61\x2e".as_slice()),
        // t = (1, 'a'); [t, t, [t]], protocol 4
        ("shared_tuple", 3, b"\x80\x04\x95\x14\x00\x00\x00\x00\x00\x00\x00\x5d\x94\x28\x4b\x01\x8c\x01\x61\x94\x86\x94\x68\x02\x5d\x94\x68\x02\x61\x65\x2e".as_slice()),
        // [()], protocol 4
        ("empty_tuple_in_list", 2, b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00\x5d\x94\x29\x61\x2e".as_slice()),
        ("grown_list", 2, &grown),
    ];
    for (name, depth, data) in cases {
        let mut limits = Limits::default();
        limits.max_depth = depth;
        Unpickler::from_slice(data)
            .limits(limits.clone())
            .load()
            .unwrap_or_else(|e| panic!("{name} at max_depth {depth}: {e}"));
        limits.max_depth = depth - 1;
        let err = Unpickler::from_slice(data)
            .limits(limits)
            .load()
            .expect_err(name);
        assert!(err.to_string().contains("max_depth"), "{name}: {err}");
    }
}

/// Chains of lists whose first item is a list (`[x]`, `[x, 1]`), shared and nested, within one
/// pickle and across two pickles of one stream (CPython's `Pickler` keeps its memo from one
/// `dump` to the next, so the second pickle `GET`s lists of the first): the values are CPython's
/// and every shared list is one object, whatever the protocol. And a cycle through first items
/// is refused, as every cycle is.
#[test]
fn chains_of_first_item_lists_share_like_cpython() {
    let script = "
import io, pickle
a = [1]; b = [a]; c = [b, 2]; d = [c]
top = [b, b, a, d, [[[[a]]]], [d, c]]
for p in (0, 2, 5):
    f = io.BytesIO(); w = pickle.Pickler(f, p); w.dump(top); w.dump([d, [a], a])
    print(f.getvalue().hex(), repr(top).replace(' ', ''), repr([d, [a], a]).replace(' ', ''))
x = []; y = [x]; x.append(y)
print(pickle.dumps([y], 2).hex())
";
    let text = common::python3(&["-c", script]);
    let mut lines = text.lines();
    let list = |v: &Value| v.as_list().expect("a list").clone();
    for _ in 0..3 {
        let line = lines.next().expect("a protocol's line");
        let mut parts = line.split(' ');
        let data = common::unhex(parts.next().expect("hex"));
        let (want1, want2) = (parts.next().expect("repr"), parts.next().expect("repr"));
        let mut u = Unpickler::from_slice(&data);
        let first = u.load().expect("first pickle");
        let second = u.load().expect("second pickle");
        assert_eq!(first.to_string().replace(' ', ""), want1);
        assert_eq!(second.to_string().replace(' ', ""), want2);
        let t = list(&first);
        let (b, a, d) = (list(&t[0]), list(&t[2]), list(&t[3]));
        assert!(b.ptr_eq(&list(&t[1])), "b twice");
        assert!(a.ptr_eq(&list(&b[0])), "a inside b");
        let c = list(&d[0]);
        assert!(b.ptr_eq(&list(&c[0])), "b inside c inside d");
        let deep = list(&list(&list(&list(&t[4])[0])[0])[0]);
        assert!(a.ptr_eq(&list(&deep[0])), "a four lists down");
        let last = list(&t[5]);
        assert!(d.ptr_eq(&list(&last[0])) && c.ptr_eq(&list(&last[1])));
        // The second pickle's lists are the first pickle's objects.
        let s = list(&second);
        assert!(d.ptr_eq(&list(&s[0])), "d across pickles");
        assert!(a.ptr_eq(&list(&list(&s[1])[0])) && a.ptr_eq(&list(&s[2])));
    }
    let cyclic = common::unhex(lines.next().expect("cycle line"));
    let err = restricted_loads(&cyclic).expect_err("a cycle is refused");
    assert!(err.to_string().contains("recursive"), "{err}");
}

/// Dicts sharing a key table whose keys own storage (long strs, big ints) or own nothing (short
/// strs), with values that own storage or are containers: the same results as CPython, and
/// (debug builds check it) only slots that own nothing are forgotten after a dict is sealed.
#[test]
fn shared_key_tables_of_owning_and_plain_keys() {
    // data = [{'k'*30: i, 'short': i} for i in range(3)] + [{'a': [i], 'b': 'x'*40} for i in
    //         range(3)] + [{2**70: i, 'z': None} for i in range(2)]; pickle.dumps(data, 2), 5
    let p2: &[u8] = b"\x80\x02]q\x00(}q\x01(X\x1e\x00\x00\x00kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkq\x02K\x00X\x05\x00\x00\x00shortq\x03K\x00u}q\x04(h\x02K\x01h\x03K\x01u}q\x05(h\x02K\x02h\x03K\x02u}q\x06(X\x01\x00\x00\x00aq\x07]q\x08K\x00aX\x01\x00\x00\x00bq\x09X(\x00\x00\x00xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxq\x0au}q\x0b(h\x07]q\x0cK\x01ah\x09h\x0au}q\x0d(h\x07]q\x0eK\x02ah\x09h\x0au}q\x0f(\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00@K\x00X\x01\x00\x00\x00zq\x10Nu}q\x11(\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00@K\x01h\x10Nue.";
    let p5: &[u8] = b"\x80\x05\x95\xd2\x00\x00\x00\x00\x00\x00\x00]\x94(}\x94(\x8c\x1ekkkkkkkkkkkkkkkkkkkkkkkkkkkkkk\x94K\x00\x8c\x05short\x94K\x00u}\x94(h\x02K\x01h\x03K\x01u}\x94(h\x02K\x02h\x03K\x02u}\x94(\x8c\x01a\x94]\x94K\x00a\x8c\x01b\x94\x8c(xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\x94u}\x94(h\x07]\x94K\x01ah\x09h\x0au}\x94(h\x07]\x94K\x02ah\x09h\x0au}\x94(\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00@K\x00\x8c\x01z\x94Nu}\x94(\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00@K\x01h\x10Nue.";
    let expected = "[{'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkk': 0, 'short': 0}, {'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkk': 1, 'short': 1}, {'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkk': 2, 'short': 2}, {'a': [0], 'b': 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'}, {'a': [1], 'b': 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'}, {'a': [2], 'b': 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'}, {1180591620717411303424: 0, 'z': None}, {1180591620717411303424: 1, 'z': None}]";
    for data in [p2, p5] {
        for _ in 0..3 {
            assert_eq!(load(data).to_string(), expected);
        }
    }
}

/// `()` is one object, as in CPython (a singleton there): every empty tuple decoded on a thread,
/// or made by `Value::tuple(vec![])`, is the same one, on the lean path and the full machine
/// alike. Empty lists and dicts stay objects of their own (`[] is []` is false).
#[test]
fn empty_tuples_are_one_object_and_empty_lists_and_dicts_are_not() {
    // pickle.dumps([(), (), [], [], {}, {}, ((),)], p) for p = 0, 2, 5.
    let pickles: [&[u8]; 3] = [
        b"(lp0\n(ta(ta(lp1\na(lp2\na(dp3\na(dp4\na((ttp5\na.",
        b"\x80\x02]q\x00())]q\x01]q\x02}q\x03}q\x04)\x85q\x05e.",
        b"\x80\x05\x95\x12\x00\x00\x00\x00\x00\x00\x00]\x94())]\x94]\x94}\x94}\x94)\x85\x94e.",
    ];
    let made = Value::tuple(vec![]);
    let made = made.as_tuple().expect("tuple");
    for data in pickles {
        let lean = load(data);
        // (A limit below the default turns the lean path off.)
        let mut limits = Limits::default();
        limits.max_stack -= 1;
        let full = Unpickler::from_slice(data)
            .limits(limits)
            .load()
            .expect("decodes");
        for v in [&lean, &full] {
            assert_eq!(v.to_string(), "[(), (), [], [], {}, {}, ((),)]");
            let items = v.as_list().expect("list");
            let tuple = |i: usize| items[i].as_tuple().expect("tuple");
            assert!(tuple(0).ptr_eq(tuple(1)));
            assert!(tuple(0).ptr_eq(made));
            assert!(tuple(0).ptr_eq(tuple(6)[0].as_tuple().expect("tuple")));
            let list = |i: usize| items[i].as_list().expect("list");
            assert!(!list(2).ptr_eq(list(3)));
            let dict = |i: usize| items[i].as_dict().expect("dict");
            assert!(!dict(4).ptr_eq(dict(5)));
        }
    }
}
