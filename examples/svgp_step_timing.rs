//! Per-step time of the flagship SVGP training step (ELBO + gradient + clipped Adam), f64,
//! N = 600, M = 30, for the RBF and the deep RFF kernel. Not a benchmark suite: a quick
//! measurement (median over many steps) to compare with ../shared/bench/jax_reference.py.
//!
//!     cargo run --release --example svgp_step_timing [-- steps [rbf|deep]]
use std::time::Instant;
use svgp::features::{DeepRff, FeatureMap};
use svgp::gp::{Closed, ElboOptions, Features, Prior, Svgp};
use svgp::kernel::Rbf;
use svgp::nn::{Activation, Mlp};
use svgp::optim::{Adam, AdamConfig};
use svgp::rng::{standard_normal, uniform, Xoshiro256};

fn data(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Xoshiro256::from_u64(0);
    let x: Vec<f64> = (0..2 * n).map(|_| uniform(&mut rng, -1.0, 1.0)).collect();
    let y = x
        .chunks(2)
        .map(|r| (2.0 * std::f64::consts::PI * (r[0] * r[0] - r[1])).sin() + 0.1 * standard_normal(&mut rng))
        .collect();
    (x, y)
}

fn grid_z() -> Vec<f64> {
    let mut z = Vec::new();
    for j in 0..30 {
        z.push(-0.8 + 1.6 * (j % 6) as f64 / 5.0);
        z.push(-0.8 + 1.6 * (j / 6) as f64 / 4.0);
    }
    z
}

fn time<P: Prior>(label: &str, model: &Svgp<P>, prior: &[f64], steps: usize) -> svgp::Result<()> {
    let (x, y) = data(600);
    let np = model.n_params();
    let mut p = vec![0.0; np];
    model.init_params(prior, &grid_z(), 0.01, &mut p)?;
    let mut ws = vec![0.0; model.workspace_len(600)];
    let (mut mu, mut nu, mut g) = (vec![0.0; np], vec![0.0; np], vec![0.0; np]);
    let mut adam = Adam::new(AdamConfig::new(1e-2).with_clip(1.0), &mut mu, &mut nu)?;
    let mut times = Vec::with_capacity(steps);
    let mut last = 0.0;
    for _ in 0..steps {
        let t0 = Instant::now();
        let e = model.elbo_and_grad(&p, &x, &y, ElboOptions::default(), &mut g, &mut ws)?;
        g.iter_mut().for_each(|v| *v = -*v);
        adam.step(&mut p, &mut g)?;
        times.push(t0.elapsed().as_secs_f64() * 1e3);
        last = -e;
    }
    let warm = &mut times[steps / 10..];
    warm.sort_by(f64::total_cmp);
    let q = |f: f64| warm[((warm.len() - 1) as f64 * f) as usize];
    println!(
        "{label}: median {:.4} ms/step (p10 {:.4}, p90 {:.4}) over {} steps; final -ELBO {last:.3}",
        q(0.5),
        q(0.1),
        q(0.9),
        warm.len()
    );
    Ok(())
}

fn main() -> svgp::Result<()> {
    let steps: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let which = std::env::args().nth(2).unwrap_or_default();
    if which != "deep" {
        let rbf = Svgp::new(Closed(Rbf::new(2)), 30, 1e-4)?;
        time("rbf ", &rbf, &Rbf::params(1.0, 0.3), steps)?;
    }
    if which == "rbf" {
        return Ok(());
    }
    let map = DeepRff::new(Mlp::equinox(2, 32, 2, 8, Activation::Tanh)?, 256)?;
    let deep = Svgp::new(Features(map), 30, 1e-4)?;
    let mut prior = vec![0.0; 1 + map.n_params()];
    map.init(&mut Xoshiro256::from_u64(7), 0.5, &mut prior[1..])?;
    time("deep", &deep, &prior, steps)
}
