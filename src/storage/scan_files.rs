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

    /// Hashes and stores each file (a file already stored is not written again); returns the
    /// hashes in order. Durable when it returns: the files are fsynced.
    pub async fn put_all(&self, files: Vec<Bytes>) -> io::Result<Vec<String>> {
        match self {
            ScanStore::Local(l) => {
                let l = l.clone();
                tokio::task::spawn_blocking(move || files.iter().map(|f| l.put(f)).collect())
                    .await
                    .map_err(io::Error::other)?
            }
        }
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

    fn put(&self, bytes: &Bytes) -> io::Result<String> {
        let sha = sha256_hex(bytes);
        let path = self.path(&sha)?;
        if path.exists() {
            return Ok(sha);
        }
        let tmp = self
            .dir
            .join("tmp")
            .join(format!("{sha}.{}", uuid::Uuid::new_v4().simple()));
        write_synced(&tmp, bytes)?;
        std::fs::rename(&tmp, &path)?;
        Ok(sha)
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
