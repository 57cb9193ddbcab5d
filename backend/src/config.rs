//! Runtime configuration, read once from the environment.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything `cairn serve` can be told. Each field documents its variable.
#[derive(Debug, Clone)]
pub struct Config {
    /// `CAIRN_LISTEN`: address to listen on.
    pub listen: SocketAddr,
    /// `CAIRN_DATABASE_URL`: an external PostgreSQL; when unset Cairn runs
    /// its own cluster under `data_dir`.
    pub database_url: Option<String>,
    /// `CAIRN_DATA_DIR`: where the embedded PostgreSQL cluster lives.
    pub data_dir: PathBuf,
    /// `CAIRN_BOOTSTRAP_TOKEN`: an admin token with exactly this value is
    /// ensured at start.
    pub bootstrap_token: Option<String>,
    /// `CAIRN_MAX_UPLOAD`: largest accepted upload, in bytes, after
    /// decompression (suffixes K, M, G accepted: `256M`).
    pub max_upload: usize,
    /// `CAIRN_SESSION_TTL`: dashboard session lifetime in seconds.
    pub session_ttl_secs: u64,
    /// `CAIRN_COOKIE_SECURE`: mark the session cookie `Secure` (set it when
    /// served over HTTPS). Default false.
    pub cookie_secure: bool,
    /// `CAIRN_DB_POOL`: maximum database connections.
    pub db_pool_size: u32,
    /// `CAIRN_SECRET_KEY`: base64 of 32 random bytes sealing webhook secrets
    /// at rest. Unset: a key generated once and kept in the database.
    pub secret_key: Option<String>,
    /// `CAIRN_WEBHOOK_MAX_BODY`: largest accepted webhook delivery, in bytes
    /// (suffixes K, M, G accepted). Default 25M.
    pub webhook_max_body: usize,
    /// `CAIRN_WEBHOOK_WORKERS`: queue worker tasks per instance. Default 2.
    pub webhook_workers: usize,
    /// `CAIRN_WEBHOOK_MAX_ATTEMPTS`: processing attempts before a delivery
    /// is dead-lettered. Default 8.
    pub webhook_max_attempts: i32,
    /// `CAIRN_REGO_TIMEOUT_MS`: evaluation time limit of one custom Rego
    /// rule, in milliseconds (1 to 60000). Default 250.
    pub rego_timeout_ms: u64,
    /// `CAIRN_REGO_MEMORY_MB`: heap limit of one custom-rule evaluation
    /// process, in MiB (32 to 8192). Default 256.
    pub rego_memory_mb: usize,
    /// `CAIRN_REGO_WORKERS`: custom-rule evaluation processes at most
    /// (1 to 64). Default 2.
    pub rego_workers: usize,
    /// The executable started as `<program> rego-worker` (not read from the
    /// environment): `None` is this process's own executable.
    pub rego_program: Option<PathBuf>,
    /// `CAIRN_EVAL_BUDGET_MS`: time budget of one artifact's evaluation
    /// against every set, in milliseconds (100 to 600000); rules not reached
    /// within it are `error`. Default 10000.
    pub eval_budget_ms: u64,
    /// `CAIRN_QUEUE_MAX_CLAIMS`: how many times a queue item may be claimed
    /// without its processing completing (the process died) before it is
    /// dead-lettered (1 to 100). Default 2.
    pub queue_max_claims: i32,
    /// `CAIRN_POLICY_WORKERS`: policy evaluation worker tasks per instance
    /// (0 disables them). Default 1.
    pub policy_workers: usize,
    /// `CAIRN_GATE_ANONYMOUS`: the gate (`GET /api/v1/gate`) and admission
    /// (`POST /k8s/admission`) answer callers without a token, with the
    /// decision alone (no project, artifact or rule text) resting on stored
    /// results. Default false: a viewer token is required.
    pub gate_anonymous: bool,
    /// `CAIRN_GATE_UNCOVERED`: `deny` (default) or `allow` an artifact that
    /// no enforce-mode policy set covers.
    pub gate_uncovered_allow: bool,
    /// `CAIRN_ADMISSION_OTHER_KINDS`: `deny` (default) or `allow` objects
    /// of kinds without a pod template sent to the admission webhook.
    pub admission_other_kinds_allow: bool,
    /// `CAIRN_NOTIFY_WORKERS`: notification delivery worker tasks per
    /// instance (0 disables them). Default 1.
    pub notify_workers: usize,
    /// `CAIRN_NOTIFY_MAX_ATTEMPTS`: attempts at sending a notification
    /// before it is a dead letter (1 to 100). Default 8.
    pub notify_max_attempts: i32,
    /// `CAIRN_NOTIFY_TIMEOUT_SECS`: time limit of one notification attempt,
    /// in seconds (1 to 300). Default 10.
    pub notify_timeout_secs: u64,
    /// `CAIRN_NOTIFY_ALLOW_PRIVATE`: let notification subscriptions target
    /// loopback, private, link-local and other non-public addresses.
    /// Default false (such URLs are refused, and not sent to).
    pub notify_allow_private: bool,
    /// `CAIRN_OIDC_AUDIENCE`: the audience (`aud`) trusted publishers'
    /// ID tokens carry unless a publisher names another. Default `cairn`.
    pub oidc_audience: String,
    /// `CAIRN_OIDC_TOKEN_TTL`: lifetime of a token issued for an ID token,
    /// in seconds (60 to 900). Default 900.
    pub oidc_token_ttl_secs: u64,
    /// `CAIRN_OIDC_JWKS_FILE`: issuers' signing keys for servers without
    /// network access: a JSON array of `{"issuer", "jwks"}`, loaded at start.
    pub oidc_jwks_file: Option<PathBuf>,
    /// `CAIRN_OIDC_FETCH_JWKS`: fetch the keys of issuers that publishers
    /// trust from their discovery documents (cached an hour, fetched again
    /// when a token names an unknown key). Default false: keys come only
    /// from the API or CAIRN_OIDC_JWKS_FILE.
    pub oidc_fetch_jwks: bool,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_MAX_UPLOAD: usize = 256 * 1024 * 1024;
pub const DEFAULT_WEBHOOK_MAX_BODY: usize = 25 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
#[error("invalid {var}={value:?}: {reason}")]
pub struct ConfigError {
    var: &'static str,
    value: String,
    reason: String,
}

impl Config {
    /// How custom rules are run: in worker processes of this executable.
    pub fn sandbox_options(
        &self,
    ) -> std::io::Result<crate::policies::core::sandbox::SandboxOptions> {
        let program = match &self.rego_program {
            Some(p) => p.clone(),
            // The running executable itself, even after an upgrade replaced
            // the file on disk.
            None if cfg!(target_os = "linux") => PathBuf::from("/proc/self/exe"),
            None => std::env::current_exe()?,
        };
        Ok(crate::policies::core::sandbox::SandboxOptions {
            program,
            memory_bytes: self.rego_memory_mb << 20,
            workers: self.rego_workers,
        })
    }

    /// The policy engine's limits.
    pub fn eval_limits(&self) -> crate::policies::core::engine::EvalLimits {
        crate::policies::core::engine::EvalLimits {
            rego: std::time::Duration::from_millis(self.rego_timeout_ms),
            evaluation: std::time::Duration::from_millis(self.eval_budget_ms),
        }
    }

    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// Builds a config from any key lookup (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let listen_raw = get("CAIRN_LISTEN").unwrap_or_else(|| DEFAULT_LISTEN.into());
        let listen = listen_raw.parse().map_err(|e| ConfigError {
            var: "CAIRN_LISTEN",
            value: listen_raw.clone(),
            reason: format!("{e} (expected host:port, e.g. {DEFAULT_LISTEN})"),
        })?;
        let max_upload = match get("CAIRN_MAX_UPLOAD") {
            None => DEFAULT_MAX_UPLOAD,
            Some(v) => parse_size(&v).ok_or(ConfigError {
                var: "CAIRN_MAX_UPLOAD",
                value: v,
                reason: "expected a byte count such as 268435456 or 256M".into(),
            })?,
        };
        let webhook_max_body = match get("CAIRN_WEBHOOK_MAX_BODY") {
            None => DEFAULT_WEBHOOK_MAX_BODY,
            Some(v) => parse_size(&v).ok_or(ConfigError {
                var: "CAIRN_WEBHOOK_MAX_BODY",
                value: v,
                reason: "expected a byte count such as 26214400 or 25M".into(),
            })?,
        };
        let secret_key = get("CAIRN_SECRET_KEY");
        if let Some(k) = &secret_key {
            crate::secrets::SecretKey::from_base64(k).map_err(|reason| ConfigError {
                var: "CAIRN_SECRET_KEY",
                value: "<redacted>".into(),
                reason: format!(
                    "{reason}: expected the base64 of 32 random bytes (openssl rand -base64 32)"
                ),
            })?;
        }
        let webhook_max_attempts = parse_ranged(&get, "CAIRN_WEBHOOK_MAX_ATTEMPTS", 8, 1..=100)?;
        let rego_timeout_ms = parse_ranged(&get, "CAIRN_REGO_TIMEOUT_MS", 250, 1..=60_000)?;
        let eval_budget_ms = parse_ranged(&get, "CAIRN_EVAL_BUDGET_MS", 10_000, 100..=600_000)?;
        let rego_memory_mb = parse_ranged(&get, "CAIRN_REGO_MEMORY_MB", 256, 32..=8192)?;
        let rego_workers = parse_ranged(&get, "CAIRN_REGO_WORKERS", 2, 1..=64)?;
        let queue_max_claims = parse_ranged(&get, "CAIRN_QUEUE_MAX_CLAIMS", 2, 1..=100)?;
        let notify_max_attempts = parse_ranged(&get, "CAIRN_NOTIFY_MAX_ATTEMPTS", 8, 1..=100)?;
        let notify_timeout_secs = parse_ranged(&get, "CAIRN_NOTIFY_TIMEOUT_SECS", 10, 1..=300)?;
        let oidc_audience = get("CAIRN_OIDC_AUDIENCE").unwrap_or_else(|| "cairn".into());
        if oidc_audience.len() > 256 || oidc_audience.chars().any(char::is_control) {
            return Err(ConfigError {
                var: "CAIRN_OIDC_AUDIENCE",
                value: oidc_audience,
                reason: "at most 256 characters, no control characters".into(),
            });
        }
        let bootstrap_token = get("CAIRN_BOOTSTRAP_TOKEN");
        if let Some(t) = &bootstrap_token {
            if t.len() < 16 || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(ConfigError {
                    var: "CAIRN_BOOTSTRAP_TOKEN",
                    value: "<redacted>".into(),
                    reason: "must be at least 16 characters without spaces".into(),
                });
            }
        }
        Ok(Config {
            listen,
            database_url: get("CAIRN_DATABASE_URL"),
            data_dir: get("CAIRN_DATA_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("./cairn-data")),
            bootstrap_token,
            max_upload,
            session_ttl_secs: parse_num(&get, "CAIRN_SESSION_TTL", 8 * 3600)?,
            cookie_secure: parse_bool(&get, "CAIRN_COOKIE_SECURE")?,
            db_pool_size: parse_num(&get, "CAIRN_DB_POOL", 16)?,
            secret_key,
            webhook_max_body,
            webhook_workers: parse_num(&get, "CAIRN_WEBHOOK_WORKERS", 2)?,
            webhook_max_attempts,
            rego_timeout_ms,
            eval_budget_ms,
            rego_memory_mb,
            rego_workers,
            rego_program: None,
            queue_max_claims,
            policy_workers: parse_num(&get, "CAIRN_POLICY_WORKERS", 1)?,
            gate_anonymous: parse_bool(&get, "CAIRN_GATE_ANONYMOUS")?,
            gate_uncovered_allow: parse_allow(&get, "CAIRN_GATE_UNCOVERED")?,
            admission_other_kinds_allow: parse_allow(&get, "CAIRN_ADMISSION_OTHER_KINDS")?,
            notify_workers: parse_num(&get, "CAIRN_NOTIFY_WORKERS", 1)?,
            notify_max_attempts,
            notify_timeout_secs,
            notify_allow_private: parse_bool(&get, "CAIRN_NOTIFY_ALLOW_PRIVATE")?,
            oidc_audience,
            oidc_token_ttl_secs: parse_ranged(&get, "CAIRN_OIDC_TOKEN_TTL", 900, 60..=900)?,
            oidc_jwks_file: get("CAIRN_OIDC_JWKS_FILE").map(PathBuf::from),
            oidc_fetch_jwks: parse_bool(&get, "CAIRN_OIDC_FETCH_JWKS")?,
        })
    }
}

fn parse_num<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
) -> Result<T, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| ConfigError {
            var,
            value: v,
            reason: "expected a positive whole number".into(),
        }),
    }
}

fn parse_ranged<T>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display,
{
    let n = parse_num(get, var, default)?;
    if !range.contains(&n) {
        return Err(ConfigError {
            var,
            value: n.to_string(),
            reason: format!("expected {} to {}", range.start(), range.end()),
        });
    }
    Ok(n)
}

/// `deny` (the default) or `allow`; true for allow.
fn parse_allow(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
) -> Result<bool, ConfigError> {
    match get(var).as_deref() {
        None | Some("deny") => Ok(false),
        Some("allow") => Ok(true),
        Some(v) => Err(ConfigError {
            var,
            value: v.into(),
            reason: "expected deny or allow".into(),
        }),
    }
}

fn parse_bool(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
) -> Result<bool, ConfigError> {
    match get(var).as_deref() {
        None | Some("0" | "false" | "no") => Ok(false),
        Some("1" | "true" | "yes") => Ok(true),
        Some(v) => Err(ConfigError {
            var,
            value: v.into(),
            reason: "expected true or false".into(),
        }),
    }
}

/// `1048576`, `512K`, `256M`, `1G` (binary multiples).
pub fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let (digits, mult) = match s.chars().last()? {
        'K' | 'k' => (&s[..s.len() - 1], 1usize << 10),
        'M' | 'm' => (&s[..s.len() - 1], 1 << 20),
        'G' | 'g' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    digits
        .parse::<usize>()
        .ok()?
        .checked_mul(mult)
        .filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("256M"), Some(256 << 20));
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("2k"), Some(2048));
        assert_eq!(parse_size("0"), None);
        assert_eq!(parse_size("lots"), None);
    }

    #[test]
    fn defaults_and_errors() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.max_upload, DEFAULT_MAX_UPLOAD);
        assert!(c.database_url.is_none());
        let err = Config::from_lookup(|k| (k == "CAIRN_LISTEN").then(|| "nope".to_string()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("CAIRN_LISTEN"), "{err}");
        let err =
            Config::from_lookup(|k| (k == "CAIRN_BOOTSTRAP_TOKEN").then(|| "short".to_string()))
                .unwrap_err()
                .to_string();
        assert!(
            err.contains("16 characters") && !err.contains("short"),
            "{err}"
        );
    }

    #[test]
    fn webhook_settings() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(c.webhook_max_body, 25 << 20);
        assert_eq!((c.webhook_workers, c.webhook_max_attempts), (2, 8));
        assert_eq!((c.rego_timeout_ms, c.policy_workers), (250, 1));
        assert!(!c.gate_anonymous && !c.gate_uncovered_allow && !c.admission_other_kinds_allow);
        for bad in ["0", "60001", "x"] {
            let e =
                Config::from_lookup(|k| (k == "CAIRN_REGO_TIMEOUT_MS").then(|| bad.to_string()))
                    .unwrap_err();
            assert!(e.to_string().contains("CAIRN_REGO_TIMEOUT_MS"), "{e}");
        }
        assert!(c.secret_key.is_none());
        assert_eq!(
            (
                c.notify_workers,
                c.notify_max_attempts,
                c.notify_timeout_secs
            ),
            (1, 8, 10)
        );
        assert!(!c.notify_allow_private);
        let set = |var: &'static str, value: &'static str| {
            Config::from_lookup(move |k| (k == var).then(|| value.to_string()))
        };
        assert_eq!(
            set("CAIRN_WEBHOOK_MAX_BODY", "1K")
                .unwrap()
                .webhook_max_body,
            1024
        );
        assert!(set("CAIRN_WEBHOOK_MAX_ATTEMPTS", "0").is_err());
        assert!(set("CAIRN_WEBHOOK_MAX_ATTEMPTS", "-1").is_err());
        assert!(set("CAIRN_NOTIFY_MAX_ATTEMPTS", "0").is_err());
        assert!(set("CAIRN_NOTIFY_TIMEOUT_SECS", "301").is_err());
        assert!(
            set("CAIRN_NOTIFY_ALLOW_PRIVATE", "true")
                .unwrap()
                .notify_allow_private
        );
        let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        assert!(set("CAIRN_SECRET_KEY", key).is_ok());
        let err = set("CAIRN_SECRET_KEY", "c2hvcnQ=").unwrap_err().to_string();
        assert!(
            err.contains("CAIRN_SECRET_KEY") && !err.contains("c2hvcnQ"),
            "{err}"
        );
    }
}
