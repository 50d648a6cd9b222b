//! The new kernels against closed forms written out in the test (not through the crate's
//! formulas): sums and products equal to the hand-combined blocks, a scaling to σ² times the
//! block, the periodic kernel against its formula, ARD kernels with equal lengthscales equal to
//! the isotropic ones, the rational quadratic's RBF limit, the linear kernel's X·diag(σ²)·X′ᵀ;
//! every kernel's Gram matrix positive definite (Cholesky with a small jitter); the named
//! parameter views of composites. (The parameter helpers these tests use need `alloc`.)
#![cfg(feature = "alloc")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::kernel::{block, block_adjoint, rand_vec, rel_err};
use svgp::gp::{Closed, Svgp};
use svgp::kernel::{
    gram, ArcCosine, Constant, Kernel, Linear, Matern, Nu, Periodic, Product, RationalQuadratic, Rbf, RbfArd,
    Scale, Sum,
};
use svgp::linalg::{cholesky_in_place, Jitter, MatMut};

#[test]
fn sums_products_and_scalings_are_the_combined_blocks() {
    let d = 3;
    let (a, b) = (RbfArd::new(d), Periodic::new(d));
    let pa = a.params(1.3, &[0.7, 1.1, 2.0]).unwrap();
    let pb = b.params(0.6, &[1.0, 0.5, 2.0], &[0.9]).unwrap();
    let (x1, x2) = (rand_vec(5 * d, 1, -2.0, 2.0), rand_vec(4 * d, 2, -2.0, 2.0));
    let (ka, _) = block(&a, &pa, &x1, &x2);
    let (kb, _) = block(&b, &pb, &x1, &x2);
    let pab = [pa.clone(), pb.clone()].concat();
    let (ks, _) = block(&Sum(a, b), &pab, &x1, &x2);
    let (kp, _) = block(&Product(a, b), &pab, &x1, &x2);
    let (kc, _) = block(&Scale(a), &[&[0.25_f64.ln()][..], &pa].concat(), &x1, &x2);
    for i in 0..20 {
        assert_eq!(ks[i], ka[i] + kb[i], "sum at {i}");
        assert_eq!(kp[i], ka[i] * kb[i], "product at {i}");
        assert!((kc[i] - 0.25 * ka[i]).abs() <= 1e-16 * ka[i].abs().max(1.0), "scale at {i}");
    }
    // Their reverse rules: a sum's parameter gradient is the parts' side by side, and its input
    // gradient their sum.
    let kbar = rand_vec(20, 3, -1.0, 1.0);
    let (ga, g1a, _) = block_adjoint(&a, &pa, &x1, &x2, &kbar, false, 0.0);
    let (gb, g1b, _) = block_adjoint(&b, &pb, &x1, &x2, &kbar, false, 0.0);
    let (gs, g1s, _) = block_adjoint(&Sum(a, b), &pab, &x1, &x2, &kbar, false, 0.0);
    assert_eq!(gs, [ga, gb].concat());
    assert_eq!(g1s, g1a.iter().zip(&g1b).map(|(u, v)| u + v).collect::<Vec<_>>());
    // A product's: the parts' rules with K̄ ⊙ K_b and K̄ ⊙ K_a.
    let kbar_a: Vec<f64> = kbar.iter().zip(&kb).map(|(u, v)| u * v).collect();
    let kbar_b: Vec<f64> = kbar.iter().zip(&ka).map(|(u, v)| u * v).collect();
    let (ga, _, _) = block_adjoint(&a, &pa, &x1, &x2, &kbar_a, false, 0.0);
    let (gb, _, _) = block_adjoint(&b, &pb, &x1, &x2, &kbar_b, false, 0.0);
    let (gp, _, _) = block_adjoint(&Product(a, b), &pab, &x1, &x2, &kbar, false, 0.0);
    assert_eq!(gp, [ga, gb].concat());
}

#[test]
fn periodic_is_its_formula() {
    let d = 2;
    let k = Periodic::new(d);
    let (per, len, var) = ([0.8, 2.5], [0.6, 1.7], 1.9);
    let p = k.params(var, &per, &len).unwrap();
    let (x1, x2) = (rand_vec(6 * d, 4, -5.0, 5.0), rand_vec(7 * d, 5, -5.0, 5.0));
    let (kv, _) = block(&k, &p, &x1, &x2);
    for i in 0..6 {
        for j in 0..7 {
            let mut e = 0.0;
            for q in 0..d {
                let s = (std::f64::consts::PI * (x1[i * d + q] - x2[j * d + q]) / per[q]).sin();
                e += 2.0 * s * s / (len[q] * len[q]);
            }
            let want = var * (-e).exp();
            assert!((kv[i * 7 + j] - want).abs() <= 1e-13, "({i}, {j}): {} vs {want}", kv[i * 7 + j]);
            assert!((k.eval(&p, &x1[i * d..(i + 1) * d], &x2[j * d..(j + 1) * d]) - want).abs() <= 1e-14);
        }
    }
    // Whole periods apart in every input: σ².
    let x = [0.3, -1.0];
    let y = [0.3 + 3.0 * per[0], -1.0 - 2.0 * per[1]];
    assert!((k.eval(&p, &x, &y) - var).abs() <= 1e-12);
}

#[test]
fn ard_kernels_with_equal_lengthscales_are_the_isotropic_ones() {
    let (var, ls) = (1.7, 0.8);
    for d in [1, 2, 10, 17] {
        let (x1, x2) = (rand_vec(6 * d, 6, -1.0, 1.0), rand_vec(5 * d, 7, -1.0, 1.0));
        let kbar = rand_vec(30, 8, -1.0, 1.0);
        // RBF-ARD against the isotropic RBF: values, and the lengthscale gradients summing to
        // the isotropic one; the input gradients equal.
        let (iso, ard) = (Rbf::new(d), RbfArd::new(d));
        let pa = ard.params(var, &[ls]).unwrap();
        let (ki, _) = block(&iso, &Rbf::params(var, ls), &x1, &x2);
        let (ka, _) = block(&ard, &pa, &x1, &x2);
        assert!(
            rel_err(&ka, &ki, 1e-300) <= 1e-14,
            "D = {d}: RBF-ARD vs RBF {:e}",
            rel_err(&ka, &ki, 1e-300)
        );
        let (gi, g1i, g2i) = block_adjoint(&iso, &Rbf::params(var, ls), &x1, &x2, &kbar, true, 0.0);
        let (ga, g1a, g2a) = block_adjoint(&ard, &pa, &x1, &x2, &kbar, true, 0.0);
        let sum_ls: f64 = ga[1..].iter().sum();
        assert!(rel_err(&[ga[0], sum_ls], &gi, 1e-300) <= 1e-12, "D = {d}: {ga:?} vs {gi:?}");
        assert!(
            rel_err(&[g1a, g2a].concat(), &[g1i, g2i].concat(), 1e-300) <= 1e-12,
            "D = {d}: input gradients"
        );
        // Matérn against m_ν(|x − x′|/ℓ) written out.
        for nu in [Nu::Half, Nu::ThreeHalves, Nu::FiveHalves] {
            let k = Matern::new(d, nu);
            let (km, _) = block(&k, &k.params(var, &[ls]).unwrap(), &x1, &x2);
            for i in 0..6 {
                for j in 0..5 {
                    let r = (0..d).map(|q| (x1[i * d + q] - x2[j * d + q]).powi(2)).sum::<f64>().sqrt() / ls;
                    let m = match nu {
                        Nu::Half => (-r).exp(),
                        Nu::ThreeHalves => (1.0 + 3f64.sqrt() * r) * (-(3f64.sqrt()) * r).exp(),
                        Nu::FiveHalves => {
                            let a = 5f64.sqrt() * r;
                            (1.0 + a + a * a / 3.0) * (-a).exp()
                        }
                    };
                    assert!((km[i * 5 + j] - var * m).abs() <= 1e-14, "D = {d}, {nu:?} at ({i}, {j})");
                }
            }
        }
    }
}

#[test]
fn rational_quadratic_tends_to_the_rbf_and_linear_is_a_product() {
    let d = 4;
    let (x1, x2) = (rand_vec(6 * d, 9, -1.0, 1.0), rand_vec(5 * d, 10, -1.0, 1.0));
    let rq = RationalQuadratic::new(d);
    let (krq, _) = block(&rq, &rq.params(1.3, &[0.9], 1e9).unwrap(), &x1, &x2);
    let (krbf, _) = block(&Rbf::new(d), &Rbf::params(1.3, 0.9), &x1, &x2);
    assert!(rel_err(&krq, &krbf, 1e-300) <= 1e-7, "RQ(α = 1e9) vs RBF");
    // α = 1/2, s = 1: (1 + 1)^{−1/2}.
    let k1 = RationalQuadratic::new(1);
    let v = k1.eval(&k1.params(1.0, &[1.0], 0.5).unwrap(), &[0.0], &[1.0]);
    assert!((v - 0.5_f64.sqrt()).abs() <= 1e-15);

    let lin = Linear::new(d);
    let vars = [0.5, 2.0, 0.1, 1.0];
    let (kl, _) = block(&lin, &lin.params(&vars).unwrap(), &x1, &x2);
    for i in 0..6 {
        for j in 0..5 {
            let want: f64 = (0..d).map(|q| vars[q] * x1[i * d + q] * x2[j * d + q]).sum();
            assert!((kl[i * 5 + j] - want).abs() <= 1e-15, "linear at ({i}, {j})");
        }
    }
    let (kc, _) = block(&Constant::new(d), &Constant::params(2.5), &x1, &x2);
    assert!(kc.iter().all(|&v| (v - 2.5).abs() <= 1e-15));
}

/// Cholesky of the Gram matrix of 30 points (with a jitter of 1e-8·max diagonal, which an
/// indefinite matrix of this size would not survive), and the Gram symmetric.
fn assert_psd<K: Kernel>(label: &str, k: &K, params: &[f64], d: usize) {
    let n = 30;
    let x = rand_vec(n * d, 11, -2.0, 2.0);
    let mut g = vec![0.0; n * n];
    gram(k, params, &x, &mut g).unwrap();
    let (kb, _) = block(k, params, &x, &x);
    assert!(rel_err(&kb, &g, 1e-300) <= 1e-12, "{label}: block vs gram");
    let jitter = 1e-8 * (0..n).map(|i| g[i * n + i]).fold(0.0, f64::max);
    cholesky_in_place(MatMut::new(n, n, &mut g).unwrap(), Jitter::Fixed(jitter))
        .unwrap_or_else(|e| panic!("{label} (D = {d}): Gram not positive definite: {e}"));
}

#[test]
fn every_kernel_gives_positive_definite_grams() {
    for d in [1, 3, 10] {
        let ls = (d as f64).sqrt();
        assert_psd("RBF-ARD", &RbfArd::new(d), &RbfArd::new(d).params(1.0, &[ls]).unwrap(), d);
        for nu in [Nu::Half, Nu::ThreeHalves, Nu::FiveHalves] {
            let k = Matern::new(d, nu);
            assert_psd("Matérn", &k, &k.params(1.0, &[ls]).unwrap(), d);
        }
        let rq = RationalQuadratic::new(d);
        assert_psd("RQ", &rq, &rq.params(1.0, &[ls], 0.7).unwrap(), d);
        let per = Periodic::new(d);
        assert_psd("periodic", &per, &per.params(1.0, &[1.3], &[ls]).unwrap(), d);
        // Rank ≤ D + 1 (linear plus a bias): positive definite with the jitter.
        let k = Sum(Linear::new(d), Constant::new(d));
        assert_psd("linear + constant", &k, &[Linear::new(d).params(&[0.5]).unwrap(), vec![0.0]].concat(), d);
        let k = Sum(RbfArd::new(d), Product(Periodic::new(d), Matern::new(d, Nu::ThreeHalves)));
        let p = [
            RbfArd::new(d).params(1.0, &[2.0 * ls]).unwrap(),
            per.params(0.5, &[1.0], &[ls]).unwrap(),
            Matern::new(d, Nu::ThreeHalves).params(1.0, &[ls]).unwrap(),
        ]
        .concat();
        assert_psd("RBF + periodic × Matérn", &k, &p, d);
        let k = Scale(Product(ArcCosine::new(d, 1), RbfArd::new(d)));
        let p = [vec![0.3, 0.0, 0.0], RbfArd::new(d).params(1.0, &[ls]).unwrap()].concat();
        assert_psd("σ²·arc-cosine × RBF", &k, &p, d);
    }
}

#[test]
fn composite_views_name_each_part() {
    let k = Sum(Rbf::new(1), Product(Periodic::new(1), Rbf::new(1)));
    assert_eq!(k.n_params(), 7);
    let mut raw = vec![0.0; 7];
    let mut p = k.view(&mut raw[..]).unwrap();
    p.0.set_variance(4.0).unwrap();
    p.0.set_lengthscale(50.0).unwrap();
    p.1 .0.set_variance(2.0).unwrap();
    p.1 .0.set_periods(1.0).unwrap();
    p.1 .0.set_lengthscales(0.8).unwrap();
    p.1 .1.set_lengthscale(90.0).unwrap();
    let want = [4f64.ln(), 50f64.ln(), 2f64.ln(), 0.0, 0.8f64.ln(), 0.0, 90f64.ln()];
    assert_eq!(raw, want);
    let p = k.view(&raw[..]).unwrap();
    assert!((p.1 .0.period(0) - 1.0).abs() < 1e-15 && (p.1 .1.lengthscale() - 90.0).abs() < 1e-12);
    // A model's view of its prior is the kernel's.
    let model = Svgp::new(Closed(k), 3, 1e-6).unwrap();
    let mut flat = vec![0.0; model.n_params()];
    model.init_params(&raw, &[0.0, 1.0, 2.0], 0.1, &mut flat).unwrap();
    assert!((model.params(&flat).unwrap().prior.0.lengthscale() - 50.0).abs() < 1e-12);
    // The scale's factor, and wrong lengths.
    let s = Scale(Periodic::new(2));
    let raw = [0.5, 0.0, 0.0, 0.0, 0.0, 0.0];
    assert!((s.view(&raw[..]).unwrap().scale.variance() - 0.5_f64.exp()).abs() < 1e-15);
    assert!(matches!(s.view(&raw[..5]), Err(svgp::Error::DimensionMismatch { .. })));
    assert!(k.check_params(&[0.0; 7]).is_ok());
    let mut bad = [0.0; 7];
    bad[4] = f64::NEG_INFINITY; // a lengthscale of 0
    assert!(matches!(k.check_params(&bad), Err(svgp::Error::InvalidParameter { .. })));
}

#[test]
fn parts_on_different_inputs_are_refused_when_the_model_is_built() {
    let r = Svgp::new(Closed(Sum(Rbf::new(2), Periodic::new(3))), 3, 1e-6);
    assert!(matches!(r, Err(svgp::Error::DimensionMismatch { expected: 2, found: 3, .. })), "{r:?}");
    let r = Svgp::new(Closed(Product(Rbf::new(2), Scale(Linear::new(1)))), 3, 1e-6);
    assert!(matches!(r, Err(svgp::Error::DimensionMismatch { expected: 2, found: 1, .. })), "{r:?}");
}
