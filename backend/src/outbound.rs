//! Outgoing HTTPS (notifications, OIDC discovery, the `cairn` client): one
//! TLS configuration, rustls on the aws-lc-rs provider with the Mozilla
//! roots built in.

use std::sync::{Arc, LazyLock};

static TLS: LazyLock<Option<Arc<rustls::ClientConfig>>> = LazyLock::new(|| {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| tracing::error!(error = %e, "TLS for outgoing requests cannot be set up"))
    .ok()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Some(Arc::new(config))
});

/// The TLS configuration for `reqwest::ClientBuilder::use_preconfigured_tls`.
pub fn tls() -> Option<rustls::ClientConfig> {
    TLS.as_ref().map(|c| (**c).clone())
}
