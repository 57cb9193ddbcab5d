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

use super::executable::{self, read_up_to, Endian, ReadError, Section};

/// A pclntab larger than this is not believable.
const MAX_PCLNTAB: u64 = 512 << 20;
/// Nor more names than this, or a longer name.
const MAX_NAMES: u64 = 4 << 20;
const MAX_NAME: usize = 64 << 10;
/// Nor more normalised text than this (closures add their enclosing names).
const MAX_STORED: u64 = 256 << 20;
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

impl From<ReadError> for SymbolsError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Truncated(m) => E::Truncated(m),
            ReadError::TooLarge(m) => E::TooLarge(m),
            ReadError::Malformed(m) => E::Malformed(m),
            ReadError::NotExecutable(m) => E::NotExecutable(m),
            ReadError::Io { what, source } => E::Io { what, source },
        }
    }
}

fn io_err(what: &str, e: io::Error) -> SymbolsError {
    executable::io_err(what, e).into()
}

fn short(what: &str) -> SymbolsError {
    executable::short(what).into()
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
        [0x7f, b'E', b'L', b'F', ..] => {
            let sections = executable::elf_sections(r, head, base, end)?;
            sections.as_deref().and_then(pclntab_section)
        }
        _ if is_macho(head) => pclntab_section(&executable::macho_sections(r, head, base, end)?),
        // PE files keep the pclntab inside .rdata, with no section of its own.
        [b'M', b'Z', ..] if head.len() >= 64 => {
            executable::pe_header(r, head, end)?;
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

fn read_at(r: &mut impl Input, off: u64, size: u64, end: u64, what: &str) -> Result<Vec<u8>> {
    Ok(executable::read_at(r, off, size, end, what)?)
}

/// The offset and size of the pclntab section, if there is one.
type PclnSection = Option<(u64, u64)>;

/// The pclntab section of the thin executable at `[base, end)`: ELF's
/// `.gopclntab` (PIE builds: `.data.rel.ro.gopclntab`), Mach-O's
/// `__gopclntab`.
fn pclntab_section(sections: &[Section]) -> PclnSection {
    let names: [&[u8]; 3] = [b".gopclntab", b".data.rel.ro.gopclntab", b"__gopclntab"];
    sections
        .iter()
        .find(|s| names.iter().any(|n| s.is(n)))
        .map(|s| (s.offset, s.size))
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
mod tests;
