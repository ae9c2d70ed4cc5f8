//! Work that keeps a core busy for milliseconds (a password hash, decoding an uploaded picture): run on
//! threads of its own, one per core, never on the async executor, so pages keep being served while it
//! queues.

use super::error::Error;
use std::sync::{mpsc, Arc, Mutex};

/// The cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// One thread per core, taking jobs from one queue in the order they came: at most one job per core at
/// a time, however many requests ask.
///
/// Threads of their own rather than the async runtime's blocking pool behind a semaphore: under a storm a
/// thread that finishes a job takes the next one at once, where the pool put it to sleep and woke another
/// only after the next request had been woken for its permit. Side by side on 2 cores, sign-ins went from
/// 96–105 a second to 110 (BENCHMARKS.md, (e)). The threads end when the last clone goes.
#[derive(Clone)]
pub struct CpuWork {
    queue: mpsc::Sender<Box<dyn FnOnce() + Send>>,
}

impl CpuWork {
    /// Starts the threads, named `{name}-0`, `{name}-1`, …
    pub fn start(name: &str) -> Result<Self, Error> {
        let (queue, jobs) = mpsc::channel::<Box<dyn FnOnce() + Send>>();
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..cores() {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("{name}-{n}"))
                .spawn(move || loop {
                    // The lock is held only while waiting for a job, never while working.
                    let job = match jobs.lock() {
                        Ok(jobs) => jobs.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    let Ok(job) = job else { break };
                    // A job that panics drops its answer (the caller gets an error), not the thread.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                })
                .map_err(|e| Error::Internal(format!("cannot start a {name} thread: {e}")))?;
        }
        Ok(Self { queue })
    }

    /// Runs `work` on one of the threads. A caller that stops waiting (its client hung up) before the
    /// work starts costs nothing; once started, the work runs to the end and holds its core until then.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job = move || {
            if !answer.is_closed() {
                let _ = answer.send(work());
            }
        };
        self.queue.send(Box::new(job)).map_err(|_| Error::Internal("the worker threads have stopped".into()))?;
        answered.await.map_err(|_| Error::Internal("a job failed without an answer".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_one_per_core_and_one_abandoned_in_the_queue_never_runs() {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
        use std::time::Duration;

        let work = CpuWork::start("test").unwrap();
        let cores = cores();
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let storm: Vec<_> = (0..cores * 3)
            .map(|_| {
                let (work, running, most) = (work.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    work.run(move || {
                        most.fetch_max(running.fetch_add(1, SeqCst) + 1, SeqCst);
                        std::thread::sleep(Duration::from_millis(100));
                        running.fetch_sub(1, SeqCst);
                    })
                    .await
                })
            })
            .collect();
        // The storm's jobs are queued while this test's task sleeps; the next one waits behind them, and
        // its caller gives up.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let ran = Arc::new(AtomicBool::new(false));
        let abandoned = work.run({
            let ran = ran.clone();
            move || ran.store(true, SeqCst)
        });
        assert!(tokio::time::timeout(Duration::from_millis(20), abandoned).await.is_err());
        for job in storm {
            job.await.unwrap().unwrap();
        }
        // Queued after the abandoned job, so taken after it; the pause lets the thread that took it finish.
        work.run(|| ()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!ran.load(SeqCst), "work nobody waits for any more was done");
        assert_eq!(most.load(SeqCst), cores, "jobs at once");
    }
}
