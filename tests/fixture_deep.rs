//! Cross-implementation check against the JAX reference, deep RFF kernel (../shared/fixtures).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod fixture_common;

use fixture_common::*;
use svgp::features::DeepRff;
use svgp::gp::{Features, Svgp};
use svgp::nn::{Activation, Mlp};

const FILE: &str = "flagship_deep_seed0_tril.json";

fn setup() -> (Fixture, Svgp<Features<DeepRff>>) {
    let f = Fixture::open(FILE);
    assert_eq!(f.kernel, "deep");
    let map = DeepRff::new(Mlp::equinox(2, 32, 2, 8, Activation::Tanh).unwrap(), 256).unwrap();
    let model = Svgp::new(Features(map), f.m, f.jitter).unwrap();
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
