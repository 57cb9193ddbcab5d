//! Package URLs (purl-spec) read far enough to name a package the way its
//! ecosystem's advisories do: each type canonicalised by its own rules
//! before matching, so `pkg:golang/github.com/Azure/x` (Syft) and
//! `pkg:golang/github.com/azure/x` (Trivy lowercases) are one module.

use super::version::Ecosystem;

/// The parts of a purl matching needs, percent-decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purl {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub version: Option<String>,
    pub qualifiers: Vec<(String, String)>,
}

/// Purls longer than this are not read (a component name is never this long).
const MAX_PURL: usize = 4096;

impl Purl {
    /// Reads `pkg:type/namespace/name@version?qualifiers#subpath`; None when
    /// it is not a purl.
    pub fn parse(s: &str) -> Option<Purl> {
        if s.len() > MAX_PURL {
            return None;
        }
        let rest = s.strip_prefix("pkg:")?.trim_start_matches('/');
        let rest = rest.split_once('#').map_or(rest, |(r, _)| r);
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (kind, path) = rest.split_once('/')?;
        if kind.is_empty()
            || !kind
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return None;
        }
        let path = path.trim_end_matches('/');
        // The version follows the last '@' after the last '/': npm scopes
        // (`%40scope` or a literal `@scope`) sit in the namespace.
        let last_slash = path.rfind('/').map_or(0, |i| i + 1);
        let (path, version) = match path[last_slash..].rfind('@') {
            Some(at) => (
                &path[..last_slash + at],
                Some(decode(&path[last_slash + at + 1..])?),
            ),
            None => (path, None),
        };
        let (namespace, name) = match path.rsplit_once('/') {
            Some((ns, n)) => (Some(ns), n),
            None => (None, path),
        };
        let name = decode(name)?;
        if name.is_empty() {
            return None;
        }
        let namespace = match namespace {
            None => None,
            Some(ns) => Some(
                ns.split('/')
                    .map(decode)
                    .collect::<Option<Vec<_>>>()?
                    .join("/"),
            ),
        }
        .filter(|ns| !ns.is_empty());
        let mut qualifiers = Vec::new();
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=')?;
            qualifiers.push((k.to_ascii_lowercase(), decode(v)?));
        }
        Some(Purl {
            kind: kind.to_ascii_lowercase(),
            namespace,
            name,
            version: version.filter(|v| !v.is_empty()),
            qualifiers,
        })
    }

    pub fn qualifier(&self, key: &str) -> Option<&str> {
        self.qualifiers
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The package as advisories name it, or None for types Cairn does not
    /// match (OCI images, GitHub Actions, generic files …).
    pub fn package(&self) -> Option<Package> {
        let ns = self.namespace.as_deref();
        let joined = |sep: &str| match ns {
            Some(ns) => format!("{ns}{sep}{}", self.name),
            None => self.name.clone(),
        };
        let (ecosystem, name, release) = match self.kind.as_str() {
            // Go module paths are case-sensitive, but the go command refuses
            // two that differ only in case ("case-insensitive import
            // collision"), so folding case loses nothing and finds Trivy's.
            "golang" => (Ecosystem::Go, joined("/").to_lowercase(), None),
            "npm" => (Ecosystem::Npm, joined("/").to_lowercase(), None),
            "pypi" => (Ecosystem::PyPI, pep503(&self.name), None),
            "maven" => (Ecosystem::Maven, joined(":"), None),
            // crates.io treats `-` and `_` as the same name, case-insensitively.
            "cargo" => (
                Ecosystem::CratesIo,
                self.name.to_lowercase().replace('_', "-"),
                None,
            ),
            "gem" => (Ecosystem::RubyGems, self.name.clone(), None),
            "nuget" => (Ecosystem::NuGet, self.name.to_lowercase(), None),
            "composer" => (Ecosystem::Packagist, joined("/").to_lowercase(), None),
            "hex" => (Ecosystem::Hex, self.name.to_lowercase(), None),
            "pub" => (Ecosystem::Pub, self.name.to_lowercase(), None),
            "deb" => {
                let eco = match ns.map(str::to_ascii_lowercase).as_deref() {
                    Some("ubuntu") => Ecosystem::Ubuntu,
                    _ => Ecosystem::Debian,
                };
                (eco, self.name.clone(), self.distro_release())
            }
            // `pkg:alpine/…` is how Syft wrote apk purls before `pkg:apk/alpine/…`.
            "apk" | "alpine" => (Ecosystem::Alpine, self.name.clone(), self.distro_release()),
            "rpm" => (Ecosystem::Rpm, self.name.clone(), None),
            _ => return None,
        };
        Some(Package {
            ecosystem,
            name,
            release,
        })
    }

    /// The version advisories compare: the purl's, with the `epoch`
    /// qualifier put back in front for dpkg and rpm versions that lack it
    /// (Trivy records the epoch both ways).
    pub fn match_version(&self) -> Option<String> {
        let v = self.version.as_deref()?;
        match (self.kind.as_str(), self.qualifier("epoch")) {
            ("deb" | "rpm", Some(e)) if !e.is_empty() && e != "0" && !v.contains(':') => {
                Some(format!("{e}:{v}"))
            }
            _ => Some(v.to_string()),
        }
    }

    /// The source package a distro binary package was built from, as the
    /// databases that name sources (Debian, Ubuntu, Alpine, distro RPM
    /// advisories) call it: `source` (the SBOM's own statement, Trivy's
    /// `SrcName`), else Syft's `upstream=` qualifier (`name` or
    /// `name@version`); with the source version when one is given. None
    /// for other types, and when the source has the binary's own name.
    pub fn source_package(&self, source: Option<&str>) -> Option<(Package, Option<String>)> {
        if !matches!(self.kind.as_str(), "deb" | "apk" | "alpine" | "rpm") {
            return None;
        }
        let (name, version) = match source {
            Some(s) => (s, None),
            None => {
                let up = self.qualifier("upstream")?;
                match up.split_once('@') {
                    Some((n, v)) => (n, Some(v.to_string()).filter(|v| !v.is_empty())),
                    None => (up, None),
                }
            }
        };
        let name = name.trim();
        if name.is_empty() || name == self.name {
            return None;
        }
        let mut package = self.package()?;
        package.name = name.to_string();
        Some((package, version))
    }

    /// `distro=debian-12`, `distro=ubuntu-22.04`, `distro=3.19.1` (Alpine,
    /// as Syft writes it) or `alpine-3.19.1` → the release OSV names:
    /// `12`, `22.04`, `v3.19`.
    fn distro_release(&self) -> Option<String> {
        let d = self.qualifier("distro")?;
        let v = d.rsplit_once('-').map_or(d, |(_, v)| v);
        if matches!(self.kind.as_str(), "apk" | "alpine") {
            let mut parts = v.trim_start_matches('v').split('.');
            let (major, minor) = (parts.next()?, parts.next()?);
            return Some(format!("v{major}.{minor}"));
        }
        if self.kind == "deb" && self.namespace.as_deref() == Some("debian") {
            // Debian advisories name the major release only ("Debian:12").
            return v.split('.').next().map(str::to_string);
        }
        Some(v.to_string())
    }
}

/// A package as advisories name it: ecosystem, canonical name, and for
/// distributions the release it was built for (when the SBOM says).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Package {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub release: Option<String>,
}

impl Package {
    /// The lookup key stored beside components and advisories
    /// (`Go:github.com/azure/x`), release left out: a release is a filter.
    pub fn key(&self) -> String {
        format!("{}:{}", self.ecosystem.osv_name(), self.name)
    }

    /// The advisory side: an OSV `package` (ecosystem with its optional
    /// `:release` suffix, name as the database writes it).
    pub fn from_osv(ecosystem: &str, name: &str) -> Option<Package> {
        let eco = Ecosystem::from_osv(ecosystem)?;
        // "Debian:12", "Alpine:v3.19", "Ubuntu:22.04:LTS", "Ubuntu:Pro:18.04:LTS":
        // the release is the first suffix segment that is a version.
        let release = ecosystem
            .split(':')
            .skip(1)
            .find(|r| {
                let r = r.strip_prefix('v').unwrap_or(r);
                r.starts_with(|c: char| c.is_ascii_digit())
            })
            .map(str::to_string);
        let name = match eco {
            Ecosystem::Go | Ecosystem::Npm | Ecosystem::NuGet | Ecosystem::Packagist => {
                name.to_lowercase()
            }
            Ecosystem::Hex | Ecosystem::Pub => name.to_lowercase(),
            Ecosystem::PyPI => pep503(name),
            Ecosystem::CratesIo => name.to_lowercase().replace('_', "-"),
            _ => name.to_string(),
        };
        Some(Package {
            ecosystem: eco,
            name,
            release,
        })
    }

    /// Whether an advisory for `self` (maybe release-specific) covers the
    /// component `c`: same key, and the same release when both name one.
    pub fn covers(&self, c: &Package) -> bool {
        self.ecosystem == c.ecosystem
            && self.name == c.name
            && match (&self.release, &c.release) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// The lookup key of a component purl, or None when no advisory can name it.
pub fn package_key(purl: &str) -> Option<String> {
    Purl::parse(purl)?.package().map(|p| p.key())
}

/// The keys a component is stored and matched by ('' where none).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ComponentKeys {
    /// What advisories call the component itself.
    pub package: String,
    /// What advisories call its distro source package.
    pub source: String,
    /// The source's version, when the SBOM or the purl gives one.
    pub source_version: Option<String>,
}

/// A component's keys from its purl (read once) and the source package its
/// SBOM states, if any (name, version).
pub fn component_keys(purl: &str, stated: Option<(&str, Option<&str>)>) -> ComponentKeys {
    let Some(p) = Purl::parse(purl) else {
        return ComponentKeys::default();
    };
    let (source, version) = match p.source_package(stated.map(|s| s.0)) {
        Some((s, v)) => (s.key(), stated.and_then(|s| s.1).map(str::to_string).or(v)),
        None => (String::new(), None),
    };
    ComponentKeys {
        package: p.package().map(|p| p.key()).unwrap_or_default(),
        source,
        source_version: version,
    }
}

/// PEP 503: lowercase, runs of `-`, `_` and `.` become one `-`.
pub fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
            continue;
        }
        if sep && !out.is_empty() {
            out.push('-');
        }
        sep = false;
        out.extend(c.to_lowercase());
    }
    out
}

fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(p: &str) -> Option<String> {
        package_key(p)
    }

    #[test]
    fn go_module_paths_fold_case() {
        assert_eq!(
            key("pkg:golang/github.com/Azure/azure-sdk-for-go@v68.0.0+incompatible"),
            key("pkg:golang/github.com/azure/azure-sdk-for-go@v68.0.0%2Bincompatible")
        );
        let p = Purl::parse("pkg:golang/github.com/Azure/azure-sdk-for-go@v68.0.0%2Bincompatible")
            .unwrap();
        assert_eq!(p.version.as_deref(), Some("v68.0.0+incompatible"));
        assert_eq!(
            p.package().unwrap().key(),
            "Go:github.com/azure/azure-sdk-for-go"
        );
        assert_eq!(key("pkg:golang/stdlib@go1.21.3").unwrap(), "Go:stdlib");
    }

    /// The source key and version [`component_keys`] stores, if any.
    fn source_key(purl: &str, source: Option<&str>) -> Option<(String, Option<String>)> {
        let k = component_keys(purl, source.map(|n| (n, None)));
        (!k.source.is_empty()).then_some((k.source, k.source_version))
    }

    #[test]
    fn distro_source_packages() {
        // Syft (GUAC's Alpine SBOM): `upstream=` names the origin package.
        let libcrypto =
            "pkg:alpine/libcrypto1.1@1.1.1q-r0?arch=x86_64&upstream=openssl&distro=alpine-3.16.2";
        assert_eq!(
            source_key(libcrypto, None),
            Some(("Alpine:openssl".into(), None))
        );
        let (p, _) = Purl::parse(libcrypto)
            .unwrap()
            .source_package(None)
            .unwrap();
        assert_eq!(p.release.as_deref(), Some("v3.16"));
        // The upstream is the package itself: nothing more to match.
        let busybox = "pkg:alpine/busybox@1.35.0-r17?upstream=busybox&distro=alpine-3.16.2";
        assert_eq!(source_key(busybox, None), None);
        // Debian with a source version; Trivy's statement wins over the purl.
        let libssl = "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?distro=debian-12&upstream=openssl@3.0.11-1~deb12u2";
        assert_eq!(
            source_key(libssl, None),
            Some(("Debian:openssl".into(), Some("3.0.11-1~deb12u2".into())))
        );
        assert_eq!(
            source_key(libssl, Some("openssl3")).unwrap().0,
            "Debian:openssl3"
        );
        // Trivy's RPM: SrcName without a purl qualifier.
        let rpm =
            "pkg:rpm/centos/openssl-libs@1.0.2k-16.el7?arch=x86_64&epoch=1&distro=centos-7.6.1810";
        assert_eq!(
            source_key(rpm, Some("openssl")).unwrap().0,
            "Red Hat:openssl"
        );
        // The SBOM's stated version is the source's; the package key stays its own.
        assert_eq!(
            component_keys(rpm, Some(("openssl", Some("1:1.0.2k-16.el7")))),
            ComponentKeys {
                package: "Red Hat:openssl-libs".into(),
                source: "Red Hat:openssl".into(),
                source_version: Some("1:1.0.2k-16.el7".into()),
            }
        );
        // Language packages have no source packages.
        assert_eq!(source_key("pkg:npm/lodash@4.17.20?upstream=x", None), None);
    }

    #[test]
    fn ecosystem_names() {
        assert_eq!(
            key("pkg:pypi/Django_REST.framework@3.0").unwrap(),
            "PyPI:django-rest-framework"
        );
        assert_eq!(
            key("pkg:npm/%40angular/core@16.0.0").unwrap(),
            "npm:@angular/core"
        );
        assert_eq!(
            key("pkg:npm/@Angular/core@16.0.0").unwrap(),
            "npm:@angular/core"
        );
        assert_eq!(key("pkg:npm/lodash@4.17.20").unwrap(), "npm:lodash");
        assert_eq!(
            key("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1").unwrap(),
            "Maven:org.apache.logging.log4j:log4j-core"
        );
        assert_eq!(
            key("pkg:cargo/Tokio_Util@0.7.0").unwrap(),
            "crates.io:tokio-util"
        );
        assert_eq!(
            key("pkg:composer/Symfony/HTTP-kernel@5.0").unwrap(),
            "Packagist:symfony/http-kernel"
        );
        assert_eq!(
            key("pkg:nuget/Newtonsoft.Json@13.0.1").unwrap(),
            "NuGet:newtonsoft.json"
        );
        assert_eq!(key("pkg:oci/alpine@sha256%3Aabc"), None);
        assert_eq!(key("pkg:github/actions/checkout@v4"), None);
        assert_eq!(key("not a purl"), None);
        assert_eq!(key("pkg:"), None);
    }

    #[test]
    fn distributions_carry_their_release_and_epoch() {
        let p = Purl::parse("pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12.4&epoch=1")
            .unwrap();
        let pkg = p.package().unwrap();
        assert_eq!(
            (pkg.key(), pkg.release.as_deref()),
            ("Debian:libc6".into(), Some("12"))
        );
        assert_eq!(p.match_version().as_deref(), Some("1:2.36-9"));
        let a = Purl::parse("pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=3.19.1").unwrap();
        assert_eq!(a.package().unwrap().release.as_deref(), Some("v3.19"));
        let adv = Package::from_osv("Alpine:v3.19", "musl").unwrap();
        assert!(adv.covers(&a.package().unwrap()));
        assert!(!Package::from_osv("Alpine:v3.18", "musl")
            .unwrap()
            .covers(&a.package().unwrap()));
        assert!(Package::from_osv("Debian:12", "libc6")
            .unwrap()
            .covers(&pkg));
        let u = Purl::parse("pkg:deb/ubuntu/openssl@3.0.2-0ubuntu1?distro=ubuntu-22.04").unwrap();
        let up = u.package().unwrap();
        assert_eq!(up.key(), "Ubuntu:openssl");
        assert!(Package::from_osv("Ubuntu:22.04:LTS", "openssl")
            .unwrap()
            .covers(&up));
        assert!(Package::from_osv("Ubuntu:Pro:22.04:LTS", "openssl")
            .unwrap()
            .covers(&up));
        assert!(!Package::from_osv("Ubuntu:20.04:LTS", "openssl")
            .unwrap()
            .covers(&up));
    }

    #[test]
    fn hostile_purls_are_refused_not_panicked_on() {
        for s in [
            "pkg:golang/%",
            "pkg:golang/%zz",
            "pkg:npm/%C3",
            "pkg://",
            "pkg:a/@",
            "pkg:é/x",
        ] {
            let _ = Purl::parse(s).and_then(|p| p.package());
        }
        assert!(Purl::parse(&format!("pkg:npm/{}", "a".repeat(5000))).is_none());
    }
}
