//! How much stack one training step needs: an ELBO + gradient evaluation and one clip + Adam
//! update of the flagship models (RBF and deep kernel, from the JAX fixture's data and initial
//! parameters: N = 600, M = 30, J = 256), in f64 and f32, each on a thread whose stack leaves
//! the step a fixed budget. A step that needs more overflows that thread's guard page and
//! aborts the test binary: a failure, not a skip.
//!
//! The budgets are the measured need rounded up by about 15 %. Measure with
//! `SVGP_STACK_KIB=N cargo test --release --test train_stack -- --exact NAME`, halving the
//! interval over N until the smallest N that passes (`--no-default-features` for the `no_std`
//! build). Measured on x86-64 (rustc 1.95), in KiB, each including about 5 KiB of thread
//! start-up and thread-local storage (an empty step needs 5):
//!
//! | build | RBF f64 | RBF f32 | deep f64 | deep f32 |
//! |---|---|---|---|---|
//! | release, `no_std` / `alloc` | 25 | 18 | 27 | 20 |
//! | release, `std` | 174 | 94 | 176 | 96 |
//! | debug, `no_std` | 72 | 68 | 77 | 72 |
//! | debug, `std` | 289 | 184 | 304 | 199 |
//!
//! (`std` figures are the largest over the CPU levels, `SVGP_ARCH=portable`, `avx2+fma` and
//! `avx512` on a Zen 4; they differ by 3 KiB at most.) What dominates is the matrix product's
//! packing buffers, which live on the stack so that the core allocates nothing
//! (`linalg::engine`): 14 KiB (f64) or 7 KiB (f32) without `std`. With `std`, products of at
//! least 2²⁰ multiply-adds use 160 KiB (f64) buffers, in the frame of the copy that runs only
//! (every level's copy is its own out-of-line function; until the AVX-512 level came, the
//! frame that dispatched to the AVX2 copy also held the baseline copy's buffers, and the deep
//! f64 step needed 334 KiB). The budgets are not raised when a change needs more: debug
//! `no_std` RBF grew by 1 and 3 KiB with the AVX-512 level and keeps its budget.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::fixture::{flagship_deep_map, Fixture, DEEP, RBF};
use svgp::gp::{Closed, ElboOptions, Features, Prior, Svgp};
use svgp::kernel::Rbf;
use svgp::optim::{Adam, AdamConfig};
use svgp::Scalar;

/// Stack budgets in KiB for one build: `[f64, f32]` per model.
struct Budget {
    rbf: [usize; 2],
    deep: [usize; 2],
}

#[cfg(all(not(debug_assertions), not(feature = "std")))]
const BUDGET: Budget = Budget { rbf: [30, 22], deep: [32, 24] };
#[cfg(all(not(debug_assertions), feature = "std"))]
const BUDGET: Budget = Budget { rbf: [200, 108], deep: [202, 110] };
/// Unoptimised builds (plain `cargo test`) keep every inlined branch's locals in the frame.
#[cfg(all(debug_assertions, not(feature = "std")))]
const BUDGET: Budget = Budget { rbf: [82, 75], deep: [89, 82] };
#[cfg(all(debug_assertions, feature = "std"))]
const BUDGET: Budget = Budget { rbf: [332, 212], deep: [350, 229] };

/// The budget, or `SVGP_STACK_KIB` when set (for measuring).
fn budget_kib(default: usize) -> usize {
    std::env::var("SVGP_STACK_KIB").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Stack the thread spends before the step, in frames of [`PAD_FRAME`] bytes. The thread gets
/// `PAD_KIB + budget`: the padding lifts it above the platform's minimum thread stack (16 KiB
/// and more on Linux), so that small budgets mean what they say.
const PAD_KIB: usize = 64;
const PAD_FRAME: usize = 16 * 1024;

/// Runs `f` below `depth` frames that each hold [`PAD_FRAME`] bytes.
fn below_padding<R>(depth: usize, f: impl FnOnce() -> R) -> R {
    let pad = [0u8; PAD_FRAME];
    std::hint::black_box(&pad);
    let r = if depth == 0 { f() } else { below_padding(depth - 1, f) };
    std::hint::black_box(&pad);
    r
}

/// One ELBO + gradient and one Adam step of `model` from `init`, in `S`, with `kib` KiB of
/// stack left to it; every buffer is allocated before the thread starts. Returns the −ELBO.
fn step_on_small_stack<P, S>(model: Svgp<P>, f: &Fixture, kib: usize) -> f64
where
    P: Prior + Send + 'static,
    S: Scalar + Send + 'static,
{
    let cast = |v: &[f64]| -> Vec<S> { v.iter().map(|&a| S::from_f64(a)).collect() };
    let (x, y, mut params) = (cast(&f.x), cast(&f.y), cast(&f.init));
    let (lr, clip) = (f.lr, f.clip);
    let np = model.n_params();
    let mut ws = vec![S::zero(); model.workspace_len(y.len()).unwrap()];
    let (mut grad, mut mu, mut nu) = (vec![S::zero(); np], vec![S::zero(); np], vec![S::zero(); np]);
    let step = move || {
        let elbo = model.elbo_and_grad(&params, &x, &y, ElboOptions::default(), &mut grad, &mut ws).unwrap();
        grad.iter_mut().for_each(|g| *g = -*g);
        let mut adam = Adam::new(AdamConfig::new(lr).with_clip(clip), &mut mu, &mut nu).unwrap();
        adam.step(&mut params, &mut grad).unwrap();
        assert!(params.iter().all(|p| p.re().is_finite()));
        -elbo.re()
    };
    let worker = std::thread::Builder::new()
        .stack_size((PAD_KIB + kib) * 1024)
        .spawn(move || below_padding(PAD_KIB * 1024 / PAD_FRAME - 1, step));
    worker.unwrap().join().unwrap()
}

fn check<P, S>(model: Svgp<P>, f: &Fixture, kib: usize, what: &str)
where
    P: Prior + Send + 'static,
    S: Scalar + Send + 'static,
{
    let kib = budget_kib(kib);
    let loss = step_on_small_stack::<P, S>(model, f, kib);
    // The step ran: its loss is the reference's step-1 loss (to f32 rounding).
    let r = ((loss - f.neg_elbo(1)) / f.neg_elbo(1)).abs();
    println!("{what}: a training step ran in {kib} KiB of stack (−ELBO {loss}, rel. to JAX {r:.1e})");
    assert!(r < 1e-4, "{what}: −ELBO {loss} vs JAX {}", f.neg_elbo(1));
}

fn rbf() -> (Fixture, Svgp<Closed<Rbf>>) {
    let f = Fixture::open(RBF);
    let model = Svgp::new(Closed(Rbf::new(2)), f.m, f.jitter).unwrap();
    (f, model)
}

fn deep() -> (Fixture, Svgp<Features<svgp::features::DeepRff>>) {
    let f = Fixture::open(DEEP);
    let model = Svgp::new(Features(flagship_deep_map()), f.m, f.jitter).unwrap();
    (f, model)
}

#[test]
fn rbf_f64_training_step_fits_the_stack_budget() {
    let (f, model) = rbf();
    check::<_, f64>(model, &f, BUDGET.rbf[0], "RBF f64");
}

#[test]
fn rbf_f32_training_step_fits_the_stack_budget() {
    let (f, model) = rbf();
    check::<_, f32>(model, &f, BUDGET.rbf[1], "RBF f32");
}

#[test]
fn deep_f64_training_step_fits_the_stack_budget() {
    let (f, model) = deep();
    check::<_, f64>(model, &f, BUDGET.deep[0], "deep f64");
}

#[test]
fn deep_f32_training_step_fits_the_stack_budget() {
    let (f, model) = deep();
    check::<_, f32>(model, &f, BUDGET.deep[1], "deep f32");
}
