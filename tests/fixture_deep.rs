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

fixture_tests!(setup);
