//! Who is asking: the identities (staff session, API client, the metrics scraper, signed out),
//! the cookies that carry them, and casbin's decisions (model `roles.conf`, policy rows in the
//! database) on (role, path, method). `web::authorize` is the layer that applies them.

use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "bo_session";
pub const CSRF_COOKIE: &str = "bo_csrf";
pub const LOCALE_COOKIE: &str = "bo_locale";

#[derive(Clone, Debug)]
pub struct StaffIdentity {
    pub staff_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub csrf: String,
    pub session_hash: String,
}

impl StaffIdentity {
    /// How staff appear in events and the audit trail.
    pub fn actor(&self) -> String {
        format!("staff:{}", self.username)
    }
}

#[derive(Clone, Debug)]
pub enum Identity {
    /// Signed out; `csrf` is the double-submit token of the sign-in form.
    Anonymous {
        csrf: String,
    },
    Staff(Arc<StaffIdentity>),
    Api(String),
    /// The scraper of `/metrics`, by the configured bearer token.
    Metrics,
}

impl Identity {
    pub fn subject(&self) -> &str {
        match self {
            Identity::Anonymous { .. } => "anonymous",
            Identity::Staff(s) => &s.role,
            Identity::Api(_) => "api_client",
            Identity::Metrics => "metrics",
        }
    }
}

/// casbin's decisions, remembered per (role, route pattern, method). casbin-rs evaluates its
/// matcher (compiling keyMatch2's regexes) row by row on every call, which cost more than the
/// rest of a page; the answers for a route pattern never change while the policy does not.
pub struct Authz {
    enforcer: Enforcer,
    decided: std::sync::RwLock<std::collections::HashMap<(String, String, String), bool>>,
}

impl Authz {
    pub fn new(enforcer: Enforcer) -> Self {
        Self {
            enforcer,
            decided: Default::default(),
        }
    }

    /// `route` is the matched route pattern (`/review/{id}`), which keyMatch2 matches like a
    /// concrete path; a path that matched no route is decided afresh (and not remembered).
    pub fn allows(&self, subject: &str, route: Option<&str>, path: &str, method: &str) -> bool {
        // Only routed requests with the methods we serve are remembered, so the cache stays small.
        let standard = matches!(method, "GET" | "POST" | "PUT" | "HEAD" | "DELETE");
        let Some(route) = route.filter(|_| standard) else {
            return self
                .enforcer
                .enforce((subject, path, method))
                .unwrap_or(false);
        };
        let key = (subject.to_owned(), route.to_owned(), method.to_owned());
        if let Some(d) = self.decided.read().expect("not poisoned").get(&key) {
            return *d;
        }
        let d = self
            .enforcer
            .enforce((subject, route, method))
            .unwrap_or(false);
        self.decided.write().expect("not poisoned").insert(key, d);
        d
    }
}

/// casbin with the model from `roles.conf` and the policy rows from the database.
pub async fn build_enforcer(storage: &crate::storage::Storage) -> anyhow::Result<Enforcer> {
    let model = DefaultModel::from_str(include_str!("../../roles.conf")).await?;
    let mut e = Enforcer::new(model, MemoryAdapter::default()).await?;
    let rules: Vec<Vec<String>> = storage
        .authz_policies()
        .await?
        .into_iter()
        .map(|p| vec![p.role, p.path, p.methods])
        .collect();
    e.add_policies(rules).await?;
    Ok(e)
}

pub fn random_token() -> String {
    use rand::RngCore;
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    hex::encode(raw)
}
