//! The fit loop's options: the best iterate (restored on every outcome), early stopping by
//! patience, the parameters seen by the callback, and the one-call [`Trainer`] (frozen mask,
//! threaded SVGP training bit-identical to the hand-written loop).
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test

use core::ops::ControlFlow;
use svgp::features::DeepRff;
use svgp::gp::{ElboOptions, Features, Prior, Svgp};
use svgp::nn::{Activation, Mlp};
use svgp::objective::Objective;
use svgp::optim::{Adam, AdamConfig};
use svgp::parallel::{with_split_elbo, Split};
use svgp::rng::{standard_normal, uniform, Xoshiro256};
use svgp::train::{fit, fit_with, FitOptions, Stop, Trainer};
use svgp::Error;

/// An objective whose losses follow `script` (the gradient is the parameter, so Adam moves it).
fn scripted(script: &[f64]) -> impl FnMut(&[f64], &mut [f64]) -> svgp::Result<f64> + '_ {
    let mut k = 0;
    move |p: &[f64], g: &mut [f64]| {
        g.copy_from_slice(p);
        let loss =
            script.get(k).copied().ok_or(Error::InvalidParameter { what: "script ended", value: k as f64 });
        k += 1;
        loss
    }
}

/// Runs `opts` on `script`, recording the parameters each loss was evaluated at.
fn run(script: &[f64], opts: FitOptions) -> (svgp::Result<svgp::train::FitSummary>, Vec<[f64; 2]>, [f64; 2]) {
    let mut obj = scripted(script);
    let mut at = Vec::new();
    let mut recording = |p: &[f64], g: &mut [f64]| {
        at.push([p[0], p[1]]);
        obj(p, g)
    };
    let mut theta = [1.0, -2.0];
    let (mut mu, mut nu) = ([0.0; 2], [0.0; 2]);
    let mut adam = Adam::new(AdamConfig::new(0.1), &mut mu, &mut nu).unwrap();
    let mut ws = vec![0.0; opts.workspace_len(2).unwrap()];
    let r = fit_with(&mut recording, &mut theta, &mut adam, &opts, &mut ws, |_| ControlFlow::Continue(()));
    (r, at, theta)
}

#[test]
fn keep_best_restores_the_lowest_loss_iterate() {
    let script = [5.0, 3.0, 1.0, 2.0, 4.0, 6.0];
    let (r, at, theta) = run(&script, FitOptions::new(6).keep_best());
    let s = r.unwrap();
    assert_eq!((s.steps, s.best_step, s.best_loss, s.last_loss, s.stop), (6, 3, 1.0, 6.0, Stop::Steps));
    assert_eq!(theta, at[2]); // the parameters the loss 1.0 was evaluated at
                              // Without keep_best: the last parameters, the best still reported.
    let (r, at2, theta2) = run(&script, FitOptions::new(6));
    assert_eq!(r.unwrap().best_step, 3);
    assert_eq!(at, at2);
    assert_ne!(theta2, at[2]);
}

#[test]
fn keep_best_restores_on_errors_too() {
    // The objective fails at the 5th call (script ended) and returns NaN in another run.
    let (r, at, theta) = run(&[5.0, 1.0, 3.0, 4.0], FitOptions::new(10).keep_best());
    assert!(matches!(r, Err(Error::InvalidParameter { what: "script ended", .. })));
    assert_eq!(theta, at[1]);
    let (r, at, theta) = run(&[5.0, 2.0, 1.0, f64::NAN], FitOptions::new(10).keep_best());
    assert!(matches!(r, Err(Error::NonFinite { what: "loss", index: 4, .. })));
    assert_eq!(theta, at[2]);
}

#[test]
fn patience_stops_after_that_many_steps_without_improvement() {
    let script = [5.0, 4.0, 3.0, 3.0, 3.5, 3.2, 1.0, 0.5];
    let (r, at, _) = run(&script, FitOptions::new(8).patience(3));
    let s = r.unwrap();
    // Improvements at steps 1–3; steps 4, 5, 6 do not improve: stop after step 6.
    assert_eq!((s.steps, s.stop, s.best_step), (6, Stop::Patience, 3));
    assert_eq!(at.len(), 6);
    // One more step of patience and the improvement at step 7 resets the count.
    let s = run(&script, FitOptions::new(8).patience(4)).0.unwrap();
    assert_eq!((s.steps, s.stop, s.best_step), (8, Stop::Steps, 8));
}

#[test]
fn min_improvement_counts_only_large_enough_decreases() {
    // With δ = 0.6: 9.5 is not below 10 − 0.6, 9.2 is (new mark); 9.1 and 9.05 are not below 8.6.
    let script = [10.0, 9.5, 9.2, 9.1, 9.05, 1.0];
    let (r, at, theta) = run(&script, FitOptions::new(6).patience(2).min_improvement(0.6).keep_best());
    let s = r.unwrap();
    assert_eq!((s.steps, s.stop), (5, Stop::Patience));
    // The best iterate is the lowest loss, whatever the improvement threshold.
    assert_eq!((s.best_step, s.best_loss), (5, 9.05));
    assert_eq!(theta, at[4]);
}

#[test]
fn bad_options_and_buffers_are_typed_errors() {
    for opts in [FitOptions::new(3).patience(0), FitOptions::new(3).min_improvement(-1.0)] {
        assert!(matches!(run(&[1.0; 3], opts).0, Err(Error::InvalidParameter { .. })), "{opts:?}");
    }
    assert!(matches!(
        run(&[1.0; 3], FitOptions::new(3).min_improvement(f64::NAN)).0,
        Err(Error::InvalidParameter { .. })
    ));
    let (mut mu, mut nu) = ([0.0; 2], [0.0; 2]);
    let mut adam = Adam::new(AdamConfig::new(0.1), &mut mu, &mut nu).unwrap();
    let opts = FitOptions::new(3).keep_best();
    let mut short = vec![0.0; 3];
    let r = fit_with(&mut scripted(&[1.0; 3]), &mut [0.0, 0.0], &mut adam, &opts, &mut short, |_| {
        ControlFlow::Continue(())
    });
    assert!(matches!(r, Err(Error::BufferTooSmall { needed: 4, found: 3, .. })), "{r:?}");
    let r = fit(&mut scripted(&[1.0; 3]), &mut [0.0; 3], &mut [0.0; 3], &mut adam, 3, |_| {
        ControlFlow::Continue(())
    });
    assert!(matches!(r, Err(Error::DimensionMismatch { expected: 2, found: 3, .. })), "{r:?}");
    assert!(matches!(
        FitOptions::new(1).keep_best().workspace_len(usize::MAX),
        Err(Error::SizeOverflow { .. })
    ));
}

#[test]
fn the_callback_sees_the_parameters_after_each_update() {
    let mut calls: Vec<f64> = Vec::new();
    let mut obj = |p: &[f64], g: &mut [f64]| {
        calls.push(p[0]);
        g[0] = 2.0 * (p[0] - 3.0);
        Ok((p[0] - 3.0).powi(2))
    };
    let mut reported = Vec::new();
    let (mut mu, mut nu, mut g) = ([0.0], [0.0], [0.0]);
    let mut adam = Adam::new(AdamConfig::new(0.1), &mut mu, &mut nu).unwrap();
    let mut theta = [0.0_f64];
    fit(&mut obj, &mut theta, &mut g, &mut adam, 5, |r| {
        reported.push(r.params[0]);
        ControlFlow::Continue(())
    })
    .unwrap();
    // Report k holds the parameters evaluated at step k + 1; the last one is the result.
    assert_eq!(&reported[..4], &calls[1..]);
    assert_eq!(reported[4], theta[0]);
}

fn deep_problem() -> (Svgp<Features<DeepRff>>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let map = DeepRff::new(Mlp::new(&[2, 8, 8, 4], Activation::Tanh).unwrap(), 32).unwrap();
    let model = Svgp::new(Features(map), 6, 1e-4).unwrap();
    let mut pp = vec![0.0; model.prior().n_params()]; // [ln σ² | the map's parameters]
    map.init(&mut Xoshiro256::from_u64(3), 0.5, model.prior().parts(&mut pp[..]).unwrap().map).unwrap();
    let z: Vec<f64> = (0..12).map(|i| -0.8 + 0.13 * i as f64).collect();
    let mut p = vec![0.0; model.n_params()];
    model.init_params(&pp, &z, 0.01, &mut p).unwrap();
    let mut r = Xoshiro256::from_u64(9);
    let x: Vec<f64> = (0..2 * 75).map(|_| uniform(&mut r, -1.0, 1.0)).collect();
    let y = x.chunks(2).map(|q| (q[0] * 3.0).sin() - q[1] + 0.1 * standard_normal(&mut r)).collect();
    (model, p, x, y)
}

/// The one-call threaded trainer gives, bit for bit, what the hand-written loop of the
/// flagship example gave (split ELBO + clipped Adam), on any number of threads.
#[test]
fn trainer_fit_svgp_matches_the_hand_written_split_loop() {
    let (model, init, x, y) = deep_problem();
    let cfg = AdamConfig::new(1e-2).with_clip(1.0);
    let steps = 25;
    let np = init.len();
    let mut by_hand = init.clone();
    let mut losses_by_hand = Vec::new();
    let (mut g, mut mu, mut nu) = (vec![0.0; np], vec![0.0; np], vec![0.0; np]);
    let mut adam = Adam::new(cfg, &mut mu, &mut nu).unwrap();
    with_split_elbo(&model, &x, &y, ElboOptions::default(), Split::new(2, 1), |team| {
        let mut objective = |p: &[f64], gr: &mut [f64]| {
            let elbo = team.elbo_and_grad(p, gr)?;
            gr.iter_mut().for_each(|v| *v = -*v);
            Ok(-elbo)
        };
        fit(&mut objective, &mut by_hand, &mut g, &mut adam, steps, |r| {
            losses_by_hand.push(r.loss);
            ControlFlow::Continue(())
        })
        .unwrap();
    })
    .unwrap();
    for threads in [1, 2, 3] {
        let mut p = init.clone();
        let mut losses = Vec::new();
        let trainer = Trainer::new(cfg, FitOptions::new(steps)).split(Split::new(2, threads));
        trainer
            .fit_svgp(&model, &mut p, &x, &y, |r| {
                losses.push(r.loss);
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(p, by_hand, "{threads} threads");
        assert_eq!(losses, losses_by_hand, "{threads} threads");
    }
    // One chunk: the full-batch objective, the same bits as the split's single chunk.
    let mut one = init.clone();
    Trainer::new(cfg, FitOptions::new(steps))
        .fit_svgp(&model, &mut one, &x, &y, |_| ControlFlow::Continue(()))
        .unwrap();
    let mut one_split = init.clone();
    Trainer::new(cfg, FitOptions::new(steps))
        .split(Split::new(1, 2))
        .fit_svgp(&model, &mut one_split, &x, &y, |_| ControlFlow::Continue(()))
        .unwrap();
    assert_eq!(one, one_split);
}

#[test]
fn trainer_freezes_by_mask_and_keeps_the_best() {
    let (model, init, x, y) = deep_problem();
    // The prior's variance (first) and the noise variance (last) fixed.
    let mut frozen = vec![false; init.len()];
    frozen[0] = true;
    frozen[init.len() - 1] = true;
    let mut p = init.clone();
    let trainer =
        Trainer::new(AdamConfig::new(5e-2).with_clip(1.0), FitOptions::new(40).keep_best()).freeze(&frozen);
    let s = trainer.fit_svgp(&model, &mut p, &x, &y, |_| ControlFlow::Continue(())).unwrap();
    for (k, f) in frozen.iter().enumerate() {
        if *f {
            assert_eq!(p[k].to_bits(), init[k].to_bits(), "frozen parameter {k} moved");
        }
    }
    assert!(p.iter().zip(&init).any(|(a, b)| a != b));
    // keep_best: the result's loss is the best one reported.
    let mut check = svgp::objective::FullBatchElbo::alloc(&model, &x, &y).unwrap();
    let loss = check.loss_and_grad(&p, &mut vec![0.0; p.len()]).unwrap();
    assert_eq!(loss, s.best_loss);
    // A mask of the wrong length is refused before training.
    let bad = Trainer::new(AdamConfig::new(1e-2), FitOptions::new(3)).freeze(&frozen[1..]);
    let r = bad.fit_svgp(&model, &mut p, &x, &y, |_| ControlFlow::Continue(()));
    assert!(matches!(r, Err(Error::DimensionMismatch { .. })), "{r:?}");
}
