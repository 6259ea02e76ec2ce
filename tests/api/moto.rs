//! A real S3 server on loopback for the tests: moto in server mode (PyPI `moto[server]`), found
//! at `$MOTO_SERVER` or `/var/tmp/moto-venv/bin/moto_server` (where `.ci/run` installs it). A
//! test that needs it fails, never skips, when it is missing.

#![allow(dead_code)]

use backoffice::storage::scan_files::{S3Settings, ScanLocation, ScanStore};
use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

pub struct Moto {
    child: Child,
    pub endpoint: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn moto_binary() -> String {
    std::env::var("MOTO_SERVER").unwrap_or_else(|_| "/var/tmp/moto-venv/bin/moto_server".into())
}

impl Moto {
    pub async fn start() -> Moto {
        let bin = moto_binary();
        assert!(
            std::path::Path::new(&bin).exists(),
            "moto must be installed for the S3 tests: python3 -m venv /var/tmp/moto-venv && \
             /var/tmp/moto-venv/bin/pip install 'moto[server]' (or set MOTO_SERVER); see README"
        );
        let port = free_port();
        let mut child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let endpoint = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if http
                .get(format!("{endpoint}/moto-api/"))
                .send()
                .await
                .is_ok()
            {
                return Moto { child, endpoint };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("moto_server did not answer on {endpoint}");
    }

    /// Creates a bucket (moto does not check signatures) and returns its settings.
    pub async fn bucket(&self, name: &str) -> S3Settings {
        let r = reqwest::Client::new()
            .put(format!("{}/{name}", self.endpoint))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "create bucket: {}", r.status());
        settings(&self.endpoint, name, "scans")
    }

    /// The same bucket reached straight, not through the server under test.
    pub fn store(&self, s: &S3Settings) -> ScanStore {
        ScanStore::s3(s).unwrap()
    }
}

pub fn settings(endpoint: &str, bucket: &str, prefix: &str) -> S3Settings {
    S3Settings {
        bucket: bucket.into(),
        prefix: prefix.into(),
        endpoint: Some(endpoint.into()),
        region: Some("us-east-1".into()),
        access_key_id: Some("testing".into()),
        secret_access_key: Some("testing".into()),
        virtual_hosted: false,
    }
}

pub fn s3_location(s: &S3Settings) -> ScanLocation {
    ScanLocation::S3(s.clone())
}

/// The environment the CLI needs to reach moto.
pub fn cli_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint.into()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_REGION", "us-east-1".into()),
    ]
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP proxy in front of moto that passes `limit` bytes towards it, then cuts every
/// connection and refuses new ones: an object store that fails in the middle of an upload.
pub struct CuttingProxy {
    pub endpoint: String,
    task: tokio::task::JoinHandle<()>,
}

impl CuttingProxy {
    pub async fn start(upstream: &str, limit: usize) -> CuttingProxy {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let sent = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    return;
                };
                if sent.load(Ordering::SeqCst) >= limit {
                    drop(client);
                    continue;
                }
                let (sent, upstream) = (sent.clone(), upstream.clone());
                tokio::spawn(async move {
                    let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let up = async {
                        use tokio::io::{AsyncReadExt, AsyncWriteExt};
                        let mut buf = vec![0u8; 8192];
                        loop {
                            let n = match cr.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            let before = sent.fetch_add(n, Ordering::SeqCst);
                            let pass = limit.saturating_sub(before).min(n);
                            if sw.write_all(&buf[..pass]).await.is_err() || pass < n {
                                return;
                            }
                        }
                    };
                    let down = tokio::io::copy(&mut sr, &mut cw);
                    // Whichever side ends first ends the connection.
                    tokio::select! {
                        _ = up => {}
                        _ = down => {}
                    }
                });
            }
        });
        CuttingProxy { endpoint, task }
    }
}

impl Drop for CuttingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
