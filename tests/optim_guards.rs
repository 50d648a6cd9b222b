//! The optimiser refuses what cannot work: settings that cannot train (at construction, in the
//! scalar type actually used), and updates that would leave a non-finite parameter (before
//! anything is written). Frozen parameters never move and keep zero moments.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test

use core::ops::ControlFlow;
use svgp::optim::{Adam, AdamConfig};
use svgp::train::{fit, Stop};
use svgp::Error;

fn build<S: svgp::Scalar>(cfg: AdamConfig) -> Result<(), Error> {
    let (mut mu, mut nu) = (vec![S::zero(); 2], vec![S::zero(); 2]);
    Adam::new(cfg, &mut mu, &mut nu).map(|_| ())
}

fn refused<S: svgp::Scalar>(cfg: AdamConfig, what_starts: &str) {
    match build::<S>(cfg) {
        Err(Error::InvalidParameter { what, .. }) => {
            assert!(what.starts_with(what_starts), "{cfg:?}: error names {what:?}, not {what_starts:?}")
        }
        other => panic!("{cfg:?} should be refused, got {other:?}"),
    }
}

#[test]
fn settings_that_cannot_train_are_refused_at_construction() {
    let ok = AdamConfig::new(1e-2);
    for lr in [0.0, -1e-2, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        refused::<f64>(AdamConfig { lr, ..ok }, "Adam learning rate");
    }
    for eps in [0.0, -1e-8, f64::NAN, f64::INFINITY] {
        refused::<f64>(AdamConfig { eps, ..ok }, "Adam eps");
    }
    for b in [-0.1, 1.0, 1.5, f64::NAN] {
        refused::<f64>(AdamConfig { b1: b, ..ok }, "Adam b1");
        refused::<f64>(AdamConfig { b2: b, ..ok }, "Adam b2");
    }
    for c in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        refused::<f64>(ok.with_clip(c), "clip norm");
    }
    // The edges that do work stay accepted.
    build::<f64>(AdamConfig { b1: 0.0, b2: 0.0, ..ok }).unwrap();
    build::<f64>(ok.with_clip(1e-300)).unwrap();
}

#[test]
fn settings_are_checked_in_the_scalar_type_used() {
    // Finite and positive in f64, but infinite or zero once converted to f32.
    let huge_lr = AdamConfig::new(1e39);
    build::<f64>(huge_lr).unwrap();
    refused::<f32>(huge_lr, "Adam learning rate");
    let tiny_eps = AdamConfig { eps: 1e-50, ..AdamConfig::new(1e-2) };
    build::<f64>(tiny_eps).unwrap();
    refused::<f32>(tiny_eps, "Adam eps");
    refused::<f32>(AdamConfig::new(1e-2).with_clip(1e39), "clip norm");
    build::<f32>(AdamConfig::new(1e-2).with_clip(1.0)).unwrap();
}

/// Runs one step that must be refused and checks that nothing moved: parameters, moments and
/// the step count are those of before, and a following good step gives what a fresh state
/// would after the same history.
#[test]
fn a_refused_update_writes_nothing() {
    let (mut mu, mut nu) = ([0.0_f64; 2], [0.0; 2]);
    let mut adam = Adam::new(AdamConfig::new(0.1), &mut mu, &mut nu).unwrap();
    let mut p = [1.0_f64, 2.0];
    adam.step(&mut p, &mut [0.5, -0.5]).unwrap();
    let (p1, m1, v1) = (p, adam.moments().0.to_vec(), adam.moments().1.to_vec());
    // A NaN in the second entry: the first entry's update is fine but must not be written either.
    let err = adam.step(&mut p, &mut [0.25, f64::NAN]).unwrap_err();
    assert!(matches!(err, Error::NonFinite { index: 1, .. }), "{err:?}");
    assert_eq!(p, p1);
    assert_eq!((adam.moments().0, adam.moments().1), (&m1[..], &v1[..]));
    assert_eq!(adam.t(), 1);
    // The state continues as if the refused step never happened.
    adam.step(&mut p, &mut [0.25, 0.25]).unwrap();
    let (mut mu2, mut nu2) = ([0.0_f64; 2], [0.0; 2]);
    let mut fresh = Adam::new(AdamConfig::new(0.1), &mut mu2, &mut nu2).unwrap();
    let mut q = [1.0_f64, 2.0];
    fresh.step(&mut q, &mut [0.5, -0.5]).unwrap();
    fresh.step(&mut q, &mut [0.25, 0.25]).unwrap();
    assert_eq!(p, q);
}

#[test]
fn an_overflowing_second_moment_in_f32_is_refused() {
    // g = 1e20 is finite in f32, g² is not: ν would become infinite and freeze training.
    let (mut mu, mut nu) = ([0.0_f32; 1], [0.0_f32; 1]);
    let mut adam = Adam::new(AdamConfig::new(1e-2), &mut mu, &mut nu).unwrap();
    let mut p = [1.0_f32];
    let err = adam.step(&mut p, &mut [1e20]).unwrap_err();
    assert!(matches!(err, Error::NonFinite { what: "Adam second moment", index: 0, .. }), "{err:?}");
    assert_eq!(p, [1.0]);
    assert_eq!(adam.moments(), (&[0.0_f32][..], &[0.0_f32][..]));
}

/// Minimising the linear loss θ with lr 1e308 from θ = 1.5e308: Adam moves θ by about −1e308 a
/// step, so the fourth update overflows to −∞. `fit` must return the typed error naming the
/// parameter and keep θ at its value after three steps.
#[test]
fn fit_keeps_the_last_finite_parameters_when_an_update_overflows() {
    let cfg = AdamConfig::new(1e308);
    let mut obj = |p: &[f64], g: &mut [f64]| {
        g[0] = 1.0;
        Ok(p[0] * 1e-300)
    };
    let mut theta = [1.5e308_f64];
    let (mut mu, mut nu, mut grad) = ([0.0], [0.0], [0.0]);
    let mut adam = Adam::new(cfg, &mut mu, &mut nu).unwrap();
    let mut seen = Vec::new();
    let err = fit(&mut obj, &mut theta, &mut grad, &mut adam, 10, |r| {
        seen.push(r.params[0]);
        ControlFlow::Continue(())
    })
    .unwrap_err();
    match err {
        Error::NonFinite { what: "parameter after the Adam update", index: 0, value } => {
            assert_eq!(value, f64::NEG_INFINITY)
        }
        other => panic!("expected the refused update, got {other:?}"),
    }
    assert_eq!(seen.len(), 3);
    assert_eq!(theta[0], seen[2]);
    assert!(theta[0].is_finite());
    // Replay: three plain steps give the same θ.
    let (mut mu2, mut nu2) = ([0.0], [0.0]);
    let mut replay = Adam::new(cfg, &mut mu2, &mut nu2).unwrap();
    let mut q = [1.5e308_f64];
    for _ in 0..3 {
        replay.step(&mut q, &mut [1.0]).unwrap();
    }
    assert_eq!(theta, q);
}

#[test]
fn frozen_parameters_never_move_and_keep_zero_moments() {
    // (a − 1)² + (b − 2)² with b frozen, clipped: a's path is the 1-parameter run's, bit for bit
    // (the frozen gradient does not count in the clipping norm).
    let cfg = AdamConfig::new(0.05).with_clip(0.5);
    let mut two = |p: &[f64], g: &mut [f64]| {
        (g[0], g[1]) = (2.0 * (p[0] - 1.0), 2.0 * (p[1] - 2.0));
        Ok((p[0] - 1.0).powi(2) + (p[1] - 2.0).powi(2))
    };
    let mut one = |p: &[f64], g: &mut [f64]| {
        g[0] = 2.0 * (p[0] - 1.0);
        Ok((p[0] - 1.0).powi(2))
    };
    let frozen = [false, true];
    let (mut mu, mut nu, mut g) = ([0.0; 2], [0.0; 2], [0.0; 2]);
    let mut adam = Adam::new(cfg, &mut mu, &mut nu).unwrap().with_frozen(&frozen).unwrap();
    let mut p = [-3.0_f64, 365.25];
    let s = fit(&mut two, &mut p, &mut g, &mut adam, 200, |_| ControlFlow::Continue(())).unwrap();
    assert_eq!(s.stop, Stop::Steps);
    assert_eq!(p[1].to_bits(), 365.25_f64.to_bits());
    assert_eq!((adam.moments().0[1], adam.moments().1[1]), (0.0, 0.0));
    assert!(adam.moments().1[0] > 0.0);
    let (mut mu1, mut nu1, mut g1) = ([0.0; 1], [0.0; 1], [0.0; 1]);
    let mut adam1 = Adam::new(cfg, &mut mu1, &mut nu1).unwrap();
    let mut q = [-3.0_f64];
    fit(&mut one, &mut q, &mut g1, &mut adam1, 200, |_| ControlFlow::Continue(())).unwrap();
    assert_eq!(p[0].to_bits(), q[0].to_bits());
    // A mask of the wrong length is a typed error.
    let (mut mu3, mut nu3) = ([0.0_f64; 2], [0.0; 2]);
    let r = Adam::new(cfg, &mut mu3, &mut nu3).unwrap().with_frozen(&[true]);
    assert!(matches!(r, Err(Error::DimensionMismatch { .. })));
}
