//! The persistent team: workers spawned once in a `std::thread::scope`, woken for each call,
//! each evaluating its own fixed chunks into its own outputs; the caller gathers in chunk order.
//!
//! Thread t (0 is the caller) owns chunks t, t + T, t + 2T, … with T threads, together with one
//! scratch buffer and one output slot per chunk. A call writes the shared input (workers idle),
//! bumps an epoch counter and unparks the workers, runs its own lane, waits until every worker
//! has counted itself done, and then reads the slots in chunk order. A chunk that panics is
//! caught where it runs and becomes that chunk's [`Error::WorkerPanicked`].

use super::Split;
use crate::error::{Error, Result};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockWriteGuard};
use std::thread::Thread;
use std::vec::Vec;

/// Work a team can do: chunks evaluated independently from one shared input.
pub(crate) trait Job: Sync {
    /// What the caller writes before each call and every chunk reads.
    type Input: Send + Sync;
    /// A thread's own workspace, reused by its chunks.
    type Scratch: Send;
    /// One chunk's result.
    type Out: Send;
    /// Chunks to evaluate with this input (at most the team's chunk count).
    fn chunks(&self, input: &Self::Input) -> usize;
    /// Evaluates chunk `c` into `out`.
    fn run(
        &self,
        input: &Self::Input,
        c: usize,
        scratch: &mut Self::Scratch,
        out: &mut Self::Out,
    ) -> Result<()>;
}

/// One chunk's output slot.
struct Slot<O> {
    chunk: usize,
    out: O,
    result: Result<()>,
}

/// One thread's chunks, scratch and outputs.
pub(crate) struct Lane<J: Job> {
    scratch: J::Scratch,
    slots: Vec<Slot<J::Out>>,
}

impl<J: Job> Lane<J> {
    /// Evaluates this lane's chunks that the input asks for; a panic becomes the chunk's error.
    fn run(&mut self, job: &J, input: &J::Input) {
        let count = job.chunks(input);
        for slot in self.slots.iter_mut().filter(|s| s.chunk < count) {
            let (c, scratch, out) = (slot.chunk, &mut self.scratch, &mut slot.out);
            slot.result = catch_unwind(AssertUnwindSafe(|| job.run(input, c, scratch, out)))
                .unwrap_or(Err(Error::WorkerPanicked { chunk: c }));
        }
    }
}

/// How long an idle worker spins before it parks: longer than the gap between two training
/// steps (the Adam update, a callback), far shorter than a pause in training.
const SPIN: std::time::Duration = std::time::Duration::from_micros(200);

/// Counters the caller and the workers share.
struct Signals {
    /// Bumped by the caller to start a call; workers wait for it to change.
    epoch: AtomicUsize,
    /// Workers that finished the current call.
    done: AtomicUsize,
    /// Set (before a last epoch bump) to let the workers return.
    stop: AtomicBool,
    /// First chunk of a worker that panicked outside a chunk (`usize::MAX`: none). Chunk
    /// panics are caught in [`Lane::run`]; this is the safety net for anything else.
    lost: AtomicUsize,
}

/// The caller's handle on a running team.
pub(crate) struct Team<'a, J: Job> {
    job: &'a J,
    input: &'a RwLock<J::Input>,
    signals: &'a Signals,
    own: Lane<J>,
    workers: Vec<(Thread, &'a Mutex<Lane<J>>)>,
}

impl<'a, J: Job> Team<'a, J> {
    /// Write access to the shared input (the workers are idle between calls).
    pub(crate) fn input_mut(&mut self) -> RwLockWriteGuard<'_, J::Input> {
        self.input.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The job the team runs.
    pub(crate) fn job(&self) -> &'a J {
        self.job
    }

    /// Runs every lane once on the current input and waits for all of them.
    pub(crate) fn run(&mut self) -> Result<()> {
        // A worker lost to a panic is gone: waiting for it would never end.
        self.check_workers()?;
        if !self.workers.is_empty() {
            self.signals.done.store(0, Ordering::Release);
            self.signals.epoch.fetch_add(1, Ordering::AcqRel);
            for (t, _) in &self.workers {
                t.unpark();
            }
        }
        {
            let input = self.input.read().unwrap_or_else(PoisonError::into_inner);
            self.own.run(self.job, &input);
        }
        // Wait for the workers: spin (they finish within the call), yielding now and then.
        let mut spins = 0usize;
        while self.signals.done.load(Ordering::Acquire) < self.workers.len() {
            spins += 1;
            if spins.is_multiple_of(1024) {
                std::thread::yield_now();
            } else {
                core::hint::spin_loop();
            }
        }
        self.check_workers()
    }

    /// Visits the outputs of the last [`Team::run`] in chunk order (the order fixes the sums'
    /// rounding); returns the first failing chunk's error instead of visiting past it.
    pub(crate) fn gather(&self, mut visit: impl FnMut(usize, &J::Out)) -> Result<()> {
        let count = self.job.chunks(&self.input.read().unwrap_or_else(PoisonError::into_inner));
        let lanes: Vec<MutexGuard<'_, Lane<J>>> =
            self.workers.iter().map(|(_, l)| l.lock().unwrap_or_else(PoisonError::into_inner)).collect();
        let threads = lanes.len() + 1;
        for c in 0..count {
            let lane = match c % threads {
                0 => &self.own,
                t => &*lanes[t - 1],
            };
            // Lane t owns chunks t, t + T, …: chunk c is its slot c / T (always there, since
            // the job never asks for more chunks than the team was built with).
            let slot = lane.slots.get(c / threads).filter(|s| s.chunk == c);
            let slot = slot.ok_or(Error::InvalidParameter {
                what: "thread team: chunk beyond its chunks",
                value: c as f64,
            })?;
            slot.result?;
            visit(c, &slot.out);
        }
        Ok(())
    }

    fn check_workers(&self) -> Result<()> {
        match self.signals.lost.load(Ordering::Acquire) {
            usize::MAX => Ok(()),
            chunk => Err(Error::WorkerPanicked { chunk }),
        }
    }
}

/// Counts a worker's call as done even if it panicked (so the caller never waits forever),
/// and records the panic.
struct DoneGuard<'a> {
    signals: &'a Signals,
    first_chunk: usize,
}

impl Drop for DoneGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.signals.lost.store(self.first_chunk, Ordering::Release);
        }
        self.signals.done.fetch_add(1, Ordering::AcqRel);
    }
}

/// Releases the workers when the caller's body ends, also when it unwinds from a panic (the
/// scope would otherwise wait forever for workers that wait for work).
struct StopOnDrop<'a> {
    signals: &'a Signals,
    threads: Vec<Thread>,
}

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.signals.stop.store(true, Ordering::Release);
        self.signals.epoch.fetch_add(1, Ordering::AcqRel);
        for t in &self.threads {
            t.unpark();
        }
    }
}

/// What a team's threads share: the call's input, the counters, and the workers' lanes.
/// Created by [`Shared::new`] before the team starts, so that the job, this and the team's
/// handle can all carry one lifetime.
pub(crate) struct Shared<J: Job> {
    input: RwLock<J::Input>,
    signals: Signals,
    lanes: Vec<Mutex<Lane<J>>>,
}

impl<J: Job> Shared<J> {
    /// The shared state of `split.chunks` chunks on `min(split.threads, split.chunks)` threads
    /// (the caller's included), each thread with one `scratch()` and one `out()` per chunk it
    /// owns; returns it with the caller's own lane.
    pub(crate) fn new(
        input: J::Input,
        split: Split,
        mut scratch: impl FnMut() -> J::Scratch,
        mut out: impl FnMut() -> J::Out,
    ) -> (Self, Lane<J>) {
        let chunks = split.chunks.max(1);
        let threads = split.threads.clamp(1, chunks);
        let mut lane = |t: usize| Lane::<J> {
            scratch: scratch(),
            slots: (t..chunks)
                .step_by(threads)
                .map(|chunk| Slot { chunk, out: out(), result: Ok(()) })
                .collect(),
        };
        let own = lane(0);
        let lanes = (1..threads).map(|t| Mutex::new(lane(t))).collect();
        let signals = Signals {
            epoch: AtomicUsize::new(0),
            done: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            lost: AtomicUsize::new(usize::MAX),
        };
        (Self { input: RwLock::new(input), signals, lanes }, own)
    }
}

/// Runs `body` with a team for `job` on `shared` (the caller evaluating `own`); the workers
/// live until `body` returns (or unwinds).
pub(crate) fn with_team<'a, J: Job, R>(
    job: &'a J,
    shared: &'a Shared<J>,
    own: Lane<J>,
    body: impl FnOnce(Team<'a, J>) -> R,
) -> R {
    let (input, signals) = (&shared.input, &shared.signals);
    std::thread::scope(|scope| {
        let workers: Vec<_> = shared
            .lanes
            .iter()
            .enumerate()
            .map(|(k, lane)| {
                let h = scope.spawn(move || worker(job, input, signals, lane, k + 1));
                (h.thread().clone(), lane)
            })
            .collect();
        let _stop = StopOnDrop { signals, threads: workers.iter().map(|(t, _)| t.clone()).collect() };
        body(Team { job, input, signals, own, workers })
    })
}

/// A worker's loop: wait for a new epoch, evaluate its chunks, count itself done.
fn worker<J: Job>(
    job: &J,
    input: &RwLock<J::Input>,
    signals: &Signals,
    lane: &Mutex<Lane<J>>,
    first_chunk: usize,
) {
    let mut seen = 0usize;
    loop {
        let idle = std::time::Instant::now();
        loop {
            let e = signals.epoch.load(Ordering::Acquire);
            if e != seen {
                seen = e;
                break;
            }
            if idle.elapsed() < SPIN {
                core::hint::spin_loop();
            } else {
                // A missed wake-up cannot happen: an unpark before the park makes it return.
                std::thread::park();
            }
        }
        if signals.stop.load(Ordering::Acquire) {
            return;
        }
        // Declared first, dropped last: "done" is counted after the locks are released.
        let _done = DoneGuard { signals, first_chunk };
        let input = input.read().unwrap_or_else(PoisonError::into_inner);
        let mut lane = lane.lock().unwrap_or_else(PoisonError::into_inner);
        lane.run(job, &input);
    }
}
