//! The benchmark's documents: components that are pure functions of their
//! key, CycloneDX SBOMs of them, and the key choice (a shared, power-law
//! population plus new components per version).

use super::*;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Ecosystem {
    Golang,
    Npm,
    Maven,
    Pypi,
    Deb,
}

/// One component, a pure function of its key.
pub struct Comp {
    pub name: String,
    pub group: Option<String>,
    pub version: String,
    /// The purl without `@version` (and qualifiers).
    pub package: String,
    pub purl: String,
    pub supplier: Option<String>,
    pub license: License,
    pub sha256: String,
    pub sha1: Option<String>,
}

pub enum License {
    None,
    Id(&'static str),
    Expression(&'static str),
}

/// SplitMix64: a fixed, well-mixing function of the key.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

pub fn ecosystem(package: u64) -> Ecosystem {
    match mix(package) % 100 {
        0..=29 => Ecosystem::Golang,
        30..=59 => Ecosystem::Npm,
        60..=74 => Ecosystem::Maven,
        75..=89 => Ecosystem::Pypi,
        _ => Ecosystem::Deb,
    }
}

pub fn component(key: u64) -> Comp {
    let p = key % PACKAGES;
    let v = key / PACKAGES;
    let hp = mix(p);
    let hv = mix(key ^ 0x5EED);
    let (a, b) = (p % 1000, p / 1000);
    let major = 1 + (hp >> 8) % 4;
    let patch = hv % 20;
    let eco = ecosystem(p);
    let (name, group, version, package, qualifiers) = match eco {
        Ecosystem::Golang => {
            let name = format!("github.com/org{a}/mod{b}");
            let package = format!("pkg:golang/{name}");
            (name, None, format!("v{major}.{v}.{patch}"), package, "")
        }
        Ecosystem::Npm if (hp >> 16) % 3 == 0 => (
            format!("@scope{a}/pkg{b}"),
            None,
            format!("{major}.{v}.{patch}"),
            format!("pkg:npm/%40scope{a}/pkg{b}"),
            "",
        ),
        Ecosystem::Npm => {
            let name = format!("pkg{a}-{b}");
            let package = format!("pkg:npm/{name}");
            (name, None, format!("{major}.{v}.{patch}"), package, "")
        }
        Ecosystem::Maven => {
            let group = format!("com.example{a}");
            let name = format!("core{b}-{a}");
            let package = format!("pkg:maven/{group}/{name}");
            (
                name,
                Some(group),
                format!("{major}.{v}.{patch}"),
                package,
                "",
            )
        }
        Ecosystem::Pypi => {
            let name = format!("pypkg{a}-{b}");
            let package = format!("pkg:pypi/{name}");
            (name, None, format!("{major}.{v}.{patch}"), package, "")
        }
        Ecosystem::Deb => {
            let name = format!("lib{a}x{b}");
            let package = format!("pkg:deb/debian/{name}");
            let version = format!("{major}.{v}.{patch}-{}", 1 + (hv >> 8) % 3);
            (name, None, version, package, "?arch=amd64&distro=debian-12")
        }
    };
    let purl = format!("{package}@{version}{qualifiers}");
    let license = match (hp >> 20) % 100 {
        0..=54 => License::Id("MIT"),
        55..=74 => License::Id("Apache-2.0"),
        75..=84 => License::Id("BSD-3-Clause"),
        85..=92 => License::Expression("MIT OR Apache-2.0"),
        93..=96 => License::Id("ISC"),
        _ => License::None,
    };
    let supplier = match eco {
        Ecosystem::Deb => Some("Debian".to_string()),
        _ if (hp >> 28) % 10 < 3 => Some(format!("Org {a}")),
        _ => None,
    };
    let sha256 = hex::encode(Sha256::digest(purl.as_bytes()));
    let sha1 = (matches!(eco, Ecosystem::Maven | Ecosystem::Npm) || hv % 4 == 0).then(|| {
        let mut h = hex::encode(Sha256::digest(format!("sha1:{purl}").as_bytes()));
        h.truncate(40);
        h
    });
    Comp {
        name,
        group,
        version,
        package,
        purl,
        supplier,
        license,
        sha256,
        sha1,
    }
}

pub fn write_component(out: &mut String, c: &Comp) {
    let purl = &c.purl;
    write!(out, r#"{{"type":"library","bom-ref":"{purl}","#).unwrap();
    if let Some(s) = &c.supplier {
        write!(out, r#""supplier":{{"name":"{s}"}},"#).unwrap();
    }
    if let Some(g) = &c.group {
        write!(out, r#""group":"{g}","#).unwrap();
    }
    write!(out, r#""name":"{}","version":"{}","#, c.name, c.version).unwrap();
    match c.license {
        License::None => {}
        License::Id(id) => write!(out, r#""licenses":[{{"license":{{"id":"{id}"}}}}],"#).unwrap(),
        License::Expression(e) => write!(out, r#""licenses":[{{"expression":"{e}"}}],"#).unwrap(),
    }
    out.push_str(r#""hashes":["#);
    if let Some(sha1) = &c.sha1 {
        write!(out, r#"{{"alg":"SHA-1","content":"{sha1}"}},"#).unwrap();
    }
    write!(
        out,
        r#"{{"alg":"SHA-256","content":"{}"}}],"purl":"{purl}"}}"#,
        c.sha256
    )
    .unwrap();
}

pub struct Doc {
    pub bytes: Bytes,
    pub components: usize,
    pub dependencies: usize,
}

/// A CycloneDX 1.5 document for `artifact` `version` listing `keys`, with
/// a random dependency DAG (each component depends on 1-4 later ones).
pub fn document(rng: &mut StdRng, artifact: &str, version: &str, keys: &[u64], n: u64) -> Doc {
    let comps: Vec<Comp> = keys.iter().map(|&k| component(k)).collect();
    let mut out = String::with_capacity(keys.len() * 700 + 4096);
    let serial = format!(
        "urn:uuid:{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        rng.random::<u32>(),
        rng.random::<u16>(),
        rng.random::<u16>() & 0xfff,
        rng.random::<u16>() & 0xfff,
        rng.random::<u64>() & 0xffff_ffff_ffff
    );
    let root_ref = format!("pkg:generic/bench/{artifact}@{version}");
    write!(
        out,
        r#"{{"bomFormat":"CycloneDX","specVersion":"1.5","serialNumber":"{serial}","version":1,"metadata":{{"timestamp":"2025-01-{:02}T{:02}:{:02}:{:02}Z","tools":{{"components":[{{"type":"application","author":"anchore","name":"syft","version":"1.18.1"}}]}},"component":{{"bom-ref":"{root_ref}","type":"application","name":"{artifact}","version":"{version}","purl":"{root_ref}"}}}},"components":["#,
        1 + n % 28,
        n % 24,
        (n / 24) % 60,
        (n * 7) % 60
    )
    .unwrap();
    for (i, c) in comps.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_component(&mut out, c);
    }
    out.push_str(r#"],"dependencies":["#);
    let len = comps.len();
    let mut dependencies = 0;
    write!(out, r#"{{"ref":"{root_ref}","dependsOn":["#).unwrap();
    for (j, c) in comps.iter().take(5).enumerate() {
        if j > 0 {
            out.push(',');
        }
        write!(out, r#""{}""#, c.purl).unwrap();
        dependencies += 1;
    }
    out.push_str("]}");
    let mut targets: Vec<usize> = Vec::with_capacity(4);
    for (i, c) in comps.iter().enumerate() {
        let later = len - i - 1;
        let want = rng.random_range(1..=4usize).min(later);
        targets.clear();
        while targets.len() < want {
            // Mostly near neighbours (a module's own subtree), some far.
            let span = if rng.random_bool(0.7) {
                later.min(50)
            } else {
                later
            };
            let t = i + 1 + rng.random_range(0..span);
            if !targets.contains(&t) {
                targets.push(t);
            }
        }
        write!(out, r#",{{"ref":"{}","dependsOn":["#, c.purl).unwrap();
        for (j, &t) in targets.iter().enumerate() {
            if j > 0 {
                out.push(',');
            }
            write!(out, r#""{}""#, comps[t].purl).unwrap();
        }
        out.push_str("]}");
        dependencies += targets.len();
    }
    out.push_str("]}");
    Doc {
        bytes: Bytes::from(out.into_bytes()),
        components: len,
        dependencies,
    }
}

/// Picks component keys and remembers which are stored.
pub struct Gen {
    pub rng: StdRng,
    pub next_fresh: u64,
    pub docs: u64,
    pub stored: HashSet<u64>,
}

impl Gen {
    pub fn fresh(&mut self, n: usize) -> Vec<u64> {
        let keys = (self.next_fresh..self.next_fresh + n as u64).collect();
        self.next_fresh += n as u64;
        keys
    }

    /// `base` with a random `NEW_SHARE` of its components replaced by new ones.
    pub fn next_version(&mut self, base: &[u64]) -> Vec<u64> {
        let mut keys = base.to_vec();
        let replace = ((base.len() as f64) * NEW_SHARE).round() as usize;
        let mut positions: Vec<usize> = (0..keys.len()).collect();
        positions.shuffle(&mut self.rng);
        let fresh = self.fresh(replace);
        for (&pos, key) in positions.iter().zip(fresh) {
            keys[pos] = key;
        }
        keys
    }

    /// A portfolio SBOM: 90 % from the shared population, drawn with a
    /// power law (rank = POOL * u^3: the top 300 keys take 10 % of all
    /// draws), 10 % new. Distinct keys, in random order.
    pub fn portfolio(&mut self, n: usize) -> Vec<u64> {
        let new = ((n as f64) * NEW_SHARE).round() as usize;
        let mut seen: HashSet<u64> = HashSet::with_capacity(n);
        let mut keys = Vec::with_capacity(n);
        while keys.len() < n - new {
            let u: f64 = self.rng.random();
            let rank = ((POOL as f64) * u * u * u) as u64;
            if seen.insert(rank) {
                keys.push(rank);
            }
        }
        keys.extend(self.fresh(new));
        keys.shuffle(&mut self.rng);
        keys
    }

    pub fn document(&mut self, artifact: &str, version: &str, keys: &[u64]) -> Doc {
        self.docs += 1;
        document(&mut self.rng, artifact, version, keys, self.docs)
    }
}
