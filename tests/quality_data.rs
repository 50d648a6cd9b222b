//! The experiment's data generator and grids (examples/deep_rff/experiment.rs) against the JAX
//! fixture's definitions and against their own statistics. Fast: no training.
//!
//! Needs the `std` feature: the experiment's training code splits the data across threads
//! (`svgp::train::Trainer::split`), so `cargo test --no-default-features` skips it.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
#[path = "../examples/deep_rff/experiment.rs"]
mod experiment;

mod common;

use common::fixture::{floats, load, RBF};

fn max_diff(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn grids_match_the_jax_fixture() {
    let fx = load(RBF);
    // jnp.linspace(-1, 1, 80): XLA's evaluation order of the same formula differs from ours in
    // the last bit for about a third of the points; the endpoints are exact.
    let axis = experiment::linspace(-1.0, 1.0, 80);
    let axis_ref = floats(&fx["data"]["grid"]["axis"]);
    assert_eq!((axis[0], axis[79]), (axis_ref[0], axis_ref[79]));
    assert!(max_diff(&axis, &axis_ref) <= 4.0 * f64::EPSILON, "grid axis differs from jnp.linspace");
    // The 6 × 5 inducing grid, x1 fastest (same last-bit caveat).
    let z = experiment::inducing_grid();
    assert_eq!(z.len(), 60);
    assert!(max_diff(&z, &floats(&fx["init"]["Z"])) <= 4.0 * f64::EPSILON, "Z differs from the fixture's");
    // The 80 × 80 grid and f_true on it (libm vs XLA sin: a few ulps).
    let (pts, f) = experiment::eval_grid();
    assert_eq!(pts.len(), 2 * 6400);
    let f_ref = floats(&fx["data"]["grid"]["f_true"]);
    let worst = max_diff(&f, &f_ref);
    assert!(worst < 1e-13, "f_true on the grid differs from JAX by {worst:e}");
    // The notebook's x1-fastest order: point 1 moves x1, point 80 moves x2.
    assert!(pts[2] > pts[0] && pts[3] == pts[1]);
    assert!(pts[2 * 80 + 1] > pts[1] && pts[2 * 80] == pts[0]);
}

#[test]
fn linspace_endpoints_and_monotone() {
    let a = experiment::linspace(-0.8, 0.8, 6);
    assert_eq!((a[0], a[5]), (-0.8, 0.8));
    assert!(a.windows(2).all(|w| w[1] > w[0]));
    assert_eq!(experiment::linspace(2.0, 3.0, 1), vec![2.0]);
    assert!(experiment::linspace(2.0, 3.0, 0).is_empty());
}

#[test]
fn data_follow_the_recipe() {
    let d = experiment::make_data(20_000, 11);
    assert_eq!((d.x.len(), d.y.len()), (40_000, 20_000));
    assert!(d.x.iter().all(|v| (-1.0..1.0).contains(v)));
    // Inputs uniform on [−1, 1]: mean 0, variance 1/3 per coordinate.
    for c in 0..2 {
        let xs: Vec<f64> = d.x.iter().skip(c).step_by(2).copied().collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.02, "coordinate {c}: mean {mean}");
        assert!((var - 1.0 / 3.0).abs() < 0.01, "coordinate {c}: variance {var}");
    }
    // Residuals y − f(x): mean 0, std 0.1 (standard error of the std ≈ 0.1/√(2n) = 5e-4).
    let r: Vec<f64> =
        d.y.iter().zip(d.x.chunks_exact(2)).map(|(y, p)| y - experiment::f_true(p[0], p[1])).collect();
    let mean = r.iter().sum::<f64>() / r.len() as f64;
    let std = (r.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / r.len() as f64).sqrt();
    assert!(mean.abs() < 0.003, "noise mean {mean}");
    assert!((std - experiment::NOISE_STD).abs() < 0.003, "noise std {std}");
}

#[test]
fn seeds_are_reproducible_and_distinct() {
    let a = experiment::make_data(600, 0);
    let b = experiment::make_data(600, 0);
    assert_eq!((a.x.clone(), a.y.clone()), (b.x, b.y));
    let c = experiment::make_data(600, 1);
    assert_ne!(a.x, c.x);
    // The data and init streams never coincide across seeds: data seeds are even, init odd.
    let streams: Vec<(u64, u64)> = (0..100).map(experiment::seeds).collect();
    for &(d, i) in &streams {
        assert!(streams.iter().all(|&(d2, _)| d2 != i), "init stream {i} reused as data stream {d}");
    }
}
