//! Go build-info extraction from a 100 MB binary.
//!
//! `cargo bench -p cairn --bench gobuildinfo` writes a synthetic 100 MiB
//! ELF64 file (a large pseudo-random "text" section, then `.go.buildinfo`
//! holding a real-format Go 1.18+ build info blob with 300 modules, then the
//! section header table, like the Go linker lays it out) and times, with the
//! code the upload runs (`go::core::buildinfo::from_executable` on the
//! spooled file):
//! - the section-table path (what every normal Go binary takes),
//! - the scan path (section header table removed: a streaming search for
//!   the magic through the whole file in 4 MiB chunks),
//! - the SHA-256 pass the upload makes while spooling (the digest),
//!
//! and prints the median and worst of the runs as a Markdown table (pasted
//! into docs/performance.md, "Go build info"), with the process's peak RSS
//! to show the file is never held in memory.
//! `CAIRN_BENCH_QUICK=1` uses a 8 MiB file and few runs.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::time::{Duration, Instant};

use cairn::go::core::buildinfo;
use sha2::{Digest, Sha256};

fn uvarint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn blob() -> Vec<u8> {
    let mut modinfo = String::from("path\texample.com/big/cmd/big\nmod\texample.com/big\tv1.0.0\th1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
    for i in 0..300 {
        modinfo.push_str(&format!(
            "dep\texample.com/dep{i}\tv1.{i}.0\th1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=\n"
        ));
    }
    modinfo.push_str("build\t-buildmode=exe\nbuild\t-compiler=gc\nbuild\t-trimpath=true\nbuild\tCGO_ENABLED=0\nbuild\tGOARCH=amd64\nbuild\tGOOS=linux\nbuild\tvcs=git\nbuild\tvcs.revision=4f2d1c7a9e0b3d5f6a8c1e2b4d6f8a0c2e4b6d8f\nbuild\tvcs.modified=false\n");
    let mut b = Vec::new();
    b.extend_from_slice(buildinfo::MAGIC);
    b.extend_from_slice(&[8, 2]);
    b.resize(32, 0);
    let v = b"go1.22.3";
    uvarint(&mut b, v.len());
    b.extend_from_slice(v);
    let mut m = vec![0x30u8; 16];
    m.extend_from_slice(modinfo.as_bytes());
    m.extend_from_slice(&[0xf9; 16]);
    uvarint(&mut b, m.len());
    b.extend_from_slice(&m);
    b
}

/// Writes the ELF: header, `text_size` bytes of text, `.go.buildinfo`,
/// `.shstrtab`, then 4 section headers.
fn write_elf(path: &std::path::Path, text_size: usize) -> u64 {
    let mut f = BufWriter::with_capacity(1 << 20, File::create(path).unwrap());
    let blob = blob();
    let names = b"\0.text\0.go.buildinfo\0.shstrtab\0";
    let text_off = 64u64;
    let bi_off = text_off + text_size as u64;
    let str_off = bi_off + blob.len() as u64;
    let sh_off = str_off + names.len() as u64;
    let mut h = vec![0u8; 64];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = 2; // 64-bit
    h[5] = 1; // little-endian
    h[6] = 1;
    h[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    h[18..20].copy_from_slice(&62u16.to_le_bytes()); // x86-64
    h[0x28..0x30].copy_from_slice(&sh_off.to_le_bytes());
    h[0x34..0x36].copy_from_slice(&64u16.to_le_bytes());
    h[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
    h[0x3c..0x3e].copy_from_slice(&4u16.to_le_bytes());
    h[0x3e..0x40].copy_from_slice(&3u16.to_le_bytes());
    f.write_all(&h).unwrap();
    // Pseudo-random text (xorshift), so nothing compresses or dedups.
    let mut x = 0x9e3779b97f4a7c15u64;
    let mut chunk = vec![0u8; 1 << 20];
    let mut left = text_size;
    while left > 0 {
        for w in chunk.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            w.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(chunk.len());
        f.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    f.write_all(&blob).unwrap();
    f.write_all(names).unwrap();
    let sh = |name: u32, kind: u32, off: u64, size: u64| {
        let mut s = vec![0u8; 64];
        s[0..4].copy_from_slice(&name.to_le_bytes());
        s[4..8].copy_from_slice(&kind.to_le_bytes());
        s[24..32].copy_from_slice(&off.to_le_bytes());
        s[32..40].copy_from_slice(&size.to_le_bytes());
        s
    };
    f.write_all(&sh(0, 0, 0, 0)).unwrap();
    f.write_all(&sh(1, 1, text_off, text_size as u64)).unwrap();
    f.write_all(&sh(7, 1, bi_off, blob.len() as u64)).unwrap();
    f.write_all(&sh(21, 3, str_off, names.len() as u64))
        .unwrap();
    f.flush().unwrap();
    sh_off + 4 * 64
}

fn peak_rss_mib() -> f64 {
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage fills the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    u.ru_maxrss as f64 / 1024.0
}

fn time(runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut t: Vec<Duration> = (0..runs)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .collect();
    t.sort();
    (t[t.len() / 2], t[t.len() - 1])
}

fn main() {
    let quick = std::env::var("CAIRN_BENCH_QUICK").is_ok_and(|v| v == "1");
    let (size, runs) = if quick { (8 << 20, 3) } else { (100 << 20, 21) };
    let rss_start = peak_rss_mib();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.elf");
    let len = write_elf(&path, size);
    let rss_before = peak_rss_mib();

    let mut file = File::open(&path).unwrap();
    let (med_sec, max_sec) = time(runs, || {
        let info = buildinfo::from_executable(&mut file, len).unwrap();
        assert_eq!(info.modules.len(), 300);
    });

    // The same file without its section header table: scanned.
    let scan_path = dir.path().join("big-nosections.elf");
    std::fs::copy(&path, &scan_path).unwrap();
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(&scan_path)
            .unwrap();
        f.seek(SeekFrom::Start(0x28)).unwrap();
        f.write_all(&0u64.to_le_bytes()).unwrap();
    }
    let mut scan_file = File::open(&scan_path).unwrap();
    let (med_scan, max_scan) = time(runs, || {
        let info = buildinfo::from_executable(&mut scan_file, len).unwrap();
        assert_eq!(info.go_version, "go1.22.3");
    });

    let (med_sha, max_sha) = time(runs.min(7), || {
        let mut f = File::open(&path).unwrap();
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = f.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
        }
        std::hint::black_box(h.finalize());
    });
    let rss_after = peak_rss_mib();

    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1000.0);
    println!(
        "File: {:.1} MiB synthetic ELF64, 300 modules, page cache warm, {runs} runs\n",
        len as f64 / (1 << 20) as f64
    );
    println!("| Step | Median | Worst |");
    println!("|---|---|---|");
    println!(
        "| Build info via the section table (`.go.buildinfo`) | {} | {} |",
        ms(med_sec),
        ms(max_sec)
    );
    println!(
        "| Build info by streaming scan (no section table) | {} | {} |",
        ms(med_scan),
        ms(max_scan)
    );
    println!(
        "| SHA-256 of the whole file (the digest pass of the upload) | {} | {} |",
        ms(med_sha),
        ms(max_sha)
    );
    println!("\nPeak RSS: {rss_start:.1} MiB at start, {rss_before:.1} MiB after writing the file, {rss_after:.1} MiB after extraction (the file is {:.0} MiB).", len as f64 / (1 << 20) as f64);
}
