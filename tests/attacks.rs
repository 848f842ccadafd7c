//! Security properties: every global reaches the program only through `FindClass`, on the exact
//! `(module, name)` pair (after the `fix_imports` mapping, only below protocol 3); framing is
//! enforced strictly (no parser differential); an error anywhere means no value.
//!
//! Most tests use a *recording* policy: a closure that logs every `(module, name)` it is asked
//! about, so the tests can assert exactly which globals `find_class` saw, in order, and that a
//! denying policy stops decoding at the first one.

use std::cell::{Cell, RefCell};

use restricted_unpickler::{
    Allowlist, Builtin, Class, Construct, Error, FindClass, Opcode, Unpickler, Value,
    restricted_loads,
};

// ---- helpers ---------------------------------------------------------------------------------

type Seen = RefCell<Vec<(String, String)>>;

/// A policy that records every query in `seen`, then defers to `inner`.
fn recorder<'a>(
    seen: &'a Seen,
    inner: impl FindClass + 'a,
) -> impl Fn(&str, &str) -> Option<Class> + 'a {
    move |m: &str, n: &str| {
        seen.borrow_mut().push((m.to_owned(), n.to_owned()));
        inner.find_class(m, n)
    }
}

/// Allows everything, recorded (never evaluated).
fn allow_all(_: &str, _: &str) -> Option<Class> {
    Some(Class::Record)
}

/// Forbids everything.
fn deny_all(_: &str, _: &str) -> Option<Class> {
    None
}

/// The default policy, as a closure.
fn builtins_only(m: &str, n: &str) -> Option<Class> {
    Builtin::from_python_name(m, n).map(Class::Builtin)
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(m, n)| ((*m).to_owned(), (*n).to_owned()))
        .collect()
}

/// Loads `data` under a recording `policy`; returns the result and what the policy saw.
fn load_seen(data: &[u8], policy: impl FindClass) -> (Result<Value, Error>, Vec<(String, String)>) {
    let seen = Seen::default();
    let r = Unpickler::from_slice(data)
        .find_class(recorder(&seen, policy))
        .load();
    (r, seen.into_inner())
}

#[track_caller]
fn assert_forbidden(r: &Result<Value, Error>, module: &str, name: &str) -> String {
    let err = match r {
        Ok(v) => panic!("expected '{module}.{name}' to be forbidden, got the value {v:?}"),
        Err(e) => e,
    };
    let msg = err.to_string();
    let want = format!("global '{module}.{name}' is forbidden");
    assert!(
        msg.starts_with(&want),
        "message {msg:?} should start with {want:?}"
    );
    assert!(err.is_forbidden(), "{err:?} should be is_forbidden()");
    msg
}

#[track_caller]
fn assert_err_starts(r: &Result<Value, Error>, prefix: &str) -> String {
    match r {
        Ok(v) => panic!("expected an error starting with {prefix:?}, got the value {v:?}"),
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with(prefix),
                "message {msg:?} should start with {prefix:?}"
            );
            msg
        }
    }
}

#[track_caller]
fn expect_global(v: &Value, module: &str, name: &str) {
    let g = v
        .as_global()
        .unwrap_or_else(|| panic!("expected the global {module}.{name}, got {v:?}"));
    assert_eq!(g.module().as_str(), Some(module));
    assert_eq!(g.name().as_str(), Some(name));
}

#[track_caller]
fn expect_object<'v>(v: &'v Value, module: &str, name: &str, how: Construct) -> &'v [Value] {
    let o = v
        .as_object()
        .unwrap_or_else(|| panic!("expected a recorded {module}.{name} object, got {v:?}"));
    let cls = o.class().expect("the callable is a global");
    assert_eq!(cls.module().as_str(), Some(module));
    assert_eq!(cls.name().as_str(), Some(name));
    assert_eq!(o.construct(), how);
    o.args().as_slice().expect("args is a tuple")
}

// ---- the seed attack ----------------------------------------------------------------------

/// The seed attack in every protocol. Generated with CPython 3.11 on Linux:
///
/// ```python
/// import os, pickle
/// class Evil:
///     def __reduce__(self):
///         return (os.system, ('echo Hacked!',))
/// for p in range(6):
///     print(p, pickle.dumps(Evil(), protocol=p))
/// ```
const SEED_ATTACK: [&[u8]; 6] = [
    b"cposix\nsystem\np0\n(Vecho Hacked!\np1\ntp2\nRp3\n.",
    b"cposix\nsystem\nq\x00(X\x0c\x00\x00\x00echo Hacked!q\x01tq\x02Rq\x03.",
    b"\x80\x02cposix\nsystem\nq\x00X\x0c\x00\x00\x00echo Hacked!q\x01\x85q\x02Rq\x03.",
    b"\x80\x03cposix\nsystem\nq\x00X\x0c\x00\x00\x00echo Hacked!q\x01\x85q\x02Rq\x03.",
    b"\x80\x04\x95'\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\x94\x8c\x0cecho Hacked!\x94\x85\x94R\x94.",
    b"\x80\x05\x95'\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94\x8c\x06system\x94\x93\x94\x8c\x0cecho Hacked!\x94\x85\x94R\x94.",
];

#[test]
fn seed_attack_refused_in_every_protocol() {
    for (proto, data) in SEED_ATTACK.iter().enumerate() {
        let r = restricted_loads(data);
        let msg = assert_forbidden(&r, "posix", "system");
        let err = r.unwrap_err();
        let (op, offset) = if proto < 4 {
            (Opcode::GLOBAL, if proto < 2 { 0 } else { 2 })
        } else {
            (Opcode::STACK_GLOBAL, 28)
        };
        assert_eq!(err.opcode(), Some(op), "protocol {proto}: {msg}");
        assert_eq!(err.offset(), Some(offset), "protocol {proto}: {msg}");
    }
}

#[test]
fn seed_attack_refused_through_a_stream() {
    for (proto, data) in SEED_ATTACK.iter().enumerate() {
        let r = Unpickler::new(std::io::Cursor::new(data.to_vec())).load();
        let msg = assert_forbidden(&r, "posix", "system");
        let want = if proto < 4 {
            Opcode::GLOBAL
        } else {
            Opcode::STACK_GLOBAL
        };
        assert_eq!(
            r.unwrap_err().opcode(),
            Some(want),
            "protocol {proto}: {msg}"
        );
    }
}

#[test]
fn seed_attack_policy_sees_only_posix_system_and_stops() {
    for (proto, data) in SEED_ATTACK.iter().enumerate() {
        let (r, seen) = load_seen(data, builtins_only);
        assert_forbidden(&r, "posix", "system");
        assert_eq!(seen, pairs(&[("posix", "system")]), "protocol {proto}");
    }
}

#[test]
fn seed_attack_allowed_is_recorded_not_executed() {
    // Even when a (foolish) policy allows `posix.system`, the call is only recorded.
    for (proto, data) in SEED_ATTACK.iter().enumerate() {
        let (r, seen) = load_seen(data, allow_all);
        let v = r.unwrap_or_else(|e| panic!("protocol {proto}: {e}"));
        let args = expect_object(&v, "posix", "system", Construct::Reduce);
        assert_eq!(args, [Value::from("echo Hacked!")], "protocol {proto}");
        assert_eq!(seen, pairs(&[("posix", "system")]), "protocol {proto}");
    }
}

#[test]
fn bare_forbidden_global_is_refused_even_if_never_called() {
    // `pickle.dumps(os.system)`: the global itself is returned; the caller could call it later.
    let r = restricted_loads(b"cposix\nsystem\n.");
    assert_forbidden(&r, "posix", "system");
    // Hidden under a MARK and discarded with POP_MARK (fickling GHSA-mxhj-88fx-4pcv).
    let r = restricted_loads(b"(cposix\nsystem\n1N.");
    assert_forbidden(&r, "posix", "system");
    // Discarded with POP.
    let r = restricted_loads(b"cposix\nsystem\n0N.");
    assert_forbidden(&r, "posix", "system");
}

// ---- every opcode path that can reach a global ----------------------------------------------

#[test]
fn path_global() {
    let data = b"cmy.mod\nThing\n.";
    let (r, seen) = load_seen(data, allow_all);
    expect_global(&r.unwrap(), "my.mod", "Thing");
    assert_eq!(seen, pairs(&[("my.mod", "Thing")]));

    let (r, seen) = load_seen(data, deny_all);
    assert_forbidden(&r, "my.mod", "Thing");
    let err = r.unwrap_err();
    assert_eq!(err.opcode(), Some(Opcode::GLOBAL));
    assert_eq!(err.offset(), Some(0));
    assert_eq!(seen, pairs(&[("my.mod", "Thing")]));
}

#[test]
fn denying_policy_stops_at_the_first_global() {
    // [first.A, second.B, third.C] at protocol 0: the policy must be asked about `first.A` only.
    let data = b"(lcfirst\nA\nacsecond\nB\nacthird\nC\na.";
    let (r, seen) = load_seen(data, deny_all);
    assert_forbidden(&r, "first", "A");
    assert_eq!(seen, pairs(&[("first", "A")]));

    // Allowing the first only: stops at the second.
    let (r, seen) = load_seen(data, |m: &str, n: &str| {
        ((m, n) == ("first", "A")).then_some(Class::Record)
    });
    assert_forbidden(&r, "second", "B");
    assert_eq!(seen, pairs(&[("first", "A"), ("second", "B")]));

    // Allowing all: each exactly once, in order.
    let (r, seen) = load_seen(data, allow_all);
    let v = r.unwrap();
    assert_eq!(v.as_slice().map(<[Value]>::len), Some(3));
    assert_eq!(
        seen,
        pairs(&[("first", "A"), ("second", "B"), ("third", "C")])
    );
}

#[test]
fn path_stack_global() {
    // \x80\x04 SHORT_BINUNICODE 'my.mod' SHORT_BINUNICODE 'Thing' STACK_GLOBAL STOP
    let data = b"\x80\x04\x8c\x06my.mod\x8c\x05Thing\x93.";
    let (r, seen) = load_seen(data, allow_all);
    expect_global(&r.unwrap(), "my.mod", "Thing");
    assert_eq!(seen, pairs(&[("my.mod", "Thing")]));

    let (r, seen) = load_seen(data, deny_all);
    assert_forbidden(&r, "my.mod", "Thing");
    assert_eq!(r.unwrap_err().opcode(), Some(Opcode::STACK_GLOBAL));
    assert_eq!(seen, pairs(&[("my.mod", "Thing")]));

    // The operands may come from the memo: the VM uses the real values, not a guess.
    // 'decoy' PUT 0, 'posix' PUT 1, 'system' PUT 2, then GET 1 GET 2 STACK_GLOBAL.
    let data = b"\x80\x04\x8c\x05decoyq\x00\x8c\x05posixq\x01\x8c\x06systemq\x020h\x01h\x02\x93.";
    let (r, seen) = load_seen(data, builtins_only);
    assert_forbidden(&r, "posix", "system");
    assert_eq!(seen, pairs(&[("posix", "system")]));
}

#[test]
fn path_inst() {
    // (V'x' INST my.mod Klass: the class is resolved before it is called.
    let data = b"(Vx\nimy.mod\nKlass\n.";
    let (r, seen) = load_seen(data, allow_all);
    let v = r.unwrap();
    let args = expect_object(&v, "my.mod", "Klass", Construct::Inst);
    assert_eq!(args, [Value::from("x")]);
    assert_eq!(seen, pairs(&[("my.mod", "Klass")]));

    let (r, seen) = load_seen(data, deny_all);
    assert_forbidden(&r, "my.mod", "Klass");
    assert_eq!(r.unwrap_err().opcode(), Some(Opcode::INST));
    assert_eq!(seen, pairs(&[("my.mod", "Klass")]));

    let r = restricted_loads(b"(Vecho Hacked!\niposix\nsystem\n.");
    assert_forbidden(&r, "posix", "system");
}

#[test]
fn path_obj() {
    // MARK GLOBAL my.mod Klass BININT1 1 OBJ STOP
    let data = b"(cmy.mod\nKlass\nK\x01o.";
    let (r, seen) = load_seen(data, allow_all);
    let v = r.unwrap();
    let args = expect_object(&v, "my.mod", "Klass", Construct::Obj);
    assert_eq!(args, [Value::from(1)]);
    assert_eq!(seen, pairs(&[("my.mod", "Klass")]));

    let (r, seen) = load_seen(data, deny_all);
    assert_forbidden(&r, "my.mod", "Klass");
    assert_eq!(r.unwrap_err().opcode(), Some(Opcode::GLOBAL));
    assert_eq!(seen, pairs(&[("my.mod", "Klass")]));

    // OBJ can only call what FindClass returned: a str is not callable.
    let (r, seen) = load_seen(b"(Vposix.system\nK\x01o.", allow_all);
    assert_err_starts(&r, "'str' object is not callable");
    assert!(seen.is_empty());
}

#[test]
fn path_newobj() {
    // PROTO 2, GLOBAL my.mod Klass, BININT1 1, TUPLE1, NEWOBJ
    let data = b"\x80\x02cmy.mod\nKlass\nK\x01\x85\x81.";
    let (r, seen) = load_seen(data, allow_all);
    let v = r.unwrap();
    let args = expect_object(&v, "my.mod", "Klass", Construct::NewObj);
    assert_eq!(args, [Value::from(1)]);
    assert_eq!(seen, pairs(&[("my.mod", "Klass")]));

    let (r, seen) = load_seen(data, deny_all);
    assert_forbidden(&r, "my.mod", "Klass");
    assert_eq!(seen, pairs(&[("my.mod", "Klass")]));

    // A class that did not come from FindClass (a str) is refused.
    let (r, seen) = load_seen(b"\x80\x02X\x03\x00\x00\x00abc)\x81.", allow_all);
    assert_err_starts(&r, "NEWOBJ class argument must be a type, not str");
    assert!(seen.is_empty());
    // Args must be a tuple (C unpickler's check).
    let (r, _) = load_seen(b"\x80\x02cmy.mod\nKlass\n]\x81.", allow_all);
    assert_err_starts(&r, "NEWOBJ args argument must be a tuple, not list");
}

#[test]
fn path_newobj_ex() {
    // PROTO 4, 'my.mod' 'Klass' STACK_GLOBAL, (1,), {'a': 2}, NEWOBJ_EX
    let data = b"\x80\x04\x8c\x06my.mod\x8c\x05Klass\x93K\x01\x85}\x8c\x01aK\x02s\x92.";
    let (r, seen) = load_seen(data, allow_all);
    let v = r.unwrap();
    let args = expect_object(&v, "my.mod", "Klass", Construct::NewObjEx);
    assert_eq!(args, [Value::from(1)]);
    let kwargs = v.as_object().unwrap().kwargs().expect("kwargs recorded");
    assert_eq!(kwargs["a"], 2);
    assert_eq!(seen, pairs(&[("my.mod", "Klass")]));

    let (r, seen) = load_seen(data, deny_all);
    assert_forbidden(&r, "my.mod", "Klass");
    assert_eq!(seen, pairs(&[("my.mod", "Klass")]));

    // kwargs must be a dict.
    let (r, _) = load_seen(b"\x80\x04\x8c\x06my.mod\x8c\x05Klass\x93)]\x92.", allow_all);
    assert_err_starts(&r, "NEWOBJ_EX kwargs argument must be a dict, not list");
    // A non-type class is refused.
    let (r, seen) = load_seen(b"\x80\x04K\x01)}\x92.", allow_all);
    assert_err_starts(&r, "NEWOBJ_EX class argument must be a type, not int");
    assert!(seen.is_empty());
}

#[test]
fn path_reduce() {
    // GLOBAL my.mod func, MARK BININT1 1 TUPLE, REDUCE
    let data = b"cmy.mod\nfunc\n(K\x01tR.";
    let (r, seen) = load_seen(data, allow_all);
    let v = r.unwrap();
    let args = expect_object(&v, "my.mod", "func", Construct::Reduce);
    assert_eq!(args, [Value::from(1)]);
    assert_eq!(seen, pairs(&[("my.mod", "func")]));

    let (r, seen) = load_seen(data, deny_all);
    assert_forbidden(&r, "my.mod", "func");
    assert_eq!(seen, pairs(&[("my.mod", "func")]));

    // REDUCE can only call what FindClass returned.
    let (r, seen) = load_seen(b"Vos.system\n(Vls\ntR.", allow_all);
    assert_err_starts(&r, "'str' object is not callable");
    assert!(seen.is_empty());
    // A recorded object is not callable either (no `__call__` is ever run).
    let (r, seen) = load_seen(b"cmy.mod\nfunc\n)R)R.", allow_all);
    assert_err_starts(&r, "'func' object is not callable");
    assert_eq!(seen, pairs(&[("my.mod", "func")]));
    // REDUCE args must be a tuple.
    let (r, _) = load_seen(b"cmy.mod\nfunc\n]R.", allow_all);
    assert_err_starts(&r, "argument list must be a tuple");
}

#[test]
fn path_build_on_recorded_object() {
    // my.mod.Klass() then BUILD {'a': 1}
    let data = b"cmy.mod\nKlass\n)R}Va\nK\x01sb.";
    let (r, seen) = load_seen(data, allow_all);
    let v = r.unwrap();
    expect_object(&v, "my.mod", "Klass", Construct::Reduce);
    let state = v.as_object().unwrap().state().expect("state recorded");
    assert_eq!(state["a"], 1);
    assert_eq!(seen, pairs(&[("my.mod", "Klass")]));

    // A global inside the state still goes through the policy, and is refused there.
    let data = b"cmy.mod\nKlass\n)R}Va\ncposix\nsystem\nsb.";
    let (r, seen) = load_seen(data, |m: &str, n: &str| {
        ((m, n) == ("my.mod", "Klass")).then_some(Class::Record)
    });
    assert_forbidden(&r, "posix", "system");
    assert_eq!(seen, pairs(&[("my.mod", "Klass"), ("posix", "system")]));

    // BUILD twice on one object is refused.
    let (r, _) = load_seen(b"cmy.mod\nKlass\n)R}b}b.", allow_all);
    assert_err_starts(&r, "BUILD applied twice to one object");
}

#[test]
fn path_build_on_bare_global_is_an_error() {
    // GLOBAL my.mod Klass, EMPTY_DICT, BUILD: would monkeypatch a class (attacks.md 2.6).
    let (r, seen) = load_seen(b"cmy.mod\nKlass\n}Va\nK\x01sb.", allow_all);
    let msg = assert_err_starts(&r, "BUILD on the global 'my.mod.Klass' is forbidden");
    assert_eq!(r.unwrap_err().opcode(), Some(Opcode::BUILD), "{msg}");
    assert_eq!(seen, pairs(&[("my.mod", "Klass")]));
    // Even an allowed builtin type.
    let r = restricted_loads(b"cbuiltins\nset\n}b.");
    assert_err_starts(&r, "BUILD on the global 'builtins.set' is forbidden");
    // And even with a `None` state (a no-op in CPython, but globals are immutable tokens).
    let r = restricted_loads(b"cbuiltins\nset\nNb.");
    assert_err_starts(&r, "BUILD on the global 'builtins.set' is forbidden");
}

#[test]
fn path_ext1_ext2_ext4() {
    let cases: [(&[u8], i32); 3] = [
        (b"\x82\x07.", 7),
        (b"\x83\x01\x02.", 0x0201),
        (b"\x84\x01\x02\x03\x04.", 0x0403_0201),
    ];
    for (data, code) in cases {
        // Forbidden name.
        let seen = Seen::default();
        let r = Unpickler::from_slice(data)
            .extension(code, "posix", "system")
            .find_class(recorder(&seen, builtins_only))
            .load();
        assert_forbidden(&r, "posix", "system");
        assert_eq!(seen.into_inner(), pairs(&[("posix", "system")]), "{code}");

        // Allowed name (the default policy: builtins.set).
        let seen = Seen::default();
        let r = Unpickler::from_slice(data)
            .extension(code, "builtins", "set")
            .find_class(recorder(&seen, builtins_only))
            .load();
        let v = r.unwrap_or_else(|e| panic!("code {code}: {e}"));
        expect_global(&v, "builtins", "set");
        assert_eq!(v.as_global().unwrap().builtin(), Some(Builtin::Set));
        assert_eq!(seen.into_inner(), pairs(&[("builtins", "set")]), "{code}");

        // Restricted_loads has no registry.
        let r = restricted_loads(data);
        assert_err_starts(&r, &format!("unregistered extension code {code}"));
        assert!(r.unwrap_err().is_unsupported());

        // Registered, but for another code.
        let seen = Seen::default();
        let r = Unpickler::from_slice(data)
            .extension(code + 1, "builtins", "set")
            .find_class(recorder(&seen, allow_all))
            .load();
        assert_err_starts(&r, &format!("unregistered extension code {code}"));
        assert!(seen.into_inner().is_empty());
    }
}

#[test]
fn ext_with_a_recorded_global_builds_an_object() {
    // EXT1 9, EMPTY_TUPLE, REDUCE: my.mod.Klass() recorded.
    let seen = Seen::default();
    let r = Unpickler::from_slice(b"\x80\x02\x82\x09)R.")
        .extension(9, "my.mod", "Klass")
        .find_class(recorder(&seen, allow_all))
        .load();
    let v = r.unwrap();
    expect_object(&v, "my.mod", "Klass", Construct::Reduce);
    assert_eq!(seen.into_inner(), pairs(&[("my.mod", "Klass")]));
}

#[test]
fn ext_code_zero_or_negative() {
    for data in [
        &b"\x82\x00."[..],
        b"\x83\x00\x00.",
        b"\x84\x00\x00\x00\x00.",
        b"\x84\xff\xff\xff\xff.",
        b"\x84\x00\x00\x00\x80.",
    ] {
        let seen = Seen::default();
        let r = Unpickler::from_slice(data)
            .extension(0, "builtins", "set")
            .extension(-1, "builtins", "set")
            .extension(i32::MIN, "builtins", "set")
            .find_class(recorder(&seen, allow_all))
            .load();
        assert_err_starts(&r, "EXT specifies code <= 0");
        assert!(seen.into_inner().is_empty());
    }
}

#[test]
fn ext_goes_through_fix_imports_below_protocol_3() {
    // CPython maps the registry's (module, name) too (its find_class does the mapping).
    let seen = Seen::default();
    let r = Unpickler::from_slice(b"\x80\x02\x82\x05.")
        .extension(5, "__builtin__", "set")
        .find_class(recorder(&seen, builtins_only))
        .load();
    expect_global(&r.unwrap(), "builtins", "set");
    assert_eq!(seen.into_inner(), pairs(&[("builtins", "set")]));
}

const NO_HOOK: &str = "A load persistent id instruction was encountered,\nbut no persistent_load function was specified.";

#[test]
fn persid_without_hook_is_cpython_error() {
    for (data, op) in [
        (&b"Pabc\n."[..], Opcode::PERSID),
        (b"\x80\x02X\x03\x00\x00\x00abcQ.", Opcode::BINPERSID),
        // The PyTorch shape: the pid tuple holds a GLOBAL (allowed here, so that the missing
        // hook is what fails).
        (
            b"\x80\x02(Vstorage\ncmy.mod\nStorage\ntQ.",
            Opcode::BINPERSID,
        ),
    ] {
        let (r, _) = load_seen(data, allow_all);
        let msg = assert_err_starts(&r, NO_HOOK);
        let err = r.unwrap_err();
        assert!(err.is_unsupported(), "{msg}");
        assert_eq!(err.opcode(), Some(op), "{msg}");
    }
}

#[test]
fn persid_with_hook_uses_the_hook_value_and_resolves_no_global() {
    let calls = Cell::new(0);
    let hook = |pid: &Value| {
        calls.set(calls.get() + 1);
        if pid == &Value::from("os.system") {
            Ok(Value::from("resolved by hook"))
        } else if let Some(items) = pid.as_slice() {
            Ok(Value::from(format!("tuple of {}", items.len())))
        } else {
            Err(format!("unknown pid {pid}"))
        }
    };
    // PERSID with a pid that *looks* like a global: nothing is resolved.
    let seen = Seen::default();
    let r = Unpickler::from_slice(b"Pos.system\n.")
        .persistent_load(hook)
        .find_class(recorder(&seen, allow_all))
        .load();
    assert_eq!(r.unwrap(), "resolved by hook");
    assert!(seen.borrow().is_empty());
    assert_eq!(calls.get(), 1);

    // BINPERSID with a tuple pid of strings.
    let r = Unpickler::from_slice(b"\x80\x02X\x02\x00\x00\x00osX\x06\x00\x00\x00system\x86Q.")
        .persistent_load(hook)
        .find_class(recorder(&seen, allow_all))
        .load();
    assert_eq!(r.unwrap(), "tuple of 2");
    assert!(seen.borrow().is_empty());
    assert_eq!(calls.get(), 2);

    // A hook error becomes an UnpicklingError with its message.
    let r = Unpickler::from_slice(b"Pnope\n.")
        .persistent_load(hook)
        .load();
    assert_err_starts(&r, "unknown pid 'nope'");
    assert_eq!(calls.get(), 3);

    // The hook's value is used inside the structure: [hook(), hook()]
    let r = Unpickler::from_slice(b"(lPos.system\naPos.system\na.")
        .persistent_load(hook)
        .load();
    assert_eq!(
        r.unwrap().to_string(),
        "['resolved by hook', 'resolved by hook']"
    );
}

// ---- fix_imports ----------------------------------------------------------------------------

#[test]
fn fix_imports_maps_builtin_below_protocol_3() {
    for data in [
        &b"c__builtin__\nset\n."[..],
        b"\x80\x01c__builtin__\nset\n.",
        b"\x80\x02c__builtin__\nset\n.",
    ] {
        let (r, seen) = load_seen(data, builtins_only);
        expect_global(&r.unwrap(), "builtins", "set");
        assert_eq!(seen, pairs(&[("builtins", "set")]));
        // And restricted_loads accepts it (that is how CPython 3 writes sets at protocol < 3).
        expect_global(&restricted_loads(data).unwrap(), "builtins", "set");
    }
}

#[test]
fn fix_imports_false_passes_python2_names_through() {
    let seen = Seen::default();
    let r = Unpickler::from_slice(b"\x80\x02c__builtin__\nset\n.")
        .fix_imports(false)
        .find_class(recorder(&seen, builtins_only))
        .load();
    assert_forbidden(&r, "__builtin__", "set");
    assert_eq!(seen.into_inner(), pairs(&[("__builtin__", "set")]));
}

#[test]
fn fix_imports_not_applied_at_protocol_3() {
    let (r, seen) = load_seen(b"\x80\x03c__builtin__\nset\n.", builtins_only);
    assert_forbidden(&r, "__builtin__", "set");
    assert_eq!(seen, pairs(&[("__builtin__", "set")]));
    // PROTO 2 then PROTO 3: the last PROTO wins, not mapped.
    let (r, seen) = load_seen(b"\x80\x02\x80\x03c__builtin__\nset\n.", builtins_only);
    assert_forbidden(&r, "__builtin__", "set");
    assert_eq!(seen, pairs(&[("__builtin__", "set")]));
}

#[test]
fn fix_imports_maps_commands_into_subprocess() {
    let (r, seen) = load_seen(b"\x80\x02ccommands\ngetoutput\n.", builtins_only);
    assert_forbidden(&r, "subprocess", "getoutput");
    assert_eq!(seen, pairs(&[("subprocess", "getoutput")]));
    // A denylist keyed on Python 3 names would miss it; the allowlist does not.
    assert_forbidden(
        &restricted_loads(b"ccommands\ngetoutput\n(Vid\ntR."),
        "subprocess",
        "getoutput",
    );
    // Name mapping: __builtin__.intern -> sys.intern.
    let (r, seen) = load_seen(b"c__builtin__\nintern\n.", builtins_only);
    assert_forbidden(&r, "sys", "intern");
    assert_eq!(seen, pairs(&[("sys", "intern")]));
}

#[test]
fn fix_imports_last_proto_wins() {
    // PROTO 4 then PROTO 2: mapped.
    let (r, seen) = load_seen(b"\x80\x04\x80\x02c__builtin__\nset\n.", builtins_only);
    expect_global(&r.unwrap(), "builtins", "set");
    assert_eq!(seen, pairs(&[("builtins", "set")]));
}

#[test]
fn fix_imports_applies_to_stack_global_and_inst() {
    // STACK_GLOBAL under a PROTO 2 header.
    let data = b"\x80\x02X\x0b\x00\x00\x00__builtin__X\x03\x00\x00\x00set\x93.";
    let (r, seen) = load_seen(data, builtins_only);
    expect_global(&r.unwrap(), "builtins", "set");
    assert_eq!(seen, pairs(&[("builtins", "set")]));
    // INST __builtin__ set with no args: set().
    let (r, seen) = load_seen(b"(i__builtin__\nset\n.", builtins_only);
    let v = r.unwrap();
    assert!(v.is_set(), "{v:?}");
    assert_eq!(seen, pairs(&[("builtins", "set")]));
}

// ---- exactness ------------------------------------------------------------------------------

#[test]
fn near_miss_names_are_forbidden() {
    // STACK_GLOBAL at protocol 4 with arbitrary (module, name) strings.
    fn stack_global(m: &str, n: &str) -> Vec<u8> {
        let mut d = b"\x80\x04".to_vec();
        for s in [m, n] {
            d.push(0x8c);
            d.push(u8::try_from(s.len()).unwrap());
            d.extend_from_slice(s.as_bytes());
        }
        d.extend_from_slice(b"\x93.");
        d
    }
    let cases: Vec<(Vec<u8>, &str, &str)> = vec![
        (b"cbuiltins\nset \n.".to_vec(), "builtins", "set "),
        (b"cbuiltins\r\nset\n.".to_vec(), "builtins\r", "set"),
        (b"cbuiltins\nset\r\n.".to_vec(), "builtins", "set\r"),
        (b"c builtins\nset\n.".to_vec(), " builtins", "set"),
        (stack_global("builtins.set", ""), "builtins.set", ""),
        (stack_global("", "builtins.set"), "", "builtins.set"),
        (b"cbuiltins\nsetattr\n.".to_vec(), "builtins", "setattr"),
        (stack_global("builtins", "setattr"), "builtins", "setattr"),
        (b"cBuiltins\nset\n.".to_vec(), "Builtins", "set"),
        (b"cbuiltins\nSet\n.".to_vec(), "builtins", "Set"),
        (
            stack_global("builtins", "str.maketrans"),
            "builtins",
            "str.maketrans",
        ),
        (
            stack_global("builtins", "set.__class__"),
            "builtins",
            "set.__class__",
        ),
        (stack_global("builtins", "set\n"), "builtins", "set\n"),
        (stack_global("builtins\nset", ""), "builtins\nset", ""),
        (stack_global("builtins", "set\0"), "builtins", "set\0"),
        (
            stack_global("builtins", "se\u{200b}t"),
            "builtins",
            "se\u{200b}t",
        ),
        (stack_global("builtins", "ｓet"), "builtins", "ｓet"),
        (stack_global("builtin", "sset"), "builtin", "sset"),
        (stack_global("_codecs", "encode "), "_codecs", "encode "),
    ];
    for (data, m, n) in cases {
        let seen = Seen::default();
        let r = Unpickler::from_slice(&data)
            .find_class(recorder(&seen, Allowlist::builtins()))
            .load();
        assert_forbidden(&r, m, n);
        assert_eq!(
            seen.into_inner(),
            pairs(&[(m, n)]),
            "the policy must see the exact pair {m:?} {n:?}"
        );
    }
    // Control: the exact names are allowed.
    expect_global(
        &Unpickler::from_slice(&stack_global("builtins", "set"))
            .find_class(Allowlist::builtins())
            .load()
            .unwrap(),
        "builtins",
        "set",
    );
}

#[test]
fn allowlist_allow_is_exact_too() {
    let policy = Allowlist::new().allow("collections", "OrderedDict");
    assert!(policy.contains("collections", "OrderedDict"));
    assert!(!policy.contains("collections", "OrderedDic"));
    assert!(!policy.contains("collections", "OrderedDict.fromkeys"));
    assert!(!policy.contains("collections.abc", "OrderedDict"));
    assert!(!policy.contains("collections", "_sys"));
    // Allowlist::new forbids even the builtins.
    assert!(!policy.contains("builtins", "set"));
    let r = Unpickler::from_slice(b"cbuiltins\nset\n.")
        .find_class(policy)
        .load();
    assert_forbidden(&r, "builtins", "set");
}

#[test]
fn stack_global_requires_str_operands() {
    // BINBYTES operands: b'builtins' b'set'.
    let seen = Seen::default();
    let r = Unpickler::from_slice(b"\x80\x04C\x08builtinsC\x03set\x93.")
        .find_class(recorder(&seen, allow_all))
        .load();
    assert_err_starts(&r, "STACK_GLOBAL requires str");
    assert!(seen.into_inner().is_empty());
    // One str, one bytes.
    let r = restricted_loads(b"\x80\x04\x8c\x08builtinsC\x03set\x93.");
    assert_err_starts(&r, "STACK_GLOBAL requires str");
    // An int.
    let r = restricted_loads(b"\x80\x04\x8c\x08builtinsK\x01\x93.");
    assert_err_starts(&r, "STACK_GLOBAL requires str");
    // SHORT_BINSTRING operands are str under the default ASCII encoding (as in CPython) ...
    expect_global(
        &restricted_loads(b"\x80\x04U\x08builtinsU\x03set\x93.").unwrap(),
        "builtins",
        "set",
    );
    // ... and bytes under encoding='bytes', so refused.
    let r = Unpickler::from_slice(b"\x80\x04U\x08builtinsU\x03set\x93.")
        .encoding("bytes")
        .load();
    assert_err_starts(&r, "STACK_GLOBAL requires str");
}

// ---- parser differentials: framing ----------------------------------------------------------

const FRAME_OVERRUN: &str = "pickle exhausted before end of frame";

#[test]
fn frame_ending_inside_an_argument_is_refused() {
    // FRAME 3 covers `\x8c\x05a`; the SHORT_BINUNICODE argument runs 4 bytes past it.
    let r = restricted_loads(b"\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00\x8c\x05abcde.");
    assert_err_starts(&r, FRAME_OVERRUN);
    // FRAME 9 ends in the middle of a BINBYTES length prefix.
    let r = restricted_loads(
        b"\x80\x04\x95\x09\x00\x00\x00\x00\x00\x00\x00NNNNNNNB\x02\x00\x00\x00xy.",
    );
    assert_err_starts(&r, FRAME_OVERRUN);
    // FRAME ends right after an opcode byte; its argument lies outside.
    let r = restricted_loads(b"\x80\x04\x95\x01\x00\x00\x00\x00\x00\x00\x00\x8c\x01a.");
    assert_err_starts(&r, FRAME_OVERRUN);
    // A text line (GLOBAL) crossing the frame end.
    let r = restricted_loads(b"\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00cbuiltins\nset\n.");
    assert_err_starts(&r, FRAME_OVERRUN);
}

#[test]
fn frame_straddle_cannot_hide_a_global() {
    // A frame whose last bytes start a BINBYTES of length 0x1c: a linear disassembler sees one
    // harmless bytes object swallowing `cposix\nsystem\n...`. A machine that lets the
    // argument straddle the frame but re-syncs at the frame end would run the GLOBAL instead.
    // Either way our answer must be an error, and not a forbidden-global "success" nor a value.
    let mut data = b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00B\x1c\x00\x00\x00".to_vec();
    let hidden = b"cposix\nsystem\n(Vecho pwn\ntR.";
    data.extend_from_slice(hidden);
    data.extend_from_slice(b"\x85.");
    let r = restricted_loads(&data);
    assert_err_starts(&r, FRAME_OVERRUN);
    let (_, seen) = load_seen(&data, allow_all);
    assert!(seen.is_empty(), "the hidden global was reached: {seen:?}");
}

#[test]
fn frame_inside_an_unfinished_frame_is_refused() {
    // FRAME 11 { FRAME 1 { N } . }
    let r = restricted_loads(
        b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00\x95\x01\x00\x00\x00\x00\x00\x00\x00N.",
    );
    assert_err_starts(&r, "beginning of a new frame before end of current frame");
    assert!(r.unwrap_err().is_malformed());
}

#[test]
fn frame_claiming_more_than_the_input_is_refused() {
    let r = restricted_loads(b"\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00N.");
    assert_err_starts(&r, "pickle data was truncated");
    assert!(r.unwrap_err().is_eof());
    // Control: an exact frame is fine, and so is a frame followed by a new one.
    assert!(
        restricted_loads(b"\x80\x04\x95\x02\x00\x00\x00\x00\x00\x00\x00N.")
            .unwrap()
            .is_none()
    );
    assert_eq!(
        restricted_loads(
            b"\x80\x04\x95\x01\x00\x00\x00\x00\x00\x00\x00N\x95\x01\x00\x00\x00\x00\x00\x00\x00."
        )
        .unwrap(),
        Value::None
    );
}

/// `pickle.dumps(['a', b'x' * 100000, 'b'], protocol=4)` (CPython 3.11): the 100000-byte
/// BINBYTES is written unframed between two frames.
///
/// ```text
///      0 PROTO 4
///      2 FRAME 7
///     11 EMPTY_LIST / 12 MEMOIZE / 13 MARK / 14 SHORT_BINUNICODE 'a' / 17 MEMOIZE
///     18 BINBYTES 100000        <- unframed
/// 100023 FRAME 7
/// 100032 MEMOIZE / 100033 SHORT_BINUNICODE 'b' / 100036 MEMOIZE / 100037 APPENDS / 100038 STOP
/// ```
fn unframed_between_frames() -> Vec<u8> {
    let mut d = b"\x80\x04\x95\x07\x00\x00\x00\x00\x00\x00\x00]\x94(\x8c\x01a\x94B\xa0\x86\x01\x00"
        .to_vec();
    d.extend(std::iter::repeat_n(b'x', 100_000));
    d.extend_from_slice(b"\x95\x07\x00\x00\x00\x00\x00\x00\x00\x94\x8c\x01b\x94e.");
    d
}

#[test]
fn unframed_data_between_frames_is_accepted() {
    let data = unframed_between_frames();
    assert_eq!(data.len(), 100_039);
    let v = restricted_loads(&data).unwrap();
    let items = v.as_slice().expect("a list");
    assert_eq!(items.len(), 3);
    assert_eq!(items[0], "a");
    assert_eq!(items[1].as_bytes(), Some(&[b'x'; 100_000][..]));
    assert!(items[1].is_bytes());
    assert_eq!(items[2], "b");
}

#[test]
fn unframed_between_frames_matches_cpython_if_available() {
    // Re-generate the bytes with python3 when it is installed, to keep the literal honest.
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import pickle,sys; sys.stdout.buffer.write(pickle.dumps(['a', b'x'*100000, 'b'], protocol=4))",
        ])
        .output();
    match out {
        Ok(out) if out.status.success() => assert_eq!(out.stdout, unframed_between_frames()),
        _ => eprintln!("python3 not available; skipped"),
    }
}

// ---- nothing after an error -----------------------------------------------------------------

#[test]
fn forbidden_global_after_lots_of_valid_data_still_errors() {
    // PROTO 2, EMPTY_LIST, MARK, 100000 x BININT1, APPENDS, then append posix.system.
    let mut data = b"\x80\x02](".to_vec();
    for i in 0..100_000u32 {
        data.push(b'K');
        data.push((i % 256) as u8);
    }
    data.push(b'e');
    let ok_prefix = data.clone();
    data.extend_from_slice(b"cposix\nsystem\na.");
    let r = restricted_loads(&data);
    let msg = assert_forbidden(&r, "posix", "system");
    assert_eq!(
        r.unwrap_err().offset(),
        Some(ok_prefix.len() as u64),
        "{msg}"
    );
    // Control: the prefix alone is fine.
    let mut ok = ok_prefix;
    ok.push(b'.');
    assert_eq!(
        restricted_loads(&ok).unwrap().as_slice().unwrap().len(),
        100_000
    );
}

#[test]
fn forbidden_global_deep_inside_a_valid_structure_errors() {
    // {'a': [1, 2, {'b': (posix.system, )}]} at protocol 2, via memo.
    let data = b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01]q\x02(K\x01K\x02}q\x03X\x01\x00\x00\x00bq\x04cposix\nsystem\nq\x05\x85q\x06sees.";
    assert_forbidden(&restricted_loads(data), "posix", "system");
}

#[test]
fn payload_first_then_garbage_reports_the_payload() {
    // The forbidden global comes before an invalid opcode: the error is the global.
    let r = restricted_loads(b"cposix\nsystem\n(Vls\ntR\xff\xff");
    assert_forbidden(&r, "posix", "system");
    // And when the garbage comes first, there is still no value.
    let r = restricted_loads(b"\xffcposix\nsystem\n.");
    assert_err_starts(&r, "invalid load key, '\\xff'.");
}

#[test]
fn second_pickle_in_a_stream_is_also_checked() {
    // Two pickles back to back: the first loads, the second is refused.
    let data = b"K\x05.cposix\nsystem\n.";
    let mut u = Unpickler::from_slice(data);
    assert_eq!(u.load().unwrap(), 5);
    assert_forbidden(&u.load(), "posix", "system");
    // restricted_loads reads only the first (trailing bytes are ignored, like pickle.loads).
    assert_eq!(restricted_loads(data).unwrap(), 5);
}
