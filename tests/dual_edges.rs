//! Derivatives at edge points, in `f64` and `f32`: sqrt, ln and powf at 0, hypot and atan2 at
//! and near the origin, abs at 0, and exp, tanh, softplus and sigmoid at large |x|.
//!
//! Conventions checked here: a non-differentiable point with a symmetric kink (abs at 0, hypot
//! at the origin) gets derivative 0, which is what the central difference gives; an infinite
//! derivative (sqrt or ln at 0) gives ±∞ in lanes that carry a tangent and exactly 0 in lanes
//! that do not (never 0·∞ = NaN).

use svgp::{Dual, Scalar};

fn rel_close(got: f64, want: f64, tol: f64) -> bool {
    got == want || (got - want).abs() <= tol * want.abs()
}

macro_rules! edges {
    ($m:ident, $t:ty, $rel:expr) => {
        mod $m {
            use super::*;
            type T = $t;
            type D = Dual<T, 2>;
            const REL: f64 = $rel;

            /// `x` seeded in lane 0; lane 1 untouched.
            fn var(x: T) -> D {
                Dual::variable(x, 0)
            }

            fn central(g: impl Fn(T) -> T, x: T, h: T) -> f64 {
                (g(x + h) - g(x - h)).re() / (2.0 * h.re())
            }

            #[test]
            fn sqrt_at_zero_is_infinite_in_seeded_lane_only() {
                let y = var(0.0).sqrt();
                assert_eq!(y.re, 0.0);
                assert_eq!(y.eps[0], T::INFINITY);
                assert_eq!(y.eps[1], 0.0);
                // One-sided difference quotients grow without bound: √h/h = 1/√h.
                for h in [1e-4, 1e-6, 1e-8] {
                    let q = (h as T).sqrt() / h as T;
                    assert!(q.re() >= 0.99 / (h as f64).sqrt(), "quotient {q} at h = {h}");
                }
                // A negative tangent gives −∞.
                assert_eq!(Dual::<T, 1>::new(0.0, [-2.0]).sqrt().eps[0], T::NEG_INFINITY);
            }

            #[test]
            fn ln_at_zero_is_infinite_in_seeded_lane_only() {
                let y = var(0.0).ln();
                assert_eq!(y.re, T::NEG_INFINITY);
                assert_eq!(y.eps, [T::INFINITY, 0.0]);
            }

            #[test]
            fn abs_at_zero_matches_central_difference() {
                let y = var(0.0).abs();
                assert_eq!((y.re, y.eps), (0.0, [0.0, 0.0]));
                assert_eq!(central(|x| x.abs(), 0.0, 1e-3), 0.0);
                assert_eq!(var(-0.0).abs().eps[0], 0.0);
            }

            #[test]
            fn hypot_at_and_near_origin() {
                let y = var(0.0).hypot(Dual::variable(0.0, 1));
                assert_eq!((y.re, y.eps), (0.0, [0.0, 0.0]));
                assert_eq!(central(|x| x.hypot(0.0), 0.0, 1e-3), 0.0);
                // On an axis the partials are (0, sign y), matching central differences.
                let y = var(0.0).hypot(Dual::variable(-2.0, 1));
                assert_eq!(y.eps, [0.0, -1.0]);
                assert_eq!(central(|x| x.hypot(-2.0), 0.0, 1e-3), 0.0);
            }

            #[test]
            fn hypot_and_atan2_at_extreme_magnitudes() {
                // r² would overflow (huge) or underflow (tiny) in the plain float type.
                let s = if T::MAX_EXP > 200 { 1e200 } else { 1e30 };
                for scale in [s, 1.0 / s] {
                    let (x, y) = ((3.0 * scale) as T, (4.0 * scale) as T);
                    let r = 5.0 * scale;
                    let h = Dual::<T, 2>::variable(x, 0).hypot(Dual::variable(y, 1));
                    assert!(rel_close(h.eps[0].re(), 0.6, REL) && rel_close(h.eps[1].re(), 0.8, REL));
                    let a = Dual::<T, 2>::variable(y, 0).atan2(Dual::variable(x, 1));
                    // ∂atan2(y, x)/∂y = x / r², ∂/∂x = −y / r²
                    let (dy, dx) = (0.6 / r, -0.8 / r);
                    assert!(rel_close(a.eps[0].re(), dy, REL), "scale {scale}: {} vs {dy}", a.eps[0]);
                    assert!(rel_close(a.eps[1].re(), dx, REL), "scale {scale}: {} vs {dx}", a.eps[1]);
                }
                // At the origin atan2 is not differentiable: derivative 0 by convention, value kept.
                let a = var(0.0).atan2(Dual::variable(0.0, 1));
                assert_eq!((a.re, a.eps), (0.0, [0.0, 0.0]));
            }

            #[test]
            fn powf_at_zero_base() {
                // Constant exponent: d/dx x² at 0 is 0, and the ln 0 = −∞ term must not leak.
                let y = var(0.0).powf(Dual::constant(2.0));
                assert_eq!((y.re, y.eps), (0.0, [0.0, 0.0]));
                // x^0.5 at 0: infinite slope in the seeded lane only.
                let y = var(0.0).powf(Dual::constant(0.5));
                assert_eq!(y.eps, [T::INFINITY, 0.0]);
            }

            #[test]
            fn powi_at_zero() {
                let y = var(0.0).powi(-1);
                assert_eq!(y.re, T::INFINITY, "value of 1/x at 0 must be ∞, not ∞·0 = NaN");
                assert_eq!(y.eps[1], 0.0);
                assert_eq!(var(0.0).powi(1).eps[0], 1.0);
                assert_eq!(var(0.0).powi(2).eps[0], 0.0);
                // i32::MIN must not overflow n − 1; 2^MIN underflows to 0 with a 0 derivative.
                let y = var(2.0).powi(i32::MIN);
                assert_eq!((y.re, y.eps[0]), (0.0, 0.0));
                assert_eq!(var(1.0).powi(i32::MIN).eps[0].re(), f64::from(i32::MIN));
            }

            #[test]
            fn exp_at_large_magnitude() {
                let big = if T::MAX_EXP > 200 { 700.0 } else { 88.0 };
                let y = var(big).exp();
                assert!(y.re.is_finite() && y.eps[0] == y.re && y.eps[1] == 0.0);
                // Past overflow: ∞ in the seeded lane, 0 (not NaN) in the other.
                let y = var(big + 20.0).exp();
                assert_eq!((y.re, y.eps), (T::INFINITY, [T::INFINITY, 0.0]));
                let y = var(-big - 100.0).exp();
                assert_eq!((y.re, y.eps), (0.0, [0.0, 0.0]));
                let y = var(-big - 100.0).exp_m1();
                assert_eq!((y.re, y.eps), (-1.0, [0.0, 0.0]));
            }

            #[test]
            fn tanh_at_large_magnitude_keeps_relative_accuracy() {
                // sech² x = 1/cosh² x ≈ 4e^{−2|x|}, far below the 1 − tanh² cancellation floor.
                for x in [-30.0_f64, -15.0, 10.0, 20.0, 40.0] {
                    let exact = 1.0 / (x.cosh() * x.cosh());
                    let got = var(x as T).tanh().eps[0].re();
                    assert!(rel_close(got, exact, REL), "tanh'({x}) = {got}, exact {exact}");
                }
                for x in [-1000.0_f64, 1000.0] {
                    let y = var(x as T).tanh();
                    assert_eq!((y.re.abs(), y.eps), (1.0, [0.0, 0.0]));
                }
            }

            #[test]
            fn softplus_and_sigmoid_at_large_magnitude() {
                for x in [-60.0_f64, -30.0, 30.0, 60.0] {
                    let e = (-x as f64).exp();
                    let sig = 1.0 / (1.0 + e);
                    let dsig = e / ((1.0 + e) * (1.0 + e));
                    let sp = var(x as T).softplus();
                    assert!(rel_close(sp.eps[0].re(), sig, REL), "softplus'({x}) = {}", sp.eps[0]);
                    let s = var(x as T).sigmoid();
                    assert!(rel_close(s.eps[0].re(), dsig, REL), "sigmoid'({x}) = {} vs {dsig}", s.eps[0]);
                }
                // Far tails: exact values, finite tangents.
                let big = if T::MAX_EXP > 200 { 800.0 } else { 120.0 };
                let y = var(big).softplus();
                assert_eq!((y.re, y.eps), (big, [1.0, 0.0]));
                let y = var(-big).softplus();
                assert_eq!((y.re, y.eps), (0.0, [0.0, 0.0]));
                let y = var(-big).sigmoid();
                assert_eq!((y.re, y.eps), (0.0, [0.0, 0.0]));
            }

            #[test]
            fn log_add_exp_and_log_sum_exp_limits() {
                let ninf = D::from_f64(f64::NEG_INFINITY);
                assert_eq!(ninf.log_add_exp(ninf).re, T::NEG_INFINITY);
                let inf = D::from_f64(f64::INFINITY);
                assert_eq!(inf.log_add_exp(inf).re, T::INFINITY);
                // −∞ contributes nothing: log_add_exp(x, −∞) = x with x's tangent.
                let y = var(1.5).log_add_exp(ninf);
                assert_eq!((y.re, y.eps), (1.5, [1.0, 0.0]));
                assert_eq!(D::log_sum_exp(&[]).re, T::NEG_INFINITY);
                assert!(D::log_sum_exp(&[var(1.0), D::from_f64(f64::NAN)]).re.is_nan());
                assert!(D::log_sum_exp(&[D::from_f64(f64::NAN), var(1.0)]).re.is_nan());
                // Huge equal arguments: ln 2 above, derivative split evenly.
                let big = (if T::MAX_EXP > 200 { 1e300_f64 } else { 1e30 }) as T;
                let y = D::log_sum_exp(&[var(big), Dual::variable(big, 1)]);
                assert_eq!(y.eps, [0.5, 0.5]);
            }
        }
    };
}

edges!(f64_, f64, 1e-12);
edges!(f32_, f32, 1e-5);
