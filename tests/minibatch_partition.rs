//! The minibatch ELBO is an exact decomposition of the full-batch ELBO: over a partition of the
//! data, the scaled batch ELBOs (and gradients), averaged with weights b/N, equal the full-batch
//! ones (plain average for equal batches) to ≤ 1e-10 relative in f64.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test

use svgp::batch::{
    accumulate_elbo_and_grad, accumulate_workspace_len, BatchSource, Minibatch, MinibatchElbo, SliceSource,
};
use svgp::features::DeepRff;
use svgp::gp::{Closed, ElboOptions, Features, Prior, Svgp};
use svgp::kernel::Rbf;
use svgp::nn::{Activation, Mlp};
use svgp::rng::{standard_normal, uniform, Xoshiro256};

const TOL: f64 = 1e-10;

fn data(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut r = Xoshiro256::from_u64(seed);
    let x: Vec<f64> = (0..2 * n).map(|_| uniform(&mut r, -1.0, 1.0)).collect();
    let y = x
        .chunks(2)
        .map(|p| (std::f64::consts::TAU * (p[0] * p[0] - p[1])).sin() + 0.1 * standard_normal(&mut r))
        .collect();
    (x, y)
}

/// Parameters away from the initial point: m and L random, so every ELBO term is exercised.
fn perturb<P: Prior>(model: &Svgp<P>, p: &mut [f64], seed: u64) {
    let mut r = Xoshiro256::from_u64(seed);
    let mut v = model.params_mut(p).unwrap();
    v.mean.iter_mut().for_each(|m| *m = 0.5 * standard_normal(&mut r));
    for i in 0..model.n_inducing() {
        for j in 0..=i {
            let l =
                if i == j { 0.3 + 0.5 * uniform(&mut r, 0.0, 1.0) } else { 0.1 * standard_normal(&mut r) };
            v.scale_tril.set(i, j, l);
        }
    }
    *v.likelihood.ln_noise_variance_mut() = (0.05f64).ln();
}

fn deep_model(m: usize, j: usize) -> (Svgp<Features<DeepRff>>, Vec<f64>) {
    let mlp = Mlp::new(&[2, 16, 16, 4], Activation::Tanh).unwrap();
    let map = DeepRff::new(mlp, j).unwrap();
    let model = Svgp::new(Features(map), m, 1e-4).unwrap();
    let mut pp = vec![0.0; model.prior().n_params()];
    map.init(&mut Xoshiro256::from_u64(11), 0.5, model.prior().parts(&mut pp[..]).unwrap().map).unwrap();
    let mut zr = Xoshiro256::from_u64(12);
    let z: Vec<f64> = (0..2 * m).map(|_| uniform(&mut zr, -0.8, 0.8)).collect();
    let mut p = vec![0.0; model.n_params()];
    model.init_params(&pp, &z, 0.01, &mut p).unwrap();
    perturb(&model, &mut p, 13);
    (model, p)
}

fn rbf_model(m: usize) -> (Svgp<Closed<Rbf>>, Vec<f64>) {
    let model = Svgp::new(Closed(Rbf::new(2)), m, 1e-6).unwrap();
    let mut zr = Xoshiro256::from_u64(21);
    let z: Vec<f64> = (0..2 * m).map(|_| uniform(&mut zr, -0.8, 0.8)).collect();
    let mut p = vec![0.0; model.n_params()];
    model.init_params(&Rbf::params(0.8, 0.4), &z, 0.01, &mut p).unwrap();
    perturb(&model, &mut p, 22);
    (model, p)
}

fn full<P: Prior>(model: &Svgp<P>, p: &[f64], x: &[f64], y: &[f64]) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; p.len()];
    let mut ws = vec![0.0; model.workspace_len(y.len()).unwrap()];
    let e = model.elbo_and_grad(p, x, y, ElboOptions::default(), &mut g, &mut ws).unwrap();
    (e, g)
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

fn rel_vec(a: &[f64], b: &[f64]) -> f64 {
    let d: f64 = a.iter().zip(b).map(|(u, v)| (u - v) * (u - v)).sum::<f64>().sqrt();
    let n: f64 = b.iter().map(|v| v * v).sum::<f64>().sqrt();
    d / n
}

/// Draws one shuffled epoch from a `MinibatchElbo` and averages ELBO_b and ∂ELBO_b with weights
/// b/N; with `threads > 1` each batch is split into that many chunks on as many threads.
fn epoch_average<P: Prior + Sync>(
    model: Svgp<P>,
    p: &[f64],
    x: &[f64],
    y: &[f64],
    batch: usize,
    threads: usize,
) -> (f64, Vec<f64>, Vec<usize>) {
    let n = y.len();
    let mb = Minibatch::new(n, batch).unwrap();
    let src = SliceSource::new(x, y, 2, Xoshiro256::from_u64(99)).unwrap();
    let epoch = |obj: &mut MinibatchElbo<'_, P, SliceSource<'_, f64, Xoshiro256>, f64>| {
        let (mut e, mut g, mut sizes) = (0.0, vec![0.0; p.len()], vec![]);
        let mut gb = vec![0.0; p.len()];
        while obj.source().epoch() == 0 {
            let eb = obj.elbo_and_grad(p, &mut gb).unwrap();
            let w = obj.last_batch_len() as f64 / n as f64;
            sizes.push(obj.last_batch_len());
            e += w * eb;
            g.iter_mut().zip(&gb).for_each(|(a, b)| *a += w * b);
        }
        (e, g, sizes)
    };
    #[cfg(feature = "std")]
    if threads > 1 {
        let split = svgp::parallel::Split::new(threads, threads);
        return svgp::batch::with_split_minibatch(model, mb, src, split, epoch).unwrap();
    }
    assert_eq!(threads, 1);
    let mut ws = vec![0.0; mb.workspace_len(&model).unwrap()];
    epoch(&mut MinibatchElbo::new(model, mb, src, &mut ws).unwrap())
}

#[test]
fn deep_equal_batches_average_to_full_elbo_and_gradient() {
    let (x, y) = data(120, 1);
    let (model, p) = deep_model(10, 64);
    let (ef, gf) = full(&model, &p, &x, &y);
    let (e, g, sizes) = epoch_average(model, &p, &x, &y, 20, 1);
    assert_eq!(sizes, vec![20; 6]);
    assert!(rel(e, ef) < TOL, "ELBO {e} vs full {ef}");
    assert!(rel_vec(&g, &gf) < TOL, "gradient rel err {}", rel_vec(&g, &gf));
}

#[test]
fn deep_plain_average_over_equal_batches() {
    // With equal b the weights are 1/K: the plain mean of the scaled batch ELBOs.
    let (x, y) = data(60, 2);
    let (model, p) = deep_model(8, 32);
    let (ef, _) = full(&model, &p, &x, &y);
    let mb = Minibatch::new(60, 15).unwrap();
    let mut sum = 0.0;
    let mut ws = vec![0.0; model.workspace_len(15).unwrap()];
    for k in 0..4 {
        let (xb, yb) = (&x[30 * k..30 * (k + 1)], &y[15 * k..15 * (k + 1)]);
        sum += model.elbo(&p, xb, yb, mb.options(15).unwrap(), &mut ws).unwrap();
    }
    assert!(rel(sum / 4.0, ef) < TOL);
    // Scale really is N/b: dropping it (scale 1) breaks the identity.
    let wrong = model.elbo(&p, &x[..30], &y[..15], ElboOptions::default(), &mut ws).unwrap();
    assert!(rel(wrong, ef) > 1e-3);
}

#[test]
fn rbf_unequal_partition_weighted_average() {
    // N = 110, B = 25: batches 25, 25, 25, 25, 10; the short batch is scaled by 110/10.
    let (x, y) = data(110, 3);
    let (model, p) = rbf_model(12);
    let (ef, gf) = full(&model, &p, &x, &y);
    let (e, g, sizes) = epoch_average(model, &p, &x, &y, 25, 1);
    assert_eq!(sizes, vec![25, 25, 25, 25, 10]);
    assert!(rel(e, ef) < TOL, "ELBO {e} vs full {ef}");
    assert!(rel_vec(&g, &gf) < TOL);
}

/// Threads need `std`.
#[cfg(feature = "std")]
#[test]
fn threaded_batches_match_serial() {
    let (x, y) = data(120, 4);
    let (model, p) = deep_model(10, 64);
    let (ef, gf) = full(&model, &p, &x, &y);
    for threads in [2, 3] {
        let (e, g, _) = epoch_average(model, &p, &x, &y, 40, threads);
        assert!(rel(e, ef) < TOL, "{threads} threads: ELBO {e} vs {ef}");
        assert!(rel_vec(&g, &gf) < TOL, "{threads} threads");
    }
}

#[test]
fn chunked_accumulation_equals_full_batch() {
    let (x, y) = data(97, 5);
    let (model, p) = deep_model(9, 48);
    let (ef, gf) = full(&model, &p, &x, &y);
    for chunk in [1, 10, 97, 200] {
        let mut g = vec![0.0; p.len()];
        let mut ws = vec![0.0; accumulate_workspace_len(&model, chunk).unwrap()];
        let e = accumulate_elbo_and_grad(&model, &p, &x, &y, chunk, &mut g, &mut ws).unwrap();
        assert!(rel(e, ef) < TOL, "chunk {chunk}");
        assert!(rel_vec(&g, &gf) < TOL, "chunk {chunk}");
    }
}

#[test]
fn total_n_is_required_and_checked() {
    assert!(Minibatch::new(0, 1).is_err());
    assert!(Minibatch::new(10, 0).is_err());
    assert!(Minibatch::new(10, 11).is_err());
    let mb = Minibatch::new(10, 4).unwrap();
    assert!(mb.options(0).is_err());
    assert!(mb.options(5).is_err());
    assert_eq!(mb.options(2).unwrap().scale, 5.0);
    #[cfg(feature = "std")]
    {
        let (model, _) = rbf_model(3);
        let (x, y) = data(10, 1);
        for split in [
            svgp::parallel::Split::new(2, 0),
            svgp::parallel::Split::new(0, 1),
            svgp::parallel::Split::new(5, 1),
        ] {
            let src = SliceSource::new(&x, &y, 2, Xoshiro256::from_u64(1)).unwrap();
            let r = svgp::batch::with_split_minibatch(model, mb, src, split, |_| ());
            assert!(matches!(r, Err(svgp::Error::InvalidParameter { .. })), "{split:?}");
        }
    }
}

#[test]
fn ended_stream_and_mismatched_source_are_errors() {
    let (model, p) = rbf_model(3);
    let mb = Minibatch::new(4, 2).unwrap();
    let pts = vec![([0.1, 0.2], 1.0), ([0.3, -0.2], 0.5)];
    let src = svgp::batch::IterSource::new(2, pts.into_iter());
    let mut ws = vec![0.0; mb.workspace_len(&model).unwrap()];
    let mut obj = MinibatchElbo::new(model, mb, src, &mut ws).unwrap();
    let mut g = vec![0.0; p.len()];
    assert!(obj.elbo_and_grad(&p, &mut g).is_ok());
    assert!(obj.elbo_and_grad(&p, &mut g).is_err()); // the iterator has ended
    let src1 = svgp::batch::IterSource::new(1, std::iter::empty::<([f64; 1], f64)>());
    assert_eq!(src1.input_dim(), 1);
    let mut ws2 = vec![0.0; mb.workspace_len(&model).unwrap()];
    assert!(MinibatchElbo::new(model, mb, src1, &mut ws2).is_err());
    let mut short = vec![0.0; 3];
    let src2 = svgp::batch::IterSource::new(2, std::iter::empty::<([f64; 2], f64)>());
    assert!(MinibatchElbo::new(model, mb, src2, &mut short).is_err());
}
