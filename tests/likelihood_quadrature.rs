//! Gauss–Hermite rules against published tables and closed forms, and their exactness on
//! polynomials, for every order the crate builds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use svgp::likelihood::quadrature::{DEFAULT_ORDER, MAX_ORDER};
use svgp::likelihood::GaussHermite;

const SQRT_PI: f64 = 1.772_453_850_905_516;

fn rule(n: usize) -> Vec<(f64, f64)> {
    let gh = GaussHermite::new(n).unwrap();
    (0..n).map(|k| gh.node(k).unwrap()).collect()
}

/// The positive half of a rule, nodes increasing.
fn positive(n: usize) -> Vec<(f64, f64)> {
    rule(n).into_iter().filter(|&(x, _)| x > 0.0).collect()
}

#[test]
fn low_orders_equal_their_closed_forms() {
    // K = 1: x = 0, w = √π. K = 2: ±1/√2, √π/2. K = 3: 0, ±√(3/2); 2√π/3, √π/6.
    // K = 4: ±√((3 ∓ √6)/2), √π/(4(3 ∓ √6)).
    let r6 = 6.0_f64.sqrt();
    let cases: [(usize, Vec<(f64, f64)>); 4] = [
        (1, vec![(0.0, SQRT_PI)]),
        (2, vec![(-0.5_f64.sqrt(), SQRT_PI / 2.0), (0.5_f64.sqrt(), SQRT_PI / 2.0)]),
        (
            3,
            vec![
                (-1.5_f64.sqrt(), SQRT_PI / 6.0),
                (0.0, 2.0 * SQRT_PI / 3.0),
                (1.5_f64.sqrt(), SQRT_PI / 6.0),
            ],
        ),
        (
            4,
            vec![
                (-((3.0 + r6) / 2.0).sqrt(), SQRT_PI / (4.0 * (3.0 + r6))),
                (-((3.0 - r6) / 2.0).sqrt(), SQRT_PI / (4.0 * (3.0 - r6))),
                (((3.0 - r6) / 2.0).sqrt(), SQRT_PI / (4.0 * (3.0 - r6))),
                (((3.0 + r6) / 2.0).sqrt(), SQRT_PI / (4.0 * (3.0 + r6))),
            ],
        ),
    ];
    for (n, want) in cases {
        let got = rule(n);
        assert_eq!(got.len(), n);
        for ((x, w), (xe, we)) in got.iter().zip(&want) {
            assert!((x - xe).abs() <= 2e-16 * xe.abs().max(1.0), "K = {n}: node {x} vs {xe}");
            assert!((w - we).abs() <= 4e-16 * we, "K = {n}: weight {w} vs {we}");
        }
    }
    assert_eq!(GaussHermite::new(3).unwrap().node(1), Some((0.0, rule(3)[1].1)));
    // the middle node is 0 exactly
}

/// Abramowitz & Stegun, Handbook of Mathematical Functions, Table 25.10 (p. 924): nodes to 15
/// decimals, weights to 13 significant digits (mantissa × 10^exponent as printed).
#[test]
fn orders_10_and_20_match_abramowitz_stegun_table_25_10() {
    let table: [(usize, &[f64], &[f64]); 2] = [
        (
            10,
            &[0.342901327223705, 1.036610829789514, 1.756683649299882, 2.53273167423279, 3.436159118837738],
            &[6.108626337353e-1, 2.401386110823e-1, 3.387439445548e-2, 1.343645746781e-3, 7.640432855233e-6],
        ),
        (
            20,
            &[
                0.245340708300901,
                0.737473728545394,
                1.234076215395323,
                1.738537712116586,
                2.254974002089276,
                2.788806058428131,
                3.347854567383216,
                3.944764040115625,
                4.603682449550744,
                5.387480890011233,
            ],
            &[
                4.622436696006e-1,
                2.866755053628e-1,
                1.090172060200e-1,
                2.481052088746e-2,
                3.243773342238e-3,
                2.283386360164e-4,
                7.802556478532e-6,
                1.086069370769e-7,
                4.399340992273e-10,
                2.229393645534e-13,
            ],
        ),
    ];
    for (n, xs, ws) in table {
        let got = positive(n);
        assert_eq!(got.len(), xs.len());
        for ((x, w), (xe, we)) in got.iter().zip(xs.iter().zip(ws)) {
            // The table's last printed digit: 1e-15 absolute for nodes, 1e-12 relative for weights.
            assert!((x - xe).abs() <= 1.0e-15, "K = {n}: node {x:.17} vs table {xe}");
            assert!((w - we).abs() <= 1.0e-12 * we, "K = {n}: weight {w:e} vs table {we:e}");
        }
        // Symmetric: the negative half mirrors the positive one exactly.
        let all = rule(n);
        for k in 0..n {
            assert_eq!(all[k].0, -all[n - 1 - k].0);
            assert_eq!(all[k].1, all[n - 1 - k].1);
        }
    }
}

/// E[ξ^{2j}] = (2j − 1)!! for ξ ~ N(0, 1), odd moments 0: a K-point rule is exact up to degree
/// 2K − 1, for every order built.
#[test]
fn every_order_integrates_polynomials_of_degree_2k_minus_1_exactly() {
    for n in 1..=MAX_ORDER {
        let gh = GaussHermite::new(n).unwrap();
        let total: f64 = rule(n).iter().map(|&(_, w)| w).sum();
        assert!((total - SQRT_PI).abs() <= 4e-15, "K = {n}: Σw = {total}");
        // Increasing nodes.
        let r = rule(n);
        assert!(r.windows(2).all(|p| p[0].0 < p[1].0), "K = {n}: nodes not increasing");
        // Degrees up to 2K − 1, capped at 24 (higher moments grow like 23!! and lose digits).
        let mut double_factorial = 1.0_f64;
        for deg in 0..(2 * n).min(25) {
            let [got] = gh.expect(0.0_f64, 1.0, |f| [f.powi(deg as i32)]);
            let want = if deg % 2 == 1 {
                0.0
            } else {
                if deg > 0 {
                    double_factorial *= (deg - 1) as f64;
                }
                double_factorial
            };
            assert!((got - want).abs() <= 1e-13 * want.max(1.0), "K = {n}, degree {deg}: {got} vs {want}");
        }
        // Degree 2K is not integrated exactly (the rule has exactly degree 2K − 1).
        if n <= 10 {
            let [got] = gh.expect(0.0_f64, 1.0, |f| [f.powi(2 * n as i32)]);
            let want: f64 = (1..2 * n).step_by(2).map(|k| k as f64).product();
            assert!((got - want).abs() > 1e-6 * want, "K = {n}: degree 2K came out exact");
        }
    }
}

#[test]
fn expectations_under_a_shifted_scaled_normal_and_bad_orders() {
    let gh = GaussHermite::default();
    assert_eq!(gh.order(), DEFAULT_ORDER);
    // E[f³] for f ~ N(μ, s²) = μ³ + 3μs².
    let (mu, s2) = (0.7_f64, 2.5);
    let [m3, m1] = gh.expect(mu, s2, |f| [f * f * f, f]);
    assert!((m3 - (mu * mu * mu + 3.0 * mu * s2)).abs() < 1e-13 && (m1 - mu).abs() < 1e-15);
    // A point mass: var = 0 puts every node on the mean.
    let [c] = gh.expect(1.5_f64, 0.0, |f| [f.exp()]);
    assert!((c - 1.5_f64.exp()).abs() < 1e-14);
    // ln E[e^{h}] in log space, where e^{h} underflows: h = −1000 + f gives −1000 + μ + s²/2.
    let l = gh.log_expect_exp(0.3_f64, 0.2, |f| -1000.0 + f);
    assert!((l - (-1000.0 + 0.3 + 0.1)).abs() < 1e-12, "{l}");
    for bad in [0, MAX_ORDER + 1, usize::MAX] {
        let e = GaussHermite::new(bad).unwrap_err();
        assert!(matches!(e, svgp::Error::InvalidParameter { what, .. } if what.contains("Gauss–Hermite")));
    }
    assert_eq!(format!("{gh:?}"), "GaussHermite { order: 20 }");
}
