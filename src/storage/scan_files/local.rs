//! The default scan store: files under a directory, `<dir>/<first two hex>/<sha256>`; new files
//! are written to `<dir>/tmp`, fsynced, then renamed, so a reader never sees half a file.

use super::{ScanBackend, StoredObject, is_sha256};
use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::{self, BoxStream, StreamExt};
use std::{
    io::{self, Write},
    path::{Path, PathBuf},
    sync::Arc,
};

#[derive(Debug)]
pub struct LocalScans {
    dir: PathBuf,
}

impl LocalScans {
    /// Creates the directory layout when missing.
    pub fn open(dir: impl Into<PathBuf>) -> io::Result<LocalScans> {
        let dir = dir.into();
        std::fs::create_dir_all(dir.join("tmp"))?;
        for b in 0..=255u8 {
            std::fs::create_dir_all(dir.join(format!("{b:02x}")))?;
        }
        Ok(LocalScans { dir })
    }

    fn path(&self, sha256: &str) -> io::Result<PathBuf> {
        if !is_sha256(sha256) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a SHA-256"));
        }
        Ok(self.dir.join(&sha256[..2]).join(sha256))
    }

    fn put_blocking(&self, sha: &str, bytes: &[u8]) -> io::Result<()> {
        let path = self.path(sha)?;
        if path.exists() {
            return Ok(());
        }
        let tmp = self
            .dir
            .join("tmp")
            .join(format!("{sha}.{}", uuid::Uuid::new_v4().simple()));
        write_synced(&tmp, bytes)?;
        std::fs::rename(&tmp, &path)
    }

    /// The objects of one fan-out directory.
    fn list_dir(dir: &Path) -> io::Result<Vec<StoredObject>> {
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e),
        };
        for e in entries {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            if !is_sha256(&name) {
                continue;
            }
            let modified = e.metadata()?.modified()?;
            let modified_ms = chrono::DateTime::<chrono::Utc>::from(modified).timestamp_millis();
            out.push(StoredObject {
                sha256: name,
                modified_ms,
            });
        }
        Ok(out)
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(io::Error::other)?
}

#[async_trait]
impl ScanBackend for Arc<LocalScans> {
    async fn put_many(&self, files: Vec<(String, Bytes)>) -> io::Result<()> {
        let l = self.clone();
        blocking(move || files.iter().try_for_each(|(sha, f)| l.put_blocking(sha, f))).await
    }

    async fn read(&self, sha256: &str) -> io::Result<Option<Bytes>> {
        let path = self.path(sha256)?;
        match tokio::fs::read(&path).await {
            Ok(b) => Ok(Some(Bytes::from(b))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn exists(&self, sha256: &str) -> io::Result<bool> {
        tokio::fs::try_exists(self.path(sha256)?).await
    }

    async fn delete(&self, sha256: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.path(sha256)?).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    fn list(&self) -> BoxStream<'static, io::Result<StoredObject>> {
        let dir = self.dir.clone();
        // One fan-out directory at a time, read off the async workers.
        stream::iter(0..=255u8)
            .then(move |b| {
                let d = dir.join(format!("{b:02x}"));
                blocking(move || LocalScans::list_dir(&d))
            })
            .flat_map(|r| match r {
                Ok(v) => stream::iter(v.into_iter().map(Ok).collect::<Vec<_>>()),
                Err(e) => stream::iter(vec![Err(e)]),
            })
            .boxed()
    }

    fn describe(&self) -> String {
        self.dir.display().to_string()
    }
}
