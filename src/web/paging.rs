//! The page a list request asks for, parsed once for every list: `after=` / `before=` (a
//! cursor), `n=` (rows a page), each behind a prefix when a page shows two lists. Links to the
//! previous and next page keep every other parameter, so a list's filters survive paging.

use crate::storage::paging::{Page, PageReq};
use crate::views::components::PagerView;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

#[derive(Debug, Clone)]
pub struct Paging {
    path: String,
    pairs: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        Ok(Paging {
            path: parts.uri.path().to_owned(),
            pairs: form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        })
    }
}

impl Paging {
    /// The first page of every list at `path` (a page rendered after a form's post).
    pub fn first(path: &str) -> Self {
        Paging {
            path: path.to_owned(),
            pairs: Vec::new(),
        }
    }

    fn get(&self, name: &str) -> Option<String> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// The page asked for of the list behind `prefix` ("" for a page's only list).
    pub fn req(&self, prefix: &str) -> PageReq {
        PageReq::new(
            self.get(&format!("{prefix}after")),
            self.get(&format!("{prefix}before")),
            self.get("n").and_then(|n| n.parse().ok()),
        )
    }

    /// This page's address with `{prefix}{name}=cursor` in place of the list's cursor.
    fn link(&self, prefix: &str, name: &str, cursor: &str) -> String {
        let (after, before) = (format!("{prefix}after"), format!("{prefix}before"));
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            if *k != after && *k != before {
                q.append_pair(k, v);
            }
        }
        q.append_pair(&format!("{prefix}{name}"), cursor);
        format!("{}?{}", self.path, q.finish())
    }

    /// What the pager of the list behind `prefix` shows for `page`.
    pub fn view<T>(&self, prefix: &str, page: &Page<T>) -> PagerView {
        PagerView {
            first: page.start + 1,
            last: page.start + page.rows.len() as i64,
            total: page.total,
            prev: page.prev.as_ref().map(|c| self.link(prefix, "before", c)),
            next: page.next.as_ref().map(|c| self.link(prefix, "after", c)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_filters_and_replace_the_cursor() {
        let p = Paging {
            path: "/finance/exceptions".into(),
            pairs: vec![
                ("state".into(), "closed".into()),
                ("after".into(), "9".into()),
                ("b_after".into(), "3".into()),
            ],
        };
        assert_eq!(p.req("").after.as_deref(), Some("9"));
        assert_eq!(p.req("b_").after.as_deref(), Some("3"));
        assert_eq!(
            p.link("", "before", "8"),
            "/finance/exceptions?state=closed&b_after=3&before=8"
        );
    }
}
