//! Every elementary function of [`Scalar`] differentiated on [`Dual`], in `f64` and `f32`:
//! first derivatives against the analytic derivative and against central finite differences,
//! second derivatives (through `Dual<Dual<T, 1>, 1>`) against the analytic second derivative
//! and against finite differences of the dual first derivative. Fixed points and proptest
//! random points, the same test set instantiated per float type by a macro.
//!
//! The analytic oracles are closed forms written independently of the implementation (for
//! example sech² as `1/cosh²`, not the `4e/(1+e)²` the code uses), evaluated in `f64` at the
//! point actually represented in the test type.

mod common;

use common::oracle::{central_diff, close, Tol};
use proptest::prelude::*;
use svgp::{Dual, Scalar};

type D1<T> = Dual<T, 1>;
type D2<T> = Dual<Dual<T, 1>, 1>;

/// Checks f', f'' of one unary function at `x` against both oracles.
#[allow(clippy::too_many_arguments)]
fn check_unary<T: Tol>(
    name: &str,
    x: f64,
    f0: fn(T) -> T,
    f1: fn(D1<T>) -> D1<T>,
    f2: fn(D2<T>) -> D2<T>,
    d1: fn(f64) -> f64,
    d2: fn(f64) -> f64,
) {
    let xt = T::from_f64(x);
    let xr = xt.re();
    let y = f1(Dual::variable(xt, 0));
    assert_eq!(y.re.re(), f0(xt).re(), "{name}: dual value differs from plain value at {xr}");
    let (got, exact) = (y.eps[0].re(), d1(xr));
    assert!(close(got, exact, T::AN), "{name}: f'({xr}) = {got}, analytic {exact}");
    let fd = central_diff(f0, xt);
    assert!(close(got, fd, T::FD), "{name}: f'({xr}) = {got}, finite difference {fd}");

    // Dual over dual: lane 0 of the inner and outer dual both seeded with 1.
    let z = f2(Dual::new(Dual::variable(xt, 0), [Dual::constant(T::one())]));
    assert!(close(z.re.eps[0].re(), got, T::AN), "{name}: inner f'({xr}) differs");
    assert!(close(z.eps[0].re.re(), got, T::AN), "{name}: outer f'({xr}) differs");
    let (got2, exact2) = (z.eps[0].eps[0].re(), d2(xr));
    assert!(close(got2, exact2, T::AN * 10.0), "{name}: f''({xr}) = {got2}, analytic {exact2}");
    let fd2 = central_diff(|u| f1(Dual::variable(u, 0)).eps[0], xt);
    assert!(close(got2, fd2, T::FD), "{name}: f''({xr}) = {got2}, finite difference {fd2}");
}

fn sigma(a: f64) -> f64 {
    1.0 / (1.0 + (-a).exp())
}
fn sigma_d1(a: f64) -> f64 {
    let e = (-a).exp();
    e / ((1.0 + e) * (1.0 + e))
}
fn sigma_d2(a: f64) -> f64 {
    let e = (-a).exp();
    e * (e - 1.0) / ((1.0 + e) * (1.0 + e) * (1.0 + e))
}
fn c<S: Scalar>(v: f64) -> S {
    S::from_f64(v)
}

macro_rules! per_type {
    ($m:ident, $t:ty) => {
        mod $m {
            use super::*;
            #[test]
            fn fixed_points() {
                for &x in AT {
                    check_unary::<$t>(NAME, x, f::<$t>, f::<D1<$t>>, f::<D2<$t>>, d1, d2);
                }
            }
            proptest! {
                #[test]
                fn random_points(x in LO..HI) {
                    check_unary::<$t>(NAME, x, f::<$t>, f::<D1<$t>>, f::<D2<$t>>, d1, d2);
                }
            }
        }
    };
}

macro_rules! unary {
    ($($name:ident { f: |$x:ident| $body:expr, d1: |$a:ident| $d1:expr, d2: |$b:ident| $d2:expr,
        dom: $lo:expr => $hi:expr, at: [$($p:expr),* $(,)?] $(,)? })*) => {$(
        mod $name {
            use super::*;
            const NAME: &str = stringify!($name);
            const LO: f64 = $lo;
            const HI: f64 = $hi;
            const AT: &[f64] = &[$($p),*];
            fn f<S: Scalar>($x: S) -> S {
                $body
            }
            fn d1($a: f64) -> f64 {
                $d1
            }
            fn d2($b: f64) -> f64 {
                $d2
            }
            per_type!(f64_, f64);
            per_type!(f32_, f32);
        }
    )*};
}

unary! {
    exp { f: |x| x.exp(), d1: |a| a.exp(), d2: |a| a.exp(), dom: -20.0 => 20.0, at: [-3.0, 0.0, 0.5, 10.0] }
    ln { f: |x| x.ln(), d1: |a| 1.0 / a, d2: |a| -1.0 / (a * a), dom: 0.5 => 50.0, at: [0.5, 1.0, 7.5] }
    ln_1p {
        f: |x| x.ln_1p(), d1: |a| 1.0 / (1.0 + a), d2: |a| -1.0 / ((1.0 + a) * (1.0 + a)),
        dom: -0.5 => 20.0, at: [-0.5, 0.0, 1e-10, 3.0],
    }
    exp_m1 { f: |x| x.exp_m1(), d1: |a| a.exp(), d2: |a| a.exp(), dom: -20.0 => 20.0, at: [-1e-9, 0.0, 2.0] }
    sqrt {
        f: |x| x.sqrt(), d1: |a| 0.5 / a.sqrt(), d2: |a| -0.25 / (a * a.sqrt()),
        dom: 0.5 => 100.0, at: [0.5, 1.0, 64.0],
    }
    powi_3 { f: |x| x.powi(3), d1: |a| 3.0 * a * a, d2: |a| 6.0 * a, dom: -5.0 => 5.0, at: [-2.0, 0.0, 1.5] }
    powi_neg2 {
        f: |x| x.powi(-2), d1: |a| -2.0 / (a * a * a), d2: |a| 6.0 / (a * a * a * a),
        dom: 0.5 => 5.0, at: [-1.5, 0.5, 2.0],
    }
    powi_0 { f: |x| x.powi(0), d1: |_a| 0.0, d2: |_a| 0.0, dom: -5.0 => 5.0, at: [0.0, 2.0] }
    powf_const_exponent {
        f: |x| x.powf(c(2.5)), d1: |a| 2.5 * a.powf(1.5), d2: |a| 3.75 * a.sqrt(),
        dom: 0.1 => 10.0, at: [0.5, 1.0, 4.0],
    }
    powf_const_base {
        f: |x| c::<S>(1.7).powf(x), d1: |a| 1.7_f64.powf(a) * 1.7_f64.ln(),
        d2: |a| 1.7_f64.powf(a) * 1.7_f64.ln() * 1.7_f64.ln(), dom: -10.0 => 10.0, at: [-2.0, 0.0, 3.0],
    }
    powf_self {
        f: |x| x.powf(x), d1: |a| a.powf(a) * (a.ln() + 1.0),
        d2: |a| a.powf(a) * ((a.ln() + 1.0) * (a.ln() + 1.0) + 1.0 / a), dom: 0.2 => 4.0, at: [0.5, 1.0, 3.0],
    }
    sin { f: |x| x.sin(), d1: |a| a.cos(), d2: |a| -a.sin(), dom: -10.0 => 10.0, at: [0.0, 1.0, core::f64::consts::FRAC_PI_2, 3.0] }
    cos { f: |x| x.cos(), d1: |a| -a.sin(), d2: |a| -a.cos(), dom: -10.0 => 10.0, at: [0.0, 1.0, core::f64::consts::FRAC_PI_2, 3.0] }
    sin_cos_sin { f: |x| x.sin_cos().0, d1: |a| a.cos(), d2: |a| -a.sin(), dom: -10.0 => 10.0, at: [0.0, 2.0] }
    sin_cos_cos { f: |x| x.sin_cos().1, d1: |a| -a.sin(), d2: |a| -a.cos(), dom: -10.0 => 10.0, at: [0.0, 2.0] }
    tanh {
        f: |x| x.tanh(), d1: |a| 1.0 / (a.cosh() * a.cosh()),
        d2: |a| -2.0 * a.tanh() / (a.cosh() * a.cosh()), dom: -20.0 => 20.0, at: [-3.0, 0.0, 0.5, 8.0],
    }
    abs_neg { f: |x| x.abs(), d1: |_a| -1.0, d2: |_a| 0.0, dom: -10.0 => -0.2, at: [-3.0, -0.5] }
    abs_pos { f: |x| x.abs(), d1: |_a| 1.0, d2: |_a| 0.0, dom: 0.2 => 10.0, at: [0.5, 3.0] }
    hypot_first {
        f: |x| x.hypot(c(2.0)), d1: |a| a / (a * a + 4.0).sqrt(), d2: |a| 4.0 / (a * a + 4.0).powf(1.5),
        dom: -10.0 => 10.0, at: [-1.0, 0.0, 3.0],
    }
    hypot_second {
        f: |x| c::<S>(-1.5).hypot(x), d1: |a| a / (a * a + 2.25).sqrt(),
        d2: |a| 2.25 / (a * a + 2.25).powf(1.5), dom: -10.0 => 10.0, at: [-1.0, 0.0, 3.0],
    }
    atan2_y {
        f: |x| x.atan2(c(1.5)), d1: |a| 1.5 / (a * a + 2.25), d2: |a| -3.0 * a / ((a * a + 2.25) * (a * a + 2.25)),
        dom: -10.0 => 10.0, at: [-2.0, 0.0, 1.0],
    }
    atan2_x {
        f: |x| c::<S>(-0.7).atan2(x), d1: |a| 0.7 / (a * a + 0.49),
        d2: |a| -1.4 * a / ((a * a + 0.49) * (a * a + 0.49)), dom: -10.0 => 10.0, at: [-2.0, 0.0, 1.0],
    }
    erfc {
        f: |x| x.erfc(), d1: |a| -core::f64::consts::FRAC_2_SQRT_PI * (-a * a).exp(),
        d2: |a| 2.0 * a * core::f64::consts::FRAC_2_SQRT_PI * (-a * a).exp(), dom: -6.0 => 6.0,
        at: [-2.0, 0.0, 0.5, 3.0],
    }
    softplus { f: |x| x.softplus(), d1: |a| sigma(a), d2: |a| sigma_d1(a), dom: -30.0 => 30.0, at: [-20.0, 0.0, 0.5, 20.0] }
    sigmoid { f: |x| x.sigmoid(), d1: |a| sigma_d1(a), d2: |a| sigma_d2(a), dom: -30.0 => 30.0, at: [-20.0, 0.0, 0.5, 20.0] }
    recip { f: |x| x.recip(), d1: |a| -1.0 / (a * a), d2: |a| 2.0 / (a * a * a), dom: 0.3 => 10.0, at: [-2.0, 0.5, 3.0] }
    mul_add { f: |x| x.mul_add(x, c(3.0)), d1: |a| 2.0 * a, d2: |_a| 2.0, dom: -10.0 => 10.0, at: [-1.0, 0.0, 2.0] }
    quotient {
        f: |x| (x + c(2.0)) / (x * x + c(1.0)), d1: |a| (1.0 - 4.0 * a - a * a) / ((a * a + 1.0) * (a * a + 1.0)),
        d2: |a| (2.0 * a * a * a + 12.0 * a * a - 6.0 * a - 4.0) / (a * a + 1.0).powi(3),
        dom: -10.0 => 10.0, at: [-1.0, 0.0, 2.0],
    }
    log_add_exp_first {
        f: |x| x.log_add_exp(c(0.5)), d1: |a| sigma(a - 0.5), d2: |a| sigma_d1(a - 0.5),
        dom: -30.0 => 30.0, at: [-10.0, 0.5, 3.0],
    }
    log_add_exp_second {
        f: |x| c::<S>(-1.0).log_add_exp(x), d1: |a| sigma(a + 1.0), d2: |a| sigma_d1(a + 1.0),
        dom: -30.0 => 30.0, at: [-10.0, -1.0, 3.0],
    }
    log_sum_exp {
        f: |x| S::log_sum_exp(&[x, c(1.0), x * c(2.0)]),
        d1: |a| {
            let z = a.exp() + 1.0_f64.exp() + (2.0 * a).exp();
            (a.exp() + 2.0 * (2.0 * a).exp()) / z
        },
        d2: |a| {
            let z = a.exp() + 1.0_f64.exp() + (2.0 * a).exp();
            let g = (a.exp() + 2.0 * (2.0 * a).exp()) / z;
            (a.exp() + 4.0 * (2.0 * a).exp()) / z - g * g
        },
        dom: -10.0 => 10.0, at: [-3.0, 0.0, 1.0, 4.0],
    }
}
