//! A fixed data set's ELBO and gradient split into chunks, evaluated by a team of worker
//! threads that lives for a whole training run (feature `std`).
//!
//! [`elbo_and_grad_threaded`](super::elbo_and_grad_threaded) spawns its threads per call,
//! which costs more than it saves on a step of a millisecond or less (the flagship RBF step).
//! [`with_split_elbo`] spawns the workers once, inside a `std::thread::scope`, and then each
//! [`SplitElbo::elbo_and_grad`] only copies the parameters to a shared buffer, wakes the
//! workers and sums their chunks.
//!
//! # The numbers depend on the chunks, not on the threads
//!
//! The data are cut into `chunks` fixed, contiguous chunks; chunk `c` is evaluated with
//! [`Svgp::elbo_and_grad`] into its own gradient buffer (chunk 0 carries the KL), and the
//! calling thread sums the chunks' ELBOs and gradients in chunk order. Which thread ran a chunk
//! does not enter the arithmetic, so a run with 2 chunks gives bit-identical results on 1 or 2
//! threads: the thread count is a speed setting, the chunk count part of the computation.
//!
//! # Cost
//!
//! Every chunk recomputes the K_zz part (the prior at Z, the M × M Cholesky and their reverse
//! sweep), O(M/chunk) of a chunk's work: about 10 % for the deep flagship kernel at two chunks of
//! 300. Idle workers spin briefly, then park; they are woken by `Thread::unpark`.

use crate::error::{check_len, Error, Result};
use crate::gp::{ElboOptions, Prior, Svgp};
use crate::Scalar;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};
use std::vec;
use std::vec::Vec;

/// How to split the work: `chunks` fixed pieces of the data (this decides the numbers) run on
/// up to `threads` threads, the caller's included (this decides only the speed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    /// Number of contiguous chunks of the data (at least 1, at most the number of points).
    pub chunks: usize,
    /// Number of threads including the calling one (at least 1; more than `chunks` is not used).
    pub threads: usize,
}

impl Split {
    /// `chunks` chunks on `threads` threads.
    pub fn new(chunks: usize, threads: usize) -> Self {
        Self { chunks, threads }
    }
}

/// How long an idle worker spins before it parks: longer than the gap between two training
/// steps (the Adam update, a callback), far shorter than a pause in training.
const SPIN: std::time::Duration = std::time::Duration::from_micros(200);

/// What the calling thread and the workers share.
struct Shared<S> {
    /// The parameters of the current evaluation (written by the caller while workers are idle).
    params: RwLock<Vec<S>>,
    /// Bumped by the caller to start an evaluation; workers wait for it to change.
    epoch: AtomicUsize,
    /// Workers that finished the current evaluation.
    done: AtomicUsize,
    /// Set (before a last epoch bump) to let the workers return.
    stop: AtomicBool,
    /// Set by a worker that panicked.
    poisoned: AtomicBool,
}

/// One chunk's output: its ELBO term and gradient.
struct ChunkOut<S> {
    elbo: Result<S>,
    grad: Vec<S>,
}

/// One thread's chunks, workspace and outputs.
struct Lane<S> {
    chunks: Vec<usize>,
    ws: Vec<S>,
    out: Vec<ChunkOut<S>>,
}

/// The fixed data set and how it is cut.
struct Problem<'a, P, S> {
    model: &'a Svgp<P>,
    x: &'a [S],
    y: &'a [S],
    opts: ElboOptions,
    chunk: usize,
}

impl<P: Prior, S: Scalar> Problem<'_, P, S> {
    /// Evaluates every chunk of `lane` at `params`.
    fn run(&self, params: &[S], lane: &mut Lane<S>) {
        let d = self.model.input_dim();
        for (&c, out) in lane.chunks.iter().zip(lane.out.iter_mut()) {
            let (lo, hi) = (c * self.chunk, ((c + 1) * self.chunk).min(self.y.len()));
            let opts = ElboOptions { include_kl: c == 0 && self.opts.include_kl, ..self.opts };
            out.elbo = self.model.elbo_and_grad(
                params,
                &self.x[lo * d..hi * d],
                &self.y[lo..hi],
                opts,
                &mut out.grad,
                &mut lane.ws,
            );
        }
    }
}

/// Counts a worker's evaluation as done even if it panicked (so the caller never waits
/// forever), and records the panic.
struct DoneGuard<'a>(&'a AtomicUsize, &'a AtomicBool);

impl Drop for DoneGuard<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.1.store(true, Ordering::Release);
        }
        self.0.fetch_add(1, Ordering::AcqRel);
    }
}

/// The ELBO of a fixed data set, split as [`Split`] says; created by [`with_split_elbo`].
pub struct SplitElbo<'a, P, S> {
    problem: &'a Problem<'a, P, S>,
    shared: &'a Shared<S>,
    own: Lane<S>,
    workers: Vec<(std::thread::Thread, &'a Mutex<Lane<S>>)>,
}

impl<P: Prior, S: Scalar> SplitElbo<'_, P, S> {
    /// The ELBO at `params` and its gradient, written over `grad`: the same as
    /// [`Svgp::elbo_and_grad`] on the whole data set, up to summation order (fixed by the
    /// chunk count).
    pub fn elbo_and_grad(&mut self, params: &[S], grad: &mut [S]) -> Result<S> {
        let np = self.problem.model.n_params();
        // A worker that panicked is gone: waiting for it would never end.
        self.check_workers()?;
        check_len("parameters", np, params.len())?;
        check_len("gradient buffer", np, grad.len())?;
        if !self.workers.is_empty() {
            self.shared.params.write().unwrap_or_else(PoisonError::into_inner).copy_from_slice(params);
            self.shared.done.store(0, Ordering::Release);
            self.shared.epoch.fetch_add(1, Ordering::AcqRel);
            for (t, _) in &self.workers {
                t.unpark();
            }
        }
        self.problem.run(params, &mut self.own);
        // Wait for the workers: spin (they finish within the step), yielding now and then.
        let mut spins = 0usize;
        while self.shared.done.load(Ordering::Acquire) < self.workers.len() {
            spins += 1;
            if spins.is_multiple_of(1024) {
                std::thread::yield_now();
            } else {
                core::hint::spin_loop();
            }
        }
        self.check_workers()?;
        // Gather every chunk's output in chunk order (the order fixes the sums' rounding).
        let lanes: Vec<_> =
            self.workers.iter().map(|(_, l)| l.lock().unwrap_or_else(PoisonError::into_inner)).collect();
        let mut by_chunk: Vec<Option<&ChunkOut<S>>> = vec![None; self.problem.chunk_count()];
        for lane in lanes.iter().map(|l| &**l).chain(core::iter::once(&self.own)) {
            for (&c, out) in lane.chunks.iter().zip(&lane.out) {
                by_chunk[c] = Some(out);
            }
        }
        let mut elbo = S::zero();
        for (c, out) in by_chunk.into_iter().enumerate() {
            let out = out.ok_or(Error::InvalidParameter {
                what: "split ELBO: chunk not evaluated",
                value: c as f64,
            })?;
            let e = out.elbo?;
            if c == 0 {
                elbo = e;
                grad.copy_from_slice(&out.grad);
            } else {
                elbo += e;
                grad.iter_mut().zip(&out.grad).for_each(|(g, &v)| *g += v);
            }
        }
        Ok(elbo)
    }
}

impl<P, S> SplitElbo<'_, P, S> {
    fn check_workers(&self) -> Result<()> {
        if self.shared.poisoned.load(Ordering::Acquire) {
            return Err(Error::InvalidParameter {
                what: "split ELBO: a worker thread panicked",
                value: f64::NAN,
            });
        }
        Ok(())
    }
}

/// Releases the workers when the caller's body ends, also when it unwinds from a panic (the
/// scope would otherwise wait forever for workers that wait for work).
struct StopOnDrop<'a, S> {
    shared: &'a Shared<S>,
    threads: Vec<std::thread::Thread>,
}

impl<S> Drop for StopOnDrop<'_, S> {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.shared.epoch.fetch_add(1, Ordering::AcqRel);
        for t in &self.threads {
            t.unpark();
        }
    }
}

impl<P, S> Problem<'_, P, S> {
    fn chunk_count(&self) -> usize {
        self.y.len().div_ceil(self.chunk)
    }
}

/// Runs `body` with a [`SplitElbo`] of `model` on the data (`x`: n × D row-major, `y`: n),
/// whose worker threads live until `body` returns. Allocates the workspaces once.
///
/// ```
/// use svgp::batch::{with_split_elbo, Split};
/// use svgp::gp::{Closed, ElboOptions, Svgp};
/// use svgp::kernel::Rbf;
/// let x: Vec<f64> = (0..40).map(|i| i as f64 / 20.0 - 1.0).collect();
/// let y: Vec<f64> = x.iter().map(|v| v.sin()).collect();
/// let model = Svgp::new(Closed(Rbf::new(1)), 3, 1e-6)?;
/// let mut p = vec![0.0; model.n_params()];
/// model.init_params(&Rbf::params(1.0, 0.5), &[-0.5, 0.0, 0.5], 0.01, &mut p)?;
/// let opts = ElboOptions::default();
/// let mut g2 = vec![0.0; p.len()];
/// // Two chunks on two threads, then the same two chunks on one: the same bits.
/// let two = with_split_elbo(&model, &x, &y, opts, Split::new(2, 2), |e| e.elbo_and_grad(&p, &mut g2))??;
/// let mut g1 = vec![0.0; p.len()];
/// let one = with_split_elbo(&model, &x, &y, opts, Split::new(2, 1), |e| e.elbo_and_grad(&p, &mut g1))??;
/// assert_eq!((two, &g2), (one, &g1));
/// // And the whole-batch ELBO up to rounding.
/// let mut ws = vec![0.0; model.workspace_len(40)?];
/// let whole = model.elbo_and_grad(&p, &x, &y, opts, &mut g1, &mut ws)?;
/// assert!((two - whole).abs() < 1e-12 * whole.abs());
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn with_split_elbo<P, S, R>(
    model: &Svgp<P>,
    x: &[S],
    y: &[S],
    opts: ElboOptions,
    split: Split,
    body: impl FnOnce(&mut SplitElbo<'_, P, S>) -> R,
) -> Result<R>
where
    P: Prior + Sync,
    S: Scalar + Send + Sync,
{
    let (n, d, np) = (y.len(), model.input_dim(), model.n_params());
    check_len("inputs x (n × D)", n * d, x.len())?;
    if split.chunks == 0 || split.chunks > n.max(1) {
        return Err(Error::InvalidParameter {
            what: "split: chunks (must be 1..=n)",
            value: split.chunks as f64,
        });
    }
    if split.threads == 0 {
        return Err(Error::InvalidParameter { what: "split: threads (must be ≥ 1)", value: 0.0 });
    }
    let chunk = n.div_ceil(split.chunks).max(1);
    let problem = Problem { model, x, y, opts, chunk };
    let chunks = problem.chunk_count();
    let threads = split.threads.min(chunks);
    let ws_len = model.workspace_len(chunk)?;
    // Thread t takes chunks t, t + threads, …; thread 0 is the caller.
    let lane = |t: usize| {
        let mine: Vec<usize> = (t..chunks).step_by(threads).collect();
        let out = mine.iter().map(|_| ChunkOut { elbo: Ok(S::zero()), grad: vec![S::zero(); np] }).collect();
        Lane { chunks: mine, ws: vec![S::zero(); ws_len], out }
    };
    let worker_lanes: Vec<Mutex<Lane<S>>> = (1..threads).map(|t| Mutex::new(lane(t))).collect();
    let shared = Shared {
        params: RwLock::new(vec![S::zero(); np]),
        epoch: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        poisoned: AtomicBool::new(false),
    };
    let (problem, shared) = (&problem, &shared);
    Ok(std::thread::scope(|scope| {
        let workers: Vec<_> = worker_lanes
            .iter()
            .map(|lane| {
                let h = scope.spawn(move || worker(problem, shared, lane));
                (h.thread().clone(), lane)
            })
            .collect();
        let _stop = StopOnDrop { shared, threads: workers.iter().map(|(t, _)| t.clone()).collect() };
        let mut team = SplitElbo { problem, shared, own: lane(0), workers };
        body(&mut team)
    }))
}

/// A worker's loop: wait for a new epoch, evaluate its chunks, count itself done.
fn worker<P: Prior, S: Scalar>(problem: &Problem<'_, P, S>, shared: &Shared<S>, lane: &Mutex<Lane<S>>) {
    let mut seen = 0usize;
    loop {
        let idle = std::time::Instant::now();
        loop {
            let e = shared.epoch.load(Ordering::Acquire);
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
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
        let _done = DoneGuard(&shared.done, &shared.poisoned);
        let params = shared.params.read().unwrap_or_else(PoisonError::into_inner);
        let mut lane = lane.lock().unwrap_or_else(PoisonError::into_inner);
        problem.run(&params, &mut lane);
    }
}
