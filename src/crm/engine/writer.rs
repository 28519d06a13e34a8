//! Committing a full scan's pages on a thread of its own.
//!
//! A first full sync spends more time writing SQLite than fetching (BENCHMARKS.md): committed
//! inline, every write stalls the fetch stream, since a stream only makes progress while it is
//! polled. The writer owns its own connection to the cache file and commits pages strictly in
//! the order it receives them, each with its checkpoint, so resumption works exactly as with
//! inline commits; the fetch side meanwhile keeps its pages in flight.

use super::{PageBatch, SyncError, commit_page};
use crate::store::Store;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// Pages waiting for the writer: enough to ride out a slow commit, few enough to bound memory.
const QUEUE: usize = 2;

/// One committed page: its deals and the time its transaction took.
pub(super) struct Ack {
    /// Deals in the page.
    pub deals: u64,
    /// Time spent in the transaction.
    pub took: Duration,
}

/// The sending side of a writer thread.
pub(super) struct PageWriter {
    pages: Option<mpsc::Sender<PageBatch>>,
    acks: mpsc::UnboundedReceiver<Ack>,
    done: oneshot::Receiver<Result<(), SyncError>>,
}

impl PageWriter {
    /// Opens a second connection to the cache at `path` and starts committing on it.
    pub fn spawn(path: &Path, source: &'static str, run: i64) -> Result<PageWriter, SyncError> {
        // Opened here, not on the thread, so that a cache that cannot be opened fails the sync
        // before anything is fetched.
        let mut store = Store::open(path)?;
        let (pages_tx, mut pages_rx) = mpsc::channel::<PageBatch>(QUEUE);
        let (acks_tx, acks_rx) = mpsc::unbounded_channel();
        let (done_tx, done_rx) = oneshot::channel();
        std::thread::Builder::new()
            .name("sync-writer".into())
            .spawn(move || {
                let result = (|| {
                    while let Some(page) = pages_rx.blocking_recv() {
                        let started = Instant::now();
                        store.transaction(|tx| commit_page(tx, source, run, &page))?;
                        // The receiver goes away only if the sync was dropped mid-way.
                        let _ = acks_tx.send(Ack {
                            deals: page.deals.len() as u64,
                            took: started.elapsed(),
                        });
                    }
                    Ok(())
                })();
                let _ = done_tx.send(result);
            })
            .map_err(|e| {
                SyncError::Store(crate::store::StoreError::Open {
                    path: path.to_owned(),
                    source: Box::new(e),
                })
            })?;
        Ok(PageWriter {
            pages: Some(pages_tx),
            acks: acks_rx,
            done: done_rx,
        })
    }

    /// Queues a page, waiting while the queue is full. `false` if the writer has stopped (its
    /// error comes from [`PageWriter::finish`]).
    pub async fn send(&mut self, page: PageBatch) -> bool {
        match &self.pages {
            Some(tx) => tx.send(page).await.is_ok(),
            None => false,
        }
    }

    /// Pages committed since the last call, without waiting.
    pub fn committed(&mut self) -> Vec<Ack> {
        std::iter::from_fn(|| self.acks.try_recv().ok()).collect()
    }

    /// Lets the writer commit what is queued, reporting each page through `on_ack`, and returns
    /// how it ended.
    pub async fn finish(mut self, mut on_ack: impl FnMut(Ack)) -> Result<(), SyncError> {
        self.pages = None;
        while let Some(ack) = self.acks.recv().await {
            on_ack(ack);
        }
        match self.done.await {
            Ok(result) => result,
            Err(_) => Err(SyncError::WriterLost),
        }
    }
}
