//! Test-only pause points, so a test can make two contenders really meet: it holds the first
//! one to reach a named point (say, inside its transaction, after it read the row) until the
//! other has started too, then lets it go. Nothing in the application arms a point; until a
//! test calls [`super::Storage::test_pauses`] a pass is one atomic load.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
};
use tokio::sync::Semaphore;

/// The points a test may arm (and the code passes).
pub const ACT_BEGIN: &str = "workflow.act.begin";
pub const ACT_READ: &str = "workflow.act.read";
/// A staff action changed the row (holding its lock), not yet committed.
pub const ACT_WRITTEN: &str = "workflow.act.written";
pub const SEAL_BEGIN: &str = "audit.seal.begin";
pub const SEAL_LOCKED: &str = "audit.seal.locked";
/// A list's page is read, its count and totals not yet.
pub const PAGE_READ: &str = "paging.page.read";

#[derive(Default)]
pub struct Pauses {
    points: Mutex<HashMap<&'static str, Arc<Point>>>,
}

/// One armed point: counts every pass, and holds the first until released.
pub struct Point {
    passes: AtomicUsize,
    taken: AtomicBool,
    reached: Semaphore,
    release: Semaphore,
}

impl std::fmt::Debug for Pauses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pauses")
    }
}

impl Pauses {
    /// Arms `name`: the next task to pass it waits there until [`Point::release`].
    pub fn hold(&self, name: &'static str) -> Arc<Point> {
        self.arm(name, true)
    }

    /// Arms `name` to count passes only.
    pub fn count(&self, name: &'static str) -> Arc<Point> {
        self.arm(name, false)
    }

    fn arm(&self, name: &'static str, hold: bool) -> Arc<Point> {
        let p = Arc::new(Point {
            passes: AtomicUsize::new(0),
            taken: AtomicBool::new(!hold),
            reached: Semaphore::new(0),
            release: Semaphore::new(0),
        });
        self.points
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name, p.clone());
        p
    }

    /// Disarms every point (a held task is let go).
    pub fn clear(&self) {
        let all: Vec<_> = self
            .points
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .collect();
        for (_, p) in all {
            p.release();
        }
    }

    pub(crate) async fn pass(&self, name: &str) {
        let p = self
            .points
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned();
        let Some(p) = p else { return };
        p.passes.fetch_add(1, Ordering::SeqCst);
        if !p.taken.swap(true, Ordering::SeqCst) {
            p.reached.add_permits(1);
            if let Ok(permit) = p.release.acquire().await {
                permit.forget();
            }
        }
    }
}

impl Point {
    /// Waits until the first task is held here.
    pub async fn reached(&self) {
        self.reached.acquire().await.expect("open").forget();
    }

    /// Waits until `n` tasks passed (or are held at) this point.
    pub async fn passed(&self, n: usize) {
        while self.passes.load(Ordering::SeqCst) < n {
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    pub fn passes(&self) -> usize {
        self.passes.load(Ordering::SeqCst)
    }

    /// Lets the held task go on.
    pub fn release(&self) {
        self.release.add_permits(1);
    }
}
