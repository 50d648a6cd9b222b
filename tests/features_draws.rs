//! Random-feature draws: identical for an identical seed, different for another, and with the
//! structure each family documents.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use svgp::features::{ArcCosineFeatures, Coupling, FeatureMap, FourierForm, RandomFourier, Spectrum};
use svgp::kernel::Nu;
use svgp::rng::Xoshiro256;

fn fourier_draw(map: &RandomFourier, seed: u64) -> Vec<f64> {
    let mut p = vec![0.0; map.n_params()];
    map.draw(&mut Xoshiro256::from_u64(seed), 0.8, &mut p).unwrap();
    p
}

#[test]
fn identical_seed_identical_draws() {
    let spectra =
        [Spectrum::Rbf, Spectrum::Matern(Nu::Half), Spectrum::Matern(Nu::ThreeHalves), Spectrum::Laplace];
    for spectrum in spectra {
        for form in [FourierForm::CosPhase, FourierForm::CosSin] {
            for coupling in [Coupling::Iid, Coupling::Orthogonal] {
                let Ok(map) = RandomFourier::new(3, 10, form, spectrum, coupling) else { continue };
                let (a, b, c) = (fourier_draw(&map, 5), fourier_draw(&map, 5), fourier_draw(&map, 6));
                assert_eq!(a, b, "{map:?}");
                assert_ne!(a, c, "{map:?}");
                assert_eq!(a[0], 0.8_f64.ln());
                assert!(a.iter().all(|v| v.is_finite()));
            }
        }
    }
    let map = ArcCosineFeatures::new(2, 9, 1).unwrap();
    let draw = |seed| {
        let mut p = vec![0.0; map.n_params()];
        map.draw(&mut Xoshiro256::from_u64(seed), 1.0, &mut p).unwrap();
        p
    };
    assert_eq!(draw(1), draw(1));
    assert_ne!(draw(1), draw(2));
}

#[test]
fn phases_are_uniform_on_the_circle() {
    let map = RandomFourier::new(1, 20_000, FourierForm::CosPhase, Spectrum::Rbf, Coupling::Iid).unwrap();
    let p = fourier_draw(&map, 1);
    let b = &p[1 + 20_000..];
    assert!(b.iter().all(|&v| (0.0..std::f64::consts::TAU).contains(&v)));
    let mean = b.iter().sum::<f64>() / b.len() as f64;
    assert!((mean - std::f64::consts::PI).abs() < 5.0 * (std::f64::consts::TAU / (12f64.sqrt() * 141.0)));
}

#[test]
fn orthogonal_blocks_are_orthogonal_with_chi_radii() {
    // D = 3, M = 7 frequencies: blocks {0,1,2}, {3,4,5}, {6}.
    let (d, m) = (3, 7);
    let map = RandomFourier::new(d, m, FourierForm::CosPhase, Spectrum::Rbf, Coupling::Orthogonal).unwrap();
    let p = fourier_draw(&map, 3);
    let w = &p[1..1 + d * m];
    let col = |j: usize| (0..d).map(|i| w[i * m + j]).collect::<Vec<f64>>();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    for block in [0..3, 3..6] {
        for a in block.clone() {
            for b in block.clone() {
                if a != b {
                    assert!(dot(&col(a), &col(b)).abs() < 1e-12, "columns {a}, {b}");
                }
            }
        }
    }
    // Across many draws the radii are χ_3: E‖ω‖² = 3 (the Gaussian spectrum's second moment).
    let big =
        RandomFourier::new(d, 30_000, FourierForm::CosSin, Spectrum::Rbf, Coupling::Orthogonal).unwrap();
    let p = fourier_draw(&big, 4);
    let mw = 15_000;
    let w = big.view(&p[..]).unwrap().w;
    let mean_r2 =
        (0..mw).map(|j| (0..d).map(|i| w[i * mw + j].powi(2)).sum::<f64>()).sum::<f64>() / mw as f64;
    assert!((mean_r2 - 3.0).abs() < 5.0 * (6.0 / mw as f64).sqrt(), "E|ω|² = {mean_r2}");
}
