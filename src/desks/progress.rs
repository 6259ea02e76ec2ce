//! How far a long import is: the desk's import functions say how many rows there are and how
//! many are done, to whoever runs them in a [`scope`] (the import job, `jobs::imports`); run
//! anywhere else (the CLI, the demo, tests) the calls do nothing. The counts are this process's;
//! the job writes them where its page reads them.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Rows done of rows in all (0 of 0 until the file is read).
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicI64,
    total: AtomicI64,
}

impl Progress {
    /// (done, total).
    pub fn get(&self) -> (i64, i64) {
        let total = self.total.load(Ordering::Relaxed);
        (self.done.load(Ordering::Relaxed).min(total), total)
    }
}

tokio::task_local! {
    static CURRENT: Arc<Progress>;
}

/// Runs `f` reporting to `p`.
pub async fn scope<F: Future>(p: Arc<Progress>, f: F) -> F::Output {
    CURRENT.scope(p, f).await
}

/// The file has been read: `n` rows to do.
pub fn total(n: usize) {
    let _ = CURRENT.try_with(|p| p.total.store(n as i64, Ordering::Relaxed));
}

/// `n` more rows done.
pub fn advance(n: usize) {
    let _ = CURRENT.try_with(|p| p.done.fetch_add(n as i64, Ordering::Relaxed));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_only_inside_a_scope() {
        total(10);
        advance(3);
        let p = Arc::new(Progress::default());
        scope(p.clone(), async {
            total(10);
            advance(3);
            advance(20);
        })
        .await;
        assert_eq!(p.get(), (10, 10), "done never passes total");
    }
}
