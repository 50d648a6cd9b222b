//! Minibatch training end to end: Adam on the scaled batch ELBO reaches (nearly) the full-batch
//! optimum, and its memory does not depend on N.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test

use core::ops::ControlFlow;
use svgp::batch::{Minibatch, MinibatchElbo, SliceSource};
use svgp::gp::{Closed, ElboOptions, Svgp};
use svgp::inducing::random_subset;
use svgp::kernel::Rbf;
use svgp::objective::{FullBatchElbo, Objective};
use svgp::optim::{Adam, AdamConfig};
use svgp::rng::{standard_normal, uniform, Xoshiro256};
use svgp::train::fit;

fn setup() -> (Svgp<Closed<Rbf>>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = 300;
    let mut r = Xoshiro256::from_u64(8);
    let x: Vec<f64> = (0..n).map(|_| uniform(&mut r, -3.0, 3.0)).collect();
    let y: Vec<f64> = x.iter().map(|&v| (2.0 * v).sin() + 0.1 * standard_normal(&mut r)).collect();
    let model = Svgp::new(Closed(Rbf::new(1)), 10, 1e-6).unwrap();
    let mut z = vec![0.0; 10];
    random_subset(&x, 1, &mut Xoshiro256::from_u64(9), &mut z).unwrap();
    let mut p = vec![0.0; model.n_params()];
    model.init_params(&Rbf::params(1.0, 1.0), &z, 0.1, &mut p).unwrap();
    (model, p, x, y)
}

fn full_elbo(model: &Svgp<Closed<Rbf>>, p: &[f64], x: &[f64], y: &[f64]) -> f64 {
    let mut ws = vec![0.0; model.workspace_len(y.len()).unwrap()];
    model.elbo(p, x, y, ElboOptions::default(), &mut ws).unwrap()
}

fn full_batch<'a>(
    model: &'a Svgp<Closed<Rbf>>,
    x: &'a [f64],
    y: &'a [f64],
) -> svgp::Result<FullBatchElbo<'a, Closed<Rbf>, f64, Vec<f64>>> {
    FullBatchElbo::new(model, x, y, vec![0.0; model.workspace_len(y.len())?])
}

fn adam_fit(p: &mut [f64], steps: usize, lr: f64, obj: &mut impl Objective<f64>) {
    let np = p.len();
    let (mut mu, mut nu, mut g) = (vec![0.0; np], vec![0.0; np], vec![0.0; np]);
    let mut adam = Adam::new(AdamConfig::new(lr).with_clip(10.0), &mut mu, &mut nu).unwrap();
    fit(obj, p, &mut g, &mut adam, steps, |_| ControlFlow::Continue(())).unwrap();
}

#[test]
fn minibatch_training_reaches_the_full_batch_optimum() {
    let (model, init, x, y) = setup();
    let start = full_elbo(&model, &init, &x, &y);

    let mut full = init.clone();
    adam_fit(&mut full, 1500, 0.02, &mut full_batch(&model, &x, &y).unwrap());
    let e_full = full_elbo(&model, &full, &x, &y);

    // Batches of 30: 10 steps per pass; 300 passes.
    let mb = Minibatch::new(y.len(), 30).unwrap();
    let src = SliceSource::new(&x, &y, 1, Xoshiro256::from_u64(10)).unwrap();
    let mut mws = vec![0.0; mb.workspace_len(&model).unwrap()];
    let mut obj = MinibatchElbo::new(model, mb, src, &mut mws).unwrap();
    let mut mini = init.clone();
    adam_fit(&mut mini, 3000, 0.005, &mut obj);
    let e_mini = full_elbo(&model, &mini, &x, &y);

    // Both climb far from the start; the minibatch run ends within 2% of the start-to-optimum
    // gain of the full-batch run.
    assert!(e_full - start > 100.0, "full batch: {start} -> {e_full}");
    let gap = (e_full - e_mini) / (e_full - start);
    assert!(gap < 0.02, "minibatch ELBO {e_mini} vs full batch {e_full} (start {start}): gap {gap}");
}

#[test]
fn minibatch_memory_does_not_depend_on_n() {
    let (model, ..) = setup();
    let small = Minibatch::new(1_000, 100).unwrap().workspace_len(&model).unwrap();
    let huge = Minibatch::new(1_000_000_000, 100).unwrap().workspace_len(&model).unwrap();
    assert_eq!(small, huge);
    // …and is the batch's: B inputs and targets plus the model's workspace for B points.
    assert_eq!(small, 100 + 100 + model.workspace_len(100).unwrap()); // D = 1
}
