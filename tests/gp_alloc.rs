//! The training hot path (the fit loop: ELBO + gradient + clipped Adam, best iterate kept)
//! allocates nothing once the caller owns its buffers. A counting global allocator pins it at zero: lower the cap when
//! allocations drop, never raise it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use core::ops::ControlFlow;
use svgp::features::DeepRff;
use svgp::gp::{Closed, Features, Prior, Svgp};
use svgp::kernel::Rbf;
use svgp::nn::{Activation, Mlp};
use svgp::objective::{FullBatchElbo, Objective};
use svgp::optim::{Adam, AdamConfig};
use svgp::rng::{uniform, Xoshiro256};
use svgp::train::{fit_with, FitOptions};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

#[allow(unsafe_code)]
// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn steps_allocate<P: Prior>(model: &Svgp<P>, prior: &[f64]) -> usize {
    let mut rng = Xoshiro256::from_u64(3);
    let n = 50;
    let x: Vec<f64> = (0..2 * n).map(|_| uniform(&mut rng, -1.0, 1.0)).collect();
    let y: Vec<f64> = x.chunks(2).map(|r| r[0].sin() + r[1]).collect();
    let z: Vec<f64> = (0..2 * model.n_inducing()).map(|_| uniform(&mut rng, -1.0, 1.0)).collect();
    let np = model.n_params();
    let mut p = vec![0.0; np];
    model.init_params(prior, &z, 0.1, &mut p).unwrap();
    let mut ws = vec![0.0; model.workspace_len(n).unwrap()];
    let mut objective = FullBatchElbo::new(model, &x, &y, &mut ws[..]).unwrap();
    // The whole fit loop, with the best iterate kept and patience armed.
    let opts = FitOptions::new(5).keep_best().patience(100);
    let mut fit_ws = vec![0.0; opts.workspace_len(np).unwrap()];
    let (mut mu, mut nu) = (vec![0.0; np], vec![0.0; np]);
    let mut adam = Adam::new(AdamConfig::new(1e-2).with_clip(1.0), &mut mu, &mut nu).unwrap();
    // One warm-up step (run-time CPU feature detection caches its answer on first use).
    objective.loss_and_grad(&p, &mut fit_ws[..np]).unwrap();
    let before = ALLOCS.load(Ordering::Relaxed);
    let s = fit_with(&mut objective, &mut p, &mut adam, &opts, &mut fit_ws, |_| ControlFlow::Continue(()))
        .unwrap();
    assert_eq!(s.steps, 5);
    ALLOCS.load(Ordering::Relaxed) - before
}

#[test]
fn training_steps_do_not_allocate() {
    // The counter sees allocations at all (so a zero below means something).
    let before = ALLOCS.load(Ordering::Relaxed);
    let probe = std::hint::black_box(vec![1u8; 64]);
    assert!(ALLOCS.load(Ordering::Relaxed) > before && probe.len() == 64);
    let rbf = Svgp::new(Closed(Rbf::new(2)), 8, 1e-4).unwrap();
    assert_eq!(steps_allocate(&rbf, &Rbf::params(1.0, 0.3)), 0, "RBF step allocated");
    let map = DeepRff::new(Mlp::equinox(2, 8, 2, 4, Activation::Tanh).unwrap(), 16).unwrap();
    let deep = Svgp::new(Features(map), 6, 1e-4).unwrap();
    let mut prior = vec![0.0; deep.prior().n_params()];
    map.init(&mut Xoshiro256::from_u64(7), 0.5, deep.prior().parts(&mut prior[..]).unwrap().map).unwrap();
    assert_eq!(steps_allocate(&deep, &prior), 0, "deep step allocated");
}
