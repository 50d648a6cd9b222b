//! The whole SVGP with the deep RFF kernel against the JAX reference (fixture
//! `tests/data/flagship_deep_seed0_tril.json`): ELBO and gradient, Adam steps, predictions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::fixture::{flagship_deep_map, Fixture, DEEP};
use svgp::features::DeepRff;
use svgp::gp::{Features, Svgp};

fn setup() -> (Fixture, Svgp<Features<DeepRff>>) {
    let f = Fixture::open(DEEP);
    assert_eq!(f.kernel, "deep");
    let map = flagship_deep_map();
    let model = Svgp::new(Features(map), f.m, f.jitter).unwrap();
    assert_eq!(model.n_params(), f.init.len());
    (f, model)
}

fixture_tests!(setup);
