//! The pure entry points of the fuzz targets (`fuzz/`): the multipart body → parts → file
//! typing path, and the `application` JSON → domain types path. The committed corpus
//! (`fuzz/corpus/`) is replayed by `cargo test` on the stable toolchain.

use super::{ApiError, parts};
use crate::domain::intake::NewApplication;
use axum::{
    body::Body,
    extract::{FromRequest, Multipart},
    http::Request,
};
use chrono::{DateTime, Utc};

/// A multipart body with boundary `X`, read as the submission handler reads it.
pub async fn fuzz_multipart(data: &[u8]) -> Result<(), ApiError> {
    let req = Request::builder()
        .method("POST")
        .header("content-type", "multipart/form-data; boundary=X")
        .body(Body::from(data.to_vec()))
        .map_err(|_| ApiError::internal())?;
    let mp = Multipart::from_request(req, &())
        .await
        .map_err(|_| ApiError::invalid_field("body", "not multipart"))?;
    parts::read(mp).await.map(|_| ())
}

/// Parses the bytes as the `application` part; what parses must round-trip through its
/// stored form (a panic here is a finding).
pub fn fuzz_json_body(data: &[u8]) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-25T10:06:00+08:00")
        .expect("a fixed time")
        .with_timezone(&Utc);
    if let Ok(app) = NewApplication::parse(&v, Some(now)) {
        let again = NewApplication::parse(&app.to_json(), None).expect("the stored form parses");
        assert_eq!(again, app, "the stored form round-trips");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/corpus")
            .join(target);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "an empty corpus replays nothing");
        files
            .into_iter()
            .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
            .collect()
    }

    #[test]
    fn the_json_body_corpus_replays() {
        for (_, data) in corpus("json_body") {
            fuzz_json_body(&data);
        }
    }

    #[tokio::test]
    async fn the_multipart_corpus_replays() {
        let mut answers = Vec::new();
        for (name, data) in corpus("multipart") {
            let code = fuzz_multipart(&data).await.err().map(|e| e.code);
            answers.push((name, code));
        }
        // The well-formed PDF part is read; the rest are refused with a contract error.
        assert!(
            answers
                .iter()
                .any(|(n, c)| n.ends_with("pdf-part") && c.is_none()),
            "{answers:?}"
        );
        assert!(
            answers.iter().filter(|(_, c)| c.is_some()).count() >= 4,
            "{answers:?}"
        );
    }
}
