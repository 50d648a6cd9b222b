//! Two-argument functions (atan2, hypot, powf, log_add_exp, mul, div, mul_add, max, min)
//! differentiated with a two-lane `Dual<T, 2>`: both partial derivatives against their
//! analytic forms and against central finite differences, and the full 2×2 Hessian from
//! `Dual<Dual<T, 2>, 2>` against finite differences of the dual gradient (plus symmetry).
//! Instantiated for `f64` and `f32`.

mod common;

use common::oracle::{central_diff, close, Tol};
use proptest::prelude::*;
use svgp::{Dual, Scalar};

type G<T> = Dual<T, 2>;
type H<T> = Dual<Dual<T, 2>, 2>;

type Partials = fn(f64, f64) -> [f64; 2];

fn check_binary<T: Tol>(
    name: &str,
    a: f64,
    b: f64,
    f0: fn(T, T) -> T,
    f1: fn(G<T>, G<T>) -> G<T>,
    f2: fn(H<T>, H<T>) -> H<T>,
    grad: Partials,
) {
    let (at, bt) = (T::from_f64(a), T::from_f64(b));
    let (ar, br) = (at.re(), bt.re());
    let y = f1(Dual::variable(at, 0), Dual::variable(bt, 1));
    assert_eq!(y.re.re(), f0(at, bt).re(), "{name}: dual value differs at ({ar}, {br})");
    let exact = grad(ar, br);
    let fd = [central_diff(|u| f0(u, bt), at), central_diff(|u| f0(at, u), bt)];
    for k in 0..2 {
        let got = y.eps[k].re();
        assert!(close(got, exact[k], T::AN), "{name}: ∂{k} at ({ar}, {br}) = {got}, analytic {}", exact[k]);
        assert!(close(got, fd[k], T::FD), "{name}: ∂{k} at ({ar}, {br}) = {got}, finite diff {}", fd[k]);
    }

    // Hessian: outer lanes and inner lanes both seeded with the coordinate directions.
    let lift = |v: T, k: usize| Dual::new(Dual::variable(v, k), [Dual::constant(T::zero()); 2]);
    let (mut ha, mut hb) = (lift(at, 0), lift(bt, 1));
    ha.eps[0] = Dual::constant(T::one());
    hb.eps[1] = Dual::constant(T::one());
    let z = f2(ha, hb);
    let dgrad = |k: usize, j: usize, u: T| {
        let (p, q) = if j == 0 { (u, bt) } else { (at, u) };
        f1(Dual::variable(p, 0), Dual::variable(q, 1)).eps[k]
    };
    for k in 0..2 {
        assert!(close(z.eps[k].re.re(), y.eps[k].re(), T::AN), "{name}: outer gradient differs");
        for j in 0..2 {
            let got = z.eps[k].eps[j].re();
            let fd = central_diff(|u| dgrad(k, j, u), if j == 0 { at } else { bt });
            assert!(close(got, fd, T::FD), "{name}: H[{k}][{j}] at ({ar}, {br}) = {got}, finite diff {fd}");
        }
    }
    let (h01, h10) = (z.eps[0].eps[1].re(), z.eps[1].eps[0].re());
    assert!(close(h01, h10, T::AN * 10.0), "{name}: Hessian not symmetric: {h01} vs {h10}");
}

fn sigma(a: f64) -> f64 {
    1.0 / (1.0 + (-a).exp())
}

macro_rules! per_type {
    ($m:ident, $t:ty) => {
        mod $m {
            use super::*;
            #[test]
            fn fixed_points() {
                for &(a, b) in AT {
                    check_binary::<$t>(NAME, a, b, f::<$t>, f::<G<$t>>, f::<H<$t>>, grad);
                }
            }
            proptest! {
                #[test]
                fn random_points(a in A.0..A.1, b in B.0..B.1) {
                    check_binary::<$t>(NAME, a, b, f::<$t>, f::<G<$t>>, f::<H<$t>>, grad);
                }
            }
        }
    };
}

macro_rules! binary {
    ($($name:ident { f: |$x:ident, $y:ident| $body:expr, grad: |$a:ident, $b:ident| $g:expr,
        a: $alo:expr => $ahi:expr, b: $blo:expr => $bhi:expr, at: [$($p:expr),* $(,)?] $(,)? })*) => {$(
        mod $name {
            use super::*;
            const NAME: &str = stringify!($name);
            const A: (f64, f64) = ($alo, $ahi);
            const B: (f64, f64) = ($blo, $bhi);
            const AT: &[(f64, f64)] = &[$($p),*];
            fn f<S: Scalar>($x: S, $y: S) -> S {
                $body
            }
            fn grad($a: f64, $b: f64) -> [f64; 2] {
                $g
            }
            per_type!(f64_, f64);
            per_type!(f32_, f32);
        }
    )*};
}

binary! {
    atan2 {
        f: |y, x| y.atan2(x), grad: |y, x| [x / (x * x + y * y), -y / (x * x + y * y)],
        a: -5.0 => 5.0, b: 0.2 => 5.0, at: [(1.0, -2.0), (-1.0, -2.0), (2.0, -0.5), (-3.0, 0.0), (0.0, 1.0)],
    }
    hypot {
        f: |x, y| x.hypot(y), grad: |x, y| [x / (x * x + y * y).sqrt(), y / (x * x + y * y).sqrt()],
        a: 0.3 => 5.0, b: -5.0 => 5.0, at: [(-1.0, 2.0), (-3.0, -4.0), (0.0, 1.5), (2.0, 0.0)],
    }
    powf {
        f: |x, y| x.powf(y), grad: |x, y| [y * x.powf(y - 1.0), x.powf(y) * x.ln()],
        a: 0.5 => 4.0, b: -3.0 => 3.0, at: [(0.2, 2.0), (2.0, -1.5), (1.0, 0.5)],
    }
    log_add_exp {
        f: |a, b| a.log_add_exp(b), grad: |a, b| [sigma(a - b), sigma(b - a)],
        a: -20.0 => 20.0, b: -20.0 => 20.0, at: [(0.0, 0.0), (-5.0, 3.0), (10.0, -10.0)],
    }
    mul {
        f: |a, b| a * b, grad: |a, b| [b, a],
        a: -10.0 => 10.0, b: -10.0 => 10.0, at: [(0.0, 0.0), (2.0, -3.0)],
    }
    div {
        f: |a, b| a / b, grad: |a, b| [1.0 / b, -a / (b * b)],
        a: -10.0 => 10.0, b: 0.5 => 5.0, at: [(0.0, 1.0), (2.0, -3.0)],
    }
    mul_add {
        f: |a, b| a.mul_add(b, a), grad: |a, b| [b + 1.0, a],
        a: -10.0 => 10.0, b: -10.0 => 10.0, at: [(1.0, 2.0)],
    }
    max {
        f: |a, b| a.max(b), grad: |a, b| if a >= b { [1.0, 0.0] } else { [0.0, 1.0] },
        a: 0.0 => 1.0, b: 2.0 => 3.0, at: [(1.0, 2.0), (3.0, -1.0)],
    }
    min {
        f: |a, b| a.min(b), grad: |a, b| if a <= b { [1.0, 0.0] } else { [0.0, 1.0] },
        a: 0.0 => 1.0, b: 2.0 => 3.0, at: [(1.0, 2.0), (3.0, -1.0)],
    }
}
