//! The authorisation policy rows (casbin's `p` lines) kept in the database.

use super::{DbResult, Storage};
use crate::on_pool;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PolicyRow {
    pub role: String,
    pub path: String,
    pub methods: String,
}

impl Storage {
    pub async fn authz_policies(&self) -> DbResult<Vec<PolicyRow>> {
        on_pool!(self.read_pool(), |p| sqlx::query_as::<_, PolicyRow>(
            "select role, path, methods from authz_policies order by role, path"
        )
        .fetch_all(p)
        .await)
    }
}
