//! Staff passwords: argon2id hashes in PHC string form; the role names; how long a session and
//! a run of failed sign-ins count.

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};

pub const ROLES: [&str; 6] = [
    "admin",
    "supervisor",
    "reviewer",
    "finance",
    "fulfillment",
    "hotline",
];

/// A session unused this long is over; however busy, it ends after the configured lifetime
/// (`WebLimits::session_lifetime_hours`).
pub const SESSION_IDLE_MS: i64 = 30 * 60 * 1000;

/// Failed sign-ins allowed per username within the window before it is refused for a while.
pub const MAX_FAILURES: i64 = 5;
pub const FAILURE_WINDOW_MS: i64 = 15 * 60 * 1000;

pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

/// Spends the time of a real check when there is no account, so timing does not tell which
/// usernames exist.
pub fn verify_against_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash =
        DUMMY.get_or_init(|| hash_password("no account has this password").unwrap_or_default());
    let _ = verify_password(password, hash);
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    #[test]
    fn hash_and_verify() {
        let h = super::hash_password("correct horse").unwrap();
        assert!(super::verify_password("correct horse", &h));
        assert!(!super::verify_password("wrong", &h));
    }
}
