//! Cross-implementation check against the JAX reference, RBF kernel (../shared/fixtures).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod fixture_common;

use fixture_common::*;
use svgp::gp::{Closed, Svgp};
use svgp::kernel::Rbf;

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
    check_init(&f, &model);
}

#[test]
fn one_step_and_early_trace_match_jax() {
    let (f, model) = setup();
    check_early_trace(&f, &model);
}

#[test]
fn params_after_one_adam_step_match_jax() {
    let (f, model) = setup();
    check_one_step(&f, &model);
}

#[test]
fn predictions_at_final_params_match_jax() {
    let (f, model) = setup();
    check_final_predictions(&f, &model);
}
