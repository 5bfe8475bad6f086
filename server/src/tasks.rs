//! Background tasks with an owner: spawned into a set that the owner stops (aborting them and
//! waiting until they are gone), so stopping a service leaves no task behind.

use std::sync::Mutex;
use tokio::task::JoinSet;

/// A set of background tasks.
#[derive(Default)]
pub struct Tasks(Mutex<JoinSet<()>>);

impl Tasks {
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .spawn(task);
    }

    /// Aborts every task and waits for them to end. Tasks spawned afterwards start a new set.
    pub async fn stop(&self) {
        let mut tasks = std::mem::take(
            &mut *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        tasks.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stopping_ends_every_task() {
        let tasks = Tasks::default();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
        for _ in 0..3 {
            let tx = tx.clone();
            tasks.spawn(async move {
                std::future::pending::<()>().await;
                drop(tx);
            });
        }
        drop(tx);
        tasks.stop().await;
        // Every sender was held by a task: all dropped, so the channel is closed.
        assert!(rx.recv().await.is_none());
    }
}
