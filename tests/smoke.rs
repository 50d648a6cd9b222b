//! Smoke test: nested duals give second derivatives and take plain constants.

use svgp::{Dual, Scalar};

#[test]
fn nested_dual_second_derivative() {
    // f(x) = x³ ⇒ f''(2) = 12.
    type D2 = Dual<Dual<f64, 1>, 1>;
    let x: D2 = Dual::new(Dual::variable(2.0, 0), [Dual::constant(1.0)]);
    let y = x * x * x;
    assert_eq!(y.eps[0].eps[0], 12.0);
    let z = 1.0 + 2.0 * x;
    assert_eq!(z.re.re, 5.0);
    let w = x * 2.0 + 1.0; // f64 constants on the right of a nested dual too
    assert_eq!((w.re.re, w.eps[0].re), (5.0, 2.0));
    assert!((x.sin().eps[0].eps[0] + 2.0_f64.sin()).abs() < 1e-15);
    let _ = <D2 as Scalar>::from_f64(1.0).exp();
}
