//! The web server's limits on what a client may make it hold: form bodies, open connections,
//! concurrent password hashes, the length of a sign-in's username and password, and how long a
//! session lives. Read from the environment at start (README, "Web and sign-in").

use anyhow::bail;

/// Longest username a sign-in may send (accounts have 2–32 characters); longer ones are refused
/// before anything is written or hashed.
pub const MAX_USERNAME_BYTES: usize = 64;
/// Longest password a sign-in may send; longer ones are wrong without being hashed.
pub const MAX_PASSWORD_BYTES: usize = 1024;

#[derive(Clone, Debug)]
pub struct WebLimits {
    /// Largest url-encoded form body (`BACKOFFICE_FORM_LIMIT_KB`, 1024 KiB). File uploads
    /// (multipart) are bounded by each desk's own upload limit instead.
    pub form_limit_bytes: usize,
    /// Connections served at once (`BACKOFFICE_MAX_CONNECTIONS`, 1024); further ones wait in
    /// the listen queue until one closes.
    pub max_connections: usize,
    /// Password hashes (argon2) computed at once (`BACKOFFICE_PASSWORD_HASHES`, the number of
    /// cores); further sign-ins wait for a turn.
    pub password_hashes: usize,
    /// Hours a session lives however busy it is (`BACKOFFICE_SESSION_LIFETIME_HOURS`, 12).
    pub session_lifetime_hours: i64,
}

impl Default for WebLimits {
    fn default() -> Self {
        WebLimits {
            form_limit_bytes: 1024 * 1024,
            max_connections: 1024,
            password_hashes: std::thread::available_parallelism().map_or(2, |n| n.get()),
            session_lifetime_hours: 12,
        }
    }
}

impl WebLimits {
    pub fn load(env: &impl Fn(&str) -> Option<String>) -> anyhow::Result<WebLimits> {
        let d = WebLimits::default();
        let whole = |name: &str, default: u64, max: u64| -> anyhow::Result<u64> {
            match env(name) {
                None => Ok(default),
                Some(v) => match v.trim().parse::<u64>() {
                    Ok(n) if (1..=max).contains(&n) => Ok(n),
                    _ => bail!("{name} must be a whole number from 1 to {max}"),
                },
            }
        };
        Ok(WebLimits {
            form_limit_bytes: whole(
                "BACKOFFICE_FORM_LIMIT_KB",
                (d.form_limit_bytes / 1024) as u64,
                64 * 1024,
            )? as usize
                * 1024,
            max_connections: whole(
                "BACKOFFICE_MAX_CONNECTIONS",
                d.max_connections as u64,
                1 << 20,
            )? as usize,
            password_hashes: whole("BACKOFFICE_PASSWORD_HASHES", d.password_hashes as u64, 1024)?
                as usize,
            session_lifetime_hours: whole(
                "BACKOFFICE_SESSION_LIFETIME_HOURS",
                d.session_lifetime_hours as u64,
                24 * 31,
            )? as i64,
        })
    }

    pub fn session_lifetime_ms(&self) -> i64 {
        self.session_lifetime_hours * 3_600_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bad_values() {
        let l = WebLimits::load(&|_| None).unwrap();
        assert_eq!(l.form_limit_bytes, 1024 * 1024);
        assert_eq!(l.session_lifetime_hours, 12);
        let l =
            WebLimits::load(&|k| (k == "BACKOFFICE_MAX_CONNECTIONS").then(|| "8".into())).unwrap();
        assert_eq!(l.max_connections, 8);
        for bad in ["0", "-1", "x", "99999999999"] {
            assert!(
                WebLimits::load(&|k| (k == "BACKOFFICE_PASSWORD_HASHES").then(|| bad.into()))
                    .is_err(),
                "{bad}"
            );
        }
    }
}
