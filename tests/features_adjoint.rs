//! Every random-feature reverse rule against forward-mode `Dual` derivatives, and the maps'
//! input validation.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use svgp::features::{ArcCosineFeatures, Coupling, FeatureMap, FourierForm, Hsgp, RandomFourier, Spectrum};
use svgp::kernel::Nu;
use svgp::rng::{uniform, Xoshiro256};
use svgp::{Error, Scalar};

mod common;

use common::oracle::{dual_gradient, D8};

/// Checks `features_adjoint` of loss = Σ ψ̄⊙ψ against Dual forward mode over every parameter and
/// input, to a relative error of 1e-10.
fn check_adjoint<F: FeatureMap>(map: &F, params: &[f64], x: &[f64], seed: u64) {
    let (n, jn, d, p) = (x.len() / map.input_dim(), map.n_features(), map.input_dim(), map.n_params());
    let mut rng = Xoshiro256::from_u64(seed);
    let psi_bar: Vec<f64> = (0..n * jn).map(|_| uniform(&mut rng, -1.0, 1.0)).collect();

    // Reverse rule.
    let mut psi = vec![0.0; n * jn];
    let mut ws = vec![0.0; map.workspace_len(n).unwrap()];
    map.features(params, x, &mut psi, &mut ws).unwrap();
    let mut gp = vec![0.0; p];
    let mut gx = vec![0.0; n * d];
    map.features_adjoint(params, x, &psi_bar, &mut gp, Some(&mut gx), &mut ws).unwrap();
    // Without grad_x the parameter gradient is the same.
    let mut gp2 = vec![0.0; p];
    map.features_adjoint(params, x, &psi_bar, &mut gp2, None, &mut ws).unwrap();
    assert_eq!(gp, gp2);

    // Forward mode over (params, x).
    let mut psi_d = vec![D8::default(); n * jn];
    let mut ws_d = vec![D8::default(); map.workspace_len(n).unwrap()];
    let vars: Vec<f64> = params.iter().chain(x).copied().collect();
    let (_, want) = dual_gradient(
        |v| {
            let (pd, xd) = v.split_at(p);
            map.features(pd, xd, &mut psi_d, &mut ws_d).unwrap();
            psi_d.iter().zip(&psi_bar).map(|(a, &b)| *a * b).sum()
        },
        &vars,
    );
    let got: Vec<f64> = gp.iter().chain(&gx).copied().collect();
    let scale = want.iter().fold(0.0_f64, |m, v| m.max(v.abs())).max(1e-300);
    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
        assert!((a - b).abs() <= 1e-10 * scale, "{map:?}: variable {i}: reverse {a} vs dual {b}");
    }
    assert!(want.iter().any(|v| v.abs() > 1e-6), "{map:?}: degenerate test, all gradients ~0");
}

fn inputs(n: usize, d: usize, seed: u64, half: f64) -> Vec<f64> {
    let mut rng = Xoshiro256::from_u64(seed);
    (0..n * d).map(|_| uniform(&mut rng, -half, half)).collect()
}

#[test]
fn random_fourier_adjoints_match_dual() {
    let spectra =
        [Spectrum::Rbf, Spectrum::Matern(Nu::Half), Spectrum::Matern(Nu::FiveHalves), Spectrum::Laplace];
    for (s, &spectrum) in spectra.iter().enumerate() {
        for form in [FourierForm::CosPhase, FourierForm::CosSin] {
            for coupling in [Coupling::Iid, Coupling::Orthogonal] {
                let Ok(map) = RandomFourier::new(3, 8, form, spectrum, coupling) else {
                    assert_eq!((spectrum, coupling), (Spectrum::Laplace, Coupling::Orthogonal));
                    continue;
                };
                let mut params = vec![0.0; map.n_params()];
                map.draw(&mut Xoshiro256::from_u64(10 + s as u64), 0.7, &mut params).unwrap();
                check_adjoint(&map, &params, &inputs(4, 3, 1, 1.5), 2);
            }
        }
    }
}

#[test]
fn arc_cosine_adjoints_match_dual() {
    for order in 0..=2 {
        let map = ArcCosineFeatures::new(3, 7, order).unwrap();
        let mut params = vec![0.0; map.n_params()];
        map.draw(&mut Xoshiro256::from_u64(3), 1.3, &mut params).unwrap();
        if order == 0 {
            // Θ has zero derivative: the rule must return exact zeros, which Dual agrees with.
            let x = inputs(4, 3, 4, 1.0);
            let mut ws = vec![0.0; map.workspace_len(4).unwrap()];
            let mut psi = vec![0.0; 4 * 7];
            map.features(&params, &x, &mut psi, &mut ws).unwrap();
            let mut gp = vec![0.0; map.n_params()];
            let mut gx = vec![0.0; 12];
            map.features_adjoint(&params, &x, &[1.0; 28], &mut gp, Some(&mut gx), &mut ws).unwrap();
            assert!(gp.iter().chain(&gx).all(|&g| g == 0.0));
            assert!(psi.iter().any(|&p| p > 0.0));
        } else {
            check_adjoint(&map, &params, &inputs(4, 3, 4, 1.0), 5);
        }
    }
}

#[test]
fn hsgp_adjoints_match_dual() {
    for spectrum in [Spectrum::Rbf, Spectrum::Matern(Nu::Half), Spectrum::Matern(Nu::ThreeHalves)] {
        for (d, m) in [(1, 5), (2, 3), (3, 2)] {
            let map = Hsgp::new(d, m, spectrum).unwrap();
            let mut params = vec![0.0; map.n_params()];
            map.params(0.8, 2.0, &mut params).unwrap();
            // Distinct half-widths so every L_d gradient is exercised separately.
            for (i, l) in map.view(&mut params[..]).unwrap().half_widths.iter_mut().enumerate() {
                *l += 0.3 * i as f64;
            }
            check_adjoint(&map, &params, &inputs(3, d, 6, 1.2), 7);
        }
    }
}

#[test]
fn feature_maps_run_in_f32() {
    let map = RandomFourier::new(2, 16, FourierForm::CosPhase, Spectrum::Rbf, Coupling::Iid).unwrap();
    let mut p64 = vec![0.0; map.n_params()];
    map.draw(&mut Xoshiro256::from_u64(1), 1.0, &mut p64).unwrap();
    let p32: Vec<f32> = p64.iter().map(|&v| v as f32).collect();
    let x = [0.25_f64, -0.5];
    let (mut a, mut b) = (vec![0.0_f64; 16], vec![0.0_f32; 16]);
    map.features(&p64, &x, &mut a, &mut vec![0.0; map.workspace_len(1).unwrap()]).unwrap();
    map.features(&p32, &[0.25_f32, -0.5], &mut b, &mut vec![0.0; map.workspace_len(1).unwrap()]).unwrap();
    for (u, v) in a.iter().zip(&b) {
        assert!((u - f64::from(*v)).abs() < 1e-5);
    }
}

#[test]
fn bad_shapes_are_errors_not_panics() {
    let map = RandomFourier::new(2, 4, FourierForm::CosSin, Spectrum::Rbf, Coupling::Iid).unwrap();
    let params = vec![0.0; map.n_params()];
    let mut psi = vec![0.0; 4];
    let mut ws = vec![0.0; map.workspace_len(1).unwrap()];
    // x not a multiple of D.
    assert!(matches!(
        map.features(&params, &[1.0, 2.0, 3.0], &mut psi, &mut ws),
        Err(Error::DimensionMismatch { .. })
    ));
    // Workspace too short.
    assert!(matches!(
        map.features(&params, &[1.0, 2.0], &mut psi, &mut [0.0; 3]),
        Err(Error::BufferTooSmall { .. })
    ));
    // Wrong parameter count.
    assert!(matches!(
        map.features(&params[1..], &[1.0, 2.0], &mut psi, &mut ws),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(RandomFourier::new(2, 5, FourierForm::CosSin, Spectrum::Rbf, Coupling::Iid).is_err());
    assert!(RandomFourier::new(2, 4, FourierForm::CosPhase, Spectrum::Laplace, Coupling::Orthogonal).is_err());
    assert!(ArcCosineFeatures::new(2, 4, 3).is_err());
    assert!(Hsgp::new(2, 4, Spectrum::Laplace).is_err());
    assert!(Hsgp::new(64, 1 << 20, Spectrum::Rbf).is_err());
    let h = Hsgp::new(1, 4, Spectrum::Rbf).unwrap();
    let mut hw = vec![0.0; h.workspace_len(1).unwrap()];
    assert!(matches!(h.features(&[0.0, -1.0], &[0.0], &mut psi, &mut hw), Err(Error::NonFinite { .. })));
    let mut bad = vec![0.0; map.n_params()];
    assert!(map.draw(&mut Xoshiro256::from_u64(0), -1.0, &mut bad).is_err());
    let _ = <f64 as Scalar>::from_f64(0.0);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

    /// The reverse rules hold at random inputs, lengthscales and draws, not just the pinned ones.
    #[test]
    fn adjoints_match_dual_at_random_points(
        x in proptest::collection::vec(-2.0..2.0_f64, 6),
        ell in 0.3..3.0_f64,
        seed in 0u64..1000,
    ) {
        let rff = RandomFourier::new(2, 6, FourierForm::CosPhase, Spectrum::Matern(Nu::ThreeHalves), Coupling::Orthogonal).unwrap();
        let mut p = vec![0.0; rff.n_params()];
        rff.draw(&mut Xoshiro256::from_u64(seed), ell, &mut p).unwrap();
        check_adjoint(&rff, &p, &x, seed + 1);

        // 64 features: with few, every feature can be inactive (w·x ≤ 0) at all three points,
        // which leaves nothing to check (it happened at 5 features, a few per cent of cases).
        let arc = ArcCosineFeatures::new(2, 64, 2).unwrap();
        let mut p = vec![0.0; arc.n_params()];
        arc.draw(&mut Xoshiro256::from_u64(seed), ell, &mut p).unwrap();
        check_adjoint(&arc, &p, &x, seed + 2);

        let hsgp = Hsgp::new(2, 3, Spectrum::Matern(Nu::FiveHalves)).unwrap();
        let p = [ell.ln(), 2.5, 3.0];
        check_adjoint(&hsgp, &p, &x, seed + 3);
    }
}
