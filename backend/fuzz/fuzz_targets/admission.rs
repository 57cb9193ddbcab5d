//! Kubernetes admission reviews (`POST /k8s/admission`):
//! `policy::admission::read` on the body, `image_digest` on every image it
//! lists, and the `response` the webhook writes back with the review's uid.
#![no_main]

use cairn::policies::core::admission::{self, Review};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match admission::read(data) {
        Ok(Review::Images {
            uid, kind, images, ..
        }) => {
            let mut warnings = Vec::new();
            for i in &images {
                assert_eq!(admission::image_digest(&i.image), i.digest, "{i:?}");
                warnings.push(format!("{}: {}", i.location, i.image));
            }
            let _ = admission::response(&uid, images.is_empty(), &kind, &warnings);
        }
        Ok(Review::Skip { uid, why }) => {
            let _ = admission::response(&uid, true, &why, &[]);
        }
        // Kinds without a pod template, and whatever else a review may be.
        Ok(other) => {
            let _ = admission::response("", false, &format!("{other:?}"), &[]);
        }
        Err(m) => {
            let _ = admission::response(&m.uid, false, &m.reason, &[]);
        }
    }
});
