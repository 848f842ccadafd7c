//! Python 2 to Python 3 renames of modules and globals (the unpickler's `fix_imports`).
//!
//! CPython's `Lib/_compat_pickle.py` holds two tables: `NAME_MAPPING`, from a Python 2
//! `(module, name)` pair to its Python 3 pair, and `IMPORT_MAPPING`, from a Python 2 module to
//! its Python 3 module. `Unpickler.find_class` applies them only when the pickle protocol is
//! below 3 and `fix_imports` is true: first the exact pair in `NAME_MAPPING` (which replaces
//! both), otherwise the module alone in `IMPORT_MAPPING` (which replaces the module only).
//! Both lookups are exact: there is no prefix matching on dotted module names.
//!
//! The tables below are generated from CPython by `scripts/gen_compat.py`, which documents how
//! to regenerate them.

/// A Python global as `find_class` receives it: `(module, name)`.
pub(crate) type Global = (&'static str, &'static str);

/// The result of [`fix_import`]: what `find_class` uses instead of the pickled names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mapped {
    /// `NAME_MAPPING` applies: new module and new name.
    Both(&'static str, &'static str),
    /// `IMPORT_MAPPING` applies: new module; the name stays as pickled.
    Module(&'static str),
}

/// Maps a Python 2 global to its Python 3 location, as `find_class` does with `fix_imports`.
///
/// Returns [`Mapped::Both`] when `(module, name)` is in `NAME_MAPPING`, else
/// [`Mapped::Module`] when `module` is in `IMPORT_MAPPING`, else `None`. The caller is
/// responsible for only calling this when the protocol is below 3 and `fix_imports` is on.
pub(crate) fn fix_import(module: &str, name: &str) -> Option<Mapped> {
    if let Some(&(_, (new_module, new_name))) = NAME_MAPPING
        .binary_search_by(|&((m, n), _)| (m, n).cmp(&(module, name)))
        .ok()
        .and_then(|i| NAME_MAPPING.get(i))
    {
        return Some(Mapped::Both(new_module, new_name));
    }
    IMPORT_MAPPING
        .binary_search_by(|&(m, _)| m.cmp(module))
        .ok()
        .and_then(|i| IMPORT_MAPPING.get(i))
        .map(|&(_, new_module)| Mapped::Module(new_module))
}

// BEGIN GENERATED COMPAT TABLES (scripts/gen_compat.py)
// CPython 3.11.7 `_compat_pickle`: len(NAME_MAPPING) == 88, len(IMPORT_MAPPING) == 55.
// Do not edit by hand.

/// `_compat_pickle.NAME_MAPPING`: `((module, name), (new_module, new_name))`, sorted.
#[rustfmt::skip]
pub(crate) static NAME_MAPPING: &[(Global, Global)] = &[
    (("UserDict", "IterableUserDict"), ("collections", "UserDict")),
    (("UserDict", "UserDict"), ("collections", "UserDict")),
    (("UserList", "UserList"), ("collections", "UserList")),
    (("UserString", "UserString"), ("collections", "UserString")),
    (("__builtin__", "basestring"), ("builtins", "str")),
    (("__builtin__", "intern"), ("sys", "intern")),
    (("__builtin__", "long"), ("builtins", "int")),
    (("__builtin__", "reduce"), ("functools", "reduce")),
    (("__builtin__", "unichr"), ("builtins", "chr")),
    (("__builtin__", "unicode"), ("builtins", "str")),
    (("__builtin__", "xrange"), ("builtins", "range")),
    (("_multiprocessing", "Connection"), ("multiprocessing.connection", "Connection")),
    (("_socket", "fromfd"), ("socket", "fromfd")),
    (("exceptions", "ArithmeticError"), ("builtins", "ArithmeticError")),
    (("exceptions", "AssertionError"), ("builtins", "AssertionError")),
    (("exceptions", "AttributeError"), ("builtins", "AttributeError")),
    (("exceptions", "BaseException"), ("builtins", "BaseException")),
    (("exceptions", "BufferError"), ("builtins", "BufferError")),
    (("exceptions", "BytesWarning"), ("builtins", "BytesWarning")),
    (("exceptions", "DeprecationWarning"), ("builtins", "DeprecationWarning")),
    (("exceptions", "EOFError"), ("builtins", "EOFError")),
    (("exceptions", "EnvironmentError"), ("builtins", "EnvironmentError")),
    (("exceptions", "Exception"), ("builtins", "Exception")),
    (("exceptions", "FloatingPointError"), ("builtins", "FloatingPointError")),
    (("exceptions", "FutureWarning"), ("builtins", "FutureWarning")),
    (("exceptions", "GeneratorExit"), ("builtins", "GeneratorExit")),
    (("exceptions", "IOError"), ("builtins", "IOError")),
    (("exceptions", "ImportError"), ("builtins", "ImportError")),
    (("exceptions", "ImportWarning"), ("builtins", "ImportWarning")),
    (("exceptions", "IndentationError"), ("builtins", "IndentationError")),
    (("exceptions", "IndexError"), ("builtins", "IndexError")),
    (("exceptions", "KeyError"), ("builtins", "KeyError")),
    (("exceptions", "KeyboardInterrupt"), ("builtins", "KeyboardInterrupt")),
    (("exceptions", "LookupError"), ("builtins", "LookupError")),
    (("exceptions", "MemoryError"), ("builtins", "MemoryError")),
    (("exceptions", "NameError"), ("builtins", "NameError")),
    (("exceptions", "NotImplementedError"), ("builtins", "NotImplementedError")),
    (("exceptions", "OSError"), ("builtins", "OSError")),
    (("exceptions", "OverflowError"), ("builtins", "OverflowError")),
    (("exceptions", "PendingDeprecationWarning"), ("builtins", "PendingDeprecationWarning")),
    (("exceptions", "ReferenceError"), ("builtins", "ReferenceError")),
    (("exceptions", "RuntimeError"), ("builtins", "RuntimeError")),
    (("exceptions", "RuntimeWarning"), ("builtins", "RuntimeWarning")),
    (("exceptions", "StandardError"), ("builtins", "Exception")),
    (("exceptions", "StopIteration"), ("builtins", "StopIteration")),
    (("exceptions", "SyntaxError"), ("builtins", "SyntaxError")),
    (("exceptions", "SyntaxWarning"), ("builtins", "SyntaxWarning")),
    (("exceptions", "SystemError"), ("builtins", "SystemError")),
    (("exceptions", "SystemExit"), ("builtins", "SystemExit")),
    (("exceptions", "TabError"), ("builtins", "TabError")),
    (("exceptions", "TypeError"), ("builtins", "TypeError")),
    (("exceptions", "UnboundLocalError"), ("builtins", "UnboundLocalError")),
    (("exceptions", "UnicodeDecodeError"), ("builtins", "UnicodeDecodeError")),
    (("exceptions", "UnicodeEncodeError"), ("builtins", "UnicodeEncodeError")),
    (("exceptions", "UnicodeError"), ("builtins", "UnicodeError")),
    (("exceptions", "UnicodeTranslateError"), ("builtins", "UnicodeTranslateError")),
    (("exceptions", "UnicodeWarning"), ("builtins", "UnicodeWarning")),
    (("exceptions", "UserWarning"), ("builtins", "UserWarning")),
    (("exceptions", "ValueError"), ("builtins", "ValueError")),
    (("exceptions", "Warning"), ("builtins", "Warning")),
    (("exceptions", "ZeroDivisionError"), ("builtins", "ZeroDivisionError")),
    (("itertools", "ifilter"), ("builtins", "filter")),
    (("itertools", "ifilterfalse"), ("itertools", "filterfalse")),
    (("itertools", "imap"), ("builtins", "map")),
    (("itertools", "izip"), ("builtins", "zip")),
    (("itertools", "izip_longest"), ("itertools", "zip_longest")),
    (("multiprocessing", "AuthenticationError"), ("multiprocessing.context", "AuthenticationError")),
    (("multiprocessing", "BufferTooShort"), ("multiprocessing.context", "BufferTooShort")),
    (("multiprocessing", "ProcessError"), ("multiprocessing.context", "ProcessError")),
    (("multiprocessing", "TimeoutError"), ("multiprocessing.context", "TimeoutError")),
    (("multiprocessing.forking", "Popen"), ("multiprocessing.popen_fork", "Popen")),
    (("multiprocessing.process", "Process"), ("multiprocessing.context", "Process")),
    (("socket", "_socketobject"), ("socket", "SocketType")),
    (("urllib", "ContentTooShortError"), ("urllib.error", "ContentTooShortError")),
    (("urllib", "getproxies"), ("urllib.request", "getproxies")),
    (("urllib", "pathname2url"), ("urllib.request", "pathname2url")),
    (("urllib", "quote"), ("urllib.parse", "quote")),
    (("urllib", "quote_plus"), ("urllib.parse", "quote_plus")),
    (("urllib", "unquote"), ("urllib.parse", "unquote")),
    (("urllib", "unquote_plus"), ("urllib.parse", "unquote_plus")),
    (("urllib", "url2pathname"), ("urllib.request", "url2pathname")),
    (("urllib", "urlcleanup"), ("urllib.request", "urlcleanup")),
    (("urllib", "urlencode"), ("urllib.parse", "urlencode")),
    (("urllib", "urlopen"), ("urllib.request", "urlopen")),
    (("urllib", "urlretrieve"), ("urllib.request", "urlretrieve")),
    (("urllib2", "HTTPError"), ("urllib.error", "HTTPError")),
    (("urllib2", "URLError"), ("urllib.error", "URLError")),
    (("whichdb", "whichdb"), ("dbm", "whichdb")),
];

/// `_compat_pickle.IMPORT_MAPPING`: `(module, new_module)`, sorted.
#[rustfmt::skip]
pub(crate) static IMPORT_MAPPING: &[(&str, &str)] = &[
    ("BaseHTTPServer", "http.server"),
    ("CGIHTTPServer", "http.server"),
    ("ConfigParser", "configparser"),
    ("Cookie", "http.cookies"),
    ("Dialog", "tkinter.dialog"),
    ("DocXMLRPCServer", "xmlrpc.server"),
    ("FileDialog", "tkinter.filedialog"),
    ("HTMLParser", "html.parser"),
    ("Queue", "queue"),
    ("ScrolledText", "tkinter.scrolledtext"),
    ("SimpleDialog", "tkinter.simpledialog"),
    ("SimpleHTTPServer", "http.server"),
    ("SimpleXMLRPCServer", "xmlrpc.server"),
    ("SocketServer", "socketserver"),
    ("StringIO", "io"),
    ("Tix", "tkinter.tix"),
    ("Tkconstants", "tkinter.constants"),
    ("Tkdnd", "tkinter.dnd"),
    ("Tkinter", "tkinter"),
    ("UserDict", "collections"),
    ("UserList", "collections"),
    ("UserString", "collections"),
    ("__builtin__", "builtins"),
    ("_abcoll", "collections.abc"),
    ("_elementtree", "xml.etree.ElementTree"),
    ("_winreg", "winreg"),
    ("anydbm", "dbm"),
    ("cPickle", "pickle"),
    ("cStringIO", "io"),
    ("commands", "subprocess"),
    ("cookielib", "http.cookiejar"),
    ("copy_reg", "copyreg"),
    ("dbhash", "dbm.bsd"),
    ("dbm", "dbm.ndbm"),
    ("dumbdbm", "dbm.dumb"),
    ("dummy_thread", "_dummy_thread"),
    ("gdbm", "dbm.gnu"),
    ("htmlentitydefs", "html.entities"),
    ("httplib", "http.client"),
    ("markupbase", "_markupbase"),
    ("repr", "reprlib"),
    ("robotparser", "urllib.robotparser"),
    ("test.test_support", "test.support"),
    ("thread", "_thread"),
    ("tkColorChooser", "tkinter.colorchooser"),
    ("tkCommonDialog", "tkinter.commondialog"),
    ("tkFileDialog", "tkinter.filedialog"),
    ("tkFont", "tkinter.font"),
    ("tkMessageBox", "tkinter.messagebox"),
    ("tkSimpleDialog", "tkinter.simpledialog"),
    ("ttk", "tkinter.ttk"),
    ("urllib2", "urllib.request"),
    ("urlparse", "urllib.parse"),
    ("whichdb", "dbm"),
    ("xmlrpclib", "xmlrpc.client"),
];
// END GENERATED COMPAT TABLES

#[cfg(test)]
mod tests {
    use super::*;

    /// `fix_import` gives what CPython's `find_class` would use.
    #[test]
    fn maps_like_find_class() {
        let cases: &[((&str, &str), Option<Mapped>)] = &[
            (("__builtin__", "set"), Some(Mapped::Module("builtins"))),
            (
                ("__builtin__", "xrange"),
                Some(Mapped::Both("builtins", "range")),
            ),
            (
                ("__builtin__", "unicode"),
                Some(Mapped::Both("builtins", "str")),
            ),
            (
                ("__builtin__", "reduce"),
                Some(Mapped::Both("functools", "reduce")),
            ),
            (
                ("exceptions", "StandardError"),
                Some(Mapped::Both("builtins", "Exception")),
            ),
            (
                ("exceptions", "ValueError"),
                Some(Mapped::Both("builtins", "ValueError")),
            ),
            (
                ("copy_reg", "_reconstructor"),
                Some(Mapped::Module("copyreg")),
            ),
            (
                ("commands", "getoutput"),
                Some(Mapped::Module("subprocess")),
            ),
            (("dbm.foo", "x"), None),
            (
                ("UserDict", "IterableUserDict"),
                Some(Mapped::Both("collections", "UserDict")),
            ),
            (
                ("UserDict", "DictMixin"),
                Some(Mapped::Module("collections")),
            ),
            (
                ("urllib", "urlopen"),
                Some(Mapped::Both("urllib.request", "urlopen")),
            ),
            (("urllib", "somethingelse"), None),
            (("cPickle", "loads"), Some(Mapped::Module("pickle"))),
            (("builtins", "set"), None),
            (("__BUILTIN__", "set"), None),
            (("", ""), None),
        ];
        for &((module, name), expected) in cases {
            assert_eq!(fix_import(module, name), expected, "({module:?}, {name:?})");
        }
    }

    /// The tables hold every entry of `_compat_pickle`.
    #[test]
    fn tables_have_cpython_sizes() {
        // len(_compat_pickle.NAME_MAPPING), len(_compat_pickle.IMPORT_MAPPING) in CPython 3.11
        // on Linux (on Windows NAME_MAPPING also maps ('exceptions', 'WindowsError')).
        assert_eq!(NAME_MAPPING.len(), 88);
        assert_eq!(IMPORT_MAPPING.len(), 55);
    }

    /// The generated tables are sorted, as binary search needs.
    #[test]
    fn tables_are_sorted_for_binary_search() {
        assert!(NAME_MAPPING.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(IMPORT_MAPPING.windows(2).all(|w| w[0].0 < w[1].0));
    }

    /// Every table entry is found by `fix_import`.
    #[test]
    fn every_entry_is_found() {
        for &((module, name), (new_module, new_name)) in NAME_MAPPING {
            assert_eq!(
                fix_import(module, name),
                Some(Mapped::Both(new_module, new_name))
            );
        }
        for &(module, new_module) in IMPORT_MAPPING {
            // A name no NAME_MAPPING entry uses, so the module mapping applies.
            assert_eq!(
                fix_import(module, "\u{0}unlikely"),
                Some(Mapped::Module(new_module))
            );
        }
    }
}
