//! Random-feature Gram matrices converge to their exact kernels.
//!
//! Monte-Carlo families: relative Frobenius error ‖ΨΨᵀ − K‖_F/‖K‖_F on 50 random points in
//! [−1, 1]³ (lengthscale 1), averaged over 4 seeds, at J = 256 and J = 4096. The error of a
//! J-sample average falls like 1/√J, so the ratio should be near √(256/4096) = 0.25; we assert
//! it is below 0.4 and that each error is below a per-family absolute bound c/√J (so c/16 at
//! J = 256 and c/64 at J = 4096; c = 2 for RBF and orthogonal RBF, 2.5 for arc-cosine order 0,
//! 3.5 for Matérn and arc-cosine order 1, 4.5 for Laplace, 8 for arc-cosine order 2, the heavier
//! tailed integrands). Errors print with
//! `cargo test --release --test features_convergence -- --nocapture`.
//! HSGP is deterministic: its error must fall as m grows.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use svgp::features::{ArcCosineFeatures, Coupling, FeatureMap, FourierForm, Hsgp, RandomFourier, Spectrum};
use svgp::kernel::{gram, ArcCosine, Kernel, Matern, Nu, Rbf};
use svgp::rng::{uniform, Xoshiro256};

const N: usize = 50;
const D: usize = 3;
const SEEDS: u64 = 4;

fn points(n: usize, d: usize, seed: u64, half: f64) -> Vec<f64> {
    let mut rng = Xoshiro256::from_u64(seed);
    (0..n * d).map(|_| uniform(&mut rng, -half, half)).collect()
}

fn feature_gram<F: FeatureMap>(map: &F, params: &[f64], x: &[f64]) -> Vec<f64> {
    let (n, j) = (x.len() / map.input_dim(), map.n_features());
    let mut psi = vec![0.0; n * j];
    let mut ws = vec![0.0; map.workspace_len(n).unwrap()];
    map.features(params, x, &mut psi, &mut ws).unwrap();
    let mut k = vec![0.0; n * n];
    for a in 0..n {
        for b in 0..=a {
            let v: f64 =
                psi[a * j..(a + 1) * j].iter().zip(&psi[b * j..(b + 1) * j]).map(|(u, w)| u * w).sum();
            k[a * n + b] = v;
            k[b * n + a] = v;
        }
    }
    k
}

fn rel_frobenius(approx: &[f64], exact: &[f64]) -> f64 {
    let num: f64 = approx.iter().zip(exact).map(|(a, b)| (a - b) * (a - b)).sum();
    let den: f64 = exact.iter().map(|b| b * b).sum();
    (num / den).sqrt()
}

fn exact_gram<K: Kernel>(k: &K, params: &[f64], x: &[f64]) -> Vec<f64> {
    let n = x.len() / k.input_dim();
    let mut out = vec![0.0; n * n];
    gram(k, params, x, &mut out).unwrap();
    out
}

/// Mean relative error over seeds for a family built by `make(J)` and drawn by `draw`.
fn mean_error<F: FeatureMap>(
    make: impl Fn(usize) -> F,
    draw: impl Fn(&F, &mut Xoshiro256, &mut [f64]),
    exact: &[f64],
    x: &[f64],
    j: usize,
) -> f64 {
    let map = make(j);
    let mut total = 0.0;
    for s in 0..SEEDS {
        let mut params = vec![0.0; map.n_params()];
        draw(&map, &mut Xoshiro256::from_u64(1000 + s), &mut params);
        total += rel_frobenius(&feature_gram(&map, &params, x), exact);
    }
    total / SEEDS as f64
}

/// Asserts the 1/√J law between J = 256 and 4096 and the absolute bounds; returns the errors.
fn assert_rate(name: &str, e256: f64, e4096: f64, c: f64) {
    let (bound256, bound4096) = (c / 16.0, c / 64.0);
    println!("{name:<28} J=256: {e256:.4}  J=4096: {e4096:.4}  ratio {:.3}", e4096 / e256);
    assert!(e4096 < 0.4 * e256, "{name}: ratio {} not ≲ 1/√16", e4096 / e256);
    assert!(e256 < bound256, "{name}: J=256 error {e256} ≥ {bound256}");
    assert!(e4096 < bound4096, "{name}: J=4096 error {e4096} ≥ {bound4096}");
}

fn fourier_case(name: &str, spectrum: Spectrum, form: FourierForm, coupling: Coupling, c: f64) -> (f64, f64) {
    let x = points(N, D, 1, 1.0);
    let exact: Vec<f64> =
        (0..N * N).map(|t| spectrum.kernel(1.0, &x[(t / N) * D..][..D], &x[(t % N) * D..][..D])).collect();
    let make = |j| RandomFourier::new(D, j, form, spectrum, coupling).unwrap();
    let draw = |m: &RandomFourier, r: &mut Xoshiro256, p: &mut [f64]| m.draw(r, 1.0, p).unwrap();
    let e256 = mean_error(make, draw, &exact, &x, 256);
    let e4096 = mean_error(make, draw, &exact, &x, 4096);
    assert_rate(name, e256, e4096, c);
    (e256, e4096)
}

#[test]
fn spectrum_kernels_match_closed_form_kernels() {
    // The exact kernels the tests compare against are the crate's closed-form kernels.
    let x = points(N, D, 1, 1.0);
    let rbf = exact_gram(&Rbf::new(D), &[0.0, 0.0], &x);
    for nu in [Nu::Half, Nu::ThreeHalves, Nu::FiveHalves] {
        let m = exact_gram(&Matern::new(D, nu), &[0.0; D + 1], &x);
        for t in 0..N * N {
            let (a, b) = (&x[(t / N) * D..][..D], &x[(t % N) * D..][..D]);
            assert!((m[t] - Spectrum::Matern(nu).kernel(1.0, a, b)).abs() < 1e-12);
            assert!((rbf[t] - Spectrum::Rbf.kernel(1.0, a, b)).abs() < 1e-12);
        }
    }
}

#[test]
fn rbf_cos_phase() {
    fourier_case("RBF cos+phase", Spectrum::Rbf, FourierForm::CosPhase, Coupling::Iid, 2.0);
}

#[test]
fn rbf_cos_sin() {
    fourier_case("RBF cos/sin", Spectrum::Rbf, FourierForm::CosSin, Coupling::Iid, 2.0);
}

#[test]
fn matern_all_nu() {
    for (nu, name) in
        [(Nu::Half, "Matern 1/2"), (Nu::ThreeHalves, "Matern 3/2"), (Nu::FiveHalves, "Matern 5/2")]
    {
        fourier_case(name, Spectrum::Matern(nu), FourierForm::CosPhase, Coupling::Iid, 3.5);
        fourier_case(name, Spectrum::Matern(nu), FourierForm::CosSin, Coupling::Iid, 3.5);
    }
}

#[test]
fn matern_features_are_isotropic_not_a_product() {
    // The Student-t mixture approximates the isotropic Matérn; a product of 1-D Matérn
    // kernels (what independent per-coordinate t draws would give) is a different kernel.
    let x = points(N, D, 1, 1.0);
    let (e256, e4096) =
        fourier_case("Matern 1/2 (iso)", Spectrum::Matern(Nu::Half), FourierForm::CosSin, Coupling::Iid, 3.5);
    let product: Vec<f64> = (0..N * N)
        .map(|t| {
            let (a, b) = (&x[(t / N) * D..][..D], &x[(t % N) * D..][..D]);
            a.iter().zip(b).map(|(u, v)| Nu::Half.correlation((u - v).abs())).product()
        })
        .collect();
    let map =
        RandomFourier::new(D, 4096, FourierForm::CosSin, Spectrum::Matern(Nu::Half), Coupling::Iid).unwrap();
    let mut p = vec![0.0; map.n_params()];
    map.draw(&mut Xoshiro256::from_u64(1000), 1.0, &mut p).unwrap();
    let to_product = rel_frobenius(&feature_gram(&map, &p, &x), &product);
    println!("Matern 1/2 J=4096 error vs product kernel: {to_product:.4} (vs isotropic {e4096:.4}, J=256 {e256:.4})");
    assert!(to_product > 5.0 * e4096);
}

#[test]
fn laplace() {
    fourier_case("Laplace (L1)", Spectrum::Laplace, FourierForm::CosPhase, Coupling::Iid, 4.5);
}

#[test]
fn orthogonal_features_converge_and_beat_iid() {
    let (iid256, _) = fourier_case("RBF cos/sin iid", Spectrum::Rbf, FourierForm::CosSin, Coupling::Iid, 2.0);
    let (orf256, _) =
        fourier_case("RBF cos/sin orthogonal", Spectrum::Rbf, FourierForm::CosSin, Coupling::Orthogonal, 2.0);
    fourier_case(
        "Matern 3/2 orthogonal",
        Spectrum::Matern(Nu::ThreeHalves),
        FourierForm::CosPhase,
        Coupling::Orthogonal,
        3.5,
    );
    assert!(orf256 < iid256, "orthogonal {orf256} not below iid {iid256}");
}

#[test]
fn arc_cosine_all_orders() {
    let x = points(N, D, 1, 1.0);
    for (order, c) in [(0u8, 2.5), (1, 3.5), (2, 8.0)] {
        let exact = exact_gram(&ArcCosine::new(D, order), &[0.0, 0.0], &x);
        let make = |j| ArcCosineFeatures::new(D, j, order).unwrap();
        let draw = |m: &ArcCosineFeatures, r: &mut Xoshiro256, p: &mut [f64]| m.draw(r, 1.0, p).unwrap();
        let e256 = mean_error(make, draw, &exact, &x, 256);
        let e4096 = mean_error(make, draw, &exact, &x, 4096);
        assert_rate(&format!("arc-cosine order {order}"), e256, e4096, c);
    }
}

#[test]
fn hsgp_error_falls_with_m() {
    // Points in [−1, 1]^D, box half-width 2.5 (L/half-width = 2.5), lengthscale 0.5.
    for (d, ms, spectrum, final_bound) in [
        (1, &[4usize, 8, 16, 32][..], Spectrum::Rbf, 1e-6),
        (2, &[4, 8, 16][..], Spectrum::Rbf, 1e-3),
        (1, &[4, 8, 16, 32, 64][..], Spectrum::Matern(Nu::FiveHalves), 0.02),
        (2, &[4, 8, 16][..], Spectrum::Matern(Nu::ThreeHalves), 0.1),
    ] {
        let x = points(N, d, 2, 1.0);
        let exact: Vec<f64> = (0..N * N)
            .map(|t| spectrum.kernel(0.5, &x[(t / N) * d..][..d], &x[(t % N) * d..][..d]))
            .collect();
        let mut prev = f64::INFINITY;
        for &m in ms {
            let map = Hsgp::new(d, m, spectrum).unwrap();
            let mut p = vec![0.0; map.n_params()];
            map.params(0.5, 2.5, &mut p).unwrap();
            let e = rel_frobenius(&feature_gram(&map, &p, &x), &exact);
            println!("HSGP D={d} {spectrum:?} m={m:<3} J={:<4} error {e:.2e}", map.n_features());
            assert!(e < 0.7 * prev, "HSGP D={d} m={m}: error {e} did not fall from {prev}");
            prev = e;
        }
        assert!(prev < final_bound, "HSGP D={d} {spectrum:?}: final error {prev} ≥ {final_bound}");
    }
}

#[test]
fn hsgp_features_are_dirichlet_eigenfunctions() {
    // ψ_k = √S_k·φ_k with φ_k orthonormal on [−L, L] and zero at ±L, so
    // ∫ψ_iψ_j dx = S_i·δ_ij (midpoint rule on 4000 cells) and ψ(±L) = 0.
    let (m, half) = (6, 1.7);
    let map = Hsgp::new(1, m, Spectrum::Rbf).unwrap();
    let mut p = vec![0.0; 2];
    map.params(0.6, half, &mut p).unwrap();
    let cells = 4000;
    let h = 2.0 * half / cells as f64;
    let x: Vec<f64> = (0..cells).map(|i| -half + (i as f64 + 0.5) * h).collect();
    let mut psi = vec![0.0; cells * m];
    map.features(&p, &x, &mut psi, &mut vec![0.0; map.workspace_len(cells).unwrap()]).unwrap();
    for a in 0..m {
        for b in 0..m {
            let integral: f64 = (0..cells).map(|i| psi[i * m + a] * psi[i * m + b]).sum::<f64>() * h;
            if a == b {
                // S(ω) for the unit RBF in 1-D: √(2π)·ℓ·exp(−ℓ²ω²/2), ω = π(a+1)/(2L).
                let w = std::f64::consts::PI * (a + 1) as f64 / (2.0 * half);
                let s = (2.0 * std::f64::consts::PI).sqrt() * 0.6 * (-0.5 * 0.36 * w * w).exp();
                assert!((integral / s - 1.0).abs() < 1e-5, "‖ψ_{a}‖² = {integral}, S = {s}");
            } else {
                assert!(integral.abs() < 1e-9, "⟨ψ_{a}, ψ_{b}⟩ = {integral}");
            }
        }
    }
    let mut edge = vec![0.0; 2 * m];
    map.features(&p, &[-half, half], &mut edge, &mut vec![0.0; map.workspace_len(2).unwrap()]).unwrap();
    assert!(edge.iter().all(|v| v.abs() < 1e-12));
}
