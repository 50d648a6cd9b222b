//! `Scalar` on plain `f64` and `f32`: every elementary function against the standard library
//! (a different implementation than the `libm` the trait uses), the numerically stable helpers
//! (softplus, sigmoid, log_add_exp, log_sum_exp) against naive formulas where those are
//! accurate and against exact limits where they are not, and the min/max/powi conventions.

use proptest::prelude::*;
use svgp::Scalar;

macro_rules! float_tests {
    ($m:ident, $t:ident, $ulp_tol:expr) => {
        mod $m {
            use super::*;
            type T = $t;
            /// Relative tolerance for "same function, different library".
            const TOL: f64 = $ulp_tol * (T::EPSILON as f64);

            fn close(got: T, want: T) -> bool {
                let (g, w) = (got as f64, want as f64);
                g == w || (g - w).abs() <= TOL * w.abs().max(f64::MIN_POSITIVE)
            }

            proptest! {
                #[test]
                fn elementary_functions_match_std(x in -50.0..50.0_f64, y in -50.0..50.0_f64) {
                    let (x, y) = (x as T, y as T);
                    let cases: [(&str, T, T); 12] = [
                        ("exp", Scalar::exp(x / 2.0), (x / 2.0).exp()),
                        ("ln", Scalar::ln(x.abs() + 0.1), (x.abs() + 0.1).ln()),
                        ("ln_1p", Scalar::ln_1p(x.abs() / 60.0), (x.abs() / 60.0).ln_1p()),
                        ("exp_m1", Scalar::exp_m1(x / 50.0), (x / 50.0).exp_m1()),
                        ("sqrt", Scalar::sqrt(x.abs()), x.abs().sqrt()),
                        ("powf", Scalar::powf(x.abs() / 10.0, y / 10.0), (x.abs() / 10.0).powf(y / 10.0)),
                        ("sin", Scalar::sin(x), x.sin()),
                        ("cos", Scalar::cos(x), x.cos()),
                        ("tanh", Scalar::tanh(x / 10.0), (x / 10.0).tanh()),
                        ("atan2", Scalar::atan2(y, x), y.atan2(x)),
                        ("abs", Scalar::abs(x), x.abs()),
                        ("hypot", Scalar::hypot(x, y), x.hypot(y)),
                    ];
                    for (name, got, want) in cases {
                        // sin/cos near their zeros: compare absolutely against the argument's rounding.
                        let ok = close(got, want) || (name.len() == 3 && (got - want).abs() <= 4.0 * T::EPSILON * x.abs());
                        prop_assert!(ok, "{} at ({}, {}): {} vs std {}", name, x, y, got, want);
                    }
                    let (s, c) = Scalar::sin_cos(x);
                    prop_assert_eq!((s, c), (Scalar::sin(x), Scalar::cos(x)));
                }

                #[test]
                fn stable_helpers_match_naive_formulas_in_range(x in -15.0..15.0_f64, y in -15.0..15.0_f64) {
                    let (xt, yt) = (x as T, y as T);
                    // ln(1 + e^x) directly for x ≥ −1; below, where 1 + e^x cancels, its series.
                    let naive_sp = if x >= -1.0 {
                        (1.0 + x.exp()).ln()
                    } else {
                        let u = x.exp();
                        (1..40).rev().map(|k| -(-u).powi(k) / k as f64).sum()
                    };
                    let naive_sig = 1.0 / (1.0 + (-x).exp());
                    let naive_lae = (x.exp() + y.exp()).ln();
                    // The f64 naive formulas are accurate here; compare the T result against them.
                    let rel = |got: T, want: f64| ((got as f64) - want).abs() <= 8.0 * TOL * want.abs().max(1e-300) + 1e-300;
                    prop_assert!(rel(xt.softplus(), naive_sp), "softplus({}) = {}", x, xt.softplus());
                    prop_assert!(rel(xt.sigmoid(), naive_sig), "sigmoid({}) = {}", x, xt.sigmoid());
                    // Absolute near a zero result: both forms round at the scale of max(|x|, |y|).
                    let scale = x.abs().max(y.abs()).max(1.0);
                    let lae = xt.log_add_exp(yt) as f64;
                    prop_assert!((lae - naive_lae).abs() <= 8.0 * TOL * scale, "log_add_exp({}, {}) = {}", x, y, lae);
                    prop_assert_eq!(xt.log_add_exp(yt), yt.log_add_exp(xt));
                    // softplus(x) − softplus(−x) = x (absolutely: the difference cancels near 0)
                    // and σ(x) + σ(−x) = 1.
                    let diff = (xt.softplus() - (-xt).softplus()) as f64;
                    prop_assert!((diff - xt as f64).abs() <= 8.0 * TOL * (x.abs() + 1.0), "{} vs {}", diff, xt);
                    prop_assert!(rel(xt.sigmoid() + (-xt).sigmoid(), 1.0));
                }

                #[test]
                fn log_sum_exp_is_shift_invariant(xs in prop::collection::vec(-30.0..30.0_f64, 1..10), c in -500.0..500.0_f64) {
                    let v: Vec<T> = xs.iter().map(|&x| x as T).collect();
                    let naive: f64 = v.iter().map(|&x| (x as f64).exp()).sum::<f64>().ln();
                    let lse = T::log_sum_exp(&v);
                    prop_assert!(((lse as f64) - naive).abs() <= 8.0 * TOL * naive.abs().max(1.0));
                    // Shifted far past exp's overflow, it still works: lse(x + c) = lse(x) + c.
                    let c = c as T;
                    let shifted: Vec<T> = v.iter().map(|&x| x + c).collect();
                    let want = lse + c;
                    prop_assert!(((T::log_sum_exp(&shifted) - want) as f64).abs() <= 16.0 * TOL * (want as f64).abs().max(1.0));
                }

                #[test]
                fn powi_matches_powf(x in 0.1..4.0_f64, n in -12..12_i32) {
                    let x = x as T;
                    let (got, want) = (x.powi(n), x.powf(n as T));
                    prop_assert!(close(got, want) || ((got - want) as f64).abs() <= 4.0 * (n.abs() as f64) * TOL * (want as f64).abs());
                    let odd = if n % 2 == 0 { got } else { -got };
                    prop_assert!(close((-x).powi(n), odd));
                }
            }

            #[test]
            fn stable_helpers_at_extremes() {
                let big: T = if T::MAX_EXP > 200 { 800.0 } else { 120.0 };
                assert_eq!(big.softplus(), big);
                assert_eq!((-big).softplus(), 0.0);
                assert_eq!(big.sigmoid(), 1.0);
                assert_eq!((-big).sigmoid(), 0.0);
                let tail: T = -30.0;
                assert!(close(tail.softplus(), (30.0 as T).neg_exp_ref()));
                assert!(close(big.log_add_exp(big), big + core::f64::consts::LN_2 as T));
                assert_eq!(T::NEG_INFINITY.log_add_exp(T::NEG_INFINITY), T::NEG_INFINITY);
                assert_eq!(T::INFINITY.log_add_exp(T::INFINITY), T::INFINITY);
                assert_eq!(T::INFINITY.log_add_exp(1.0), T::INFINITY);
                assert_eq!((2.0 as T).log_add_exp(T::NEG_INFINITY), 2.0);
                assert!(T::NAN.log_add_exp(1.0).is_nan() && (1.0 as T).log_add_exp(T::NAN).is_nan());
                assert_eq!(T::log_sum_exp(&[]), T::NEG_INFINITY);
                assert_eq!(T::log_sum_exp(&[T::NEG_INFINITY, T::NEG_INFINITY]), T::NEG_INFINITY);
                assert_eq!(T::log_sum_exp(&[1.0, T::INFINITY]), T::INFINITY);
                assert!(T::log_sum_exp(&[1.0, T::NAN, 2.0]).is_nan());
                assert!(T::log_sum_exp(&[T::NAN]).is_nan());
            }

            #[test]
            fn conventions() {
                assert_eq!((0.0 as T).powi(0), 1.0);
                assert_eq!((2.0 as T).powi(10), 1024.0);
                assert_eq!((2.0 as T).powi(-3), 0.125);
                assert_eq!((0.0 as T).powi(-1), T::INFINITY);
                // max/min keep `self` when `other` is NaN; the real-part order decides otherwise.
                assert_eq!(Scalar::max(1.0 as T, T::NAN), 1.0);
                assert_eq!(Scalar::min(1.0 as T, T::NAN), 1.0);
                assert_eq!(Scalar::max(1.0 as T, 2.0), 2.0);
                assert_eq!(Scalar::min(1.0 as T, 2.0), 1.0);
                assert_eq!((4.0 as T).recip(), 0.25);
                assert_eq!((3.0 as T).mul_add(2.0, 1.0), 7.0);
                assert_eq!(T::from_usize(12), 12.0);
                assert_eq!(T::from_f64(0.1), 0.1 as T);
                assert_eq!((1.5 as T).re(), 1.5);
                assert_eq!((1.5 as T).real(), 1.5);
                assert!(!T::INFINITY.is_finite() && !T::NAN.is_finite() && (1.0 as T).is_finite());
                assert_eq!(<T as Scalar>::epsilon(), T::EPSILON);
            }

            trait NegExp {
                fn neg_exp_ref(self) -> T;
            }
            impl NegExp for T {
                /// ln(1 + e^{−x}) by the standard library's ln_1p, the softplus(−x) oracle.
                fn neg_exp_ref(self) -> T {
                    (-self).exp().ln_1p()
                }
            }
        }
    };
}

float_tests!(f64_, f64, 4.0);
float_tests!(f32_, f32, 4.0);
