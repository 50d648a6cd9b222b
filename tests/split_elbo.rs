//! The split ELBO ([`svgp::parallel::with_split_elbo`]): its numbers depend on the chunk count
//! only (bit-identical on 1, 2 and 3 threads), equal the whole-batch ELBO and gradient up to
//! rounding (≤ 1e-12 relative in f64), survive many calls and errors, and reject bad splits.
#![cfg(feature = "std")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test

use svgp::features::DeepRff;
use svgp::gp::{Closed, ElboOptions, Features, Prior, Svgp};
use svgp::kernel::Rbf;
use svgp::nn::{Activation, Mlp};
use svgp::parallel::{with_split_elbo, Split};
use svgp::rng::{standard_normal, uniform, Xoshiro256};
use svgp::Error;

fn data(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut r = Xoshiro256::from_u64(seed);
    let x: Vec<f64> = (0..2 * n).map(|_| uniform(&mut r, -1.0, 1.0)).collect();
    let y = x.chunks(2).map(|p| (p[0] * 3.0).sin() - p[1] + 0.1 * standard_normal(&mut r)).collect();
    (x, y)
}

/// m and L away from their initial values so every term of the gradient is non-trivial.
fn perturb<P: Prior>(model: &Svgp<P>, p: &mut [f64], seed: u64) {
    let mut r = Xoshiro256::from_u64(seed);
    let mut v = model.params_mut(p).unwrap();
    for x in v.mean.iter_mut().chain(v.scale_tril.as_mut_slice()) {
        *x += 0.1 * standard_normal(&mut r);
    }
}

fn deep() -> (Svgp<Features<DeepRff>>, Vec<f64>) {
    let map = DeepRff::new(Mlp::new(&[2, 8, 8, 4], Activation::Tanh).unwrap(), 32).unwrap();
    let model = Svgp::new(Features(map), 6, 1e-4).unwrap();
    let mut pp = vec![0.0; model.prior().n_params()];
    map.init(&mut Xoshiro256::from_u64(3), 0.5, model.prior().parts(&mut pp[..]).unwrap().map).unwrap();
    let z: Vec<f64> = (0..12).map(|i| -0.8 + 0.13 * i as f64).collect();
    let mut p = vec![0.0; model.n_params()];
    model.init_params(&pp, &z, 0.01, &mut p).unwrap();
    perturb(&model, &mut p, 4);
    (model, p)
}

fn rbf() -> (Svgp<Closed<Rbf>>, Vec<f64>) {
    let model = Svgp::new(Closed(Rbf::new(2)), 5, 1e-6).unwrap();
    let z: Vec<f64> = (0..10).map(|i| -0.7 + 0.15 * i as f64).collect();
    let mut p = vec![0.0; model.n_params()];
    model.init_params(&Rbf::params(1.0, 0.4), &z, 0.01, &mut p).unwrap();
    perturb(&model, &mut p, 5);
    (model, p)
}

/// ELBO and gradient through a split, `calls` times at slightly moved parameters; returns the last.
fn split_eval<P: Prior + Sync>(
    model: &Svgp<P>,
    p: &[f64],
    x: &[f64],
    y: &[f64],
    split: Split,
    calls: usize,
) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; p.len()];
    with_split_elbo(model, x, y, ElboOptions::default(), split, |team| {
        let mut q = p.to_vec();
        let mut e = 0.0;
        for c in 0..calls {
            let noise = model.params(p).unwrap().likelihood.ln_noise_variance();
            *model.params_mut(&mut q).unwrap().likelihood.ln_noise_variance_mut() =
                noise + 1e-3 * (calls - 1 - c) as f64;
            e = team.elbo_and_grad(&q, &mut g).unwrap();
        }
        (e, g)
    })
    .unwrap()
}

fn check_model<P: Prior + Sync>(model: &Svgp<P>, p: &[f64], n: usize) {
    let (x, y) = data(n, 9);
    let mut ws = vec![0.0; model.workspace_len(n).unwrap()];
    let mut g_whole = vec![0.0; p.len()];
    let whole = model.elbo_and_grad(p, &x, &y, ElboOptions::default(), &mut g_whole, &mut ws).unwrap();
    let g_norm = g_whole.iter().map(|v| v * v).sum::<f64>().sqrt();
    for chunks in [1, 2, 3, 7] {
        let (e1, g1) = split_eval(model, p, &x, &y, Split::new(chunks, 1), 3);
        for threads in [2, 3] {
            let (e, g) = split_eval(model, p, &x, &y, Split::new(chunks, threads), 3);
            assert_eq!(
                e.to_bits(),
                e1.to_bits(),
                "{chunks} chunks: ELBO differs between 1 and {threads} threads"
            );
            assert_eq!(g, g1, "{chunks} chunks: gradient differs between 1 and {threads} threads");
        }
        assert!((e1 - whole).abs() <= 1e-12 * whole.abs(), "{chunks} chunks: {e1} vs whole {whole}");
        let diff = g1.iter().zip(&g_whole).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
        assert!(diff <= 1e-12 * g_norm, "{chunks} chunks: gradient off by {diff:e} (norm {g_norm:e})");
    }
}

#[test]
fn deep_split_is_thread_independent_and_exact() {
    let (model, p) = deep();
    check_model(&model, &p, 50);
}

#[test]
fn rbf_split_is_thread_independent_and_exact() {
    let (model, p) = rbf();
    check_model(&model, &p, 41);
}

#[test]
fn errors_from_a_worker_chunk_reach_the_caller_and_the_team_recovers() {
    let (model, p) = rbf();
    let (mut x, y) = data(20, 1);
    let mut g = vec![0.0; p.len()];
    // A non-finite input in the second chunk (a worker's, with 2 threads).
    x[30] = f64::NAN;
    let r = with_split_elbo(&model, &x, &y, ElboOptions::default(), Split::new(2, 2), |team| {
        team.elbo_and_grad(&p, &mut g)
    })
    .unwrap();
    assert!(matches!(r, Err(Error::NonFinite { what: "inputs x", index: 10, .. })), "{r:?}");
    // Non-finite parameters: every chunk fails; afterwards good parameters work again.
    let x = data(20, 1).0;
    let mut bad = p.clone();
    bad[0] = f64::INFINITY;
    with_split_elbo(&model, &x, &y, ElboOptions::default(), Split::new(2, 2), |team| {
        assert!(matches!(team.elbo_and_grad(&bad, &mut g), Err(Error::NonFinite { .. })));
        assert!(team.elbo_and_grad(&p, &mut g).unwrap().is_finite());
        // Wrong buffer sizes are typed errors, not panics.
        assert!(matches!(team.elbo_and_grad(&p[1..], &mut g), Err(Error::DimensionMismatch { .. })));
        let mut short = vec![0.0; 3];
        assert!(matches!(team.elbo_and_grad(&p, &mut short), Err(Error::DimensionMismatch { .. })));
    })
    .unwrap();
}

#[test]
fn bad_splits_are_rejected() {
    let (model, p) = rbf();
    let (x, y) = data(10, 2);
    let mut g = vec![0.0; p.len()];
    let opts = ElboOptions::default();
    for split in [Split::new(0, 1), Split::new(11, 1), Split::new(2, 0)] {
        let r = with_split_elbo(&model, &x, &y, opts, split, |t| t.elbo_and_grad(&p, &mut g));
        assert!(matches!(r, Err(Error::InvalidParameter { .. })), "{split:?}: {:?}", r.map(|_| ()));
    }
    let r = with_split_elbo(&model, &x[1..], &y, opts, Split::new(2, 2), |t| t.elbo_and_grad(&p, &mut g));
    assert!(matches!(r, Err(Error::DimensionMismatch { .. })));
}

#[test]
fn a_panic_in_the_body_releases_the_workers() {
    let (model, p) = rbf();
    let (x, y) = data(20, 3);
    let mut g = vec![0.0; p.len()];
    // Without the release, the scope would wait forever for the workers and this would hang.
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        with_split_elbo(&model, &x, &y, ElboOptions::default(), Split::new(2, 2), |team| {
            team.elbo_and_grad(&p, &mut g).unwrap();
            panic!("body panics");
        })
    }));
    assert!(r.is_err());
}
