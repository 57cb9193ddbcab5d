//! Go function names: the names a Go binary's pclntab (the runtime's
//! function table) holds, read from ELF, Mach-O or PE files without loading
//! them whole, and govulncheck's binary-mode decision whether the packages
//! and symbols an OSV advisory names are linked in.
//!
//! The pclntab starts with a header: a magic (0xfffffffa for Go 1.16–1.17,
//! 0xfffffff0 for 1.18–1.19, 0xfffffff1 for 1.20+) in the target's byte
//! order, two zero bytes, the instruction size quantum, the pointer size,
//! then pointer-sized words: nfunc, nfiles, (1.18+: textStart), and the
//! offsets of funcnametab, cutab, filetab, pctab and functab. It is the
//! `.gopclntab` section (ELF) or `__gopclntab` (Mach-O); in PE files, and
//! files without that section, the header is found by scanning.
//!
//! Every NUL-terminated string of funcnametab is taken as present, not only
//! the functab's functions: inlined callees have no functab entry, but their
//! names are there (the inline trees point at them). Missing one would turn
//! a real vulnerability into "not linked".

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Seek, SeekFrom};

use serde::Serialize;

/// A pclntab larger than this is not believable.
const MAX_PCLNTAB: u64 = 512 << 20;
/// Nor more names than this, or a longer name.
const MAX_NAMES: u64 = 4 << 20;
const MAX_NAME: usize = 64 << 10;
/// Nor more normalised text than this (closures add their enclosing names).
const MAX_STORED: u64 = 256 << 20;
/// Section tables and load commands larger than this are not believable.
const MAX_TABLE: u64 = 16 << 20;
const CHUNK: usize = 1 << 20;
/// Header look-alikes a scan checks before it gives up.
const MAX_CANDIDATES: usize = 4096;

/// Every function name the binary's pclntab knows, normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Symbols {
    /// Package path → symbols in it ("Parse", "Server.Serve", "F.func1").
    /// Compiler-generated names and names without a package are kept whole
    /// under "".
    by_package: BTreeMap<String, BTreeSet<String>>,
}

impl Symbols {
    pub fn has_package(&self, path: &str) -> bool {
        !path.is_empty() && self.by_package.contains_key(path)
    }

    /// `symbol` as OSV's Go database writes it: "Parse", "Server.Serve",
    /// "Tag.String" ("(*Server).Serve" is accepted too).
    pub fn has_symbol(&self, package: &str, symbol: &str) -> bool {
        let symbol = clean_receiver(symbol);
        (self.by_package.get(package)).is_some_and(|s| s.contains(symbol.as_ref()))
    }

    /// Distinct (package, symbol) entries; a closure counts also under the
    /// functions enclosing it.
    pub fn function_count(&self) -> usize {
        self.by_package.values().map(BTreeSet::len).sum()
    }

    /// (package, symbol) in sorted order, for storage; [`Self::from_entries`]
    /// rebuilds the same value.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &str)> {
        (self.by_package.iter()).flat_map(|(p, s)| s.iter().map(move |n| (p.as_str(), n.as_str())))
    }

    pub fn from_entries<I: IntoIterator<Item = (String, String)>>(i: I) -> Self {
        let mut s = Self::default();
        for (p, n) in i {
            s.by_package.entry(p).or_default().insert(n);
        }
        s
    }

    /// Adds one pclntab name; returns the bytes it may have stored.
    fn add_name(&mut self, raw: &str) -> u64 {
        let (pkg, syms) = normalise(raw);
        let size = pkg.len() + syms.iter().map(String::len).sum::<usize>();
        self.by_package.entry(pkg).or_default().extend(syms);
        size as u64
    }
}

/// Splits a pclntab name into its package path and the symbols it stands
/// for, as govulncheck does: `net/http.(*Server).Serve` is ("net/http",
/// ["Server.Serve"]); type arguments are dropped; a closure `pkg.F.func1`
/// stands for `F.func1` and `F`; `gopkg.in/yaml%2ev3.Load` is in
/// "gopkg.in/yaml.v3" (the linker escapes dots of a path's last element).
fn normalise(raw: &str) -> (String, Vec<String>) {
    let whole = || (String::new(), vec![raw.to_owned()]);
    if is_generated(raw) {
        return whole();
    }
    let name = strip_type_args(raw);
    let path_end = name.rfind('/').unwrap_or(0);
    let Some(dot) = name[path_end..].find('.').map(|i| path_end + i) else {
        return whole();
    };
    let rest = clean_receiver(&name[dot + 1..]).into_owned();
    if rest.is_empty() {
        return whole();
    }
    let mut syms = closure_bases(&rest);
    syms.push(rest);
    (unescape(&name[..dot]), syms)
}

/// Compiler-generated names belong to no package: Go 1.20+'s `type:` and
/// `go:`, older `type..` and `go.` (not a module path like `go.uber.org/x`).
fn is_generated(raw: &str) -> bool {
    let host = |h: &str| (h.bytes()).all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    ["type:", "go:", "type.."]
        .iter()
        .any(|p| raw.starts_with(p))
        || (raw.strip_prefix("go."))
            .is_some_and(|r| !r.split_once('/').is_some_and(|(h, _)| host(h)))
}

/// Drops bracketed type arguments, nested ones too: `pkg.F[...]` → `pkg.F`,
/// `pkg.(*M[a.K[b.V]]).All` → `pkg.(*M).All`.
fn strip_type_args(s: &str) -> Cow<'_, str> {
    if !s.contains('[') {
        return Cow::Borrowed(s);
    }
    let mut depth = 0usize;
    let keep = |&c: &char| {
        let was = depth;
        depth = (depth + usize::from(c == '[')).saturating_sub(usize::from(c == ']'));
        was == 0 && depth == 0 && c != ']'
    };
    Cow::Owned(s.chars().filter(keep).collect())
}

/// `(*T).M` → `T.M`.
fn clean_receiver(s: &str) -> Cow<'_, str> {
    if let Some((recv, rest)) = s.strip_prefix('(').and_then(|s| s.split_once(')')) {
        return Cow::Owned(format!("{}{rest}", recv.trim_start_matches('*')));
    }
    Cow::Borrowed(s)
}

/// The functions a closure or wrapper belongs to: `F.func1.2` → [F],
/// `T.M.func1` → [T.M, T], `T.M-fm` → [T.M, T], `F-range1` → [F]; none
/// for plain names. Extra entries can only err towards "linked". Only the
/// 1-, 2- and 3-part prefixes and the whole are kept, bounding the growth.
fn closure_bases(sym: &str) -> Vec<String> {
    let parts: Vec<&str> = sym.split('.').collect();
    let mut head = Vec::new();
    for (j, p) in parts.iter().enumerate() {
        if j > 0 && is_closure_part(p) {
            break;
        }
        if let Some((base, _)) = p.split_once('-') {
            head.push(base);
            break;
        }
        head.push(p);
    }
    if head == parts {
        return Vec::new();
    }
    let lens = BTreeSet::from([1, 2, 3, head.len()]);
    let prefixes = lens.into_iter().rev().filter(|&n| n <= head.len());
    (prefixes.map(|n| head[..n].join(".")))
        .filter(|s| !s.is_empty() && s != sym)
        .collect()
}

fn is_closure_part(p: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let kinds = ["func", "gowrap", "deferwrap"];
    p.is_empty() || digits(p) || kinds.iter().any(|k| p.strip_prefix(k).is_some_and(digits))
}

/// Undoes the linker's `%XX` escapes in package paths.
fn unescape(s: &str) -> String {
    let (b, mut out, mut i) = (s.as_bytes(), Vec::with_capacity(s.len()), 0);
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    while i < b.len() {
        let pair = b
            .get(i + 1..i + 3)
            .and_then(|x| Some(hex(x[0])? << 4 | hex(x[1])?));
        if let (b'%', Some(c)) = (b[i], pair) {
            out.push(c);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// govulncheck's decision for one OSV `affected` entry's
/// `ecosystem_specific.imports`, given as (package path, symbols) pairs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Reachability {
    /// The advisory names no packages: only the module-level finding can be said.
    Unknown,
    /// At least one vulnerable package/symbol is in the binary: listed, "pkg.Symbol".
    Linked { symbols: Vec<String> },
    /// None of the listed packages/symbols is in the binary: what was checked.
    NotLinked { checked: Vec<String> },
}

/// A package listed without symbols is linked when any function of it is in
/// the binary; with symbols, when any `path.symbol` is. An entry with an
/// empty package path is malformed: the answer is then `Unknown`, never
/// `NotLinked`.
pub fn reachability(symbols: &Symbols, imports: &[(String, Vec<String>)]) -> Reachability {
    if imports.is_empty() || imports.iter().any(|(p, _)| p.is_empty()) {
        return Reachability::Unknown;
    }
    let (mut linked, mut checked) = (Vec::new(), Vec::new());
    let mut note = |found: bool, name: String| {
        let to: &mut Vec<String> = if found { &mut linked } else { &mut checked };
        if !to.contains(&name) {
            to.push(name);
        }
    };
    for (path, syms) in imports {
        if syms.is_empty() {
            note(symbols.has_package(path), path.clone());
        }
        for s in syms {
            note(symbols.has_symbol(path, s), format!("{path}.{s}"));
        }
    }
    match linked.is_empty() {
        true => Reachability::NotLinked { checked },
        false => Reachability::Linked { symbols: linked },
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SymbolsError {
    /// Not an ELF, Mach-O or PE executable.
    #[error("{0}")]
    NotExecutable(String),
    /// An executable without a Go function table (not Go, or gccgo's).
    #[error("{0}")]
    NotGo(String),
    /// A pclntab older than Go 1.16.
    #[error("{0}")]
    Unsupported(String),
    /// The file ends before a structure it declares.
    #[error("{0}")]
    Truncated(String),
    /// A size or count past what Cairn believes.
    #[error("{0}")]
    TooLarge(String),
    /// A structure is present but inconsistent.
    #[error("{0}")]
    Malformed(String),
    #[error("reading {what} failed: {source}")]
    Io { what: String, source: io::Error },
}

type Result<T> = std::result::Result<T, SymbolsError>;
use SymbolsError as E;

/// What the readers below take.
trait Input: Read + Seek {}
impl<T: Read + Seek> Input for T {}

fn io_err(what: &str, e: io::Error) -> SymbolsError {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => short(what),
        _ => E::Io {
            what: what.into(),
            source: e,
        },
    }
}

fn short(what: &str) -> SymbolsError {
    E::Truncated(format!("the file is truncated: it ends inside {what}"))
}

fn malformed(what: impl Into<String>) -> SymbolsError {
    E::Malformed(what.into())
}

fn not_executable(what: &str) -> SymbolsError {
    E::NotExecutable(what.into())
}

/// Reads the function names of the Go executable in `r` (`len` bytes
/// long), touching only its headers, section table and the pclntab's
/// header and name table (a scan for the header streams 1 MiB chunks). A
/// universal Mach-O yields the union of its slices.
pub fn from_executable<R: Read + Seek>(r: &mut R, len: u64) -> Result<Symbols> {
    let mut head = [0u8; 64];
    let n = read_up_to(r, 0, &mut head[..len.min(64) as usize])
        .map_err(|e| io_err("the file header", e))?;
    if !head[..n].starts_with(&[0xca, 0xfe, 0xba, 0xbe]) {
        return slice(r, &head[..n], 0, len);
    }
    let e = Endian(true);
    let n = e.uint(&read_at(r, 0, 8, len, "the universal Mach-O header")?, 4, 4);
    // Java class files share the magic; their "count" is a version >= 45.
    if n == 0 || n > 32 {
        return Err(not_executable(
            "the body starts like a universal Mach-O, but is not one",
        ));
    }
    let table = read_at(r, 8, n * 20, len, "the universal Mach-O architecture table")?;
    let mut all = Symbols::default();
    for a in table.chunks_exact(20) {
        let (off, size) = (e.uint(a, 8, 4), e.uint(a, 12, 4));
        let end = (off.checked_add(size).filter(|&end| end <= len))
            .ok_or_else(|| short("a universal Mach-O slice"))?;
        let k = read_up_to(r, off, &mut head[..size.min(64) as usize])
            .map_err(|e| io_err("a universal Mach-O slice", e))?;
        if !is_macho(&head[..k]) {
            return Err(malformed("a universal Mach-O slice is not a Mach-O file"));
        }
        for (p, s) in slice(r, &head[..k], off, end)?.by_package {
            all.by_package.entry(p).or_default().extend(s);
        }
    }
    Ok(all)
}

/// One thin executable at `[base, end)`.
fn slice(r: &mut impl Input, head: &[u8], base: u64, end: u64) -> Result<Symbols> {
    let section = match head {
        [0x7f, b'E', b'L', b'F', ..] => elf_section(r, head, base, end)?,
        _ if is_macho(head) => macho_section(r, head, base, end)?,
        // PE files keep the pclntab inside .rdata, with no section of its own.
        [b'M', b'Z', ..] if head.len() >= 64 => {
            let pe = base + Endian(false).uint(head, 0x3c, 4);
            if read_at(r, pe, 4, end, "the PE header")? != b"PE\0\0" {
                return Err(not_executable("the body is a DOS file without a PE header"));
            }
            None
        }
        _ => {
            return Err(not_executable(
                "the body is not an ELF, Mach-O or PE executable",
            ))
        }
    };
    let (names, names_end) = match section {
        Some((off, size)) => {
            let sect_end = (off.checked_add(size).filter(|&e| e <= end))
                .ok_or_else(|| short("the pclntab section"))?;
            locate(r, off, sect_end)?
        }
        None => scan(r, base, end)?,
    };
    read_names(r, names, names_end)
}

/// 64-bit Mach-O: Go 1.16+ builds no 32-bit darwin or ios binaries.
fn is_macho(head: &[u8]) -> bool {
    matches!(
        head,
        [0xcf, 0xfa, 0xed, 0xfe, ..] | [0xfe, 0xed, 0xfa, 0xcf, ..]
    )
}

fn read_up_to(r: &mut impl Input, off: u64, buf: &mut [u8]) -> io::Result<usize> {
    r.seek(SeekFrom::Start(off))?;
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Reads `size` bytes at `off`, which must lie before `end`.
fn read_at(r: &mut impl Input, off: u64, size: u64, end: u64, what: &str) -> Result<Vec<u8>> {
    if size > MAX_TABLE {
        return Err(E::TooLarge(format!(
            "{what} claims {size} bytes, more than Cairn believes"
        )));
    }
    if off.checked_add(size).is_none_or(|e| e > end) {
        return Err(E::Truncated(format!(
            "the file is truncated: {what} at offset {off} ({size} bytes) lies beyond its end"
        )));
    }
    let mut buf = vec![0u8; size as usize];
    r.seek(SeekFrom::Start(off)).map_err(|e| io_err(what, e))?;
    r.read_exact(&mut buf).map_err(|e| io_err(what, e))?;
    Ok(buf)
}

/// Big-endian when true.
struct Endian(bool);
impl Endian {
    /// The `n`-byte unsigned integer at `at`.
    fn uint(&self, b: &[u8], at: usize, n: usize) -> u64 {
        let (b, fold) = (&b[at..at + n], |x: u64, c: &u8| x << 8 | u64::from(*c));
        if self.0 {
            b.iter().fold(0, fold)
        } else {
            b.iter().rev().fold(0, fold)
        }
    }
}

/// The offset and size of the pclntab section, if there is one.
type Section = Option<(u64, u64)>;

/// The ELF `.gopclntab` section.
fn elf_section(r: &mut impl Input, head: &[u8], base: u64, end: u64) -> Result<Section> {
    if head.len() < 64 {
        return Err(short("the ELF header"));
    }
    // Where e_shoff is, and the word size.
    let (o, w) = match head[4] {
        1 => (0x20, 4),
        2 => (0x28, 8),
        c => return Err(malformed(format!("unknown ELF class {c}"))),
    };
    let e = Endian(head[5] == 2);
    let shoff = e.uint(head, o, w);
    let [entsize, num, strndx] = [0, 2, 4].map(|k| e.uint(head, o + w + 10 + k, 2));
    if shoff == 0 || num == 0 {
        return Ok(None);
    }
    if entsize < if w == 8 { 64 } else { 40 } || strndx >= num {
        return Err(malformed("the ELF section header table is malformed"));
    }
    let what = "the ELF section header table";
    let table = read_at(r, base.saturating_add(shoff), entsize * num, end, what)?;
    let so = if w == 8 { 24 } else { 16 };
    // sh_name, sh_type, sh_offset, sh_size.
    let section = |i: u64| {
        let s = &table[(i * entsize) as usize..];
        [(0, 4), (4, 4), (so, w), (so + w, w)].map(|(at, n)| e.uint(s, at, n))
    };
    let [_, _, str_off, str_size] = section(strndx);
    let what = "the ELF section name table";
    let names = read_at(r, base.saturating_add(str_off), str_size, end, what)?;
    for i in 0..num {
        let [name, kind, off, size] = section(i);
        let name = (names.get(name as usize..)).and_then(|s| s.split(|&b| b == 0).next());
        // SHT_NOBITS (8) occupies no file space; PIE builds use the relro name.
        if kind != 8 && matches!(name, Some(b".gopclntab" | b".data.rel.ro.gopclntab")) {
            return Ok(Some((base.saturating_add(off), size)));
        }
    }
    Ok(None)
}

/// The Mach-O `__gopclntab` section.
fn macho_section(r: &mut impl Input, head: &[u8], base: u64, end: u64) -> Result<Section> {
    if head.len() < 32 {
        return Err(short("the Mach-O header"));
    }
    let e = Endian(head[0] == 0xfe);
    let (ncmds, sizeofcmds) = (e.uint(head, 16, 4), e.uint(head, 20, 4));
    let cmds = read_at(r, base + 32, sizeofcmds, end, "the Mach-O load commands")?;
    let mut at = 0usize;
    for _ in 0..ncmds {
        if at + 8 > cmds.len() {
            return Err(malformed("the Mach-O load commands overrun their size"));
        }
        let (cmd, size) = (e.uint(&cmds, at, 4), e.uint(&cmds, at + 4, 4) as usize);
        if size < 8 || at + size > cmds.len() {
            return Err(malformed("a Mach-O load command has a bad size"));
        }
        let c = &cmds[at..at + size];
        // LC_SEGMENT_64: nsects at 64, then sections of 80 bytes from 72.
        if cmd == 0x19 && size >= 72 {
            for s in 0..e.uint(c, 64, 4) as usize {
                let Some(sect) = c.get(72 + s * 80..152 + s * 80) else {
                    break;
                };
                if sect[..16].split(|&b| b == 0).next() == Some(b"__gopclntab") {
                    return Ok(Some((base + e.uint(sect, 48, 4), e.uint(sect, 40, 8))));
                }
            }
        }
        at += size;
    }
    Ok(None)
}

/// The byte order (big-endian?) and the magic's low byte, if `b` starts
/// like a pclntab header of any version: magic, two zero bytes, quantum 1,
/// 2 or 4, pointer size 4 or 8.
fn header_kind(b: &[u8]) -> Option<(bool, u8)> {
    let (be, m) = match b {
        [m, 0xff, 0xff, 0xff, 0, 0, 1 | 2 | 4, 4 | 8, ..] => (false, *m),
        [0xff, 0xff, 0xff, m, 0, 0, 1 | 2 | 4, 4 | 8, ..] => (true, *m),
        _ => return None,
    };
    matches!(m, 0xfa | 0xf0 | 0xf1 | 0xfb).then_some((be, m))
}

/// Validates the pclntab header at `at` (the table must end by `end`) and
/// returns the byte range of its name table.
fn locate(r: &mut impl Input, at: u64, end: u64) -> Result<(u64, u64)> {
    let mut h = [0u8; 72];
    let n = read_up_to(r, at, &mut h[..end.saturating_sub(at).min(72) as usize])
        .map_err(|e| io_err("the pclntab header", e))?;
    let Some((be, magic)) = header_kind(&h[..n]) else {
        return Err(malformed(format!("no pclntab header at offset {at}")));
    };
    if magic == 0xfb {
        let old = "the pclntab is Go 1.2–1.15's (magic 0xfffffffb); Cairn reads Go 1.16+ binaries";
        return Err(E::Unsupported(old.into()));
    }
    let words = if magic == 0xfa { 7 } else { 8 };
    let (e, ps) = (Endian(be), h[7] as usize);
    let hsize = 8 + words * ps;
    if n < hsize {
        return Err(short("the pclntab header"));
    }
    let word = |i: usize| e.uint(&h, 8 + i * ps, ps);
    let nfunc = word(0);
    // funcnametab, cutab, filetab, pctab, functab.
    let offs: Vec<u64> = (words - 5..words).map(word).collect();
    let (names, cu, ftab) = (offs[0], offs[1], offs[4]);
    if nfunc > MAX_NAMES || ftab > MAX_PCLNTAB {
        return Err(E::TooLarge(format!(
            "the pclntab claims {nfunc} functions after {ftab} bytes, more than Cairn believes"
        )));
    }
    if nfunc == 0 || names < hsize as u64 || cu <= names || offs.windows(2).any(|w| w[0] > w[1]) {
        let bad = format!("the pclntab header at {at} is inconsistent: {offs:?}");
        return Err(malformed(bad));
    }
    // 1.16's functab holds pointer-sized words, 1.18+'s 32-bit offsets:
    // nfunc (entry, record offset) pairs and an end entry.
    let (field, avail) = (if words == 7 { ps } else { 4 }, end - at);
    if ftab + (2 * nfunc + 1) * field as u64 > avail {
        return Err(short("the pclntab function table"));
    }
    // The first function's record (entry, then name offset) must name a
    // string of funcnametab.
    let entry = read_at(
        r,
        at + ftab,
        2 * field as u64,
        end,
        "the pclntab function table",
    )?;
    let rec = (ftab.checked_add(e.uint(&entry, field, field)))
        .and_then(|o| o.checked_add(field as u64))
        .filter(|&o| o.checked_add(4).is_some_and(|x| x <= avail))
        .ok_or_else(|| malformed("the pclntab's first function record lies outside it"))?;
    let rec = read_at(r, at + rec, 4, end, "a pclntab function record")?;
    if e.uint(&rec, 0, 4) >= cu - names {
        return Err(malformed("the pclntab's first function has no name"));
    }
    Ok((at + names, at + cu))
}

/// Finds a valid pclntab header in `[start, end)`, streaming in chunks.
fn scan(r: &mut impl Input, start: u64, end: u64) -> Result<(u64, u64)> {
    let mut buf = vec![0u8; CHUNK.min(end.saturating_sub(start) as usize)];
    let (mut pos, mut tried, mut rejected) = (start, 0, None);
    while pos < end {
        let want = buf.len().min((end - pos) as usize);
        let n = read_up_to(r, pos, &mut buf[..want]).map_err(|e| io_err("the executable", e))?;
        for i in 0..n.saturating_sub(7) {
            if buf[i + 4] != 0 || header_kind(&buf[i..i + 8]).is_none() {
                continue;
            }
            tried += 1;
            if tried > MAX_CANDIDATES {
                return Err(E::TooLarge(format!(
                    "more than {MAX_CANDIDATES} pclntab look-alikes; giving up"
                )));
            }
            match locate(r, pos + i as u64, end) {
                Ok(t) => return Ok(t),
                // An old table is what to report; otherwise the first reason.
                Err(e @ E::Unsupported(_)) => rejected = Some(e),
                Err(e) if rejected.is_none() => rejected = Some(e),
                Err(_) => {}
            }
        }
        if n < want || pos + n as u64 >= end {
            break;
        }
        // Overlap so a header across the boundary is seen.
        pos += (n - 7) as u64;
    }
    Err(match rejected {
        Some(e @ E::Unsupported(_)) => e,
        Some(e) => E::NotGo(format!(
            "no valid Go function table (pclntab) in the file: {e}"
        )),
        None => E::NotGo("no Go function table (pclntab): not a Go binary, or gccgo's".into()),
    })
}

/// Every NUL-terminated name in `[start, end)`, an unterminated last one too.
fn read_names(r: &mut impl Input, start: u64, end: u64) -> Result<Symbols> {
    let what = "the pclntab name table";
    let (mut syms, mut name, mut count, mut stored) = (Symbols::default(), Vec::new(), 0, 0);
    let mut finish = |name: &mut Vec<u8>| {
        if name.is_empty() {
            return Ok(());
        }
        count += 1;
        if count > MAX_NAMES {
            return Err(E::TooLarge(format!("{what} has over {MAX_NAMES} names")));
        }
        stored += syms.add_name(&String::from_utf8_lossy(name));
        if stored > MAX_STORED {
            return Err(E::TooLarge(format!(
                "{what} has over {MAX_STORED} bytes of names"
            )));
        }
        name.clear();
        Ok(())
    };
    let mut buf = vec![0u8; CHUNK.min((end - start) as usize)];
    r.seek(SeekFrom::Start(start))
        .map_err(|e| io_err(what, e))?;
    let mut pos = start;
    while pos < end {
        let want = buf.len().min((end - pos) as usize);
        r.read_exact(&mut buf[..want])
            .map_err(|e| io_err(what, e))?;
        for (k, part) in buf[..want].split(|&b| b == 0).enumerate() {
            if k > 0 {
                finish(&mut name)?;
            }
            if name.len() + part.len() > MAX_NAME {
                let long = format!("{what} has a name over {MAX_NAME} bytes");
                return Err(E::TooLarge(long));
            }
            name.extend_from_slice(part);
        }
        pos += want as u64;
    }
    finish(&mut name)?;
    Ok(syms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    const V116: u32 = 0xfffffffa;
    const V118: u32 = 0xfffffff0;
    const V120: u32 = 0xfffffff1;
    /// The third is inlined: in funcnametab, not in functab.
    const NAMES: &[&str] = &[
        "main.main",
        "net/http.(*Server).Serve",
        "example.com/lib.Tiny",
        "gopkg.in/yaml%2ev3.Unmarshal",
        "example.com/lib.Map[...]",
    ];

    /// A pclntab whose functab lists `names` but the third.
    fn pcln(magic: u32, be: bool, ps: usize, names: &[&str]) -> Vec<u8> {
        let (words, field) = if magic == V116 { (7, ps) } else { (8, 4) };
        let put = |v: &mut Vec<u8>, x: u64, n: usize| match be {
            true => v.extend(&x.to_be_bytes()[8 - n..]),
            false => v.extend(&x.to_le_bytes()[..n]),
        };
        let (mut table, mut funcs) = (Vec::new(), Vec::new());
        for (i, n) in names.iter().enumerate() {
            if i != 2 {
                funcs.push(table.len() as u64);
            }
            table.extend(n.as_bytes());
            table.push(0);
        }
        let at = (8 + words * ps) as u64;
        let cu = at + table.len() as u64;
        let mut v = Vec::new();
        put(&mut v, magic.into(), 4);
        v.extend([0, 0, 1, ps as u8]);
        let text: &[u64] = if words == 8 { &[0x401000] } else { &[] };
        let offsets = [at, cu, cu + 4, cu + 8, cu + 12];
        for x in [&[funcs.len() as u64, 1], text, &offsets].concat() {
            put(&mut v, x, ps);
        }
        v.extend(table.iter().chain(&[0; 12]));
        let (nf, f) = (funcs.len() as u64, field as u64);
        for i in 0..nf {
            put(&mut v, i * 16, field);
            put(&mut v, (2 * nf + 1) * f + i * (f + 4), field);
        }
        put(&mut v, nf * 16, field);
        for (i, &o) in funcs.iter().enumerate() {
            put(&mut v, i as u64 * 16, field);
            put(&mut v, o, 4);
        }
        v
    }

    /// An ELF64 (little-endian) with these sections; with no section table
    /// and `body` after the header when `sections` is None.
    fn elf(sections: Option<&[(&str, &[u8])]>, body: &[u8]) -> Vec<u8> {
        let mut f = b"\x7fELF\x02\x01".to_vec();
        f.resize(64, 0);
        f.extend(body);
        let Some(sections) = sections else { return f };
        let (mut names, mut shs) = (b"\0.shstrtab\0".to_vec(), vec![(0, 0, 0), (1, 0, 0)]);
        for (n, d) in sections {
            shs.push((names.len() as u32, f.len() as u64, d.len() as u64));
            names.extend(n.bytes().chain([0]));
            f.extend(*d);
        }
        shs[1] = (1, f.len() as u64, names.len() as u64);
        f.extend(&names);
        let shoff = f.len() as u64;
        f[0x28..0x30].copy_from_slice(&shoff.to_le_bytes());
        f[0x3a..0x40].copy_from_slice(&[64, 0, shs.len() as u8, 0, 1, 0]);
        for (name, off, size) in shs {
            let mut sh = [0u8; 64];
            sh[..5].copy_from_slice(&[name as u8, 0, 0, 0, 1]);
            sh[24..32].copy_from_slice(&u64::to_le_bytes(off));
            sh[32..40].copy_from_slice(&u64::to_le_bytes(size));
            f.extend(sh);
        }
        f
    }

    /// A 64-bit Mach-O with one segment holding `__gopclntab`.
    fn macho(tab: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 184];
        f[..4].copy_from_slice(&[0xcf, 0xfa, 0xed, 0xfe]);
        f[16..24].copy_from_slice(&[1, 0, 0, 0, 152, 0, 0, 0]);
        f[32..40].copy_from_slice(&[0x19, 0, 0, 0, 152, 0, 0, 0]);
        f[96] = 1;
        f[104..115].copy_from_slice(b"__gopclntab");
        f[144..152].copy_from_slice(&(tab.len() as u64).to_le_bytes());
        f[152] = 184;
        f.extend(tab);
        f
    }

    fn read(f: &[u8]) -> Result<Symbols> {
        from_executable(&mut Cursor::new(f.to_vec()), f.len() as u64)
    }

    fn check(s: &Symbols) {
        let want = "main main net/http Server.Serve net/http (*Server).Serve example.com/lib Tiny \
                    gopkg.in/yaml.v3 Unmarshal example.com/lib Map";
        let want: Vec<&str> = want.split_whitespace().collect();
        for w in want.chunks(2) {
            assert!(s.has_symbol(w[0], w[1]), "{w:?}");
        }
        assert!(s.has_package("net/http") && !s.has_package("fmt"));
        assert_eq!(s.function_count(), 5);
    }

    #[test]
    fn every_format_in_every_container() {
        for (magic, be, ps) in [V116, V118, V120]
            .map(|m| [(false, 4), (false, 8), (true, 4), (true, 8)].map(|(b, p)| (m, b, p)))
            .concat()
        {
            let t = pcln(magic, be, ps, NAMES);
            let mut pe = b"MZ".to_vec();
            pe.resize(0x3c, 0);
            pe.extend(b"\x40\0\0\0PE\0\0");
            pe.resize(301, 0xff);
            pe.extend(&t);
            let m = macho(&t);
            let mut fat = b"\xca\xfe\xba\xbe\0\0\0\x01\0\0\0\x07\0\0\0\0\0\0\x10\0".to_vec();
            fat.extend((m.len() as u32).to_be_bytes());
            fat.resize(4096, 0);
            fat.extend(&m);
            let sect = elf(Some(&[(".text", b"\x90"), (".gopclntab", &t)]), &[]);
            for f in [sect, elf(None, &t), m, fat, pe] {
                check(&read(&f).unwrap_or_else(|e| panic!("{magic:x} {be} {ps}: {e}")));
            }
        }
    }

    #[test]
    fn old_huge_and_foreign_inputs_fail_closed() {
        let mut old = pcln(V118, false, 8, NAMES);
        old[0] = 0xfb;
        for f in [elf(Some(&[(".gopclntab", &old)]), &[]), elf(None, &old)] {
            assert!(matches!(read(&f), Err(E::Unsupported(_))));
        }
        // Huge counts and offsets are refused before anything is read.
        for (at, v) in [(8, u64::MAX), (40, 1 << 40), (64, 1 << 40), (64, 1 << 28)] {
            let mut t = pcln(V120, false, 8, NAMES);
            t[at..at + 8].copy_from_slice(&u64::to_le_bytes(v));
            let e = read(&elf(Some(&[(".gopclntab", &t)]), &[])).unwrap_err();
            let ok = matches!(e, E::TooLarge(_) | E::Malformed(_) | E::Truncated(_));
            assert!(ok, "{e}");
        }
        let long = "a.".to_owned() + &"x".repeat(MAX_NAME);
        let t = pcln(V120, false, 8, &["main.main", "main.f", &long]);
        let e = read(&elf(Some(&[(".gopclntab", &t)]), &[])).unwrap_err();
        assert!(matches!(e, E::TooLarge(_)), "{e}");
        let e = read(&elf(Some(&[(".text", b"\x90")]), &[])).unwrap_err();
        assert!(matches!(e, E::NotGo(_)), "{e}");
        let java = b"\xca\xfe\xba\xbe\0\0\0\x34\0\0\0\0";
        for f in [&b"hello"[..], b"", b"#!/bin/sh\n", java, b"MZ"] {
            assert!(matches!(read(f), Err(E::NotExecutable(_))), "{f:?}");
        }
    }

    /// Every truncation and single-byte corruption is answered with an
    /// error or symbols, never a panic.
    #[test]
    fn corruptions_never_panic() {
        let t = pcln(V120, true, 4, NAMES);
        for f in [
            elf(Some(&[(".gopclntab", &t)]), &[]),
            elf(None, &t),
            macho(&t),
        ] {
            check(&read(&f).unwrap());
            // Cuts inside the header or name table fail (a scanned-for
            // table's function records past the first are not read).
            for cut in 0..f.len() - 40 {
                assert!(read(&f[..cut]).is_err(), "cut {cut}");
            }
            for i in 0..f.len() {
                for v in [0x00, 0x01, 0x7f, 0xff] {
                    let mut g = f.clone();
                    g[i] = v;
                    let _ = read(&g);
                }
            }
        }
    }

    #[test]
    fn names_normalise_like_govulncheck() {
        for case in [
            "net/http.(*Server).Serve => net/http: Server.Serve",
            "fmt.Println => fmt: Println",
            "example.com/m/pkg.Func[...] => example.com/m/pkg: Func",
            "example.com/m/pkg.(*Tag[...]).String => example.com/m/pkg: Tag.String",
            "example.com/m/pkg.Tag[...].String => example.com/m/pkg: Tag.String",
            "c.(*M[a/b.K[x/y.V],*z.T]).All.func1 => c: M.All.func1 M.All M",
            "pkg.Func.func1 => pkg: Func.func1 Func",
            "pkg.Func.func1.2 => pkg: Func.func1.2 Func",
            "pkg.Func.Inner.func2 => pkg: Func.Inner.func2 Func.Inner Func",
            "pkg.(*T).M.func1 => pkg: T.M.func1 T.M T",
            "pkg.T.M-fm => pkg: T.M-fm T.M T",
            "pkg.F-range1 => pkg: F-range1 F",
            "pkg.F.gowrap1 => pkg: F.gowrap1 F",
            "pkg.init.0 => pkg: init.0 init",
            "gopkg.in/yaml%2ev3.Unmarshal => gopkg.in/yaml.v3: Unmarshal",
            "github.com/a/b%2ec.(*D).E => github.com/a/b.c: D.E",
            "go.uber.org/zap.New => go.uber.org/zap: New",
            "runtime.main => runtime: main",
            "x%zz.F => x%zz: F",
            "type:.eq.net/http.Request => : type:.eq.net/http.Request",
            "type..eq.[2]interface {} => : type..eq.[2]interface {}",
            "go.(*struct { net/http.x }).Read => : go.(*struct { net/http.x }).Read",
            "go.buildid => : go.buildid",
            "go:buildid => : go:buildid",
            "_rt0_amd64_linux => : _rt0_amd64_linux",
        ] {
            let (raw, want) = case.split_once(" => ").unwrap();
            let (pkg, syms) = want.split_once(": ").unwrap();
            let syms: BTreeSet<String> = match pkg {
                "" => [syms.to_owned()].into(),
                _ => syms.split(' ').map(str::to_owned).collect(),
            };
            let (p, s) = normalise(raw);
            assert_eq!((p.as_str(), s.into_iter().collect()), (pkg, syms), "{raw}");
        }
    }

    #[test]
    fn reachability_decisions() {
        let s = Symbols::from_entries(
            [
                ("net/http", "Server.Serve"),
                ("fmt", "Println"),
                ("", "go:buildid"),
            ]
            .map(|(p, n)| (p.to_owned(), n.to_owned())),
        );
        let strs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let case = |imports: &[(&str, &[&str])]| {
            let imports: Vec<_> = imports
                .iter()
                .map(|(p, s)| (p.to_string(), strs(s)))
                .collect();
            reachability(&s, &imports)
        };
        let linked = |v: &[&str]| Reachability::Linked { symbols: strs(v) };
        let not_linked = |v: &[&str]| Reachability::NotLinked { checked: strs(v) };
        assert_eq!(case(&[]), Reachability::Unknown);
        assert_eq!(case(&[("", &[]), ("x", &[])]), Reachability::Unknown);
        assert_eq!(case(&[("net/http", &[])]), linked(&["net/http"]));
        let serve = ("net/http", &["Server.Serve", "Parse"][..]);
        assert_eq!(case(&[serve, serve]), linked(&["net/http.Server.Serve"]));
        let none = case(&[("net/http", &["Parse"]), ("net/url", &[]), ("net/url", &[])]);
        assert_eq!(none, not_linked(&["net/http.Parse", "net/url"]));
        let some = case(&[("golang.org/x/net/html", &["Parse"]), ("fmt", &["Println"])]);
        assert_eq!(some, linked(&["fmt.Println"]));
    }

    #[test]
    fn entries_round_trip() {
        let s = read(&elf(
            Some(&[(".gopclntab", &pcln(V118, false, 8, NAMES))]),
            &[],
        ))
        .unwrap();
        let back = Symbols::from_entries(s.entries().map(|(p, n)| (p.to_owned(), n.to_owned())));
        assert_eq!((back.entries().count(), &back), (s.function_count(), &s));
    }
}
