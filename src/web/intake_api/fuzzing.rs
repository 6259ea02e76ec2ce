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

/// What became of one `application` part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonOutcome {
    /// Not JSON at all (the handler answers before the domain sees it).
    NotJson,
    /// Refused by the domain, naming this field.
    Refused(String),
    /// Parsed, and its stored form parsed back equal.
    Accepted,
}

/// Parses the bytes as the `application` part; what parses must round-trip through its
/// stored form (a panic here is a finding).
pub fn fuzz_json_body(data: &[u8]) -> JsonOutcome {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return JsonOutcome::NotJson;
    };
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-11-25T10:06:00+08:00")
        .expect("a fixed time")
        .with_timezone(&Utc);
    match NewApplication::parse(&v, Some(now)) {
        Ok(app) => {
            let again =
                NewApplication::parse(&app.to_json(), None).expect("the stored form parses");
            assert_eq!(again, app, "the stored form round-trips");
            JsonOutcome::Accepted
        }
        Err(e) => JsonOutcome::Refused(e.field),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
        let files = crate::exchange::fuzzing::corpus_files(target);
        assert!(!files.is_empty(), "an empty corpus replays nothing");
        files
            .into_iter()
            .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
            .collect()
    }

    #[test]
    fn the_json_body_corpus_replays() {
        use JsonOutcome::*;
        let refused = |f: &str| Refused(f.to_owned());
        // Each committed input with what must become of it; a new input needs its line here.
        let expected = [
            ("array.json", refused("application")),
            ("contract-example.json", Accepted),
            ("control-char.json", refused("applicant.name")),
            ("huge-number.json", NotJson),
            ("whitespace.json", refused("hall_reference")),
        ];
        let mut seen = Vec::new();
        for (name, data) in corpus("json_body") {
            let file = name.rsplit('/').next().unwrap().to_owned();
            let got = fuzz_json_body(&data);
            let want = expected
                .iter()
                .find(|(f, _)| *f == file)
                .unwrap_or_else(|| panic!("{file}: no expected outcome written down"));
            assert_eq!(got, want.1, "{file}");
            seen.push(file);
        }
        assert_eq!(seen.len(), expected.len(), "{seen:?}");
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
