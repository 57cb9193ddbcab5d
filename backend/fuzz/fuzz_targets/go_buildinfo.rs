//! Go build-info extraction, as `POST /api/v1/go/builds` runs it
//! (`go::service::extract`): `buildinfo::detect` on the head, then
//! `buildinfo::from_executable` (ELF, Mach-O, universal Mach-O, PE; section
//! tables or a scan for the magic) on the whole body, and
//! `buildinfo::parse_version_m` on the body as text (`go version -m`
//! output). A parsed build info then goes through the SBOM/commit
//! cross-check the policy rules run (`crosscheck::check`). The same body's
//! function table is read for Go reachability (`symbols::from_executable`)
//! and judged against an advisory's symbols.
#![no_main]

use std::io::Cursor;

use cairn::go::core::buildinfo::{self, BuildInfo};
use cairn::go::core::crosscheck::{self, SbomGoComponent};
use cairn::go::core::symbols;
use libfuzzer_sys::fuzz_target;

fn use_info(info: &BuildInfo) {
    let _ = info.setting("vcs.revision");
    let sbom: Vec<SbomGoComponent> = info
        .modules
        .iter()
        .take(8)
        .filter_map(|m| {
            SbomGoComponent::from_purl(&format!("pkg:golang/{}@{}", m.path, m.version), Vec::new())
        })
        .collect();
    let commits = ["0123456789abcdef0123456789abcdef01234567".to_owned()];
    let _ = crosscheck::check(info, None, &[]).passed();
    let _ = crosscheck::check(info, Some(&sbom), &commits).passed();
    for m in &info.modules {
        if let Some(sum) = &m.sum {
            let _ = crosscheck::h1_hex(sum);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = buildinfo::detect(&data[..data.len().min(512)]);
    if let Ok(info) = buildinfo::from_executable(&mut Cursor::new(data), data.len() as u64) {
        use_info(&info);
    }
    if let Ok(table) = symbols::from_executable(&mut Cursor::new(data), data.len() as u64) {
        let imports = [("net/http".to_owned(), vec!["Server.Serve".to_owned()])];
        let _ = symbols::reachability(&table, &imports);
        let _ = table.entries().count() == table.function_count();
    }
    if let Ok(info) = buildinfo::parse_version_m(&String::from_utf8_lossy(data)) {
        use_info(&info);
    }
});
