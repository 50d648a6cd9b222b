//! The samplers' laws (moments and quantiles against their closed forms, on fixed seeds with
//! tolerances of about five standard errors) and Haar orthogonal matrices.
#![allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test

use svgp::rng::{
    cauchy, chi, chi_squared, gamma, haar_orthogonal, standard_normal, student_t, uniform01, Xoshiro256,
};

const N: usize = 200_000;

fn mean_var(xs: &[f64]) -> (f64, f64) {
    let m = xs.iter().sum::<f64>() / xs.len() as f64;
    let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (xs.len() - 1) as f64;
    (m, v)
}

fn draws(seed: u64, mut f: impl FnMut(&mut Xoshiro256) -> f64) -> Vec<f64> {
    let mut rng = Xoshiro256::from_u64(seed);
    (0..N).map(|_| f(&mut rng)).collect()
}

#[test]
fn gamma_moments() {
    // Gamma(a, 1): mean a, variance a; both branches (a < 1 boost, a ≥ 1 Marsaglia–Tsang).
    for a in [0.3, 1.0, 2.5, 9.0] {
        let xs = draws(1, |r| gamma(r, a));
        let (m, v) = mean_var(&xs);
        let se = (a / N as f64).sqrt();
        assert!((m - a).abs() < 5.0 * se, "a={a}: mean {m}");
        assert!((v / a - 1.0).abs() < 0.05, "a={a}: variance {v}");
        assert!(xs.iter().all(|&x| x > 0.0 && x.is_finite()));
    }
    assert!(gamma(&mut Xoshiro256::from_u64(0), -1.0).is_nan());
}

#[test]
fn chi_and_chi_squared() {
    for k in [1.0, 3.0, 7.0] {
        let (m, v) = mean_var(&draws(2, |r| chi_squared(r, k)));
        assert!((m - k).abs() < 5.0 * (2.0 * k / N as f64).sqrt(), "χ²_{k}: mean {m}");
        assert!((v / (2.0 * k) - 1.0).abs() < 0.05, "χ²_{k}: variance {v}");
        // E[χ_k²] = k; and χ_k is the norm of a standard normal k-vector, so compare the
        // means of the two constructions.
        let c = draws(3, |r| chi(r, k));
        let (cm, _) = mean_var(&c);
        let direct = draws(4, |r| (0..k as usize).map(|_| standard_normal(r).powi(2)).sum::<f64>().sqrt());
        let (dm, dv) = mean_var(&direct);
        assert!((cm - dm).abs() < 5.0 * (2.0 * dv / N as f64).sqrt(), "χ_{k}: {cm} vs {dm}");
    }
}

#[test]
fn student_t_moments_and_tails() {
    // ν = 5: variance ν/(ν − 2) = 5/3. P(|T| > 2.015) = 0.1 for ν = 5 (t-table).
    let xs = draws(5, |r| student_t(r, 5.0));
    let (m, v) = mean_var(&xs);
    assert!(m.abs() < 0.02, "mean {m}");
    assert!((v - 5.0 / 3.0).abs() < 0.08, "variance {v}");
    let tail = xs.iter().filter(|x| x.abs() > 2.015).count() as f64 / N as f64;
    assert!((tail - 0.1).abs() < 5.0 * (0.09 / N as f64).sqrt(), "tail {tail}");
    // ν = 1 is the Cauchy law: quartiles at ±1.
    let ys = draws(6, |r| student_t(r, 1.0));
    let inside = ys.iter().filter(|y| y.abs() < 1.0).count() as f64 / N as f64;
    assert!((inside - 0.5).abs() < 5.0 * (0.25 / N as f64).sqrt());
}

#[test]
fn cauchy_quantiles() {
    let xs = draws(7, cauchy);
    let sd = (0.25 / N as f64).sqrt();
    let frac = |t: f64| xs.iter().filter(|&&x| x < t).count() as f64 / N as f64;
    assert!((frac(0.0) - 0.5).abs() < 5.0 * sd);
    assert!((frac(1.0) - 0.75).abs() < 5.0 * sd);
    assert!((frac(-1.0) - 0.25).abs() < 5.0 * sd);
    // P(X < tan(π(0.45))) = 0.95.
    assert!((frac((0.45 * std::f64::consts::PI).tan()) - 0.95).abs() < 5.0 * sd);
    assert!(xs.iter().all(|x| x.is_finite()));
}

#[test]
fn haar_matrices_are_orthogonal_and_uniform() {
    let d = 4;
    let mut rng = Xoshiro256::from_u64(8);
    let mut q = vec![0.0; d * d];
    let reps = 20_000;
    let (mut sum11, mut sum11_sq, mut sum11_4, mut pos_det) = (0.0, 0.0, 0.0, 0usize);
    for _ in 0..reps {
        haar_orthogonal(&mut rng, d, &mut q).unwrap();
        for a in 0..d {
            for b in 0..d {
                let dot: f64 = (0..d).map(|i| q[i * d + a] * q[i * d + b]).sum();
                assert!((dot - if a == b { 1.0 } else { 0.0 }).abs() < 1e-13);
            }
        }
        sum11 += q[0];
        sum11_sq += q[0] * q[0];
        sum11_4 += q[0].powi(4);
        if det4(&q) > 0.0 {
            pos_det += 1;
        }
    }
    // Haar: every entry has mean 0 (a QR without the sign correction biases the diagonal),
    // second moment 1/d and fourth moment 3/(d(d + 2)) (Q₁₁² ~ Beta(1/2, (d − 1)/2));
    // det = ±1 with equal probability.
    let n = reps as f64;
    assert!((sum11 / n).abs() < 5.0 * (0.25 / n).sqrt());
    assert!((sum11_sq / n - 0.25).abs() < 0.01);
    assert!((sum11_4 / n - 3.0 / 24.0).abs() < 0.01);
    assert!((pos_det as f64 / n - 0.5).abs() < 5.0 * (0.25 / n).sqrt());
    assert!(haar_orthogonal(&mut rng, 3, &mut [0.0; 8]).is_err());
}

/// Determinant of a 4 × 4 row-major matrix by cofactor expansion.
fn det4(m: &[f64]) -> f64 {
    let det3 = |r: [usize; 3], c: [usize; 3]| {
        let a = |i: usize, j: usize| m[r[i] * 4 + c[j]];
        a(0, 0) * (a(1, 1) * a(2, 2) - a(1, 2) * a(2, 1)) - a(0, 1) * (a(1, 0) * a(2, 2) - a(1, 2) * a(2, 0))
            + a(0, 2) * (a(1, 0) * a(2, 1) - a(1, 1) * a(2, 0))
    };
    (0..4)
        .map(|j| {
            let cols: Vec<usize> = (0..4).filter(|&c| c != j).collect();
            let sign = if j % 2 == 0 { 1.0 } else { -1.0 };
            sign * m[j] * det3([1, 2, 3], [cols[0], cols[1], cols[2]])
        })
        .sum()
}

#[test]
fn identical_seeds_give_identical_streams() {
    let run = |seed| {
        let mut r = Xoshiro256::from_u64(seed);
        let mut q = [0.0; 9];
        haar_orthogonal(&mut r, 3, &mut q).unwrap();
        [
            gamma(&mut r, 0.7),
            chi(&mut r, 3.0),
            student_t(&mut r, 3.0),
            cauchy(&mut r),
            uniform01(&mut r),
            q[4],
        ]
    };
    assert_eq!(run(11), run(11));
    assert_ne!(run(11), run(12));
}
