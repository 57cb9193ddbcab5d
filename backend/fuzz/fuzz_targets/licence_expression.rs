//! SPDX licence expressions (`policy::licenses`): `parse` on the text and,
//! when it parses, `judge` against small fixed allow/deny lists, as the
//! `licenses` rule runs it on every component's expression. Expressions
//! come from uploaded SBOMs, so depth and length are attacker-chosen: the
//! seeds include 6,000 nested parentheses and 20,000 `AND` terms.
#![no_main]

use std::sync::OnceLock;

use cairn::policies::core::licenses;
use libfuzzer_sys::fuzz_target;

struct Lists {
    empty: Vec<String>,
    allow: Vec<String>,
    deny: Vec<String>,
}

fn lists() -> &'static Lists {
    static L: OnceLock<Lists> = OnceLock::new();
    L.get_or_init(|| {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect();
        Lists {
            empty: Vec::new(),
            allow: v(&["MIT", "Apache-2.0", "BSD-3-Clause", "GPL-2.0-only", "ISC"]),
            deny: v(&["GPL-3.0-only", "AGPL-3.0-only", "SSPL-1.0", "GPL-2.0+"]),
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(expr) = licenses::parse(&text) {
        let l = lists();
        let _ = licenses::judge(&expr, &l.empty, &l.deny);
        let _ = licenses::judge(&expr, &l.allow, &l.empty);
        let _ = licenses::judge(&expr, &l.allow, &l.deny);
    }
});
