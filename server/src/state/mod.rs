//! What every operation shares: [`AppState`] (the configuration, the
//! database, the hashing pool, the directories, the metrics), the clock
//! tests move ([`clock`]) and the tracker of background work
//! ([`background`]) that a graceful stop waits for.

pub mod background;
pub mod clock;

use std::sync::{Arc, Mutex};

use secrecy::ExposeSecret;

use crate::config::Config;
use crate::db::Db;
use crate::password::{Blocklist, Hasher};
use crate::state::clock::Clock;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub clock: Arc<dyn Clock>,
    pub hasher: Arc<Hasher>,
    pub blocklist: Arc<Blocklist>,
    /// Audit events written in batches (refusals of locked accounts); the
    /// server flushes it every second and at shutdown.
    pub deferred_audit: Arc<crate::audit::Deferred>,
    /// Counters for `/metrics`.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The CSP and the other headers of every response.
    pub security_headers: Arc<crate::http::security_headers::SecurityHeaders>,
    /// The directory connections of the configuration, by name.
    pub directories: Arc<std::collections::BTreeMap<String, Arc<crate::directory::Directory>>>,
    /// The server's key for secrets kept encrypted; `None` without
    /// `secret_key`.
    pub secret_box: Option<Arc<crate::password::secret_box::SecretBox>>,
    /// Work done after the answer ([`crate::state::background`]).
    pub background: Arc<crate::state::background::Background>,
    pub(crate) bootstrap_cache: Arc<Mutex<Option<crate::settings::site::CachedBootstrap>>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .field("backend", &self.db.backend)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Connects to the database (running its migrations), loads the
    /// blocklist and prepares the hasher. Binds nothing.
    pub async fn new(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        config.validate()?;
        let db = Db::connect(config.database_url.expose_secret()).await?;
        let blocklist = match &config.blocklist_file {
            Some(path) => {
                let list = Blocklist::load(path).map_err(|e| {
                    anyhow::anyhow!("cannot read blocklist_file {}: {e}", path.display())
                })?;
                tracing::info!(entries = list.len(), "loaded password blocklist");
                list
            }
            None => Blocklist::empty(),
        };
        let hasher = Hasher::new(
            config.effective_hash_permits(),
            config.effective_hash_queue(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("cannot prepare the password hasher: {e}"))?;
        let metrics = crate::metrics::Metrics::new(config.effective_metrics_token()?.as_ref());
        let security_headers = Arc::new(crate::http::security_headers::SecurityHeaders::new(
            &config.static_dir,
        ));
        let mut directories = std::collections::BTreeMap::new();
        for (name, settings) in &config.directories {
            let directory = crate::directory::Directory::new(name, settings.clone())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            directories.insert(name.clone(), Arc::new(directory));
        }
        let secret_box = config.secret_box()?.map(Arc::new);
        Ok(Self {
            secret_box,
            directories: Arc::new(directories),
            security_headers,
            config: Arc::new(config),
            db,
            clock,
            hasher,
            blocklist: Arc::new(blocklist),
            deferred_audit: Arc::default(),
            metrics: Arc::new(metrics),
            bootstrap_cache: Arc::new(Mutex::new(None)),
            background: Arc::default(),
        })
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Writes the deferred audit events of this process now (before showing
    /// the audit log, in tests, at shutdown).
    pub async fn flush_audit(&self) -> Result<usize, sqlx::Error> {
        self.deferred_audit.flush(&self.db.pool).await
    }
}
