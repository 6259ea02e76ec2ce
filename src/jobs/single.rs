//! "One at a time" for a job on this instance: a flag taken by a guard and cleared when the
//! guard goes, whether the job returned, failed or panicked.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub struct Running(Arc<AtomicBool>);

impl Running {
    /// The guard, or None when the job is running already.
    pub fn take(flag: &Arc<AtomicBool>) -> Option<Running> {
        (!flag.swap(true, Ordering::AcqRel)).then(|| Running(flag.clone()))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_is_cleared_after_a_return_and_after_a_panic() {
        let flag = Arc::new(AtomicBool::new(false));
        let first = Running::take(&flag).expect("free");
        assert!(Running::take(&flag).is_none(), "taken while running");
        drop(first);
        let f = flag.clone();
        let panicked = std::panic::catch_unwind(move || {
            let _g = Running::take(&f).expect("free again");
            panic!("a pre-check panics");
        });
        assert!(panicked.is_err());
        assert!(Running::take(&flag).is_some(), "free after the panic");
    }

    #[tokio::test]
    async fn a_panicking_task_releases_it_too() {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let task = tokio::spawn(async move {
            let _g = Running::take(&f).expect("free");
            tokio::task::yield_now().await;
            panic!("a pre-check panics");
        });
        assert!(task.await.unwrap_err().is_panic());
        assert!(Running::take(&flag).is_some());
    }
}
