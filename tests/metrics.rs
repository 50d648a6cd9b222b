//! svgp::metrics: quantiles against published values, NLPD against closed forms, coverage on
//! synthetic Gaussians, standardisation round trips, and the typed errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: a failed unwrap is a failed test

use svgp::metrics::{
    apply_columns, central_z, coverage, fit_columns, gaussian_coverage, gaussian_log_density, gaussian_nlpd,
    nlpd, normal_quantile, rmse, Standardizer,
};
use svgp::rng::{standard_normal, uniform, Xoshiro256};
use svgp::Error;

/// Φ(z) through erfc (an independent route from the quantile's rational approximation).
fn phi(z: f64) -> f64 {
    0.5 * libm::erfc(-z / core::f64::consts::SQRT_2)
}

#[test]
fn normal_quantile_matches_published_values() {
    // Φ⁻¹ at classical points (Abramowitz & Stegun, table 26.5; tail value to 17 digits).
    let table = [
        (0.5, 0.0),
        (0.75, 0.674_489_750_196_081_7),
        (0.841_344_746_068_542_9, 1.0),
        (0.975, 1.959_963_984_540_054),
        (0.995, 2.575_829_303_548_900_4),
        (0.025, -1.959_963_984_540_054),
        (1e-10, -6.361_340_902_404_056),
    ];
    for (p, z) in table {
        let got = normal_quantile(p).unwrap();
        assert!((got - z).abs() <= 4e-15 * z.abs().max(1.0), "Φ⁻¹({p}) = {got}, expected {z}");
    }
    assert!((central_z(0.95).unwrap() - 1.959_963_984_540_054).abs() < 4e-15);
    assert!((central_z(0.5).unwrap() - 0.674_489_750_196_081_7).abs() < 4e-15);
}

#[test]
fn normal_quantile_inverts_phi_across_the_range() {
    let mut worst = 0.0f64;
    for k in 1..2000 {
        let p = k as f64 / 2000.0;
        let z = normal_quantile(p).unwrap();
        worst = worst.max((phi(z) - p).abs() / p.min(1.0 - p));
    }
    for e in 3..=14 {
        let p = 10f64.powi(-e);
        let z = normal_quantile(p).unwrap();
        worst = worst.max((phi(z) - p).abs() / p);
    }
    assert!(worst < 1e-13, "worst relative |Φ(Φ⁻¹(p)) − p| = {worst:e}");
}

#[test]
fn quantile_and_level_outside_their_range_are_errors() {
    for p in [0.0, 1.0, -0.1, 1.5, f64::NAN, f64::INFINITY] {
        assert!(matches!(normal_quantile(p), Err(Error::InvalidParameter { .. })), "p = {p}");
    }
    for level in [0.0, 1.0, 95.0, f64::NAN] {
        assert!(matches!(central_z(level), Err(Error::InvalidParameter { .. })), "level = {level}");
        assert!(gaussian_coverage(&[0.0], &[0.0], &[1.0], level).is_err());
    }
}

#[test]
fn gaussian_nlpd_matches_the_closed_form() {
    // −log N(1 | 0, 4) = ½ ln(8π) + 1/8, worked by hand: ln 8 + ln π = 3.224171427529236.
    let v = gaussian_nlpd(&[1.0_f64], &[0.0], &[4.0]).unwrap();
    assert!((v - 1.737_085_713_764_618).abs() < 1e-14, "{v}");
    // Averaged over points, and the same through the generic form.
    let (y, m, s2) = ([1.0_f64, -2.0, 0.5], [0.0, 0.0, 1.0], [4.0, 1.0, 0.25]);
    let by_hand = [
        1.737_085_713_764_618,
        0.918_938_533_204_672_7 + 2.0,
        0.918_938_533_204_672_7 + 0.5 * 0.25f64.ln() + 0.5,
    ];
    let mean_by_hand = by_hand.iter().sum::<f64>() / 3.0;
    let got = gaussian_nlpd(&y, &m, &s2).unwrap();
    assert!((got - mean_by_hand).abs() < 1e-14, "{got} vs {mean_by_hand}");
    let lpd: Vec<f64> = (0..3).map(|i| gaussian_log_density(y[i], m[i], s2[i])).collect();
    assert!((nlpd(&lpd).unwrap() - got).abs() < 1e-15);
    // f32 predictions are read exactly (accumulation in f64).
    let got32 = gaussian_nlpd(&[1.0_f32, -2.0, 0.5], &[0.0, 0.0, 1.0], &[4.0, 1.0, 0.25]).unwrap();
    assert!((got32 - mean_by_hand).abs() < 1e-14);
}

#[test]
fn gaussian_log_density_integrates_to_one() {
    // Trapezoid over mean ± 12σ: independent of the formula's algebra.
    let (m, v) = (3.0_f64, 0.7_f64);
    let (lo, hi, n) = (m - 12.0 * v.sqrt(), m + 12.0 * v.sqrt(), 20_000);
    let h = (hi - lo) / n as f64;
    let total: f64 = (0..=n)
        .map(|k| {
            let w = if k == 0 || k == n { 0.5 } else { 1.0 };
            w * gaussian_log_density(lo + k as f64 * h, m, v).exp()
        })
        .sum::<f64>()
        * h;
    assert!((total - 1.0).abs() < 1e-10, "∫ density = {total}");
}

/// n draws y_i ~ N(mean_i, var_i) with random means and variances.
fn synthetic(n: usize, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut rng = Xoshiro256::from_u64(seed);
    let mean: Vec<f64> = (0..n).map(|_| uniform(&mut rng, -5.0, 5.0)).collect();
    let var: Vec<f64> = (0..n).map(|_| uniform(&mut rng, 0.01, 4.0)).collect();
    let y = mean.iter().zip(&var).map(|(m, v)| m + v.sqrt() * standard_normal(&mut rng)).collect();
    (y, mean, var)
}

#[test]
fn coverage_of_calibrated_gaussians_is_the_level() {
    let n = 40_000;
    let (y, mean, var) = synthetic(n, 11);
    for level in [0.5, 0.8, 0.95, 0.99] {
        let c = gaussian_coverage(&y, &mean, &var, level).unwrap();
        let sd = (level * (1.0 - level) / n as f64).sqrt();
        assert!((c - level).abs() < 4.5 * sd, "level {level}: coverage {c} (binomial sd {sd:.1e})");
    }
    // An over-confident predictive (variance / 4) covers 2Φ(z/2) − 1 of the 95 % band: 0.673.
    let narrow: Vec<f64> = var.iter().map(|v| v / 4.0).collect();
    let c = gaussian_coverage(&y, &mean, &narrow, 0.95).unwrap();
    let expected = 2.0 * phi(1.959_963_984_540_054 / 2.0) - 1.0;
    assert!((c - expected).abs() < 0.012, "over-confident coverage {c}, expected {expected}");
    // The generic form on the same intervals agrees exactly.
    let z = central_z(0.95).unwrap();
    let lo: Vec<f64> = mean.iter().zip(&var).map(|(m, v)| m - z * v.sqrt()).collect();
    let hi: Vec<f64> = mean.iter().zip(&var).map(|(m, v)| m + z * v.sqrt()).collect();
    let generic = coverage(&y, &lo, &hi).unwrap();
    assert!((generic - gaussian_coverage(&y, &mean, &var, 0.95).unwrap()).abs() <= 2.0 / n as f64);
}

#[test]
fn nlpd_of_calibrated_gaussians_is_their_entropy() {
    // E[−log N(y | m, v)] = ½ ln(2π v) + ½ when y ~ N(m, v).
    let n = 40_000;
    let (y, mean, var) = synthetic(n, 12);
    let expected: f64 =
        var.iter().map(|v| 0.5 * (2.0 * core::f64::consts::PI * v).ln() + 0.5).sum::<f64>() / n as f64;
    let got = gaussian_nlpd(&y, &mean, &var).unwrap();
    // Per-point variance of −log p is ½ (a χ²₁/2): sd of the mean is √(0.5/n) ≈ 0.0035.
    assert!((got - expected).abs() < 0.02, "NLPD {got}, entropy {expected}");
    // The wrong variance scores worse.
    let wide: Vec<f64> = var.iter().map(|v| v * 9.0).collect();
    assert!(gaussian_nlpd(&y, &mean, &wide).unwrap() > got + 0.3);
}

#[test]
fn rmse_of_known_vectors_and_errors() {
    assert_eq!(rmse(&[0.0_f64, 0.0], &[3.0, 4.0]).unwrap(), 12.5f64.sqrt());
    assert_eq!(rmse(&[1.0_f64, 2.0], &[1.0, 2.0]).unwrap(), 0.0);
    assert!(matches!(rmse::<f64>(&[], &[]), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(
        rmse(&[1.0_f64, 2.0], &[1.0]),
        Err(Error::DimensionMismatch { expected: 2, found: 1, .. })
    ));
    match rmse(&[1.0_f64, 2.0, 3.0], &[1.0, f64::NAN, 3.0]) {
        Err(Error::NonFinite { index: 1, .. }) => {}
        other => panic!("expected NonFinite at index 1, got {other:?}"),
    }
    assert!(matches!(rmse(&[1e300_f64], &[-1e300]), Err(Error::NonFinite { .. })));
}

#[test]
fn gaussian_metrics_refuse_bad_variances_and_intervals() {
    for bad in [0.0, -1.0] {
        assert!(matches!(gaussian_nlpd(&[0.0_f64], &[0.0], &[bad]), Err(Error::InvalidParameter { .. })));
        assert!(matches!(
            gaussian_coverage(&[0.0_f64], &[0.0], &[bad], 0.9),
            Err(Error::InvalidParameter { .. })
        ));
    }
    match gaussian_nlpd(&[0.0_f64, 0.0], &[0.0, 0.0], &[1.0, f64::INFINITY]) {
        Err(Error::NonFinite { index: 1, .. }) => {}
        other => panic!("expected NonFinite at index 1, got {other:?}"),
    }
    assert!(matches!(gaussian_nlpd(&[0.0_f64], &[0.0, 1.0], &[1.0]), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(coverage(&[0.0_f64], &[1.0], &[-1.0]), Err(Error::InvalidParameter { .. })));
    assert!(matches!(nlpd::<f64>(&[]), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(nlpd(&[f64::NEG_INFINITY]), Err(Error::NonFinite { index: 0, .. })));
}

#[test]
fn standardise_then_invert_is_the_identity() {
    let mut rng = Xoshiro256::from_u64(5);
    // Mauna-Loa-like targets: a large offset and a small spread (cancellation-prone).
    let y: Vec<f64> = (0..2000).map(|_| 340.0 + 15.0 * standard_normal(&mut rng)).collect();
    let st = Standardizer::fit(&y).unwrap();
    let mut z = y.clone();
    st.apply_in_place(&mut z);
    let n = z.len() as f64;
    let mean = z.iter().sum::<f64>() / n;
    let sd = (z.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n).sqrt();
    assert!(mean.abs() < 1e-13 && (sd - 1.0).abs() < 1e-13, "standardised mean {mean}, sd {sd}");
    for (orig, zi) in y.iter().zip(&z) {
        assert!((st.invert_value(*zi) - orig).abs() < 1e-12 * orig.abs(), "{orig} -> {zi}");
    }
    // Variances scale by the squared spread: a sample's variance in standardised units, mapped
    // back, is the sample's variance in the original units.
    let sample: Vec<f64> = z[..100].to_vec();
    let var_of = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64
    };
    let back: Vec<f64> = sample.iter().map(|&v| st.invert_value(v)).collect();
    let (vz, vy) = (var_of(&sample), var_of(&back));
    assert!((st.invert_variance(vz) - vy).abs() < 1e-10 * vy, "{} vs {vy}", st.invert_variance(vz));
    // In place, predictions (mean, variance) together.
    let (mut m, mut v) = (vec![0.0, 1.0], vec![1.0, 0.25]);
    st.invert_in_place(&mut m, &mut v).unwrap();
    assert_eq!(m, vec![st.mean, st.mean + st.scale]);
    assert_eq!(v, vec![st.scale * st.scale, 0.25 * st.scale * st.scale]);
    assert!(st.invert_in_place(&mut [0.0], &mut [1.0, 2.0]).is_err());
}

#[test]
fn standardise_columns_and_constant_columns() {
    let mut rng = Xoshiro256::from_u64(6);
    let (n, d) = (500, 3);
    let x: Vec<f64> = (0..n * d)
        .map(|k| match k % d {
            0 => 1958.0 + 43.0 * uniform(&mut rng, 0.0, 1.0),
            1 => 1e-3 * standard_normal(&mut rng),
            _ => 7.0, // constant: shifted to 0, not scaled
        })
        .collect();
    let mut cols = [Standardizer { mean: 0.0, scale: 0.0 }; 3];
    fit_columns(&x, d, &mut cols).unwrap();
    assert_eq!(cols[2], Standardizer { mean: 7.0, scale: 1.0 });
    for c in 0..d {
        assert_eq!(cols[c], Standardizer::fit_column(&x, d, c).unwrap());
    }
    let mut z = x.clone();
    apply_columns(&cols, &mut z).unwrap();
    for c in 0..2 {
        let col: Vec<f64> = z.iter().skip(c).step_by(d).copied().collect();
        let m = col.iter().sum::<f64>() / n as f64;
        let s = (col.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n as f64).sqrt();
        assert!(m.abs() < 1e-12 && (s - 1.0).abs() < 1e-12, "column {c}: mean {m}, sd {s}");
    }
    assert!(z.iter().skip(2).step_by(d).all(|&v| v == 0.0));
    for (k, (zi, xi)) in z.iter().zip(&x).enumerate() {
        assert!((cols[k % d].invert_value(*zi) - xi).abs() <= 1e-12 * xi.abs().max(1e-3));
    }
    // f32 data: fitted in f64, applied in f32.
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let c32 = Standardizer::fit_column(&x32, d, 0).unwrap();
    assert!((c32.mean - cols[0].mean).abs() < 1e-3 && (c32.scale / cols[0].scale - 1.0).abs() < 1e-5);
}

#[test]
fn standardisation_errors_are_typed() {
    assert!(matches!(Standardizer::fit::<f64>(&[]), Err(Error::DimensionMismatch { .. })));
    match Standardizer::fit(&[1.0_f64, f64::NAN]) {
        Err(Error::NonFinite { index: 1, .. }) => {}
        other => panic!("expected NonFinite at index 1, got {other:?}"),
    }
    // Column 1 of a 2-column matrix: flat index 3 is row 1.
    match Standardizer::fit_column(&[0.0_f64, 1.0, 2.0, f64::INFINITY], 2, 1) {
        Err(Error::NonFinite { index: 3, .. }) => {}
        other => panic!("expected NonFinite at flat index 3, got {other:?}"),
    }
    assert!(Standardizer::fit_column(&[0.0_f64, 1.0], 2, 2).is_err());
    assert!(Standardizer::fit_column(&[0.0_f64, 1.0, 2.0], 2, 0).is_err()); // 3 values, d = 2
    assert!(Standardizer::fit_column(&[0.0_f64], 0, 0).is_err());
    let mut cols = [Standardizer { mean: 0.0, scale: 1.0 }; 2];
    assert!(fit_columns(&[0.0_f64, 1.0, 2.0], 3, &mut cols).is_err()); // 3 columns, 2 standardisers
    assert!(apply_columns(&cols, &mut [0.0_f64, 1.0, 2.0]).is_err());
    assert!(matches!(Standardizer::fit(&[1e200_f64, -1e200, 1e300]), Err(Error::NonFinite { .. })));
}
