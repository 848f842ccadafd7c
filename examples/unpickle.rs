//! `unpickle`: decode a pickle file safely and print its Python `repr()`.
//!
//! ```text
//! unpickle [--allow MODULE.NAME]... [--quiet] FILE
//! ```
//!
//! * `FILE` is a path, or `-` for standard input.
//! * `--allow MODULE.NAME` allows one more global on top of the default policy (the builtin
//!   types). The pair is split at a `:` if there is one (`--allow collections.abc:Mapping`),
//!   else at the last `.` (`--allow datetime.datetime`). Calls to it are recorded, not run.
//! * `--quiet` decodes and drops the value, printing nothing.
//!
//! The input is decoded as a shared input ([`Unpickler::from_shared`]): `bytes` payloads of
//! 1 KiB or more are windows of it, not copies (the input stays in memory while the value
//! lives, as it would here anyway).
//!
//! On success the repr and a newline go to stdout and the exit status is 0. On error the message
//! goes to stderr and the exit status is 1 for a forbidden global, 2 for any other invalid or
//! unsupported pickle (and for bad usage), 3 when a limit is exceeded, 4 for an I/O error (such
//! as a missing file).

use std::io::{Read, Write};
use std::process::ExitCode;

use restricted_unpickler::{Allowlist, Category, SharedInput, Unpickler};

const USAGE: &str = "usage: unpickle [--allow MODULE.NAME]... [--quiet] FILE";

fn main() -> ExitCode {
    let mut allow = Allowlist::builtins();
    let mut quiet = false;
    let mut file = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quiet" | "-q" => quiet = true,
            "--allow" => {
                let Some(spec) = args.next() else {
                    eprintln!("unpickle: --allow needs MODULE.NAME\n{USAGE}");
                    return ExitCode::from(2);
                };
                let split = spec.split_once(':').or_else(|| spec.rsplit_once('.'));
                match split {
                    Some((m, n)) if !m.is_empty() && !n.is_empty() => allow = allow.allow(m, n),
                    _ => {
                        eprintln!("unpickle: --allow needs MODULE.NAME, got {spec:?}\n{USAGE}");
                        return ExitCode::from(2);
                    }
                }
            }
            "--help" | "-h" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ if file.is_none() && (arg == "-" || !arg.starts_with('-')) => file = Some(arg),
            _ => {
                eprintln!("unpickle: unexpected argument {arg:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(file) = file else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let data = if file == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).map(|_| buf)
    } else {
        std::fs::read(&file)
    };
    let data = match data {
        Ok(d) => d,
        Err(e) => {
            eprintln!("unpickle: {file}: {e}");
            return ExitCode::from(4);
        }
    };
    let input = SharedInput::from(data);
    match Unpickler::from_shared(&input).find_class(allow).load() {
        Ok(value) => {
            if !quiet {
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                if writeln!(out, "{value}").and_then(|()| out.flush()).is_err() {
                    return ExitCode::from(4);
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("unpickle: {file}: {e}");
            ExitCode::from(match e.category() {
                Category::Forbidden => 1,
                Category::Limit => 3,
                Category::Io => 4,
                _ => 2,
            })
        }
    }
}
