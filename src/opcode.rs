//! The opcode table: every opcode of pickle protocols 0–5, in one place.
//!
//! One macro row per opcode (`NAME = byte, protocol, "argument"`) generates the [`Opcode`] enum,
//! [`Opcode::from_u8`], [`Opcode::name`], [`Opcode::protocol`] and [`Opcode::ALL`]. The names and
//! argument descriptions are those of CPython's `pickletools`.

macro_rules! opcodes {
    ($( $(#[$doc:meta])* $name:ident = $byte:literal, $proto:literal, $arg:literal; )*) => {
        /// A pickle opcode (protocols 0–5). The discriminant is the opcode byte.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[repr(u8)]
        pub enum Opcode {
            $( $(#[$doc])* $name = $byte, )*
        }

        impl Opcode {
            /// Every opcode, in table order (68 of them).
            pub const ALL: &'static [Opcode] = &[$(Opcode::$name,)*];

            /// The opcode for a byte, or `None` if the byte is not an opcode.
            #[inline(always)]
            pub fn from_u8(byte: u8) -> Option<Opcode> {
                // One load from a 256-entry table (the machine's dispatch runs this per opcode).
                const TABLE: [Option<Opcode>; 256] = {
                    let mut t = [None; 256];
                    $( t[$byte as usize] = Some(Opcode::$name); )*
                    t
                };
                TABLE[byte as usize]
            }

            /// The name `pickletools` gives the opcode, e.g. `"BINUNICODE"`.
            pub fn name(self) -> &'static str {
                match self {
                    $( Opcode::$name => stringify!($name), )*
                }
            }

            /// The protocol that introduced the opcode. CPython accepts every opcode under every
            /// protocol, and so does this crate.
            pub fn protocol(self) -> u8 {
                match self {
                    $( Opcode::$name => $proto, )*
                }
            }

            /// How the argument that follows the opcode byte is encoded (`pickletools` names).
            pub fn argument(self) -> &'static str {
                match self {
                    $( Opcode::$name => $arg, )*
                }
            }

            /// The opcode byte.
            pub fn byte(self) -> u8 {
                self as u8
            }
        }
    };
}

opcodes! {
    /// Push a MARK on the mark stack.
    MARK = b'(', 0, "";
    /// End of pickle: pop the top of the stack and return it.
    STOP = b'.', 0, "";
    /// Discard the top of the stack (or the topmost MARK if nothing was pushed since it).
    POP = b'0', 0, "";
    /// Discard everything down to and including the topmost MARK.
    POP_MARK = b'1', 1, "";
    /// Push the top of the stack again (the same object).
    DUP = b'2', 0, "";
    /// A float from a decimal text line.
    FLOAT = b'F', 0, "floatnl";
    /// An int (or `I00`/`I01` bool) from a decimal text line.
    INT = b'I', 0, "decimalnl_short";
    /// A 4-byte signed little-endian int.
    BININT = b'J', 1, "int4";
    /// A 1-byte unsigned int.
    BININT1 = b'K', 1, "uint1";
    /// A long int from a text line (optional trailing `L`).
    LONG = b'L', 0, "decimalnl_long";
    /// A 2-byte unsigned little-endian int.
    BININT2 = b'M', 1, "uint2";
    /// Push None.
    NONE = b'N', 0, "";
    /// Persistent id from a text line, resolved by `persistent_load`.
    PERSID = b'P', 0, "stringnl_noescape";
    /// Persistent id from the stack, resolved by `persistent_load`.
    BINPERSID = b'Q', 1, "";
    /// Call a callable with an argument tuple.
    REDUCE = b'R', 0, "";
    /// A Python 2 str as a quoted, escaped text line.
    STRING = b'S', 0, "stringnl";
    /// A Python 2 str with a 4-byte length.
    BINSTRING = b'T', 1, "string4";
    /// A Python 2 str with a 1-byte length.
    SHORT_BINSTRING = b'U', 1, "string1";
    /// A str from a raw-unicode-escape text line.
    UNICODE = b'V', 0, "unicodestringnl";
    /// A UTF-8 str with a 4-byte length.
    BINUNICODE = b'X', 1, "unicodestring4";
    /// Append the top of the stack to the list below it.
    APPEND = b'a', 0, "";
    /// Set the state of an object (`__setstate__`).
    BUILD = b'b', 0, "";
    /// A global `module.name` from two text lines, through `find_class`.
    GLOBAL = b'c', 0, "stringnl_noescape_pair";
    /// Build a dict from the key/value pairs above the topmost MARK.
    DICT = b'd', 0, "";
    /// Push an empty dict.
    EMPTY_DICT = b'}', 1, "";
    /// Extend the list below the topmost MARK with the items above it.
    APPENDS = b'e', 1, "";
    /// Push a memo entry (decimal index on a text line).
    GET = b'g', 0, "decimalnl_short";
    /// Push a memo entry (1-byte index).
    BINGET = b'h', 1, "uint1";
    /// Build an instance of a class named on two text lines from the items above the MARK.
    INST = b'i', 0, "stringnl_noescape_pair";
    /// Push a memo entry (4-byte index).
    LONG_BINGET = b'j', 1, "uint4";
    /// Build a list from the items above the topmost MARK.
    LIST = b'l', 0, "";
    /// Push an empty list.
    EMPTY_LIST = b']', 1, "";
    /// Build an instance of the class just above the MARK from the items after it.
    OBJ = b'o', 1, "";
    /// Store the top of the stack in the memo (decimal index on a text line).
    PUT = b'p', 0, "decimalnl_short";
    /// Store the top of the stack in the memo (1-byte index).
    BINPUT = b'q', 1, "uint1";
    /// Store the top of the stack in the memo (4-byte index).
    LONG_BINPUT = b'r', 1, "uint4";
    /// Set one key/value pair on the dict below them.
    SETITEM = b's', 0, "";
    /// Build a tuple from the items above the topmost MARK.
    TUPLE = b't', 0, "";
    /// Push an empty tuple.
    EMPTY_TUPLE = b')', 1, "";
    /// Set the key/value pairs above the topmost MARK on the dict below it.
    SETITEMS = b'u', 1, "";
    /// An 8-byte big-endian IEEE-754 float.
    BINFLOAT = b'G', 1, "float8";
    /// Announce the protocol version.
    PROTO = 0x80, 2, "uint1";
    /// `cls.__new__(cls, *args)`.
    NEWOBJ = 0x81, 2, "";
    /// A global from the extension registry (1-byte code).
    EXT1 = 0x82, 2, "uint1";
    /// A global from the extension registry (2-byte code).
    EXT2 = 0x83, 2, "uint2";
    /// A global from the extension registry (4-byte code).
    EXT4 = 0x84, 2, "int4";
    /// Build a 1-tuple from the top of the stack.
    TUPLE1 = 0x85, 2, "";
    /// Build a 2-tuple from the top two stack items.
    TUPLE2 = 0x86, 2, "";
    /// Build a 3-tuple from the top three stack items.
    TUPLE3 = 0x87, 2, "";
    /// Push True.
    NEWTRUE = 0x88, 2, "";
    /// Push False.
    NEWFALSE = 0x89, 2, "";
    /// A long int as little-endian two's complement with a 1-byte length.
    LONG1 = 0x8a, 2, "long1";
    /// A long int as little-endian two's complement with a 4-byte length.
    LONG4 = 0x8b, 2, "long4";
    /// Bytes with a 4-byte length.
    BINBYTES = b'B', 3, "bytes4";
    /// Bytes with a 1-byte length.
    SHORT_BINBYTES = b'C', 3, "bytes1";
    /// A UTF-8 str with a 1-byte length.
    SHORT_BINUNICODE = 0x8c, 4, "unicodestring1";
    /// A UTF-8 str with an 8-byte length.
    BINUNICODE8 = 0x8d, 4, "unicodestring8";
    /// Bytes with an 8-byte length.
    BINBYTES8 = 0x8e, 4, "bytes8";
    /// Push an empty set.
    EMPTY_SET = 0x8f, 4, "";
    /// Add the items above the topmost MARK to the set below it.
    ADDITEMS = 0x90, 4, "";
    /// Build a frozenset from the items above the topmost MARK.
    FROZENSET = 0x91, 4, "";
    /// `cls.__new__(cls, *args, **kwargs)`.
    NEWOBJ_EX = 0x92, 4, "";
    /// A global from the module and name strs on the stack, through `find_class`.
    STACK_GLOBAL = 0x93, 4, "";
    /// Store the top of the stack in the memo at index `len(memo)`.
    MEMOIZE = 0x94, 4, "";
    /// Start a frame of the given 8-byte length (PEP 3154).
    FRAME = 0x95, 4, "uint8";
    /// A bytearray with an 8-byte length.
    BYTEARRAY8 = 0x96, 5, "bytearray8";
    /// Push the next out-of-band buffer.
    NEXT_BUFFER = 0x97, 5, "";
    /// Make the buffer on top of the stack read-only.
    READONLY_BUFFER = 0x98, 5, "";
}

/// How the opcodes that push an int of at most eight bytes encode it, per opcode byte (0: not
/// such an opcode), for readers that decode runs of ints without a dispatch per int: the low
/// nibble is the argument's length in bytes (0 for `LONG1`, whose length byte follows), bit
/// [`INT_SIGNED`] says whether it is two's complement (`BININT`, `LONG1`) or unsigned
/// (`BININT1`, `BININT2`), bit [`INT_LONG1`] marks `LONG1`. Bits, not comparisons of the
/// opcode, so that the reader can turn them into masks the compiler does not make branches of.
pub(crate) const SMALL_INT_ARG: [u8; 256] = {
    let mut t = [0u8; 256];
    t[Opcode::BININT1 as usize] = 1;
    t[Opcode::BININT2 as usize] = 2;
    t[Opcode::BININT as usize] = 4 | INT_SIGNED;
    t[Opcode::LONG1 as usize] = INT_SIGNED | INT_LONG1;
    t
};

/// The bit of a [`SMALL_INT_ARG`] entry that marks `LONG1` (its length byte follows the opcode).
pub(crate) const INT_LONG1: u8 = 0x20;

/// The sign bit of a [`SMALL_INT_ARG`] entry.
pub(crate) const INT_SIGNED: u8 = 0x10;

/// [`STACK_REACH`]: the opcode may move, drop or change any slot.
pub(crate) const REACH_ALL: u8 = 255;
/// [`STACK_REACH`]: the opcode may move, drop or change the slots above the top `MARK` and the
/// one just below it (the container they go into).
pub(crate) const REACH_MARK: u8 = 254;

/// Per opcode byte: how far down the stack the opcode may move, drop or change slots already
/// there: `0` (it only pushes, or touches only the memo, the marks or the framing), `n` (the top
/// `n` slots), [`REACH_MARK`] or [`REACH_ALL`]. The memo may point at a value on the stack
/// instead of holding a copy (the machine's lazy memo entries) as long as no opcode reaches it.
/// `APPENDS` is `0`: it moves the entries along with the values itself.
pub(crate) const STACK_REACH: [u8; 256] = {
    use Opcode::*;
    let mut t = [REACH_ALL; 256];
    let pushers = [
        MARK,
        PROTO,
        FRAME,
        NONE,
        NEWTRUE,
        NEWFALSE,
        INT,
        BININT,
        BININT1,
        BININT2,
        LONG,
        LONG1,
        LONG4,
        FLOAT,
        BINFLOAT,
        STRING,
        BINSTRING,
        SHORT_BINSTRING,
        UNICODE,
        BINUNICODE,
        SHORT_BINUNICODE,
        BINUNICODE8,
        BINBYTES,
        SHORT_BINBYTES,
        BINBYTES8,
        BYTEARRAY8,
        EMPTY_LIST,
        EMPTY_DICT,
        EMPTY_TUPLE,
        EMPTY_SET,
        GET,
        BINGET,
        LONG_BINGET,
        PUT,
        BINPUT,
        LONG_BINPUT,
        MEMOIZE,
        APPENDS,
    ];
    let mut i = 0;
    while i < pushers.len() {
        t[pushers[i] as usize] = 0;
        i += 1;
    }
    let from_mark = [
        TUPLE, LIST, DICT, SETITEMS, ADDITEMS, FROZENSET, OBJ, INST, POP_MARK,
    ];
    let mut i = 0;
    while i < from_mark.len() {
        t[from_mark[i] as usize] = REACH_MARK;
        i += 1;
    }
    t[TUPLE1 as usize] = 1;
    t[TUPLE2 as usize] = 2;
    t[TUPLE3 as usize] = 3;
    t[POP as usize] = 1;
    t[STOP as usize] = 1;
    t[APPEND as usize] = 2;
    t[SETITEM as usize] = 3;
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_all_68_opcodes_and_round_trips() {
        assert_eq!(Opcode::ALL.len(), 68);
        for &op in Opcode::ALL {
            assert_eq!(Opcode::from_u8(op.byte()), Some(op));
        }
        let known = (0..=255u8)
            .filter(|&b| Opcode::from_u8(b).is_some())
            .count();
        assert_eq!(known, 68);
        assert_eq!(Opcode::from_u8(0xff), None);
        assert_eq!(Opcode::BINUNICODE8.name(), "BINUNICODE8");
        assert_eq!(Opcode::BYTEARRAY8.protocol(), 5);
    }
}
