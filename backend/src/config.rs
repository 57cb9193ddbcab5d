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
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_MAX_UPLOAD: usize = 256 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
#[error("invalid {var}={value:?}: {reason}")]
pub struct ConfigError {
    var: &'static str,
    value: String,
    reason: String,
}

impl Config {
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
}
