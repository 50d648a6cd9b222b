//! The whole SVGP with the RBF kernel against the JAX reference (fixture
//! `tests/data/flagship_rbf_seed0_tril.json`): ELBO and gradient, Adam steps, predictions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::fixture::{Fixture, RBF};
use svgp::gp::{Closed, Svgp};
use svgp::kernel::Rbf;

fn setup() -> (Fixture, Svgp<Closed<Rbf>>) {
    let f = Fixture::open(RBF);
    assert_eq!(f.kernel, "rbf");
    let model = Svgp::new(Closed(Rbf::new(2)), f.m, f.jitter).unwrap();
    assert_eq!(model.n_params(), f.init.len());
    (f, model)
}

fixture_tests!(setup);
