//! The time source. Production reads the system clock; tests and jobs may pin it.

use chrono::{DateTime, Utc};
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, Default)]
pub struct Clock {
    pinned: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    pub fn system() -> Self {
        Self { pinned: None }
    }

    /// A clock that stands at `t` until moved with [`Clock::set`].
    pub fn pinned(t: DateTime<Utc>) -> Self {
        Self {
            pinned: Some(Arc::new(Mutex::new(t))),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.pinned {
            Some(t) => *t.lock().expect("not poisoned"),
            None => Utc::now(),
        }
    }

    pub fn set(&self, t: DateTime<Utc>) {
        if let Some(p) = &self.pinned {
            *p.lock().expect("not poisoned") = t;
        }
    }
}
