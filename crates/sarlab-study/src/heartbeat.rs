//! A running study records that it is alive, so that another process can tell a run
//! whose process died from one still working.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sarlab_track::Store;

/// How often a running study records that it is alive.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);

/// A RUNNING run whose heartbeat is older than this belonged to a process that died
/// (on another host; on this one a vanished process id tells at once).
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(60);

/// Keeps a run's heartbeat going from a thread of its own (with its own connection)
/// until dropped.
pub(crate) struct Heartbeat {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Heartbeat {
    pub(crate) fn start(db: PathBuf, uuid: String) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut store = match Store::open(&db) {
                Ok(store) => store,
                Err(err) => {
                    tracing::warn!("no heartbeat for run {uuid}: {err}");
                    return;
                }
            };
            let tick = Duration::from_millis(100);
            let mut since = Duration::ZERO;
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(tick);
                since += tick;
                if since >= HEARTBEAT_INTERVAL {
                    since = Duration::ZERO;
                    if let Err(err) = store.heartbeat(&uuid) {
                        tracing::warn!("heartbeat of run {uuid}: {err}");
                    }
                }
            }
        });
        Heartbeat {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
