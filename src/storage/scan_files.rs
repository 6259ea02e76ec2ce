//! Scan bytes, content-addressed by SHA-256 outside the database; rows keep only the hash.
//! `ScanStore` is the interface an object store can implement later (another variant).

use bytes::Bytes;
use sha2::{Digest, Sha256};
use std::{
    io::{self, Write},
    path::{Path, PathBuf},
    sync::Arc,
};

#[derive(Clone, Debug)]
pub enum ScanStore {
    Local(Arc<LocalScans>),
}

/// `<dir>/<first two hex>/<sha256>`; new files are written to `<dir>/tmp`, fsynced, then renamed.
#[derive(Debug)]
pub struct LocalScans {
    dir: PathBuf,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl ScanStore {
    pub fn local(dir: impl Into<PathBuf>) -> io::Result<ScanStore> {
        let dir = dir.into();
        std::fs::create_dir_all(dir.join("tmp"))?;
        for b in 0..=255u8 {
            std::fs::create_dir_all(dir.join(format!("{b:02x}")))?;
        }
        Ok(ScanStore::Local(Arc::new(LocalScans { dir })))
    }

    /// The SHA-256 of each file, computed off the async workers.
    pub async fn hash_all(files: Vec<Bytes>) -> io::Result<(Vec<Bytes>, Vec<String>)> {
        tokio::task::spawn_blocking(move || {
            let shas = files.iter().map(|f| sha256_hex(f)).collect();
            (files, shas)
        })
        .await
        .map_err(io::Error::other)
    }

    /// Stores files under their (already computed) hashes; a file stored already is not
    /// written again. Durable when it returns: each new file is fsynced before its rename.
    pub async fn write_all(&self, files: Vec<(String, Bytes)>) -> io::Result<()> {
        match self {
            ScanStore::Local(l) => {
                let l = l.clone();
                tokio::task::spawn_blocking(move || {
                    files.iter().try_for_each(|(sha, f)| l.put(sha, f))
                })
                .await
                .map_err(io::Error::other)?
            }
        }
    }

    /// Hashes and stores each file; returns the hashes in order.
    pub async fn put_all(&self, files: Vec<Bytes>) -> io::Result<Vec<String>> {
        let (files, shas) = Self::hash_all(files).await?;
        self.write_all(shas.iter().cloned().zip(files).collect())
            .await?;
        Ok(shas)
    }

    /// The bytes stored under `sha256`, checked against it.
    pub async fn get(&self, sha256: &str) -> io::Result<Vec<u8>> {
        match self {
            ScanStore::Local(l) => {
                let path = l.path(sha256)?;
                let bytes = tokio::fs::read(&path).await?;
                if sha256_hex(&bytes) != sha256 {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("scan {sha256} is corrupt"),
                    ));
                }
                Ok(bytes)
            }
        }
    }
}

impl ScanStore {
    /// Removes the file stored under `sha256` (the retention job, once no row refers to it);
    /// a file already gone is not an error.
    pub async fn delete(&self, sha256: &str) -> io::Result<()> {
        match self {
            ScanStore::Local(l) => match tokio::fs::remove_file(l.path(sha256)?).await {
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                r => r,
            },
        }
    }
}

impl LocalScans {
    fn path(&self, sha256: &str) -> io::Result<PathBuf> {
        if sha256.len() != 64
            || !sha256
                .bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a SHA-256"));
        }
        Ok(self.dir.join(&sha256[..2]).join(sha256))
    }

    fn put(&self, sha: &str, bytes: &Bytes) -> io::Result<()> {
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
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_and_get_verify_content() {
        let dir = tempfile::tempdir().unwrap();
        let store = ScanStore::local(dir.path()).unwrap();
        let shas = store
            .put_all(vec![Bytes::from_static(b"one"), Bytes::from_static(b"one")])
            .await
            .unwrap();
        assert_eq!(shas[0], shas[1]);
        assert_eq!(store.get(&shas[0]).await.unwrap(), b"one");
        // A file changed on disk is refused, not served.
        std::fs::write(dir.path().join(&shas[0][..2]).join(&shas[0]), b"two").unwrap();
        assert!(store.get(&shas[0]).await.is_err());
        assert!(store.get("../../etc/passwd").await.is_err());
    }
}
