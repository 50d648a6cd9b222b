//! Cross-implementation check against the JAX reference, RBF kernel (../shared/fixtures).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod fixture_common;

use core::ops::ControlFlow;
use fixture_common::*;
use svgp::gp::{Closed, ElboOptions, Svgp};
use svgp::kernel::Rbf;
use svgp::optim::{Adam, AdamConfig};
use svgp::train::fit;

const FILE: &str = "flagship_rbf_seed0_tril.json";

fn setup() -> (Fixture, Svgp<Closed<Rbf>>) {
    let f = Fixture::open(FILE);
    assert_eq!(f.kernel, "rbf");
    let model = Svgp::new(Closed(Rbf::new(2)), f.m, f.jitter).unwrap();
    assert_eq!(model.n_params(), f.init.len());
    (f, model)
}

#[test]
fn elbo_and_gradient_at_init_match_jax() {
    let (f, model) = setup();
    let n = f.y.len();
    let mut ws = vec![0.0; model.workspace_len(n)];
    let mut grad = vec![0.0; model.n_params()];
    let elbo = model.elbo_and_grad(&f.init, &f.x, &f.y, ElboOptions::default(), &mut grad, &mut ws).unwrap();
    let r = rel(-elbo, f.neg_elbo(1));
    println!("rbf step-1 −ELBO {} vs JAX {} (rel {r:.2e})", -elbo, f.neg_elbo(1));
    assert!(r <= 1e-9, "ELBO rel error {r:e}");
    let neg_grad: Vec<f64> = grad.iter().map(|g| -g).collect();
    let rg = rel_norm(&neg_grad, &f.grad_init);
    println!("rbf gradient at init: ‖Δ‖/‖g‖ = {rg:.2e}");
    assert!(rg <= 1e-7, "gradient rel error {rg:e}");
}

#[test]
fn one_step_and_early_trace_match_jax() {
    let (f, model) = setup();
    let n = f.y.len();
    let mut ws = vec![0.0; model.workspace_len(n)];
    let mut params = f.init.clone();
    let np = model.n_params();
    let (mut mu, mut nu, mut grad) = (vec![0.0; np], vec![0.0; np], vec![0.0; np]);
    let mut adam = Adam::new(AdamConfig::new(f.lr).with_clip(f.clip), &mut mu, &mut nu).unwrap();
    let mut losses = Vec::new();
    let objective = |p: &[f64], g: &mut [f64]| {
        let e = model.elbo_and_grad(p, &f.x, &f.y, ElboOptions::default(), g, &mut ws)?;
        g.iter_mut().for_each(|v| *v = -*v);
        Ok(-e)
    };
    fit(objective, &mut params, &mut grad, &mut adam, 100, |r| {
        losses.push(r.loss);
        ControlFlow::Continue(())
    })
    .unwrap();
    for step in [2, 3, 10] {
        let r = rel(losses[step - 1], f.neg_elbo(step));
        println!("rbf step {step}: −ELBO {} vs JAX {} (rel {r:.2e})", losses[step - 1], f.neg_elbo(step));
        assert!(r <= 1e-8, "step {step} rel error {r:e}");
    }
    println!(
        "rbf step 100 (not asserted): −ELBO {} vs JAX {} (rel {:.2e})",
        losses[99],
        f.neg_elbo(100),
        rel(losses[99], f.neg_elbo(100))
    );
}

#[test]
fn params_after_one_adam_step_match_jax() {
    let (f, model) = setup();
    let n = f.y.len();
    let mut ws = vec![0.0; model.workspace_len(n)];
    let np = model.n_params();
    let mut grad = vec![0.0; np];
    model.elbo_and_grad(&f.init, &f.x, &f.y, ElboOptions::default(), &mut grad, &mut ws).unwrap();
    grad.iter_mut().for_each(|v| *v = -*v);
    let (mut mu, mut nu) = (vec![0.0; np], vec![0.0; np]);
    let mut adam = Adam::new(AdamConfig::new(f.lr).with_clip(f.clip), &mut mu, &mut nu).unwrap();
    let mut params = f.init.clone();
    adam.step(&mut params, &mut grad).unwrap();
    let d = max_abs_diff(&params, &f.after_1);
    println!("rbf params after one step: max |Δ| = {d:.2e}");
    assert!(d <= 1e-9, "after-1-step max abs diff {d:e}");
}

#[test]
fn predictions_at_final_params_match_jax() {
    let (f, model) = setup();
    check_final_predictions(&f, &model);
}
