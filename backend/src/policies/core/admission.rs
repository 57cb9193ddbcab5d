//! Kubernetes `admission.k8s.io/v1` AdmissionReview: reading the request
//! (which images a Pod or workload would run) and writing the response.
//! No I/O: the caller decides each image's digest.

use serde_json::{json, Value};

/// What a review asks about.
#[derive(Debug, PartialEq, Eq)]
pub enum Review {
    /// Nothing runs (DELETE, CONNECT).
    Skip { uid: String, why: String },
    /// A kind without a pod template: Cairn cannot tell what it runs, so
    /// configuration decides (deny by default).
    OtherKind {
        uid: String,
        kind: String,
        name: String,
    },
    /// Every image of the object, with where it is (`spec.containers[0]`).
    Images {
        uid: String,
        kind: String,
        name: String,
        images: Vec<ImageRef>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// e.g. `spec.template.spec.initContainers[1]` (container `name`).
    pub location: String,
    pub image: String,
    /// `sha256:<hex>` when the image is referenced by digest.
    pub digest: Option<String>,
}

/// A review that cannot be read: the uid if it was found, and why.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed {
    pub uid: String,
    pub reason: String,
}

/// Where the pod spec is in each supported kind.
fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Pod" => &["spec"],
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => &["spec", "template", "spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => return None,
    })
}

/// The digest of an image reference `name[:tag]@sha256:<64 hex>`.
pub fn image_digest(image: &str) -> Option<String> {
    let (_, digest) = image.rsplit_once('@')?;
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("sha256:{}", hex.to_ascii_lowercase()))
}

/// Reads an AdmissionReview body.
pub fn read(body: &[u8]) -> Result<Review, Malformed> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| Malformed {
        uid: String::new(),
        reason: format!("the body is not JSON: {e}"),
    })?;
    let uid = doc
        .pointer("/request/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let bad = |reason: String| Malformed {
        uid: uid.clone(),
        reason,
    };
    if doc.get("kind").and_then(Value::as_str) != Some("AdmissionReview") {
        return Err(bad("expected kind AdmissionReview".into()));
    }
    match doc.get("apiVersion").and_then(Value::as_str) {
        Some("admission.k8s.io/v1") => {}
        other => {
            return Err(bad(format!(
                "expected apiVersion admission.k8s.io/v1, got {}",
                other.unwrap_or("nothing")
            )))
        }
    }
    let Some(request) = doc.get("request").filter(|r| r.is_object()) else {
        return Err(bad("the review has no request".into()));
    };
    if uid.is_empty() {
        return Err(bad("the request has no uid".into()));
    }
    let operation = request
        .get("operation")
        .and_then(Value::as_str)
        .unwrap_or("");
    if matches!(operation, "DELETE" | "CONNECT") {
        return Ok(Review::Skip {
            uid,
            why: format!("{operation} runs no image"),
        });
    }
    let Some(object) = request.get("object").filter(|o| o.is_object()) else {
        return Err(bad(format!("the {operation} request has no object")));
    };
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .or_else(|| request.pointer("/kind/kind").and_then(Value::as_str))
        .unwrap_or("")
        .to_owned();
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .or_else(|| request.get("name").and_then(Value::as_str))
        .unwrap_or("")
        .to_owned();
    let Some(path) = pod_spec_path(&kind) else {
        return Ok(Review::OtherKind { uid, kind, name });
    };
    let mut spec = object;
    for step in path {
        spec = spec.get(step).ok_or_else(|| {
            bad(format!(
                "{kind} {name:?} has no {} (expected a pod spec there)",
                path.join(".")
            ))
        })?;
    }
    let prefix = path.join(".");
    let mut images = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        let Some(v) = spec.get(list) else { continue };
        let Some(items) = v.as_array() else {
            return Err(bad(format!("{prefix}.{list} is not a list")));
        };
        for (i, c) in items.iter().enumerate() {
            let cname = c.get("name").and_then(Value::as_str).unwrap_or("?");
            let location = format!("{prefix}.{list}[{i}] ({cname})");
            let Some(image) = c
                .get("image")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            else {
                return Err(bad(format!("{location} has no image")));
            };
            images.push(ImageRef {
                location,
                image: image.to_owned(),
                digest: image_digest(image),
            });
        }
    }
    if images.is_empty() {
        return Err(bad(format!("{kind} {name:?} has no containers")));
    }
    Ok(Review::Images {
        uid,
        kind,
        name,
        images,
    })
}

/// The AdmissionReview answer.
pub fn response(uid: &str, allowed: bool, message: &str, warnings: &[String]) -> Value {
    let mut r = json!({"uid": uid, "allowed": allowed});
    if !allowed {
        r["status"] = json!({"code": 403, "reason": "Forbidden", "message": message});
    } else if !message.is_empty() {
        r["status"] = json!({"code": 200, "message": message});
    }
    if !warnings.is_empty() {
        // Kubernetes shows each warning; keep them short.
        r["warnings"] = json!(warnings
            .iter()
            .map(|w| w.chars().take(240).collect::<String>())
            .collect::<Vec<_>>());
    }
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": r})
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn review(object: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {"uid": "705ab4f5-6393-11e8-b7cc-42010a800002", "operation": "CREATE",
                        "kind": {"group": "batch", "version": "v1", "kind": object["kind"]},
                        "object": object}
        }))
        .unwrap()
    }

    #[test]
    fn cronjob_templates_and_all_container_lists() {
        let cj = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly"},
        "spec": {"schedule": "0 0 * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "initContainers": [{"name": "init", "image": format!("busybox@{D}")}],
            "containers": [{"name": "main", "image": "ghcr.io/acme/app:1.0"}],
            "ephemeralContainers": [{"name": "dbg", "image": format!("ghcr.io/acme/dbg:1@{D}")}]
        }}}}}});
        let Review::Images {
            uid, kind, images, ..
        } = read(&review(cj)).unwrap()
        else {
            panic!()
        };
        assert_eq!(uid, "705ab4f5-6393-11e8-b7cc-42010a800002");
        assert_eq!(kind, "CronJob");
        assert_eq!(images.len(), 3);
        assert_eq!(
            images[0].location,
            "spec.jobTemplate.spec.template.spec.initContainers[0] (init)"
        );
        assert_eq!(images[0].digest.as_deref(), Some(D));
        assert_eq!(images[1].digest, None);
        assert_eq!(images[2].digest.as_deref(), Some(D));
    }

    #[test]
    fn malformed_reviews_keep_the_uid() {
        assert_eq!(read(b"nope").unwrap_err().uid, "");
        let m = read(
            br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"u1"}}"#,
        )
        .unwrap_err();
        assert_eq!(m.uid, "u1");
        assert!(m.reason.contains("admission.k8s.io/v1"), "{}", m.reason);
        let m = read(&review(
            json!({"kind": "Deployment", "metadata": {"name": "x"}, "spec": {}}),
        ))
        .unwrap_err();
        assert!(m.reason.contains("spec.template.spec"), "{}", m.reason);
        let m = read(&review(
            json!({"kind": "Pod", "spec": {"containers": [{"name": "a"}]}}),
        ))
        .unwrap_err();
        assert!(m.reason.contains("has no image"), "{}", m.reason);
    }

    #[test]
    fn digests() {
        assert_eq!(image_digest(&format!("nginx@{D}")).as_deref(), Some(D));
        assert_eq!(image_digest("nginx:1.25"), None);
        assert_eq!(image_digest("nginx@sha256:abc"), None);
        let r = response("u", false, "denied", &["w".into()]);
        assert_eq!(r["response"]["uid"], "u");
        assert_eq!(r["response"]["status"]["code"], 403);
        assert_eq!(r["response"]["warnings"][0], "w");
    }
}
