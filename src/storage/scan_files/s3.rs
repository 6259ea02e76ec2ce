//! Scans in S3-compatible object storage (the `object_store` crate): `<prefix>/<first two
//! hex>/<sha256>` in one bucket. A PUT is atomic and durable when it returns, so there is no
//! temporary name; writing an object that exists already rewrites the same bytes.

use super::{S3Settings, ScanBackend, StoredObject, is_sha256};
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt, TryStreamExt};
use object_store::{
    BackoffConfig, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
    aws::{AmazonS3, AmazonS3Builder},
    path::Path,
};
use std::{io, sync::Arc, time::Duration};

#[derive(Debug)]
pub struct S3Scans {
    store: AmazonS3,
    prefix: String,
    url: String,
}

fn io_err(e: object_store::Error) -> io::Error {
    match e {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, e),
        e => io::Error::other(e),
    }
}

impl S3Scans {
    /// The client for `s3://bucket/prefix`: the standard `AWS_*` variables first, then what the
    /// settings name (endpoint, region, keys). Path-style requests unless asked otherwise, which
    /// is what MinIO, moto and most S3-compatible stores expect.
    pub fn open(s: &S3Settings) -> io::Result<S3Scans> {
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(&s.bucket)
            .with_virtual_hosted_style_request(s.virtual_hosted)
            // A store that is down fails an upload within seconds, not after the default 3 minutes.
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(2),
                    base: 2.0,
                },
                max_retries: 3,
                retry_timeout: Duration::from_secs(20),
            });
        if let Some(e) = &s.endpoint {
            b = b.with_endpoint(e).with_allow_http(e.starts_with("http://"));
        }
        if let Some(r) = &s.region {
            b = b.with_region(r);
        }
        if let (Some(k), Some(secret)) = (&s.access_key_id, &s.secret_access_key) {
            b = b.with_access_key_id(k).with_secret_access_key(secret);
        }
        let store = b.build().map_err(io_err)?;
        Ok(S3Scans {
            store,
            prefix: s.prefix.trim_matches('/').to_owned(),
            url: s.url(),
        })
    }

    fn key(&self, sha256: &str) -> io::Result<Path> {
        if !is_sha256(sha256) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a SHA-256"));
        }
        let rel = format!("{}/{sha256}", &sha256[..2]);
        Ok(Path::from(if self.prefix.is_empty() {
            rel
        } else {
            format!("{}/{rel}", self.prefix)
        }))
    }
}

#[async_trait]
impl ScanBackend for Arc<S3Scans> {
    async fn put_many(&self, files: Vec<(String, Bytes)>) -> io::Result<()> {
        // The five scans of an application go up at once.
        stream::iter(files)
            .map(|(sha, bytes)| async move {
                let key = self.key(&sha)?;
                self.store
                    .put(&key, PutPayload::from(bytes))
                    .await
                    .map_err(io_err)
                    .map(|_| ())
            })
            .buffer_unordered(8)
            .try_collect::<Vec<()>>()
            .await
            .map(|_| ())
    }

    async fn read(&self, sha256: &str) -> io::Result<Option<Bytes>> {
        let key = self.key(sha256)?;
        match self.store.get(&key).await {
            Ok(r) => r.bytes().await.map(Some).map_err(io_err),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(io_err(e)),
        }
    }

    async fn exists(&self, sha256: &str) -> io::Result<bool> {
        match self.store.head(&self.key(sha256)?).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(io_err(e)),
        }
    }

    async fn delete(&self, sha256: &str) -> io::Result<()> {
        match self.store.delete(&self.key(sha256)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(io_err(e)),
        }
    }

    fn list(&self) -> BoxStream<'static, io::Result<StoredObject>> {
        let prefix = (!self.prefix.is_empty()).then(|| Path::from(self.prefix.as_str()));
        self.store
            .list(prefix.as_ref())
            .map_err(io_err)
            .try_filter_map(|m| async move {
                let name = m.location.filename().unwrap_or_default().to_owned();
                Ok(is_sha256(&name).then(|| StoredObject {
                    sha256: name,
                    modified_ms: m.last_modified.timestamp_millis(),
                }))
            })
            .boxed()
    }

    fn describe(&self) -> String {
        self.url.clone()
    }
}
