//! Table-driven tests over osv-scalibr's version vectors (`tests/fixtures/osv-versions/`,
//! see its SOURCES.md), plus hand-written cases for the rules the vectors do not cover.

use std::cmp::Ordering;
use std::path::PathBuf;

use super::{compare, Ecosystem, Version, MAX_VERSION_LEN};

use Ecosystem::*;

/// The vectors directory, beside the crate in the repository.
fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/osv-versions")
}

/// Lines that cannot agree with the ecosystem's real tool, with the reason. Each is
/// skipped for that ecosystem only, and must exist in the file (so the list cannot rot).
const EXCLUDED: &[(Ecosystem, &str, &str)] = &[
    // golang.org/x/mod/semver rejects five numeric components: not a Go version, so
    // `compare` is None (asserted below) rather than Equal.
    (Go, "1.1.3.4.5 = 1.1.3.4.5", "not a Go version"),
    // The generated Maven vectors come from a Maven newer than 3.8.7, the reference
    // here; 3.8.7's ComparableVersion orders each of these pairs the other way, left >
    // right (checked with maven-artifact-3.8.7.jar), and so do we (asserted).
    (Maven, "1-1 = 1-ga-1", MAVEN_387),
    (Maven, "1.0.0-RC16 < 1.0.0.RC8-beta", MAVEN_387),
    (Maven, "1.0.0-gradle-rework-beta3 < 1.0.0.RC7-3", MAVEN_387),
    (Maven, "2.9.0-1 < 2.9.0.RC1", MAVEN_387),
    (Maven, "6.1.12.rc5 < 6.1.12rc1", MAVEN_387),
    (Maven, "1.1.31.sec10 < 1.1.31_noneautotype", MAVEN_387),
    (Maven, "1.1.34.sec10 < 1.1.34_noneautotype", MAVEN_387),
    (Maven, "1.1.46.sec10 < 1.1.46_noneautotype", MAVEN_387),
    (
        Maven,
        "1.2.8.sec10_noneautotype < 1.2.8_noneautotype",
        MAVEN_387,
    ),
    (Maven, "1.2.31.sec10 < 1.2.31_noneautotype", MAVEN_387),
    (Maven, "1.2.48.sec10 < 1.2.48_noneautotype", MAVEN_387),
    (Maven, "1.2.50.sec10 < 1.2.50_noneautotype", MAVEN_387),
    (Maven, "1.2.54.sec10 < 1.2.54_noneautotype", MAVEN_387),
    (Maven, "1.2.57.sec10 < 1.2.57_noneautotype", MAVEN_387),
    (Maven, "1.2.60.sec10 < 1.2.60_noneautotype", MAVEN_387),
    (Maven, "1.2.67.sec10 < 1.2.67_noneautotype", MAVEN_387),
    (Maven, "1.0.0rc0 < 1.0.beta8", MAVEN_387),
    (Maven, "1.5.9.RC1 < 1.5.9-RC0", MAVEN_387),
    (Maven, "1.1.0-01-glassfish < 1.1.0.Beta1", MAVEN_387),
];

const MAVEN_387: &str = "Maven 3.8.7 ComparableVersion orders it otherwise";

fn expected(op: &str) -> Ordering {
    match op {
        "<" => Ordering::Less,
        "=" => Ordering::Equal,
        ">" => Ordering::Greater,
        other => panic!("unknown comparator {other:?}"),
    }
}

/// Checks every comparison of `file` under `ecosystem`, both ways round; returns how many
/// lines were checked.
fn run_vectors(ecosystem: Ecosystem, file: &str) -> usize {
    let path = vectors_dir().join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with("//") || line.starts_with('#') {
            continue;
        }
        if let Some((_, _, why)) = EXCLUDED
            .iter()
            .find(|(e, l, _)| *e == ecosystem && *l == line)
        {
            let (a, rest) = line.split_once(' ').unwrap_or((line, ""));
            let b = rest.rsplit(' ').next().unwrap_or("");
            match ecosystem {
                Go => assert!(Version::parse(Go, a).is_none(), "{line}: {why}"),
                // Maven 3.8.7 puts the left side above the right in every excluded line.
                Maven => assert_eq!(
                    compare(Maven, a, b),
                    Some(Ordering::Greater),
                    "{line}: {why}"
                ),
                _ => {}
            }
            continue;
        }
        let pieces: Vec<&str> = line.split(' ').collect();
        let [a, op, b] = pieces[..] else {
            panic!("{file}: malformed line {line:?}");
        };
        let want = expected(op);
        let forward = compare(ecosystem, a, b);
        let backward = compare(ecosystem, b, a);
        if forward != Some(want) || backward != Some(want.reverse()) {
            failures.push(format!("{line}  (got {forward:?} / reversed {backward:?})"));
        }
        checked += 1;
    }
    assert!(
        failures.is_empty(),
        "{ecosystem:?} {file}: {} of {checked} lines fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("{ecosystem:?} {file}: {checked} lines checked");
    checked
}

#[test]
fn exclusions_name_real_lines() {
    let mut all = String::new();
    for entry in std::fs::read_dir(vectors_dir()).expect("vectors dir") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_some_and(|x| x == "txt") {
            all.push_str(&std::fs::read_to_string(&path).expect("vector file"));
            all.push('\n');
        }
    }
    for (e, line, _) in EXCLUDED {
        assert!(
            all.lines().any(|l| l.trim_end_matches('\r') == *line),
            "{e:?}: stale exclusion {line:?}"
        );
    }
}

#[test]
fn vectors_semver() {
    for ecosystem in [Npm, CratesIo, Hex, Semver] {
        assert!(run_vectors(ecosystem, "semver-versions.txt") >= 80);
    }
}

#[test]
fn vectors_go() {
    assert!(run_vectors(Go, "semver-versions.txt") >= 80);
}

#[test]
fn vectors_pypi() {
    assert!(run_vectors(PyPI, "pypi-versions.txt") >= 35);
    assert!(run_vectors(PyPI, "pypi-versions-generated.txt") >= 12_000);
}

#[test]
fn vectors_maven() {
    assert!(run_vectors(Maven, "maven-versions.txt") >= 90);
    assert!(run_vectors(Maven, "maven-versions-generated.txt") >= 14_000);
}

#[test]
fn vectors_debian() {
    for ecosystem in [Debian, Ubuntu] {
        assert!(run_vectors(ecosystem, "debian-versions.txt") >= 30);
        assert!(run_vectors(ecosystem, "debian-versions-generated.txt") >= 14_000);
    }
}

#[test]
fn vectors_alpine() {
    assert!(run_vectors(Alpine, "alpine-versions.txt") >= 700);
    assert!(run_vectors(Alpine, "alpine-versions-generated.txt") >= 13_000);
}

#[test]
fn vectors_rubygems() {
    assert!(run_vectors(RubyGems, "rubygems-versions.txt") >= 25);
    assert!(run_vectors(RubyGems, "rubygems-versions-generated.txt") >= 4_000);
}

#[test]
fn vectors_nuget() {
    assert!(run_vectors(NuGet, "nuget-versions.txt") >= 30);
}

#[test]
fn vectors_packagist() {
    assert!(run_vectors(Packagist, "packagist-versions.txt") >= 90);
    assert!(run_vectors(Packagist, "packagist-versions-generated.txt") >= 10_000);
}

/// Asserts `a < b` (and `b > a`) under `ecosystem`.
#[track_caller]
fn lt(ecosystem: Ecosystem, a: &str, b: &str) {
    assert_eq!(compare(ecosystem, a, b), Some(Ordering::Less), "{a} < {b}");
    assert_eq!(
        compare(ecosystem, b, a),
        Some(Ordering::Greater),
        "{b} > {a}"
    );
}

#[track_caller]
fn eq(ecosystem: Ecosystem, a: &str, b: &str) {
    assert_eq!(compare(ecosystem, a, b), Some(Ordering::Equal), "{a} = {b}");
    assert_eq!(compare(ecosystem, b, a), Some(Ordering::Equal), "{b} = {a}");
}

#[track_caller]
fn invalid(ecosystem: Ecosystem, v: &str) {
    assert!(
        Version::parse(ecosystem, v).is_none(),
        "{v:?} should not parse"
    );
    assert_eq!(compare(ecosystem, v, "1.0.0"), None);
}

#[test]
fn go_module_versions() {
    eq(Go, "v1.2.3", "1.2.3");
    eq(Go, "v1.2", "v1.2.0");
    eq(Go, "v1", "1.0.0");
    lt(Go, "v1.2", "v1.2.1");
    // Pseudo-versions are pre-releases: below the release they precede.
    lt(Go, "v0.0.0-20191109021931-daa7c04131f5", "v0.0.1");
    lt(
        Go,
        "v0.0.0-20191109021931-daa7c04131f5",
        "v0.0.0-20200101000000-aaaaaaaaaaaa",
    );
    lt(Go, "v1.2.3", "v1.2.4-0.20191109021931-daa7c04131f5");
    lt(Go, "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4");
    lt(Go, "v1.2.4-pre", "v1.2.4-pre.0.20191109021931-daa7c04131f5");
    // +incompatible is build metadata: ignored.
    eq(Go, "v2.0.0+incompatible", "2.0.0");
    lt(Go, "v2.0.0+incompatible", "v2.0.1+incompatible");
    lt(Go, "v2.0.0-rc.1+incompatible", "v2.0.0+incompatible");
    // x/mod's grammar.
    invalid(Go, "v1.2-pre");
    invalid(Go, "v01.2.3");
    invalid(Go, "v1.2.3-01");
    invalid(Go, "v1.2.3-");
    invalid(Go, "v1.2.3+");
    invalid(Go, "1.2.3.4");
    invalid(Go, "(devel)");
    invalid(Go, "latest");
}

#[test]
fn go_stdlib_versions() {
    eq(Go, "go1.21.3", "1.21.3");
    eq(Go, "go1.21", "1.21.0");
    eq(Go, "go1.21", "v1.21.0");
    eq(Go, "go1", "1.0.0");
    eq(Go, "go1.21rc1", "1.21.0-rc.1");
    eq(Go, "go1.20beta1", "1.20.0-beta.1");
    lt(Go, "go1.20beta1", "go1.20rc1");
    lt(Go, "go1.21rc2", "go1.21");
    lt(Go, "go1.21", "go1.21.1");
    lt(Go, "go1.9.7", "go1.10");
    lt(Go, "go1.21.3", "1.22.0-rc.1");
    invalid(Go, "go");
    invalid(Go, "go1.21rc");
    invalid(Go, "go1.21.3.4");
    invalid(Go, "go1.21 X:boringcrypto");
}

#[test]
fn semver_rules() {
    eq(Npm, "=v1.2.3", "1.2.3");
    eq(Npm, "1.2.3+build.1", "1.2.3+build.2");
    eq(Npm, "1.0.0beta", "1.0.0-beta");
    eq(CratesIo, "1.2", "1.2.0");
    lt(Npm, "1.0.0-alpha.1", "1.0.0-alpha.beta");
    lt(Npm, "1.0.0-9", "1.0.0-10");
    lt(Npm, "1.0.0-rc.1", "1.0.0");
    lt(Hex, "1.0.0", "1.0.0.1");
    invalid(Npm, "1.2.3-");
    invalid(Npm, "1.2.3-a..b");
    invalid(Npm, "1.2.x");
    invalid(Npm, "latest");
    // Pub orders build metadata, as pub_semver does.
    lt(Pub, "1.2.3", "1.2.3+1");
    lt(Pub, "1.2.3+9", "1.2.3+10");
    lt(Pub, "1.2.3+1", "1.2.3+a");
    lt(Pub, "1.0.0-pre+build", "1.0.0");
    lt(Pub, "1.0.0-pre", "1.0.0-pre+build");
    eq(Pub, "1.2.3+a1", "1.2.3+a1");
}

#[test]
fn rpm_rules() {
    lt(Rpm, "1.0~rc1", "1.0");
    lt(Rpm, "1.0~rc1", "1.0~rc2");
    lt(Rpm, "1.0~~", "1.0~");
    lt(Rpm, "1.0", "1.0^git1");
    lt(Rpm, "1.0^git1", "1.0.1");
    lt(Rpm, "1.0^git1", "1.0^git2");
    lt(Rpm, "1.0~rc1^git1", "1.0~rc1.1");
    eq(Rpm, "1.0", "0:1.0");
    lt(Rpm, "9:1.0", "10:0.1");
    lt(Rpm, "99.0-1.el9", "1:1.0-1.el9");
    lt(Rpm, "1.0-1.el9", "1.0-2.el9");
    lt(Rpm, "1.0-2.el9", "1.0-10.el9");
    lt(Rpm, "1.0-1.el8", "1.0-1.el9");
    lt(Rpm, "1.0", "1.0-1");
    lt(Rpm, "1.0a", "1.0.1");
    lt(Rpm, "1.0a", "1.0b");
    lt(Rpm, "2.0.1", "2.0.1a");
    eq(Rpm, "1.0.0", "1..0.0");
    eq(Rpm, "1.01", "1.1");
    lt(Rpm, "5.2-0.1.el9", "5.2-1.el9_0.1");
    eq(Rpm, "0:4.18.0-425.3.1.el8", "4.18.0-425.3.1.el8");
    invalid(Rpm, "1:");
    invalid(Rpm, "-1");
}

#[test]
fn nuget_case_insensitive_labels() {
    eq(NuGet, "1.0.0-BETA", "1.0.0-beta");
    eq(NuGet, "1.0.0-Beta.X.1", "1.0.0-beta.x.1");
    lt(NuGet, "1.0.0-ALPHA", "1.0.0-beta");
    lt(NuGet, "1.0.0-alpha", "1.0.0-BETA");
    eq(NuGet, "1.0", "1.0.0.0");
    eq(NuGet, "1.0.0+Meta", "1.0.0");
    lt(NuGet, "1.0.0-rc.2", "1.0.0-rc.10");
    lt(NuGet, "1.0.0.1-beta", "1.0.0.1");
    invalid(NuGet, "1.0.0.0.0");
    invalid(NuGet, "1.0.0-");
    invalid(NuGet, "v1.0.0");
}

#[test]
fn pypi_epochs_and_local() {
    lt(PyPI, "2.0", "1!1.0");
    lt(PyPI, "1!1.0", "1!1.0.post1");
    eq(PyPI, "0!1.0", "1.0");
    lt(PyPI, "1.0", "1.0+local");
    lt(PyPI, "1.0+abc", "1.0+1");
    lt(PyPI, "1.0+abc.1", "1.0+abc.1.1");
    lt(PyPI, "1.0+1.2", "1.0+1.10");
    eq(PyPI, "1.0+ABC-1", "1.0+abc.1");
    lt(PyPI, "1.0+local", "1.0.post1");
    eq(PyPI, "1.0", "1.0.0");
    eq(PyPI, "1.0RC1", "1.0rc1");
    eq(PyPI, "1.0-alpha-1", "1.0a1");
    eq(PyPI, "1.0.preview.2", "1.0rc2");
    eq(PyPI, "1.0-1", "1.0.post1");
    eq(PyPI, "1.0.rev", "1.0.post0");
    eq(PyPI, "v1.0.DEV", "1.0.dev0");
    lt(PyPI, "1.0.dev1", "1.0a1");
    lt(PyPI, "1.0a1", "1.0a1.post1");
    lt(PyPI, "1.0a1.post1.dev1", "1.0a1.post1");
    lt(PyPI, "1.0.post1.dev1", "1.0.post1");
    lt(PyPI, "1.0rc1", "1.0");
    // Legacy (non-PEP 440) versions sort below PEP 440 ones.
    lt(PyPI, "0.9-doduo", "0.1");
    lt(PyPI, "foo", "0");
}

#[test]
fn debian_rules() {
    lt(Debian, "1.0~rc1", "1.0");
    lt(Debian, "1.0", "1.0+b1");
    lt(Debian, "1.0-1", "1:0.1-1");
    eq(Debian, "0.0.0", "0.0.0-0");
    lt(Ubuntu, "2.7.4-13ubuntu1", "2.7.4-13+deb9u1");
    invalid(Debian, "x:1.0");
    invalid(Debian, ":1.0");
    invalid(Debian, "1:");
    invalid(Debian, "1.0-");
    invalid(Debian, "1.0 beta");
    invalid(Debian, "99999999999:1.0");
}

#[test]
fn alpine_rules() {
    lt(Alpine, "1.2_rc1", "1.2");
    lt(Alpine, "1.2", "1.2_p1");
    lt(Alpine, "1.2", "1.2-r1");
    lt(Alpine, "1.2-r9", "1.2-r10");
    lt(Alpine, "1.01", "1.1");
    eq(Alpine, "1.2~abc123", "1.2");
}

#[test]
fn maven_rules() {
    eq(Maven, "1.0", "1");
    eq(Maven, "1.0-GA", "1");
    lt(Maven, "1.0-alpha-1", "1.0-beta");
    lt(Maven, "1.0-SNAPSHOT", "1.0");
    lt(Maven, "1.0", "1.0-sp1");
    lt(Maven, "1.0-rc1", "1.0-SNAPSHOT");
    eq(Maven, "1.0-cr1", "1.0-rc1");
    lt(Maven, "1.0.0.Final", "1.0.1");
    invalid(Maven, "1.0-\u{e9}");
}

#[test]
fn rubygems_rules() {
    lt(RubyGems, "1.0.0.pre", "1.0.0");
    eq(RubyGems, "1.0.0-rc1", "1.0.0.pre.rc1");
    eq(RubyGems, "1.0", "1.0.0");
    lt(RubyGems, "1.0.a", "1.0.b");
    invalid(RubyGems, "1.0.0-");
    invalid(RubyGems, "a.b");
}

#[test]
fn packagist_rules() {
    eq(Packagist, "v1.0.0", "1.0.0");
    lt(Packagist, "1.0.0-dev", "1.0.0-alpha1");
    lt(Packagist, "1.0.0-RC1", "1.0.0");
    lt(Packagist, "1.0.0", "1.0.0-p1");
    lt(Packagist, "1.0", "1.0.0");
    eq(Packagist, "1.0-rc1", "1.0RC1");
}

#[test]
fn from_osv_names() {
    let cases = [
        ("Go", Go),
        ("npm", Npm),
        ("PyPI", PyPI),
        ("Maven", Maven),
        ("crates.io", CratesIo),
        ("RubyGems", RubyGems),
        ("NuGet", NuGet),
        ("Packagist", Packagist),
        ("Hex", Hex),
        ("Pub", Pub),
        ("Debian", Debian),
        ("Debian:12", Debian),
        ("Ubuntu", Ubuntu),
        ("Ubuntu:22.04:LTS", Ubuntu),
        ("Ubuntu:Pro:18.04:LTS", Ubuntu),
        ("Alpine", Alpine),
        ("Alpine:v3.19", Alpine),
        ("Wolfi", Alpine),
        ("Red Hat", Rpm),
        ("Red Hat:enterprise_linux:9::appstream", Rpm),
        ("Rocky Linux", Rpm),
        ("Rocky Linux:9", Rpm),
        ("AlmaLinux", Rpm),
        ("AlmaLinux:8", Rpm),
        ("openSUSE", Rpm),
        ("openSUSE:Leap 15.5", Rpm),
        ("SUSE", Rpm),
        ("SUSE:Linux Enterprise Server 15 SP5", Rpm),
        ("Mageia", Rpm),
        ("Mageia:9", Rpm),
        ("openEuler", Rpm),
        ("Azure Linux", Rpm),
        ("Azure Linux:3", Rpm),
        ("Mariner", Rpm),
        ("SwiftURL", Semver),
        ("Bitnami", Semver),
        ("GitHub Actions", Semver),
        ("Maven:https://repo.maven.apache.org/maven2/", Maven),
    ];
    for (name, want) in cases {
        assert_eq!(Ecosystem::from_osv(name), Some(want), "{name}");
    }
    for unknown in [
        "",
        "go",
        "NPM",
        "pypi",
        "Crates.io",
        "Hackage",
        "CRAN",
        "Linux",
        "Android",
        "OSS-Fuzz",
        "Debian:",
        "npm:1",
        "PyPI:x",
        "Go:1",
        " Go",
        "Go ",
        "Unknown",
    ] {
        assert_eq!(Ecosystem::from_osv(unknown), None, "{unknown:?}");
    }
    for e in ALL {
        assert_eq!(Ecosystem::from_osv(e.osv_name()), Some(e), "{e:?}");
    }
    assert_eq!(Debian.osv_name(), "Debian");
    assert_eq!(CratesIo.osv_name(), "crates.io");
}

const ALL: [Ecosystem; 15] = [
    Go, Npm, PyPI, Maven, CratesIo, RubyGems, NuGet, Packagist, Hex, Pub, Debian, Ubuntu, Alpine,
    Rpm, Semver,
];

#[test]
fn parse_once_compare_many() {
    let v = Version::parse(PyPI, "1.4.2").unwrap();
    assert_eq!(v.ecosystem(), PyPI);
    let bounds = ["1.0", "1.4.2", "2.0a1"];
    let got: Vec<_> = bounds
        .iter()
        .map(|b| v.cmp_to(&Version::parse(PyPI, b).unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            Some(Ordering::Greater),
            Some(Ordering::Equal),
            Some(Ordering::Less)
        ]
    );
    // Different ecosystems do not compare.
    let d = Version::parse(Debian, "1.4.2").unwrap();
    let u = Version::parse(Ubuntu, "1.4.2").unwrap();
    assert_eq!(v.cmp_to(&d), None);
    assert_eq!(d.cmp_to(&u), None);
}

#[test]
fn odd_input_never_panics() {
    let long_digits = "1".repeat(300);
    let long_dotted = "1.".repeat(150);
    let long_mixed = "1a-~^.+_:".repeat(40);
    let at_limit = "9".repeat(MAX_VERSION_LEN);
    let odd: Vec<&str> = vec![
        "",
        " ",
        "~",
        "-",
        "+",
        ".",
        "..",
        "1.",
        ".1",
        "1..",
        "1-",
        "1+",
        ":",
        "1:",
        ":1",
        "^",
        "_",
        "#",
        "!",
        "1!",
        "!1",
        "v",
        "V",
        "=",
        "go",
        "a",
        "0",
        "00",
        "-0",
        "~~",
        "1~",
        "1^",
        "1.0-",
        "1.0+",
        "1.0_",
        "1:1:1",
        "1--1",
        "1-r",
        "-r1",
        "_p",
        "1_p",
        "1.0.0-+",
        "1!2!3",
        "1.0+a+b",
        "1.0.post.dev",
        "é",
        "1.0é",
        "1.０",
        "١٢٣",
        "1.0\u{0}",
        "1\u{feff}",
        "\u{212a}",
        "日本語",
        "1.0-日本",
        "go1.2ü",
        "0x10",
        "-1.0",
        "1e10",
        "NaN",
        "1.2.3-a.-b",
        "1.2.3-0a",
        "99999999999999999999999999",
        &long_digits,
        &long_dotted,
        &long_mixed,
        &at_limit,
    ];
    for e in ALL {
        for a in &odd {
            let parsed = Version::parse(e, a);
            if a.len() > MAX_VERSION_LEN {
                assert!(
                    parsed.is_none(),
                    "{e:?} accepted a {}-byte version",
                    a.len()
                );
            }
            for b in &odd {
                if let Some(o) = compare(e, a, b) {
                    // Antisymmetric whenever both parse.
                    assert_eq!(compare(e, b, a), Some(o.reverse()), "{e:?} {a:?} {b:?}");
                }
            }
        }
        assert!(Version::parse(e, "").is_none());
        assert!(Version::parse(e, &long_digits).is_none());
    }
}

#[test]
fn introduced_zero_is_a_version_everywhere() {
    // OSV ranges start at "introduced": "0"; it must parse and sort low in every ecosystem.
    for e in ALL {
        assert!(Version::parse(e, "0").is_some(), "{e:?}");
        assert_eq!(compare(e, "0", "1.2.3"), Some(Ordering::Less), "{e:?}");
    }
}
