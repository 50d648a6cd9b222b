//! `Dual` as a number type: plain constants mixing with duals (including nested duals), the
//! `approx` traits comparing every tangent, real-part comparisons, the num-traits identities,
//! and property tests of derivative identities that hold for every input (f64 and f32).

use approx::{assert_relative_eq, assert_ulps_eq, AbsDiffEq, RelativeEq, UlpsEq};
use num_traits::{One, Zero};
use proptest::prelude::*;
use svgp::{Dual, Scalar};

#[test]
fn f64_constants_mix_on_both_sides() {
    let x = Dual::<f64, 2>::new(3.0, [1.0, -2.0]);
    let k = |c: f64| Dual::<f64, 2>::constant(c);
    let cases = [
        (2.0 * x, k(2.0) * x),
        (x * 2.0, k(2.0) * x),
        (x + 1.0, x + k(1.0)),
        (1.0 + x, k(1.0) + x),
        (x - 0.5, x - k(0.5)),
        (0.5 - x, k(0.5) - x),
        (x / 4.0, x / k(4.0)),
        (3.0 / x, k(3.0) / x),
    ];
    for (i, (a, b)) in cases.iter().enumerate() {
        assert_eq!((a.re, a.eps), (b.re, b.eps), "case {i}");
    }
    let mut y = x;
    y += 1.0;
    y *= 2.0;
    y -= 0.5;
    y /= 4.0;
    let z = ((x + 1.0) * 2.0 - 0.5) / 4.0;
    assert_eq!((y.re, y.eps), (z.re, z.eps));
}

#[test]
fn f32_duals_take_unsuffixed_literals() {
    let x = Dual::<f32, 1>::variable(1.5, 0);
    let y = 2.0 * x * x + 1.0 - x / 2.0;
    assert_eq!(y.re, 2.0 * 1.5 * 1.5 + 1.0 - 0.75);
    assert_eq!(y.eps[0], 4.0 * 1.5 - 0.5);
}

#[test]
fn nested_duals_take_f64_constants_on_both_sides() {
    // g(x) = (3x + 1)² / 2 − 1: g' = 3(3x + 1), g'' = 9.
    type D2 = Dual<Dual<f64, 1>, 1>;
    let x: D2 = Dual::new(Dual::variable(2.0, 0), [Dual::constant(1.0)]);
    let u = x * 3.0 + 1.0;
    let g = u * u / 2.0 - 1.0;
    assert_eq!(g.re.re, 49.0 / 2.0 - 1.0);
    assert_eq!(g.re.eps[0], 21.0);
    assert_eq!(g.eps[0].re, 21.0);
    assert_eq!(g.eps[0].eps[0], 9.0);
    let h = 1.0 - 2.0 / (0.5 * x);
    let explicit = D2::from_f64(1.0) - D2::from_f64(2.0) / (D2::from_f64(0.5) * x);
    assert_relative_eq!(h, explicit);
    // The lane-type constant still works next to the f64 one.
    let c = Dual::<f64, 1>::new(1.0, [1.0]);
    assert_eq!((x + c).re.eps[0], 2.0);

    type F2 = Dual<Dual<f32, 1>, 1>;
    let y: F2 = Dual::new(Dual::variable(2.0, 0), [Dual::constant(1.0)]);
    let p = y * y * 0.5 + 1.0;
    assert_eq!((p.re.re, p.eps[0].eps[0]), (3.0, 1.0));
}

#[test]
fn approx_compares_every_tangent() {
    let a = Dual::<f64, 3>::new(1.0, [0.0, 2.0, -1.0]);
    let mut b = a;
    assert!(a.abs_diff_eq(&b, 0.0) && a.relative_eq(&b, 0.0, 0.0) && a.ulps_eq(&b, 0.0, 0));
    b.eps[2] = -1.0 + 1e-9;
    assert_eq!(a, b, "PartialEq looks at the value only");
    assert!(!a.abs_diff_eq(&b, 1e-12));
    assert!(a.abs_diff_eq(&b, 1e-8));
    assert!(!a.relative_eq(&b, 1e-12, 1e-12));
    assert!(a.relative_eq(&b, 1e-12, 1e-8));
    assert!(!a.ulps_eq(&b, 0.0, 4));
    b.eps[2] = -1.0 - f64::EPSILON;
    assert_ulps_eq!(a, b, max_ulps = 2);
    b.re = 1.0 + 1e-6;
    b.eps[2] = -1.0;
    assert!(!a.relative_eq(&b, 1e-12, 1e-8));

    // Nested: a difference hidden in the second-order part is seen.
    let n = Dual::<Dual<f64, 1>, 1>::new(Dual::new(1.0, [2.0]), [Dual::new(3.0, [4.0])]);
    let mut m = n;
    m.eps[0].eps[0] = 4.5;
    assert!(!n.relative_eq(&m, 1e-9, 1e-9));
    assert!(n.relative_eq(&m, 1e-9, 0.2));
}

#[test]
fn comparisons_and_identities_use_the_right_parts() {
    let a = Dual::<f64, 1>::new(1.0, [5.0]);
    let b = Dual::<f64, 1>::new(2.0, [-5.0]);
    assert!(a < b && a.partial_cmp(&b) == Some(core::cmp::Ordering::Less));
    assert_eq!(a.max(b).eps, [-5.0]);
    assert_eq!(a.min(b).eps, [5.0]);
    assert!(!Dual::<f64, 1>::new(0.0, [1.0]).is_zero());
    assert!(Dual::<f64, 1>::zero().is_zero());
    assert_eq!(Dual::<f64, 1>::one().re, 1.0);
    let s: Dual<f64, 1> = [a, b, a].into_iter().sum();
    assert_eq!((s.re, s.eps), (4.0, [5.0]));
    assert!(!Dual::<f64, 1>::new(1.0, [f64::NAN]).is_finite());
    assert!(a.is_finite());
    assert_eq!(Dual::<f32, 2>::from_usize(7).re, 7.0);
    assert_eq!(<Dual<Dual<f32, 1>, 2> as Scalar>::epsilon().re.re, f32::EPSILON);
    assert_eq!(Dual::<Dual<f64, 1>, 1>::from_real(2.5).real(), 2.5);
    assert_eq!(format!("{}", Dual::<f64, 2>::new(1.0, [2.0, 3.0])), "1 + 2ε0 + 3ε1");
    // Lanes past N are ignored by `variable`.
    assert_eq!(Dual::<f64, 2>::variable(1.0, 5).eps, [0.0, 0.0]);
}

/// Derivative identities, generic over the scalar; each returns (got, want) pairs.
mod identities {
    use super::*;

    fn d<T: Scalar>(f: impl Fn(Dual<T, 1>) -> Dual<T, 1>, x: T) -> f64 {
        f(Dual::variable(x, 0)).eps[0].re()
    }

    pub fn check<T: Scalar>(x: f64, tol: f64) {
        let t = T::from_f64(x);
        let xr = t.re();
        let c = |v: f64| Dual::<T, 1>::from_f64(v);
        let pairs = [
            ("sin²+cos²", d(|u| u.sin() * u.sin() + u.cos() * u.cos(), t), 0.0),
            ("softplus(x) − softplus(−x)", d(|u| u.softplus() - (-u).softplus(), t), 1.0),
            ("log_add_exp(x, x)", d(|u| u.log_add_exp(u), t), 1.0),
            ("atan2(sin x, cos x)", d(|u| u.sin().atan2(u.cos()), t), 1.0),
            ("tanh x vs 2σ(2x) − 1", d(|u| u.tanh(), t), d(|u| (u * c(2.0)).sigmoid() * c(2.0) - c(1.0), t)),
            ("hypot(x, 1)² − x²", d(|u| u.hypot(c(1.0)).powi(2) - u * u, t), 0.0),
            ("exp(x)·exp(−x)", d(|u| u.exp() * (-u).exp(), t), 0.0),
            ("powi(3) vs x·x·x", d(|u| u.powi(3), t), d(|u| u * u * u, t)),
            ("powi(−2) vs 1/x²", d(|u| u.powi(-2), t), d(|u| (u * u).recip(), t)),
        ];
        for (name, got, want) in pairs {
            assert!((got - want).abs() <= tol * want.abs().max(1.0), "{name} at {xr}: {got} vs {want}");
        }
        if xr > 0.0 {
            let pos = [
                ("exp(ln x)", d(|u| u.ln().exp(), t), 1.0),
                ("sqrt(x)²", d(|u| u.sqrt() * u.sqrt(), t), 1.0),
                ("exp_m1(ln_1p(x))", d(|u| u.ln_1p().exp_m1(), t), 1.0),
                ("powf(x, 2) vs x²", d(|u| u.powf(c(2.0)), t), 2.0 * xr),
            ];
            for (name, got, want) in pos {
                assert!((got - want).abs() <= tol * want.abs().max(1.0), "{name} at {xr}: {got} vs {want}");
            }
        }
    }

    /// Lanes are independent: one N-lane pass equals N one-lane passes.
    pub fn lanes<T: Scalar>(x: [f64; 3]) {
        fn f<S: Scalar>(v: &[S]) -> S {
            (v[0] * v[1]).sin() + v[2].softplus() * v[0].tanh() + v[1].hypot(v[2])
        }
        let xs = x.map(T::from_f64);
        let wide = f(&[0, 1, 2].map(|k| Dual::<T, 3>::variable(xs[k], k)));
        for k in 0..3 {
            let one = f(&[0, 1, 2].map(|j| Dual::<T, 1>::variable(xs[j], if j == k { 0 } else { 1 })));
            assert_eq!(wide.eps[k], one.eps[0], "lane {k}");
            assert_eq!(wide.re, one.re);
        }
    }
}

proptest! {
    #[test]
    fn derivative_identities_f64(x in -3.0..3.0_f64) {
        identities::check::<f64>(x, 1e-12);
    }
    #[test]
    fn derivative_identities_f32(x in -3.0..3.0_f64) {
        identities::check::<f32>(x, 2e-5);
    }
    #[test]
    fn lanes_are_independent(a in -3.0..3.0_f64, b in -3.0..3.0_f64, c in -3.0..3.0_f64) {
        identities::lanes::<f64>([a, b, c]);
        identities::lanes::<f32>([a, b, c]);
    }
}
