//! Work that keeps a core busy for milliseconds (a password hash, a password's strength estimate, decoding
//! an uploaded picture): run on one pool of threads, one per core, never on the async executor, so pages
//! keep being served while it queues.

use crate::server::platform::error::Error;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};

/// The cores this process may use.
pub fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// How many jobs of a kind may wait for a thread before more are refused (503). Sign-ins may queue deep:
/// a burst of them is normal and each is worth waiting for. Work any visitor can ask for without signing
/// in, or that takes much memory, may not crowd them out.
#[derive(Clone, Copy, Debug)]
pub enum Admission {
    /// Password hashes: sign-in, sign-up, password changes.
    Hash,
    /// The live strength hint of a new-password field.
    StrengthHint,
    /// Decoding an uploaded picture.
    Decode,
}

impl Admission {
    /// The queue length (all kinds together) at which a job of this kind is refused.
    fn queue_limit(self) -> usize {
        let per_core = match self {
            Admission::Hash => 1024,
            Admission::StrengthHint => 4,
            Admission::Decode => 4,
        };
        per_core * cores()
    }
}

/// One thread per core, taking jobs from one queue in the order they came: at most one job per core at
/// a time, however many requests ask.
///
/// Threads of their own rather than the async runtime's blocking pool behind a semaphore: under a storm a
/// thread that finishes a job takes the next one at once, where the pool put it to sleep and woke another
/// only after the next request had been woken for its permit (bench/NOTES.md).
/// The threads end when the last clone goes.
#[derive(Clone)]
pub struct CpuWork {
    queue: mpsc::Sender<Box<dyn FnOnce() + Send>>,
    /// Jobs sent and not yet taken by a thread.
    waiting: Arc<AtomicUsize>,
}

impl CpuWork {
    /// Starts the threads, named `cpu-work-0`, `cpu-work-1`, …
    pub fn start() -> Result<Self, Error> {
        let (queue, jobs) = mpsc::channel::<Box<dyn FnOnce() + Send>>();
        let jobs = Arc::new(Mutex::new(jobs));
        let waiting = Arc::new(AtomicUsize::new(0));
        for n in 0..cores() {
            let (jobs, waiting) = (jobs.clone(), waiting.clone());
            std::thread::Builder::new()
                .name(format!("cpu-work-{n}"))
                .spawn(move || loop {
                    // The lock is held only while waiting for a job, never while working.
                    let job = match jobs.lock() {
                        Ok(jobs) => jobs.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    let Ok(job) = job else { break };
                    waiting.fetch_sub(1, Ordering::AcqRel);
                    // A job that panics drops its answer (the caller gets an error), not the thread.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                })
                .map_err(|e| Error::Internal(format!("cannot start a CPU work thread: {e}")))?;
        }
        Ok(Self { queue, waiting })
    }

    /// Runs `work` on one of the threads, or refuses at once with `Error::Busy` when the queue is as long
    /// as `admission` allows. A caller that stops waiting (its client hung up) before the work starts
    /// costs nothing; once started, the work runs to the end and holds its core until then.
    pub async fn run<T: Send + 'static>(
        &self,
        admission: Admission,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= admission.queue_limit() {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            tracing::warn!(?admission, "the CPU work queue is full; refused");
            return Err(Error::Busy);
        }
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job = move || {
            if !answer.is_closed() {
                let _ = answer.send(work());
            }
        };
        if self.queue.send(Box::new(job)).is_err() {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(Error::Internal("the worker threads have stopped".into()));
        }
        answered.await.map_err(|_| Error::Internal("a job failed without an answer".into()))
    }

    /// Jobs waiting for a thread now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::atomic::Ordering::SeqCst;
    use std::time::Duration;

    #[tokio::test]
    async fn jobs_run_one_per_core_and_one_abandoned_in_the_queue_never_runs() {
        let work = CpuWork::start().unwrap();
        let cores = cores();
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let storm: Vec<_> = (0..cores * 3)
            .map(|_| {
                let (work, running, most) = (work.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    work.run(Admission::Hash, move || {
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
        let abandoned = work.run(Admission::Hash, {
            let ran = ran.clone();
            move || ran.store(true, SeqCst)
        });
        assert!(tokio::time::timeout(Duration::from_millis(20), abandoned).await.is_err());
        for job in storm {
            job.await.unwrap().unwrap();
        }
        // Queued after the abandoned job, so taken after it; the pause lets the thread that took it finish.
        work.run(Admission::Hash, || ()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!ran.load(SeqCst), "work nobody waits for any more was done");
        assert_eq!(most.load(SeqCst), cores, "jobs at once");
        assert_eq!(work.waiting(), 0);
    }

    #[tokio::test]
    async fn work_anyone_can_ask_for_is_refused_when_the_queue_is_long_and_hashes_still_queue() {
        let work = CpuWork::start().unwrap();
        let release = Arc::new(AtomicBool::new(false));
        // Every thread busy, and the queue as long as strength hints may find it.
        let blockers: Vec<_> = (0..cores() + Admission::StrengthHint.queue_limit())
            .map(|_| {
                let (work, release) = (work.clone(), release.clone());
                tokio::spawn(async move {
                    work.run(Admission::Hash, move || {
                        while !release.load(SeqCst) {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                    })
                    .await
                })
            })
            .collect();
        while work.waiting() < Admission::StrengthHint.queue_limit() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(matches!(work.run(Admission::StrengthHint, || ()).await, Err(Error::Busy)));
        assert!(matches!(work.run(Admission::Decode, || ()).await, Err(Error::Busy)));
        let hash = tokio::spawn({
            let work = work.clone();
            async move { work.run(Admission::Hash, || 7).await }
        });
        release.store(true, SeqCst);
        assert_eq!(hash.await.unwrap().unwrap(), 7, "a hash still queues behind them");
        for blocker in blockers {
            blocker.await.unwrap().unwrap();
        }
    }
}
