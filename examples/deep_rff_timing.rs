//! Timing of the flagship's deep RFF map (630 points, MLP 2→32→32→8, J = 256) and of the
//! slice sin/cos kernels. `cargo run --release --example deep_rff_timing`
use std::hint::black_box;
use std::time::Instant;
use svgp::features::{DeepRff, FeatureMap};
use svgp::nn::{Activation, Mlp};
use svgp::rng::{uniform, Xoshiro256};

/// Fastest wall time of `f` in microseconds over runs filling ~0.5 s (after one warm-up).
/// The minimum is robust on a machine shared with other jobs: it is the run nobody preempted.
fn min_us(mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    let mut best = f64::INFINITY;
    let mut runs = 0;
    while start.elapsed().as_secs_f64() < 0.5 || runs < 5 {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64() * 1e6);
        runs += 1;
    }
    best
}

fn main() -> Result<(), svgp::Error> {
    let (n, j) = (630, 256);
    let map = DeepRff::new(Mlp::equinox(2, 32, 2, 8, Activation::Tanh)?, j)?;
    let mut rng = Xoshiro256::from_u64(0);
    let mut params = vec![0.0_f64; map.n_params()];
    map.init(&mut rng, 0.5, &mut params)?;
    let x: Vec<f64> = (0..2 * n).map(|_| uniform(&mut rng, -1.0, 1.0)).collect();
    let psi_bar: Vec<f64> = (0..n * j).map(|_| uniform(&mut rng, -1.0, 1.0)).collect();
    let mut psi = vec![0.0; n * j];
    let mut ws = vec![0.0; map.workspace_len(n)];
    let mut grad = vec![0.0; map.n_params()];
    let mut gx = vec![0.0; 2 * n];

    let fwd = min_us(|| map.features(black_box(&params), &x, &mut psi, &mut ws).unwrap_or(()));
    let adj = min_us(|| {
        map.features_adjoint(&params, &x, black_box(&psi_bar), &mut grad, Some(&mut gx), &mut ws)
            .unwrap_or(())
    });
    let mut ws_inf = vec![0.0; map.inference_workspace_len(n)];
    let inf = min_us(|| map.features_inference(black_box(&params), &x, &mut psi, &mut ws_inf).unwrap_or(()));
    let mlp = map.mlp();
    let mut phi = vec![0.0; n * 8];
    let mut mws = vec![0.0; mlp.workspace_len(n)];
    let mlp_fwd =
        min_us(|| mlp.forward(black_box(&params[..mlp.n_params()]), &x, &mut phi, &mut mws).unwrap_or(()));
    let z: Vec<f64> = (0..n * j).map(|_| uniform(&mut rng, -20.0, 20.0)).collect();
    let (mut s, mut c) = (vec![0.0; n * j], vec![0.0; n * j]);
    let fast = min_us(|| svgp::fastmath::sin_cos_slice(black_box(&z), &mut s, &mut c));
    let libm_t = min_us(|| {
        for ((&v, s), c) in black_box(&z).iter().zip(s.iter_mut()).zip(c.iter_mut()) {
            (*s, *c) = libm::sincos(v);
        }
    });
    let z32: Vec<f32> = z.iter().map(|&v| v as f32).collect();
    let (mut s32, mut c32) = (vec![0.0_f32; n * j], vec![0.0_f32; n * j]);
    let fast32 = min_us(|| svgp::fastmath::sin_cos_slice_f32(black_box(&z32), &mut s32, &mut c32));

    let a: Vec<f64> = (0..n * 64).map(|_| uniform(&mut rng, -3.0, 3.0)).collect();
    let mut t = vec![0.0; n * 64];
    let tanh_fast = min_us(|| svgp::fastmath::tanh_slice(black_box(&a), &mut t));
    let tanh_libm = min_us(|| t.iter_mut().zip(black_box(&a)).for_each(|(t, &v)| *t = libm::tanh(v)));

    println!("deep RFF, n = {n}, J = {j}, MLP 2-32-32-8 tanh (fastest of many runs):");
    println!("  forward            {fwd:8.1} µs  (of which MLP forward {mlp_fwd:.1} µs)");
    println!("  adjoint            {adj:8.1} µs");
    println!("  forward + adjoint  {:8.1} µs", fwd + adj);
    println!("  inference forward  {inf:8.1} µs  (cos only, no training state)");
    println!("sin_cos over {} entries:", n * j);
    println!("  fastmath f64       {fast:8.1} µs  ({:.2} ns/entry)", fast * 1e3 / (n * j) as f64);
    println!("  libm sincos f64    {libm_t:8.1} µs  ({:.2} ns/entry)", libm_t * 1e3 / (n * j) as f64);
    println!("  fastmath f32       {fast32:8.1} µs  ({:.2} ns/entry)", fast32 * 1e3 / (n * j) as f64);
    println!("tanh over {} entries (the MLP's hidden units):", n * 64);
    println!("  fastmath f64       {tanh_fast:8.1} µs  ({:.2} ns/entry)", tanh_fast * 1e3 / (n * 64) as f64);
    println!("  libm f64           {tanh_libm:8.1} µs  ({:.2} ns/entry)", tanh_libm * 1e3 / (n * 64) as f64);
    Ok(())
}
