//! Adam, clipping and the fit loop: optax's definitions and the non-finite guarantee.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use core::ops::ControlFlow;
use svgp::optim::{clip_by_global_norm, global_norm, Adam, AdamConfig};
use svgp::train::{fit, Stop};
use svgp::Error;

#[test]
fn clipping_follows_optax() {
    let mut g = [3.0_f64, 4.0];
    assert_eq!(clip_by_global_norm(&mut g, 10.0), 5.0);
    assert_eq!(g, [3.0, 4.0]); // below the threshold: untouched
    let n = clip_by_global_norm(&mut g, 1.0);
    assert_eq!(n, 5.0);
    assert_eq!(g, [3.0 / 5.0 * 1.0, 4.0 / 5.0 * 1.0]); // (g / n)·c, in that order
    assert!((global_norm(&g) - 1.0).abs() < 1e-15);
}

/// optax.adam written out independently (bias corrections by powf), several steps.
#[test]
fn adam_matches_the_optax_recursion() {
    let cfg = AdamConfig { lr: 0.05, b1: 0.8, b2: 0.99, eps: 1e-6, clip_norm: None };
    let (mut mu, mut nu) = ([0.0; 3], [0.0; 3]);
    let mut adam = Adam::new(cfg, &mut mu, &mut nu).unwrap();
    let mut p = [0.3_f64, -1.0, 2.0];
    let mut q = p;
    let (mut m, mut v) = ([0.0_f64; 3], [0.0_f64; 3]);
    for t in 1..=6 {
        let g: Vec<f64> = q.iter().map(|x| (x * 1.7).sin() + 0.1 * t as f64).collect();
        let mut g2 = g.clone();
        adam.step(&mut p, &mut g2).unwrap();
        for i in 0..3 {
            m[i] = 0.2 * g[i] + 0.8 * m[i];
            v[i] = 0.01 * g[i] * g[i] + 0.99 * v[i];
            let mh = m[i] / (1.0 - 0.8_f64.powf(t as f64));
            let vh = v[i] / (1.0 - 0.99_f64.powf(t as f64));
            q[i] -= 0.05 * mh / (vh.sqrt() + 1e-6);
        }
        for i in 0..3 {
            assert!((p[i] - q[i]).abs() <= 1e-15 * (1.0 + q[i].abs()), "step {t}: {p:?} vs {q:?}");
        }
    }
    assert_eq!(adam.t(), 6);
}

#[test]
fn invalid_settings_are_errors() {
    let (mut mu, mut nu) = ([0.0_f64; 2], [0.0; 2]);
    assert!(matches!(
        Adam::new(AdamConfig::new(0.1).with_clip(0.0), &mut mu, &mut nu),
        Err(Error::InvalidParameter { .. })
    ));
    let mut short = [0.0_f64; 1];
    assert!(matches!(
        Adam::new(AdamConfig::new(0.1), &mut mu, &mut short),
        Err(Error::DimensionMismatch { .. })
    ));
}

/// f(θ) = Σ(θ − 1)², going NaN (loss or gradient) from step `bad` on.
fn run_until_non_finite(nan_in_grad: bool) {
    let bad = 4;
    let mut theta = [0.0_f64, 2.0];
    let (mut mu, mut nu, mut grad) = ([0.0; 2], [0.0; 2], [0.0; 2]);
    let mut adam = Adam::new(AdamConfig::new(0.1), &mut mu, &mut nu).unwrap();
    let mut calls = 0;
    let mut seen = Vec::new();
    let mut objective = |p: &[f64], g: &mut [f64]| {
        calls += 1;
        let mut loss = 0.0;
        for i in 0..2 {
            g[i] = 2.0 * (p[i] - 1.0);
            loss += (p[i] - 1.0).powi(2);
        }
        if calls >= bad {
            if nan_in_grad {
                g[1] = f64::NAN;
            } else {
                loss = f64::INFINITY;
            }
        }
        Ok(loss)
    };
    let mut snapshots: Vec<[f64; 2]> = Vec::new();
    let err = {
        let theta_ptr = &mut theta;
        fit(&mut objective, theta_ptr, &mut grad, &mut adam, 100, |r| {
            seen.push(r.step);
            ControlFlow::Continue(())
        })
        .unwrap_err()
    };
    match err {
        Error::NonFinite { what, .. } => {
            assert_eq!(what, if nan_in_grad { "loss gradient" } else { "loss" })
        }
        other => panic!("expected NonFinite, got {other:?}"),
    }
    assert_eq!(seen, [1, 2, 3]);
    // The parameters are exactly those after the 3 finite steps: replay them.
    let mut replay = [0.0_f64, 2.0];
    let (mut mu2, mut nu2) = ([0.0; 2], [0.0; 2]);
    let mut adam2 = Adam::new(AdamConfig::new(0.1), &mut mu2, &mut nu2).unwrap();
    for _ in 0..3 {
        let mut g = [2.0 * (replay[0] - 1.0), 2.0 * (replay[1] - 1.0)];
        adam2.step(&mut replay, &mut g).unwrap();
        snapshots.push(replay);
    }
    assert_eq!(theta, snapshots[2]);
    assert!(theta.iter().all(|v| v.is_finite()));
}

#[test]
fn non_finite_loss_stops_and_keeps_last_finite_params() {
    run_until_non_finite(false);
}

#[test]
fn non_finite_gradient_stops_and_keeps_last_finite_params() {
    run_until_non_finite(true);
}

#[test]
fn callback_can_stop_training() {
    let mut theta = [5.0_f64];
    let (mut mu, mut nu, mut grad) = ([0.0], [0.0], [0.0]);
    let mut adam = Adam::new(AdamConfig::new(0.1), &mut mu, &mut nu).unwrap();
    let mut obj = |p: &[f64], g: &mut [f64]| {
        g[0] = 2.0 * p[0];
        Ok(p[0] * p[0])
    };
    let s = fit(&mut obj, &mut theta, &mut grad, &mut adam, 50, |r| {
        if r.step == 7 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap();
    assert_eq!(s.steps, 7);
    assert_eq!(s.stop, Stop::Callback);
    assert_eq!(adam.t(), 7);
}
