//! Prediction in blocks agrees with point-by-point prediction and with the ELBO's own μ.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::gp::*;
use svgp::gp::{Closed, ElboOptions, Features, Prior, Svgp, PREDICT_CHUNK};
use svgp::kernel::Rbf;
use svgp::rng::{standard_normal, uniform, Xoshiro256};

fn check<P: Prior>(model: &Svgp<P>, prior: &[f64]) {
    let mut rng = Xoshiro256::from_u64(1);
    let p = random_params(model, prior, &mut rng);
    let n = 2 * PREDICT_CHUNK + 37;
    let d = model.input_dim();
    let xs: Vec<f64> = (0..n * d).map(|_| uniform(&mut rng, -1.5, 1.5)).collect();
    let (mut mean, mut var) = (vec![0.0; n], vec![0.0; n]);
    let mut ws = vec![0.0; model.predict_workspace_len(n).unwrap()];
    assert_eq!(model.predict_workspace_len(n).unwrap(), model.predict_workspace_len(PREDICT_CHUNK).unwrap());
    model.predict(&p, &xs, &mut mean, &mut var, &mut ws).unwrap();
    let mut ws1 = vec![0.0; model.predict_workspace_len(1).unwrap()];
    for i in (0..n).step_by(13) {
        let (mut m1, mut v1) = ([0.0], [0.0]);
        model.predict(&p, &xs[i * d..(i + 1) * d], &mut m1, &mut v1, &mut ws1).unwrap();
        assert!((m1[0] - mean[i]).abs() <= 1e-12 * (1.0 + mean[i].abs()), "mean {i}");
        assert!((v1[0] - var[i]).abs() <= 1e-12 * (1.0 + var[i].abs()), "var {i}");
    }
    assert!(var.iter().all(|&v| v >= 0.0));
    // The predictive mean enters the ELBO: with y = mean the fit term vanishes, so the ELBO
    // is larger than with y = mean + 1.
    let mut wse = vec![0.0; model.workspace_len(n).unwrap()];
    let e0 = model.elbo(&p, &xs, &mean, ElboOptions::default(), &mut wse).unwrap();
    let y1: Vec<f64> = mean.iter().map(|m| m + 1.0).collect();
    let e1 = model.elbo(&p, &xs, &y1, ElboOptions::default(), &mut wse).unwrap();
    let s2 = model.params(&p).unwrap().likelihood.noise_variance();
    assert!((e0 - e1 - n as f64 / (2.0 * s2)).abs() <= 1e-8 * e0.abs().max(1.0));
}

#[test]
fn blocked_prediction_rbf() {
    let model = Svgp::new(Closed(Rbf::new(2)), 6, 1e-6).unwrap();
    check(&model, &Rbf::params(1.3, 0.5));
}

#[test]
fn blocked_prediction_feature_kernel() {
    let map = TestRff { d: 2, j: 9 };
    let model = Svgp::new(Features(map), 5, 1e-4).unwrap();
    let mut rng = Xoshiro256::from_u64(4);
    let mut prior = vec![0.2_f64];
    prior.extend((0..map.d * map.j).map(|_| standard_normal(&mut rng)));
    prior.extend((0..map.j).map(|_| uniform(&mut rng, 0.0, std::f64::consts::TAU)));
    prior.push(0.5_f64.ln());
    check(&model, &prior);
}
