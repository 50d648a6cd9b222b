//! Random-feature maps and Dual-based kernel block adjoints at the reference sizes
//! (N = 256 inputs, D = 8 warp outputs, J = 256 features; M = 32 inducing points).
//!
//! `cargo bench -p svgp-bench --bench features`

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use svgp::features::{Coupling, FeatureMap, FourierForm, RandomFourier, Spectrum};
use svgp::kernel::{gradient_workspace_len, gram_adjoint, KernelDual, Matern, Nu};
use svgp::rng::{uniform, Xoshiro256};

fn inputs(n: usize, d: usize) -> Vec<f64> {
    let mut rng = Xoshiro256::from_u64(1);
    (0..n * d).map(|_| uniform(&mut rng, -1.0, 1.0)).collect()
}

fn fourier(c: &mut Criterion) {
    let (n, d, j) = (256, 8, 256);
    let Ok(map) = RandomFourier::new(d, j, FourierForm::CosPhase, Spectrum::Rbf, Coupling::Iid) else {
        return;
    };
    let mut params = vec![0.0; map.n_params()];
    if map.draw(&mut Xoshiro256::from_u64(2), 0.5, &mut params).is_err() {
        return;
    }
    let x = inputs(n, d);
    let mut psi = vec![0.0; n * j];
    let mut ws = vec![0.0; map.workspace_len(n).unwrap()];
    c.bench_function("rff_cos_phase_forward_256x8x256", |b| {
        b.iter(|| map.features(black_box(&params), black_box(&x), &mut psi, &mut ws))
    });
    let psi_bar = vec![0.01; n * j];
    let mut gp = vec![0.0; map.n_params()];
    let mut gx = vec![0.0; n * d];
    c.bench_function("rff_cos_phase_adjoint_256x8x256", |b| {
        b.iter(|| map.features_adjoint(black_box(&params), &x, &psi_bar, &mut gp, Some(&mut gx), &mut ws))
    });
}

fn kernel_adjoint(c: &mut Criterion) {
    let (m, d) = (32, 2);
    let k = Matern::new(d, Nu::FiveHalves);
    let params = [0.0, -0.5, 0.2];
    let z = inputs(m, d);
    let k_bar = vec![0.01; m * m];
    let mut gp = [0.0; 3];
    let mut gz = vec![0.0; m * d];
    let mut ws = vec![KernelDual::<f64>::default(); gradient_workspace_len(&k).unwrap()];
    c.bench_function("matern52_gram_adjoint_dual_32x2", |b| {
        b.iter(|| gram_adjoint(&k, black_box(&params), &z, &k_bar, &mut gp, Some(&mut gz), &mut ws))
    });
}

criterion_group!(benches, fourier, kernel_adjoint);
criterion_main!(benches);
