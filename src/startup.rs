//! Startup owns the order: connect, migrate, build state, bind, serve. `main` and the tests take
//! the same path; a listener on port 0 and a shutdown future make it testable.

use crate::{
    clock::Clock,
    config::Settings,
    storage::{Storage, calendar::CalendarCache},
    web::{self, state::AppState},
};
use anyhow::Context;
use std::{future::Future, sync::Arc};
use tokio::net::TcpListener;

pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    pub async fn build(settings: Settings, clock: Clock) -> anyhow::Result<Application> {
        let storage = open_storage(&settings).await?;
        let listener = TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let state = build_state(settings, storage, clock).await?;
        Ok(Application { listener, state })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then stops accepting and finishes requests in flight.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let storage = self.state.storage.clone();
        let mut jobs = if self.state.settings.run_jobs {
            Some(crate::jobs::start(self.state.core.clone()).await?)
        } else {
            None
        };
        let header_timeout =
            std::time::Duration::from_secs(self.state.settings.header_read_timeout_secs);
        // The API's use counters reach the database every few seconds, and once more at the end.
        let limits = self.state.api_limits.clone();
        let flusher = {
            let (limits, storage) = (limits.clone(), storage.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
                loop {
                    tick.tick().await;
                    if let Err(e) = limits.flush(&storage).await {
                        tracing::warn!(error = %e, "API use counters not saved; kept for the next try");
                    }
                }
            })
        };
        let max_connections = self.state.settings.web.max_connections;
        let app = web::router(self.state);
        tracing::info!(addr = %self.listener.local_addr()?, "serving");
        web::serve::serve(
            self.listener,
            app,
            header_timeout,
            max_connections,
            shutdown,
        )
        .await?;
        flusher.abort();
        if let Err(e) = limits.flush(&storage).await {
            tracing::warn!(error = %e, "API use counters lost at shutdown");
        }
        if let Some(j) = jobs.as_mut() {
            let _ = j.shutdown().await;
        }
        storage.close().await;
        Ok(())
    }
}

/// Connects and migrates.
pub async fn open_storage(settings: &Settings) -> anyhow::Result<Storage> {
    let storage = Storage::connect(&settings.database_url)
        .await
        .with_context(|| {
            format!(
                "cannot open the database {}",
                crate::config::redact_url(&settings.database_url)
            )
        })?;
    storage.migrate().await.context("migrations failed")?;
    Ok(storage)
}

pub async fn build_state(
    settings: Settings,
    storage: Storage,
    clock: Clock,
) -> anyhow::Result<AppState> {
    let scans = settings.open_scan_store()?;
    let calendar = CalendarCache::new(storage.clone()).await?;
    let authz = Arc::new(web::identity::Authz::new(
        web::identity::build_enforcer(&storage).await?,
    ));
    let api_limits = web::api_limits::ApiLimiter::new(settings.api_limits);
    let password_hashes = Arc::new(tokio::sync::Semaphore::new(
        settings.web.password_hashes.max(1),
    ));
    Ok(AppState {
        core: crate::jobs::Context {
            storage,
            settings: Arc::new(settings),
            scans,
            calendar,
            clock,
            metrics: Arc::new(crate::metrics::Metrics::new()),
            prechecks_running: Arc::default(),
            imports_running: Arc::default(),
        },
        password_hashes,
        api_limits,
        authz,
    })
}

/// SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}
