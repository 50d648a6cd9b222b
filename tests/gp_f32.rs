//! The same generic code in f32 tracks f64 (ELBO and reverse-sweep gradient).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::gp::*;
use svgp::gp::{Closed, ElboOptions, Svgp};
use svgp::kernel::Rbf;
use svgp::rng::Xoshiro256;

#[test]
fn f32_elbo_and_gradient_track_f64() {
    let model = Svgp::new(Closed(Rbf::new(2)), 5, 1e-3).unwrap();
    let mut rng = Xoshiro256::from_u64(21);
    let (x, y) = data(&mut rng, 40, 2);
    let p = random_params(&model, &Rbf::params(1.0, 0.5), &mut rng);
    let (e64, g64) = reverse_grad(&model, &p, &x, &y, ElboOptions::default());
    let f = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
    let (p32, x32, y32) = (f(&p), f(&x), f(&y));
    let mut ws = vec![0.0_f32; model.workspace_len(40).unwrap()];
    let mut g32 = vec![0.0_f32; p.len()];
    let e32 = model.elbo_and_grad(&p32, &x32, &y32, ElboOptions::default(), &mut g32, &mut ws).unwrap();
    let rel_e = (e32 as f64 - e64).abs() / e64.abs();
    let g32: Vec<f64> = g32.iter().map(|&v| v as f64).collect();
    let (_, rel_g) = grad_errors(&g32, &g64);
    println!("f32 vs f64: ELBO rel {rel_e:.2e}, gradient ‖Δ‖/‖g‖ {rel_g:.2e}");
    assert!(rel_e <= 1e-4 && rel_g <= 1e-3, "{rel_e:e} {rel_g:e}");
}
