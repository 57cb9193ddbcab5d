//! Go build info: the module and build-setting record the Go toolchain
//! (1.18+) embeds in every binary, read from ELF, Mach-O or PE files without
//! loading them whole, or from the text `go version -m BINARY` prints.
//!
//! The blob starts with the 14-byte magic `\xff Go buildinf:`, a pointer-size
//! byte and a flags byte, padded to 32 bytes; with flag bit 2 ("inline") two
//! uvarint-length strings follow: the Go version and the module info, the
//! latter wrapped in 16-byte sentinels. It sits at the start of the
//! `.go.buildinfo` section (ELF), `__go_buildinfo` (Mach-O) or inside `.data`
//! (PE); when the section table is missing the file is scanned for the magic.

use std::collections::BTreeMap;
use std::io::{self, Read, Seek};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::executable::{self, read_at, read_up_to, ReadError, Section};

pub const MAGIC: &[u8; 14] = b"\xff Go buildinf:";
/// Module info larger than this is not believable.
const MAX_STRING: u64 = 16 << 20;
const SCAN_CHUNK: usize = 4 << 20;

/// A module as the build info records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Module {
    /// Module path, e.g. `golang.org/x/text`.
    pub path: String,
    /// Version, e.g. `v0.14.0`, or `(devel)`.
    pub version: String,
    /// The `h1:` go.sum hash, when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum: Option<String>,
    /// The module that replaced this one (`=>` line), when replaced.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    pub replace: Option<Box<Module>>,
}

/// The build info of one Go binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BuildInfo {
    /// Toolchain version, e.g. `go1.22.1`.
    pub go_version: String,
    /// Package path of the main package (`path` line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The main module (`mod` line); absent for `go build file.go`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub main_module: Option<Module>,
    /// Build settings in order of appearance collapsed to a map, e.g.
    /// `"-trimpath": "true"`, `"vcs.revision": "<sha>"`.
    pub settings: BTreeMap<String, String>,
    /// Every dependency (`dep` lines), with its replacement.
    pub modules: Vec<Module>,
}

impl BuildInfo {
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings.get(key).map(String::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildInfoError {
    /// Not an executable Cairn can read, nor `go version -m` text.
    #[error("{0}")]
    NotExecutable(String),
    /// An executable without Go build info.
    #[error("{0}")]
    NotGo(String),
    /// The file ends before a structure it declares.
    #[error("{0}")]
    Truncated(String),
    /// Go older than 1.18 (pointer-based build info).
    #[error("{0}")]
    Unsupported(String),
    /// The build info is present but malformed.
    #[error("{0}")]
    Malformed(String),
}

type Result<T> = std::result::Result<T, BuildInfoError>;

fn io_err(what: &str, e: io::Error) -> BuildInfoError {
    executable::io_err(what, e).into()
}

/// What kind of upload a body is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    Elf,
    MachO,
    /// A universal (fat) Mach-O holding several architectures.
    FatMachO,
    Pe,
    /// Text, presumably `go version -m` output.
    Text,
    Unknown,
}

pub fn detect(head: &[u8]) -> Detected {
    match head {
        [0x7f, b'E', b'L', b'F', ..] => Detected::Elf,
        [0xcf, 0xfa, 0xed, 0xfe, ..]
        | [0xce, 0xfa, 0xed, 0xfe, ..]
        | [0xfe, 0xed, 0xfa, 0xcf, ..]
        | [0xfe, 0xed, 0xfa, 0xce, ..] => Detected::MachO,
        [0xca, 0xfe, 0xba, 0xbe, ..] => Detected::FatMachO,
        [b'M', b'Z', ..] => Detected::Pe,
        _ if !head.is_empty()
            && !head.contains(&0)
            && (std::str::from_utf8(head).is_ok()
                // The head may cut a multi-byte character.
                || std::str::from_utf8(&head[..head.len().saturating_sub(3)]).is_ok()) =>
        {
            Detected::Text
        }
        _ => Detected::Unknown,
    }
}

/// Reads the build info of the executable in `r` (`len` bytes long),
/// touching only its headers, section table and the build-info blob.
pub fn from_executable<R: Read + Seek>(r: &mut R, len: u64) -> Result<BuildInfo> {
    let mut head = [0u8; 64];
    let n = read_up_to(r, 0, &mut head).map_err(|e| io_err("the file header", e))?;
    let head = &head[..n];
    let region = match detect(head) {
        Detected::Elf => elf_section(r, head, len)?,
        Detected::MachO => macho_section(r, head, len)?,
        Detected::Pe => pe_section(r, head, len)?,
        // Each slice holds its own build info; the first one found is read
        // (they come from one build).
        Detected::FatMachO => Region::Whole,
        Detected::Text | Detected::Unknown => {
            return Err(BuildInfoError::NotExecutable(
                "the body is not an ELF, Mach-O or PE executable".into(),
            ))
        }
    };
    let (start, end, aligned) = match region {
        Region::Exact(off) => return read_blob(r, off, len),
        Region::Scan(start, end) => (start, end, true),
        Region::Whole => (0, len, false),
    };
    match scan(r, start, end, aligned).map_err(|e| io_err("the executable", e))? {
        Some(off) => read_blob(r, off, len),
        None => Err(BuildInfoError::NotGo(
            "the executable holds no Go build info (\\xff Go buildinf:): not a Go binary".into(),
        )),
    }
}

enum Region {
    /// The blob starts here.
    Exact(u64),
    /// Scan this byte range at 16-byte alignment.
    Scan(u64, u64),
    /// No usable section table: scan the whole file.
    Whole,
}

impl From<ReadError> for BuildInfoError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Truncated(m) => BuildInfoError::Truncated(m),
            ReadError::NotExecutable(m) => BuildInfoError::NotExecutable(m),
            ReadError::TooLarge(m) | ReadError::Malformed(m) => BuildInfoError::Malformed(m),
            e @ ReadError::Io { .. } => BuildInfoError::Malformed(e.to_string()),
        }
    }
}

fn elf_section<R: Read + Seek>(r: &mut R, head: &[u8], len: u64) -> Result<Region> {
    let Some(sections) = executable::elf_sections(r, head, 0, len)? else {
        return Ok(Region::Whole);
    };
    if let Some(s) = sections.iter().find(|s| s.is(b".go.buildinfo")) {
        return Ok(Region::Exact(s.offset));
    }
    Ok(scan_data(&sections, &[b".data", b".noptrdata"], len))
}

fn macho_section<R: Read + Seek>(r: &mut R, head: &[u8], len: u64) -> Result<Region> {
    let sections = executable::macho_sections(r, head, 0, len)?;
    Ok(match sections.iter().find(|s| s.is(b"__go_buildinfo")) {
        Some(s) => Region::Exact(s.offset),
        None => Region::Whole,
    })
}

fn pe_section<R: Read + Seek>(r: &mut R, head: &[u8], len: u64) -> Result<Region> {
    let sections = executable::pe_sections(r, head, len)?;
    Ok(scan_data(&sections, &[b".data"], len))
}

/// The first of these data sections, to scan; else the whole file.
fn scan_data(sections: &[Section], names: &[&[u8]], len: u64) -> Region {
    match sections.iter().find(|s| names.iter().any(|n| s.is(n))) {
        Some(s) => Region::Scan(s.offset, s.offset.saturating_add(s.size).min(len)),
        None => Region::Whole,
    }
}

/// Finds the magic in `[start, end)`, streaming in bounded chunks.
fn scan<R: Read + Seek>(r: &mut R, start: u64, end: u64, aligned: bool) -> io::Result<Option<u64>> {
    let finder = memchr::memmem::Finder::new(MAGIC);
    let mut buf = vec![0u8; SCAN_CHUNK.min((end.saturating_sub(start)) as usize + MAGIC.len())];
    let mut pos = start;
    while pos < end {
        let want = buf.len().min((end - pos) as usize);
        let n = read_up_to(r, pos, &mut buf[..want])?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        let mut from = 0;
        while let Some(i) = finder.find(&chunk[from..]) {
            let at = pos + (from + i) as u64;
            if !aligned || (at - start) % 16 == 0 {
                return Ok(Some(at));
            }
            from += i + 1;
        }
        if n < want || pos + n as u64 >= end {
            break;
        }
        // Overlap so a magic across the boundary is seen.
        pos += (n - (MAGIC.len() - 1)) as u64;
    }
    Ok(None)
}

fn read_uvarint<R: Read>(r: &mut R) -> io::Result<u64> {
    let mut x = 0u64;
    for shift in (0..70).step_by(7) {
        let mut b = [0u8];
        r.read_exact(&mut b)?;
        x |= u64::from(b[0] & 0x7f) << shift;
        if b[0] < 0x80 {
            return Ok(x);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        "uvarint overflows 64 bits",
    ))
}

fn read_string<R: Read>(r: &mut R, what: &str) -> Result<Vec<u8>> {
    let n = read_uvarint(r).map_err(|e| io_err(what, e))?;
    if n > MAX_STRING {
        return Err(BuildInfoError::Malformed(format!(
            "{what} claims {n} bytes, more than Cairn believes"
        )));
    }
    let mut buf = Vec::with_capacity(n as usize);
    r.take(n)
        .read_to_end(&mut buf)
        .map_err(|e| io_err(what, e))?;
    if (buf.len() as u64) < n {
        return Err(io_err(what, io::ErrorKind::UnexpectedEof.into()));
    }
    Ok(buf)
}

fn read_blob<R: Read + Seek>(r: &mut R, off: u64, len: u64) -> Result<BuildInfo> {
    let header = read_at(r, off, 32, len, "the Go build info header")?;
    if &header[..14] != MAGIC {
        return Err(BuildInfoError::NotGo(
            "the Go build info section does not start with the build info magic".into(),
        ));
    }
    if header[15] & 2 == 0 {
        return Err(BuildInfoError::Unsupported(
            "the binary was built by Go older than 1.18 (pointer-based build info); Cairn reads Go 1.18+ binaries, or send the text of `go version -m`".into(),
        ));
    }
    let mut rd = io::BufReader::with_capacity(64 * 1024, &mut *r);
    let version = read_string(&mut rd, "the Go version string")?;
    let modinfo = read_string(&mut rd, "the module info")?;
    let version = String::from_utf8(version)
        .map_err(|_| BuildInfoError::Malformed("the Go version is not UTF-8".into()))?;
    if !version.starts_with("go") && !version.starts_with("devel") {
        return Err(BuildInfoError::Malformed(format!(
            "{version:?} is not a Go version"
        )));
    }
    // Strip the 16-byte sentinels around the module info.
    let modinfo = if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        &modinfo[16..modinfo.len() - 16]
    } else {
        &modinfo[..]
    };
    let modinfo = std::str::from_utf8(modinfo)
        .map_err(|_| BuildInfoError::Malformed("the module info is not UTF-8".into()))?;
    parse_modinfo(version, modinfo)
}

/// Parses the text of `go version -m BINARY` (one binary).
pub fn parse_version_m(text: &str) -> Result<BuildInfo> {
    let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
    let first = lines.next().unwrap_or_default();
    let version = first
        .rsplit_once(": ")
        .map(|(_, v)| v.trim())
        .filter(|v| v.starts_with("go") || v.starts_with("devel"))
        .ok_or_else(|| {
            BuildInfoError::NotExecutable(
                "the text is not `go version -m` output: its first line must be `<file>: go<version>`"
                    .into(),
            )
        })?;
    let mut body = String::new();
    for l in lines {
        if l.trim().is_empty() {
            continue;
        }
        let Some(rest) = l.strip_prefix('\t') else {
            return Err(BuildInfoError::Malformed(format!(
                "`go version -m` output holds one binary; unexpected line {l:?}"
            )));
        };
        body.push_str(rest);
        body.push('\n');
    }
    parse_modinfo(version.to_owned(), &body)
}

/// Parses the module info text (`path`, `mod`, `dep`, `=>`, `build` lines).
pub fn parse_modinfo(go_version: String, text: &str) -> Result<BuildInfo> {
    let mut info = BuildInfo {
        go_version,
        path: None,
        main_module: None,
        settings: BTreeMap::new(),
        modules: Vec::new(),
    };
    // Which module the next `=>` line replaces.
    let mut last: Option<bool> = None; // Some(true) main, Some(false) last dep
    for (i, line) in text.lines().enumerate() {
        let bad = |why: &str| {
            BuildInfoError::Malformed(format!("module info line {}: {why}: {line:?}", i + 1))
        };
        if line.is_empty() {
            continue;
        }
        let (kind, rest) = line.split_once('\t').ok_or_else(|| bad("no tab"))?;
        match kind {
            "path" => info.path = Some(rest.to_owned()),
            "mod" | "dep" | "=>" => {
                let f: Vec<&str> = rest.split('\t').collect();
                if f.len() < 2 || f[0].is_empty() {
                    return Err(bad("a module needs a path and a version"));
                }
                let m = Module {
                    path: f[0].to_owned(),
                    version: f[1].to_owned(),
                    sum: f.get(2).filter(|s| !s.is_empty()).map(|s| (*s).to_owned()),
                    replace: None,
                };
                match kind {
                    "mod" => {
                        info.main_module = Some(m);
                        last = Some(true);
                    }
                    "dep" => {
                        info.modules.push(m);
                        last = Some(false);
                    }
                    _ => {
                        let target = match last {
                            Some(true) => info.main_module.as_mut(),
                            Some(false) => info.modules.last_mut(),
                            None => None,
                        }
                        .ok_or_else(|| bad("a replacement without a module before it"))?;
                        target.replace = Some(Box::new(m));
                        last = None;
                    }
                }
            }
            "build" => {
                let (k, v) = parse_setting(rest).ok_or_else(|| bad("malformed build setting"))?;
                info.settings.insert(k, v);
            }
            _ => return Err(bad("unknown line kind")),
        }
    }
    Ok(info)
}

/// `key=value`, where either may be a Go-quoted string.
fn parse_setting(s: &str) -> Option<(String, String)> {
    let (key, rest) = if s.starts_with('"') {
        let (k, used) = unquote_prefix(s)?;
        (k, s[used..].strip_prefix('=')?)
    } else {
        let (k, v) = s.split_once('=')?;
        (k.to_owned(), v)
    };
    let value = if rest.starts_with('"') {
        let (v, used) = unquote_prefix(rest)?;
        if used != rest.len() {
            return None;
        }
        v
    } else {
        rest.to_owned()
    };
    (!key.is_empty()).then_some((key, value))
}

/// Unquotes the Go string literal at the start of `s`; returns it and the
/// bytes it used.
fn unquote_prefix(s: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\\' => {
                let (_, e) = chars.next()?;
                let hex = |chars: &mut dyn Iterator<Item = (usize, char)>, n: usize| {
                    let h: String = chars.take(n).map(|(_, c)| c).collect();
                    (h.len() == n)
                        .then(|| u32::from_str_radix(&h, 16).ok())
                        .flatten()
                };
                match e {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'a' => out.push('\x07'),
                    'b' => out.push('\x08'),
                    'f' => out.push('\x0c'),
                    'v' => out.push('\x0b'),
                    '\\' | '"' | '\'' => out.push(e),
                    'x' => out.push(char::from_u32(hex(&mut chars, 2)?)?),
                    'u' => out.push(char::from_u32(hex(&mut chars, 4)?)?),
                    'U' => out.push(char::from_u32(hex(&mut chars, 8)?)?),
                    _ => return None,
                }
            }
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    const MODINFO: &str = "path\texample.com/hello\nmod\texample.com/hello\t(devel)\t\ndep\tgolang.org/x/text\tv0.14.0\th1:abc=\ndep\texample.com/lib\tv1.0.0\t\n=>\t../lib\t(devel)\t\nbuild\t-compiler=gc\nbuild\t-ldflags=\"-s -w -X main.version=1.2.3\"\nbuild\t-trimpath=true\nbuild\tCGO_ENABLED=0\nbuild\tvcs.modified=false\n";

    #[test]
    fn modinfo_lines() {
        let b = parse_modinfo("go1.22.1".into(), MODINFO).unwrap();
        assert_eq!(b.path.as_deref(), Some("example.com/hello"));
        assert_eq!(b.main_module.as_ref().unwrap().version, "(devel)");
        assert_eq!(b.modules.len(), 2);
        assert_eq!(b.modules[0].sum.as_deref(), Some("h1:abc="));
        assert_eq!(b.modules[1].replace.as_ref().unwrap().path, "../lib");
        assert_eq!(b.setting("-ldflags"), Some("-s -w -X main.version=1.2.3"));
        assert_eq!(b.setting("-trimpath"), Some("true"));
        assert_eq!(b.setting("CGO_ENABLED"), Some("0"));
    }

    fn blob(version: &str, modinfo: &str, pad: usize) -> Vec<u8> {
        let mut v = vec![0u8; pad];
        v.extend_from_slice(MAGIC);
        v.extend_from_slice(&[8, 2]);
        v.resize(pad + 32, 0);
        for s in [version.as_bytes().to_vec(), {
            let mut m = vec![0x30u8; 16];
            m.extend_from_slice(modinfo.as_bytes());
            m.extend_from_slice(&[0xf9; 16]);
            m
        }] {
            let mut n = s.len();
            while n >= 0x80 {
                v.push((n as u8) | 0x80);
                n >>= 7;
            }
            v.push(n as u8);
            v.extend_from_slice(&s);
        }
        v
    }

    #[test]
    fn blob_found_by_scanning_elf_without_sections() {
        // An ELF header with no section table: the file is scanned.
        let mut f = vec![0u8; 64];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        let pad = 4096 - 64;
        f.extend(blob("go1.21.0", MODINFO, pad));
        let len = f.len() as u64;
        let b = from_executable(&mut Cursor::new(f), len).unwrap();
        assert_eq!(b.go_version, "go1.21.0");
        assert_eq!(b.modules.len(), 2);
    }

    #[test]
    fn universal_macho_is_scanned() {
        let mut f = vec![0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 2];
        f.resize(4096, 0);
        f.extend(blob("go1.22.0", MODINFO, 0));
        let len = f.len() as u64;
        let b = from_executable(&mut Cursor::new(f), len).unwrap();
        assert_eq!(b.go_version, "go1.22.0");
    }

    #[test]
    fn truncated_blob_and_garbage() {
        let mut f = vec![0u8; 64];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        f.extend(blob("go1.21.0", MODINFO, 0));
        f.truncate(f.len() - 40);
        let len = f.len() as u64;
        let e = from_executable(&mut Cursor::new(f), len).unwrap_err();
        assert!(matches!(e, BuildInfoError::Truncated(_)), "{e:?}");
        let e = from_executable(&mut Cursor::new(b"hello".to_vec()), 5).unwrap_err();
        assert!(matches!(e, BuildInfoError::NotExecutable(_)));
        let mut old = vec![0u8; 64];
        old[..4].copy_from_slice(b"\x7fELF");
        old[4] = 2;
        old.extend_from_slice(MAGIC);
        old.extend_from_slice(&[8, 0]);
        old.resize(200, 0);
        let e = from_executable(&mut Cursor::new(old), 200).unwrap_err();
        assert!(matches!(e, BuildInfoError::Unsupported(_)));
    }

    /// Every truncation and single-byte corruption of a small ELF (with a
    /// section table) is answered with an error or build info, never a panic.
    #[test]
    fn corruptions_never_panic() {
        let blob = blob("go1.21.0", MODINFO, 0);
        let names = b"\0.go.buildinfo\0.shstrtab\0";
        let bi_off = 64u64;
        let str_off = bi_off + blob.len() as u64;
        let sh_off = str_off + names.len() as u64;
        let mut f = vec![0u8; 64];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        f[0x28..0x30].copy_from_slice(&sh_off.to_le_bytes());
        f[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
        f[0x3c..0x3e].copy_from_slice(&3u16.to_le_bytes());
        f[0x3e..0x40].copy_from_slice(&2u16.to_le_bytes());
        f.extend_from_slice(&blob);
        f.extend_from_slice(names);
        for (name, off, size) in [
            (0u32, 0u64, 0u64),
            (1, bi_off, blob.len() as u64),
            (15, str_off, names.len() as u64),
        ] {
            let mut sh = vec![0u8; 64];
            sh[0..4].copy_from_slice(&name.to_le_bytes());
            sh[4..8].copy_from_slice(&1u32.to_le_bytes());
            sh[24..32].copy_from_slice(&off.to_le_bytes());
            sh[32..40].copy_from_slice(&size.to_le_bytes());
            f.extend_from_slice(&sh);
        }
        let len = f.len() as u64;
        let ok = from_executable(&mut Cursor::new(f.clone()), len).unwrap();
        assert_eq!(ok.modules.len(), 2);
        for cut in 0..f.len() {
            let part = f[..cut].to_vec();
            assert!(
                from_executable(&mut Cursor::new(part), cut as u64).is_err(),
                "cut {cut}"
            );
        }
        for i in 0..f.len() {
            for v in [0x00, 0x7f, 0xff] {
                let mut g = f.clone();
                g[i] = v;
                let _ = from_executable(&mut Cursor::new(g), len);
            }
        }
    }

    #[test]
    fn version_m_text() {
        let text = "/tmp/hello: go1.19.8\n\tpath\texample.com/hello\n\tmod\texample.com/hello\t(devel)\t\n\tbuild\t-trimpath=true\n";
        let b = parse_version_m(text).unwrap();
        assert_eq!(b.go_version, "go1.19.8");
        assert_eq!(b.setting("-trimpath"), Some("true"));
        assert!(parse_version_m("hello world").is_err());
    }

    #[test]
    fn quoted_settings() {
        assert_eq!(
            parse_setting(r#"-tags="a,b \"c\"""#),
            Some(("-tags".into(), "a,b \"c\"".into()))
        );
        assert_eq!(parse_setting("=x"), None);
    }
}
