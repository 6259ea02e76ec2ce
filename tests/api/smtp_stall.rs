//! A slow SMTP relay for the tests: a front on its own loopback port that holds the first
//! connections silent for a while (no greeting), then either hangs up or passes them on to a
//! real `SmtpSink`. Later connections pass straight through.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterStall {
    /// Closes the connection: the client sees the server go away mid-conversation.
    HangUp,
    /// Connects to the sink and relays both ways: a slow server that does answer.
    Relay,
}

#[derive(Clone)]
pub struct StallingSmtp {
    pub port: u16,
    accepted: Arc<AtomicUsize>,
    finished: Arc<AtomicUsize>,
}

impl StallingSmtp {
    /// The first `stalled` connections wait `stall` before anything is said to them.
    pub async fn start(
        sink_port: u16,
        stalled: usize,
        stall: Duration,
        after: AfterStall,
    ) -> StallingSmtp {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicUsize::new(0));
        let (a, f) = (accepted.clone(), finished.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let n = a.fetch_add(1, Ordering::SeqCst);
                let f = f.clone();
                tokio::spawn(async move {
                    let stalls = n < stalled;
                    if stalls {
                        tokio::time::sleep(stall).await;
                    }
                    if !(stalls && after == AfterStall::HangUp)
                        && let Ok(mut server) = TcpStream::connect(("127.0.0.1", sink_port)).await
                    {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                    f.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        StallingSmtp {
            port,
            accepted,
            finished,
        }
    }

    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Waits until `n` connections were accepted (a worker is inside its send).
    pub async fn wait_accepted(&self, n: usize) {
        for _ in 0..500 {
            if self.accepted() >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no SMTP connection came");
    }

    /// Waits until every accepted connection is over (the stalled ones included).
    pub async fn wait_idle(&self) {
        for _ in 0..3000 {
            if self.finished.load(Ordering::SeqCst) >= self.accepted() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("a relayed SMTP connection never ended");
    }
}
