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
