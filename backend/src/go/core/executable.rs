//! The containers Go executables come in (ELF, Mach-O, PE): bounded reads
//! and section tables, shared by the build-info reader (`buildinfo`) and the
//! function-table reader (`symbols`). Each read is checked against the end
//! of the file (or of a universal Mach-O slice) before it is made, and no
//! table is believed past `MAX_TABLE` bytes.

use std::io::{self, Read, Seek, SeekFrom};

/// Section tables, load commands and headers larger than this are not
/// believable.
pub const MAX_TABLE: u64 = 16 << 20;

/// What reading a container can fail with; each reader maps it into its own
/// error.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file ends before a structure it declares.
    #[error("{0}")]
    Truncated(String),
    /// A size or count past what Cairn believes.
    #[error("{0}")]
    TooLarge(String),
    /// A structure is present but inconsistent.
    #[error("{0}")]
    Malformed(String),
    /// Not the executable the first bytes promised.
    #[error("{0}")]
    NotExecutable(String),
    #[error("reading {what} failed: {source}")]
    Io { what: String, source: io::Error },
}

type Result<T> = std::result::Result<T, ReadError>;

/// The error for a read of `what` that failed; an early end is a truncation.
pub fn io_err(what: &str, e: io::Error) -> ReadError {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => short(what),
        _ => ReadError::Io {
            what: what.into(),
            source: e,
        },
    }
}

pub fn short(what: &str) -> ReadError {
    ReadError::Truncated(format!("the file is truncated: it ends inside {what}"))
}

fn malformed(what: impl Into<String>) -> ReadError {
    ReadError::Malformed(what.into())
}

/// Fills as much of `buf` as the file holds from `off`; returns how much.
pub fn read_up_to<R: Read + Seek>(r: &mut R, off: u64, buf: &mut [u8]) -> io::Result<usize> {
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
pub fn read_at<R: Read + Seek>(
    r: &mut R,
    off: u64,
    size: u64,
    end: u64,
    what: &str,
) -> Result<Vec<u8>> {
    if size > MAX_TABLE {
        return Err(ReadError::TooLarge(format!(
            "{what} claims {size} bytes, more than Cairn believes"
        )));
    }
    if off.checked_add(size).is_none_or(|e| e > end) {
        return Err(ReadError::Truncated(format!(
            "the file is truncated: {what} at offset {off} ({size} bytes) lies beyond its end"
        )));
    }
    let mut buf = vec![0u8; size as usize];
    r.seek(SeekFrom::Start(off)).map_err(|e| io_err(what, e))?;
    r.read_exact(&mut buf).map_err(|e| io_err(what, e))?;
    Ok(buf)
}

/// Byte order: big-endian when true.
#[derive(Debug, Clone, Copy)]
pub struct Endian(pub bool);

impl Endian {
    /// The `n`-byte unsigned integer at `at`.
    pub fn uint(&self, b: &[u8], at: usize, n: usize) -> u64 {
        let (b, fold) = (&b[at..at + n], |x: u64, c: &u8| x << 8 | u64::from(*c));
        if self.0 {
            b.iter().fold(0, fold)
        } else {
            b.iter().rev().fold(0, fold)
        }
    }
}

/// A section that occupies file space: its name and its byte range,
/// `offset` counted from the start of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: Vec<u8>,
    pub offset: u64,
    pub size: u64,
}

impl Section {
    pub fn is(&self, name: &[u8]) -> bool {
        self.name == name
    }

    /// The section's end, if it lies within `end`.
    pub fn end_within(&self, end: u64) -> Option<u64> {
        self.offset.checked_add(self.size).filter(|&e| e <= end)
    }
}

fn name(b: &[u8]) -> Vec<u8> {
    b.split(|&c| c == 0).next().unwrap_or_default().to_vec()
}

/// The sections of the ELF file at `[base, end)` whose header is `head`;
/// `None` when it has no section table (a stripped layout).
pub fn elf_sections<R: Read + Seek>(
    r: &mut R,
    head: &[u8],
    base: u64,
    end: u64,
) -> Result<Option<Vec<Section>>> {
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
    let header = |i: u64| {
        let s = &table[(i * entsize) as usize..];
        [(0, 4), (4, 4), (so, w), (so + w, w)].map(|(at, n)| e.uint(s, at, n))
    };
    let [_, _, str_off, str_size] = header(strndx);
    let what = "the ELF section name table";
    let names = read_at(r, base.saturating_add(str_off), str_size, end, what)?;
    let sections = (0..num)
        .map(header)
        // SHT_NOBITS (8) occupies no file space.
        .filter(|&[_, kind, _, _]| kind != 8)
        .map(|[at, _, off, size]| Section {
            name: names.get(at as usize..).map(name).unwrap_or_default(),
            offset: base.saturating_add(off),
            size,
        })
        .collect();
    Ok(Some(sections))
}

/// The sections of the Mach-O file (32- or 64-bit) at `[base, end)` whose
/// header is `head`.
pub fn macho_sections<R: Read + Seek>(
    r: &mut R,
    head: &[u8],
    base: u64,
    end: u64,
) -> Result<Vec<Section>> {
    if head.len() < 32 {
        return Err(short("the Mach-O header"));
    }
    let e = Endian(head[0] == 0xfe);
    let is64 = matches!(
        head[..4],
        [0xcf, 0xfa, 0xed, 0xfe] | [0xfe, 0xed, 0xfa, 0xcf]
    );
    let (ncmds, sizeofcmds) = (e.uint(head, 16, 4), e.uint(head, 20, 4));
    let header_size = if is64 { 32 } else { 28 };
    let what = "the Mach-O load commands";
    let cmds = read_at(r, base + header_size, sizeofcmds, end, what)?;
    let mut sections = Vec::new();
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
        // LC_SEGMENT_64 (0x19): nsects at 64, sections of 80 bytes from 72,
        // each with its size (8 bytes) at 40 and offset at 48. LC_SEGMENT
        // (0x1): nsects at 48, sections of 68 bytes from 56, size (4 bytes)
        // at 36 and offset at 40.
        let layout = match cmd {
            0x19 if size >= 72 => Some((64, 72, 80, (40, 8), 48)),
            0x1 if size >= 56 => Some((48, 56, 68, (36, 4), 40)),
            _ => None,
        };
        if let Some((nsects_at, first, len, (size_at, size_len), off_at)) = layout {
            for s in 0..e.uint(c, nsects_at, 4) as usize {
                let Some(sect) = c.get(first + s * len..first + (s + 1) * len) else {
                    break;
                };
                sections.push(Section {
                    name: name(&sect[..16]),
                    offset: base + e.uint(sect, off_at, 4),
                    size: e.uint(sect, size_at, size_len),
                });
            }
        }
        at += size;
    }
    Ok(sections)
}

/// The COFF header of the PE file whose DOS header is `head` (at offset
/// 0), and its offset: what proves a DOS file is a PE executable.
pub fn pe_header<R: Read + Seek>(r: &mut R, head: &[u8], end: u64) -> Result<(Vec<u8>, u64)> {
    if head.len() < 64 {
        return Err(short("the PE/DOS header"));
    }
    let pe = Endian(false).uint(head, 0x3c, 4);
    let coff = read_at(r, pe, 24, end, "the PE header")?;
    if &coff[..4] != b"PE\0\0" {
        return Err(ReadError::NotExecutable(
            "the body starts like a DOS/PE file but has no PE header".into(),
        ));
    }
    Ok((coff, pe))
}

/// The sections of the PE file whose DOS header is `head` (at offset 0).
pub fn pe_sections<R: Read + Seek>(r: &mut R, head: &[u8], end: u64) -> Result<Vec<Section>> {
    let (coff, pe) = pe_header(r, head, end)?;
    let e = Endian(false);
    let (nsections, opt_size) = (e.uint(&coff, 6, 2), e.uint(&coff, 20, 2));
    let what = "the PE section table";
    let table = read_at(r, pe + 24 + opt_size, nsections * 40, end, what)?;
    Ok(table
        .chunks_exact(40)
        .map(|s| Section {
            name: name(&s[..8]),
            offset: e.uint(s, 20, 4),
            size: e.uint(s, 16, 4),
        })
        .collect())
}
