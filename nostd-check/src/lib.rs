//! Calls svgp's public API from a `#![no_std]` staticlib with no allocator.
//!
//! Building this crate is the test: see `Cargo.toml` for why a `std` or `alloc` leak breaks it.
#![no_std]

use core::panic::PanicInfo;
use svgp::diff::{gradient, hvp, jacobian, HvpDual};
use svgp::{Dual, Scalar};

#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

fn objective<S: Scalar>(x: &[S]) -> S {
    let mut acc = S::log_sum_exp(x);
    for &xi in x {
        acc += xi.softplus() * xi.tanh() + xi.sin_cos().0 * xi.exp().ln_1p();
        acc += xi.abs().sqrt().hypot(xi).atan2(S::one()) + xi.powi(3) + xi.abs().powf(xi);
    }
    acc
}

fn map<S: Scalar>(x: &[S], out: &mut [S]) {
    out[0] = x[0] * x[1];
    out[1] = x[0].exp_m1() - x[1].cos();
}

/// Runs the derivative helpers in `f32` and `f64`; returns a checksum so nothing is optimised out.
#[no_mangle]
pub extern "C" fn svgp_nostd_check() -> f64 {
    let x = [0.25_f64, -0.5, 1.5];
    let mut work = [Dual::<f64, 2>::default(); 3];
    let mut grad = [0.0; 3];
    let mut sum = gradient(objective, &x, &mut work, &mut grad).unwrap_or(f64::NAN);
    sum += grad.iter().sum::<f64>();

    let xf = [0.25_f32, -0.5];
    let mut workf = [Dual::<f32, 1>::default(); 2];
    let mut out = [Dual::<f32, 1>::default(); 2];
    let mut jac = [0.0_f32; 4];
    if jacobian(map, &xf, &mut workf, &mut out, &mut jac).is_ok() {
        sum += f64::from(jac.iter().sum::<f32>());
    }

    let v = [1.0, 0.0, -1.0];
    let mut workh = [HvpDual::<f64, 3>::default(); 3];
    let mut hv = [0.0; 3];
    if hvp(objective, &x, &v, &mut workh, &mut grad, &mut hv).is_ok() {
        sum += hv.iter().sum::<f64>();
    }
    sum
}
