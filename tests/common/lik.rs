//! Oracles for the likelihood tests: expectations under a normal distribution by a fine
//! trapezoid rule (generic over `Scalar`, so `Dual` numbers through it give the derivatives of
//! the true expectation), and log densities p(y | f) written here, independently of the
//! crate's (their own thresholds and series).

use svgp::Scalar;

/// Half-width of the trapezoid's grid in standard deviations: the normal's mass beyond is e^{−200}.
pub const WIDTH: f64 = 20.0;
/// Grid points per standard deviation.
pub const PER_SD: usize = 500;

/// E[g(f)] for f ~ N(`mean`, `var`), var > 0: the trapezoid rule in t = (f − mean)/√var on
/// [−12, 12] with step 1e-3 (spectrally accurate for the analytic, fast-decaying integrands
/// here: the error is far below 1e-14 unless g varies on a scale below ~0.01 sd; wide enough
/// for E[e^{2f}] at s = 4).
pub fn trapezoid<S: Scalar>(mean: S, var: S, g: impl Fn(S) -> S) -> S {
    let s = var.sqrt();
    let n = (2.0 * WIDTH) as usize * PER_SD;
    let h = 2.0 * WIDTH / n as f64;
    let mut acc = S::zero();
    for k in 0..=n {
        let t = -WIDTH + k as f64 * h;
        let w = if k == 0 || k == n { 0.5 } else { 1.0 };
        let phi = (-0.5 * t * t).exp() / (2.0 * core::f64::consts::PI).sqrt();
        acc += S::from_f64(w * h * phi) * g(mean + s * S::from_f64(t));
    }
    acc
}

/// ln E[e^{g(f)}] by the same grid, in log space (log-sum-exp).
pub fn log_trapezoid(mean: f64, var: f64, g: impl Fn(f64) -> f64) -> f64 {
    let s = var.sqrt();
    let n = (2.0 * WIDTH) as usize * PER_SD;
    let h = 2.0 * WIDTH / n as f64;
    let terms: Vec<f64> = (0..=n)
        .map(|k| {
            let t = -WIDTH + k as f64 * h;
            let w: f64 = if k == 0 || k == n { 0.5 } else { 1.0 };
            (w * h).ln() - 0.5 * t * t - 0.5 * (2.0 * core::f64::consts::PI).ln() + g(mean + s * t)
        })
        .collect();
    let hi = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    hi + terms.iter().map(|v| (v - hi).exp()).sum::<f64>().ln()
}

/// ln Φ(z): ln(½erfc(−z/√2)) above −30, the first four terms of the asymptotic series below.
pub fn ln_phi<S: Scalar>(z: S) -> S {
    if z > S::from_f64(-30.0) {
        (S::from_f64(0.5) * (-z / S::from_f64(2.0_f64.sqrt())).erfc()).ln()
    } else {
        let u = (z * z).recip();
        let series = S::one() - u + S::from_f64(3.0) * u * u - S::from_f64(15.0) * u * u * u;
        -(S::from_f64(0.5) * z * z) - (-z).ln() - S::from_f64(0.5 * (2.0 * core::f64::consts::PI).ln())
            + series.ln()
    }
}

/// ln σ(z) = −ln(1 + e^{−z}).
pub fn ln_sigmoid<S: Scalar>(z: S) -> S {
    if z > S::zero() {
        -(-z).exp().ln_1p()
    } else {
        z - z.exp().ln_1p()
    }
}

/// ln y! as a sum of logarithms.
pub fn ln_factorial(y: f64) -> f64 {
    (2..=y as u64).map(|k| (k as f64).ln()).sum()
}

/// ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ ln(νπ) for ν = 3 or 4, in closed form.
pub fn student_t_norm(nu: f64) -> f64 {
    let pi = core::f64::consts::PI;
    let ratio = match nu {
        3.0 => 2.0 / pi.sqrt(),  // Γ(2)/Γ(3/2)
        4.0 => 0.75 * pi.sqrt(), // Γ(5/2)/Γ(2)
        _ => panic!("closed form only for ν = 3, 4"),
    };
    ratio.ln() - 0.5 * (nu * pi).ln()
}
