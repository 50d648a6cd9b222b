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

fixture_tests!(setup);
