//! Exact-GP oracle: with Z = X, an RBF kernel and the optimal whitened guide, the ELBO equals
//! the exact log marginal likelihood and prediction equals the exact GP posterior.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::gp::data;
use svgp::gp::{Closed, ElboOptions, Svgp};
use svgp::kernel::{cross_covariance, Rbf};
use svgp::linalg::{cholesky_in_place, gemm, solve_triangular, Jitter, MatMut, MatRef, Side, Trans};
use svgp::rng::{uniform, Xoshiro256};

const N: usize = 20;
const NOISE: f64 = 0.1;
const JITTER: f64 = 1e-9;

fn chol(a: &[f64], n: usize) -> Vec<f64> {
    let mut l = a.to_vec();
    cholesky_in_place(MatMut::new(n, n, &mut l).unwrap(), Jitter::Fixed(0.0)).unwrap();
    l
}

/// L⁻¹·B (or L⁻ᵀ·B) for an n × k right-hand side.
fn solve(l: &[f64], side: Side, b: &[f64], n: usize) -> Vec<f64> {
    let mut x = b.to_vec();
    solve_triangular(MatRef::new(n, n, l).unwrap(), side, MatMut::new(n, b.len() / n, &mut x).unwrap())
        .unwrap();
    x
}

struct Problem {
    model: Svgp<Closed<Rbf>>,
    kern: [f64; 2],
    x: Vec<f64>,
    y: Vec<f64>,
    k: Vec<f64>,
}

fn problem() -> Problem {
    let mut rng = Xoshiro256::from_u64(17);
    let (x, y) = data(&mut rng, N, 2);
    let kern = Rbf::params(1.2, 0.5);
    let mut k = vec![0.0; N * N];
    cross_covariance(&Rbf::new(2), &kern, &x, &x, &mut k).unwrap();
    let model = Svgp::new(Closed(Rbf::new(2)), N, JITTER).unwrap();
    Problem { model, kern, x, y, k }
}

/// log N(y | 0, K + σ²I).
fn exact_lml(p: &Problem) -> f64 {
    let mut ky = p.k.clone();
    for i in 0..N {
        ky[i * N + i] += NOISE;
    }
    let l = chol(&ky, N);
    let alpha = solve(&l, Side::Lower, &p.y, N);
    let logdet: f64 = (0..N).map(|i| l[i * N + i].ln()).sum::<f64>() * 2.0;
    -0.5 * alpha.iter().map(|v| v * v).sum::<f64>()
        - 0.5 * logdet
        - 0.5 * N as f64 * (2.0 * std::f64::consts::PI).ln()
}

/// Parameters with Z = X and the optimal whitened guide: with A = L_z⁻¹K, q(v) has precision
/// Λ = I + AAᵀ/σ², covariance S = Λ⁻¹ = L·Lᵀ and mean S·A·y/σ².
fn optimal_params(p: &Problem) -> Vec<f64> {
    let mut kz = p.k.clone();
    for i in 0..N {
        kz[i * N + i] += JITTER;
    }
    let lz = chol(&kz, N);
    let a = solve(&lz, Side::Lower, &p.k, N);
    let mut lam = vec![0.0; N * N];
    gemm(
        1.0 / NOISE,
        MatRef::new(N, N, &a).unwrap(),
        Trans::No,
        MatRef::new(N, N, &a).unwrap(),
        Trans::Yes,
        0.0,
        MatMut::new(N, N, &mut lam).unwrap(),
    )
    .unwrap();
    for i in 0..N {
        lam[i * N + i] += 1.0;
    }
    let r = chol(&lam, N);
    let mut eye = vec![0.0; N * N];
    for i in 0..N {
        eye[i * N + i] = 1.0;
    }
    // S = Λ⁻¹ = R⁻ᵀR⁻¹.
    let s = solve(&r, Side::LowerTrans, &solve(&r, Side::Lower, &eye, N), N);
    let l = chol(&s, N);
    let ay: Vec<f64> = (0..N).map(|i| (0..N).map(|j| a[i * N + j] * p.y[j]).sum::<f64>() / NOISE).collect();
    let m: Vec<f64> = (0..N).map(|i| (0..N).map(|j| s[i * N + j] * ay[j]).sum()).collect();
    let mut params = vec![0.0; p.model.n_params()];
    p.model.init_params(&p.kern, &p.x, NOISE, &mut params).unwrap();
    let v = p.model.params_mut(&mut params).unwrap();
    v.mean.copy_from_slice(&m);
    let mut tril = v.scale_tril;
    tril.pack_from(MatRef::new(N, N, &l).unwrap()).unwrap();
    params
}

#[test]
fn elbo_equals_exact_log_marginal_likelihood() {
    let p = problem();
    let params = optimal_params(&p);
    let mut ws = vec![0.0; p.model.workspace_len(N).unwrap()];
    let elbo = p.model.elbo(&params, &p.x, &p.y, ElboOptions::default(), &mut ws).unwrap();
    let lml = exact_lml(&p);
    let rel = (elbo - lml).abs() / lml.abs();
    println!("ELBO {elbo}, exact log marginal likelihood {lml}, rel {rel:.2e}");
    assert!(rel <= 1e-6, "ELBO vs exact LML: rel {rel:e}");
    // And the bound is tight only there: moving the mean lowers it.
    let mut worse = params.clone();
    p.model.params_mut(&mut worse).unwrap().mean[0] += 0.1;
    let e2 = p.model.elbo(&worse, &p.x, &p.y, ElboOptions::default(), &mut ws).unwrap();
    assert!(e2 < elbo - 1e-4);
    // At the optimum the gradient w.r.t. the guide vanishes (relative to its scale away from it).
    let mut g = vec![0.0; params.len()];
    p.model.elbo_and_grad(&params, &p.x, &p.y, ElboOptions::default(), &mut g, &mut ws).unwrap();
    let gm = p.model.params(&g).unwrap().mean.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
    assert!(gm < 1e-5, "mean gradient at the optimum: {gm:e}");
}

#[test]
fn prediction_equals_exact_gp_posterior() {
    let p = problem();
    let params = optimal_params(&p);
    let mut rng = Xoshiro256::from_u64(3);
    let ns = 6;
    let xs: Vec<f64> = (0..ns * 2).map(|_| uniform(&mut rng, -1.2, 1.2)).collect();
    let (mut mean, mut var) = (vec![0.0; ns], vec![0.0; ns]);
    let mut ws = vec![0.0; p.model.predict_workspace_len(ns).unwrap()];
    p.model.predict(&params, &xs, &mut mean, &mut var, &mut ws).unwrap();
    // Exact: k*ᵀ(K + σ²I)⁻¹y and k** − k*ᵀ(K + σ²I)⁻¹k*.
    let mut ky = p.k.clone();
    for i in 0..N {
        ky[i * N + i] += NOISE;
    }
    let l = chol(&ky, N);
    let mut ks = vec![0.0; N * ns];
    cross_covariance(&Rbf::new(2), &p.kern, &p.x, &xs, &mut ks).unwrap();
    let alpha = solve(&l, Side::LowerTrans, &solve(&l, Side::Lower, &p.y, N), N);
    let v = solve(&l, Side::Lower, &ks, N);
    for t in 0..ns {
        let mu: f64 = (0..N).map(|i| ks[i * ns + t] * alpha[i]).sum();
        let var_exact = 1.2 - (0..N).map(|i| v[i * ns + t].powi(2)).sum::<f64>();
        assert!((mean[t] - mu).abs() <= 1e-6 * (1.0 + mu.abs()), "mean {t}: {} vs {mu}", mean[t]);
        assert!((var[t] - var_exact).abs() <= 1e-6, "var {t}: {} vs {var_exact}", var[t]);
    }
    // The full covariance has the same mean and diagonal, and is symmetric.
    let (mut mean2, mut cov) = (vec![0.0; ns], vec![0.0; ns * ns]);
    let mut ws2 = vec![0.0; p.model.predict_cov_workspace_len(ns).unwrap()];
    p.model.predict_cov(&params, &xs, &mut mean2, &mut cov, &mut ws2).unwrap();
    for t in 0..ns {
        assert!((mean2[t] - mean[t]).abs() <= 1e-14);
        assert!((cov[t * ns + t] - var[t]).abs() <= 1e-12);
        for u in 0..ns {
            assert!((cov[t * ns + u] - cov[u * ns + t]).abs() <= 1e-13);
        }
    }
}
