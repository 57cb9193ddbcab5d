//! go.mod and go.sum uploads (`POST /api/v1/go/modules`): `parse_go_mod`
//! and `parse_go_sum` on the text, the JSON round trip the store makes
//! (`go::service::ingest_module_file` stores `serde_json::to_value` of the result
//! and reads it back), and `unsummed` as the go-modules-verified rule runs it.
#![no_main]

use cairn::go::core::gomod::{self, GoMod, SumEntry};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The upload refuses non-UTF-8 text before parsing.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let m = gomod::parse_go_mod(text).ok();
    let sums = gomod::parse_go_sum(text).ok();
    if let Some(m) = &m {
        let v = serde_json::to_value(m).expect("a GoMod serialises");
        let back: GoMod = serde_json::from_value(v).expect("a stored GoMod reads back");
        assert_eq!(&back, m);
        for r in &m.replace {
            let _ = gomod::is_local_path(&r.new_path);
        }
        let _ = gomod::unsummed(m, &[]);
        if let Some(s) = &sums {
            let _ = gomod::unsummed(m, s);
        }
    }
    if let Some(s) = &sums {
        let v = serde_json::to_value(s).expect("go.sum entries serialise");
        let back: Vec<SumEntry> = serde_json::from_value(v).expect("stored entries read back");
        assert_eq!(&back, s);
    }
});
