//! The svgp side of `benches/gpytorch_side_by_side.sh`: writes the data both sides train on and
//! times training steps (−ELBO, its gradient, Adam) of a whitened SVGP with M = 50 inducing
//! points, one thread, f64.
//!
//! ```text
//! kernel_steps --write-data DIR [--co2 CSV]   # DIR/synth.csv (N = 354, D = 10) and DIR/co2.csv
//! kernel_steps --kernel rbf-ard|matern52|co2 --data DIR [--steps S]   # one JSON line
//! ```
//!
//! Every file is `x_1, …, x_D, y` per row; the first M rows of `DIR/*_z.csv` are the initial
//! inducing inputs. Both sides read the same files, so data, Z and initial values match.

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Instant;
use svgp::gp::{Closed, Svgp};
use svgp::kernel::{Kernel, Matern, Nu, Periodic, Product, Rbf, RbfArd, Sum};
use svgp::objective::{FullBatchElbo, Objective};
use svgp::optim::{Adam, AdamConfig};
use svgp::rng::{uniform, Xoshiro256};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Inducing points, the synthetic set's size and inputs, the learning rate.
const M: usize = 50;
const N_SYNTH: usize = 354;
const D_SYNTH: usize = 10;
const LR: f64 = 1e-2;
/// Initial noise variance (standardised targets) and kernel values, shared with the Python side.
const NOISE_VAR: f64 = 0.01;

/// y = sin(3x₁) + x₂²/2 − x₃x₄ + 0.3·Σ_{d>4} x_d/√6 + 0.1·ε on x ∈ [−1, 1]¹⁰ (ε from a second
/// uniform pair, Box–Muller), rows of `x_1..x_10, y`.
fn synth() -> Vec<Vec<f64>> {
    let mut rng = Xoshiro256::from_u64(354);
    (0..N_SYNTH)
        .map(|_| {
            let mut row: Vec<f64> = (0..D_SYNTH).map(|_| uniform(&mut rng, -1.0, 1.0)).collect();
            let (u1, u2) = (uniform(&mut rng, 1e-12, 1.0), uniform(&mut rng, 0.0, 1.0));
            let eps = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
            let tail: f64 = row[4..].iter().sum::<f64>() / 6f64.sqrt();
            row.push((3.0 * row[0]).sin() + 0.5 * row[1] * row[1] - row[2] * row[3] + 0.3 * tail + 0.1 * eps);
            row
        })
        .collect()
}

/// The weekly CO₂ record's training weeks for the timing: every week but each fifth (1,780 of
/// 2,225), years centred, ppm standardised.
fn co2(path: &str) -> Res<Vec<Vec<f64>>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().skip(1).enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        if i % 5 != 4 && f.len() == 3 {
            rows.push(vec![f[1].parse::<f64>()?, f[2].parse::<f64>()?]);
        }
    }
    let n = rows.len() as f64;
    let (mx, my) = (rows.iter().map(|r| r[0]).sum::<f64>() / n, rows.iter().map(|r| r[1]).sum::<f64>() / n);
    let sy = (rows.iter().map(|r| (r[1] - my).powi(2)).sum::<f64>() / n).sqrt();
    rows.iter_mut().for_each(|r| {
        r[0] -= mx;
        r[1] = (r[1] - my) / sy;
    });
    Ok(rows)
}

fn write_csv(path: &str, rows: &[Vec<f64>]) -> Res<()> {
    let mut s = String::new();
    for r in rows {
        let line: Vec<String> = r.iter().map(|v| format!("{v:.17e}")).collect();
        writeln!(s, "{}", line.join(","))?;
    }
    std::fs::write(path, s).map_err(|e| format!("{path}: {e}").into())
}

fn read_csv(path: &str) -> Res<Vec<Vec<f64>>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    text.lines().map(|l| l.split(',').map(|v| Ok(v.parse::<f64>()?)).collect()).collect()
}

/// (x row-major, y, D) of a data file.
fn split_xy(rows: &[Vec<f64>]) -> (Vec<f64>, Vec<f64>, usize) {
    let d = rows[0].len() - 1;
    (rows.iter().flat_map(|r| r[..d].to_vec()).collect(), rows.iter().map(|r| r[d]).collect(), d)
}

/// Median ms per step of `steps` Adam steps (after 5 untimed ones), the first and the final
/// loss (−ELBO, summed over the data).
fn time_steps<K: Kernel>(
    k: K,
    prior: &[f64],
    z: &[f64],
    x: &[f64],
    y: &[f64],
    steps: usize,
) -> Res<(f64, f64, f64)> {
    let model = Svgp::new(Closed(k), M, 1e-6)?;
    let mut p = vec![0.0; model.n_params()];
    model.init_params(prior, z, NOISE_VAR, &mut p)?;
    let mut ws = vec![0.0; model.workspace_len(y.len())?];
    let mut objective = FullBatchElbo::new(&model, x, y, &mut ws[..])?;
    let np = p.len();
    let (mut g, mut mu, mut nu) = (vec![0.0; np], vec![0.0; np], vec![0.0; np]);
    let mut adam = Adam::new(AdamConfig::new(LR), &mut mu, &mut nu)?;
    let mut times = Vec::with_capacity(steps);
    let (mut loss, mut first) = (f64::NAN, f64::NAN);
    for s in 0..steps + 5 {
        let t = Instant::now();
        loss = objective.loss_and_grad(&p, &mut g)?;
        adam.step(&mut p, &mut g)?;
        black_box(&p);
        if s == 0 {
            first = loss;
        }
        if s >= 5 {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    Ok((1e3 * times[times.len() / 2], first, loss))
}

fn run() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    if let Some(dir) = get("--write-data") {
        std::fs::create_dir_all(&dir)?;
        let s = synth();
        write_csv(&format!("{dir}/synth.csv"), &s)?;
        write_csv(&format!("{dir}/synth_z.csv"), &s[..M])?;
        let co2_csv = get("--co2").unwrap_or_else(|| "examples/data/co2_weekly.csv".into());
        let c = co2(&co2_csv)?;
        let (lo, hi) = (c[0][0], c[c.len() - 1][0]);
        let z: Vec<Vec<f64>> =
            (0..M).map(|i| vec![lo + (hi - lo) * (i as f64 + 0.5) / M as f64, 0.0]).collect();
        write_csv(&format!("{dir}/co2.csv"), &c)?;
        write_csv(&format!("{dir}/co2_z.csv"), &z)?;
        return Ok(());
    }
    let kernel = get("--kernel").ok_or("--kernel rbf-ard|matern52|co2 (or --write-data DIR)")?;
    let dir = get("--data").ok_or("--data DIR")?;
    let steps: usize = get("--steps").map_or(Ok(200), |s| s.parse())?;
    let file = if kernel == "co2" { "co2" } else { "synth" };
    let (x, y, d) = split_xy(&read_csv(&format!("{dir}/{file}.csv"))?);
    let (z, _, _) = split_xy(&read_csv(&format!("{dir}/{file}_z.csv"))?);
    let (ms, first, loss) = match kernel.as_str() {
        "rbf-ard" => time_steps(RbfArd::new(d), &RbfArd::new(d).params(1.0, &[1.0])?, &z, &x, &y, steps)?,
        "matern52" => {
            let k = Matern::new(d, Nu::FiveHalves);
            time_steps(k, &k.params(1.0, &[1.0])?, &z, &x, &y, steps)?
        }
        "co2" => {
            // Trend: σ² = 1, ℓ = 50 yr; seasonal: σ² = 0.05, period 1 yr, ℓ = 1; decay ℓ = 60 yr.
            let k = Sum(Rbf::new(1), Product(Periodic::new(1), Rbf::new(1)));
            let p = [
                &Rbf::params(1.0, 50.0)[..],
                &Periodic::new(1).params(0.05, &[1.0], &[1.0])?,
                &Rbf::params(1.0, 60.0),
            ]
            .concat();
            time_steps(k, &p, &z, &x, &y, steps)?
        }
        other => return Err(format!("unknown kernel {other}").into()),
    };
    println!(
        "{{\"kernel\":\"{kernel}\",\"n\":{},\"d\":{d},\"m\":{M},\"steps\":{steps},\"step_ms\":{ms:.6},\"loss0\":{first:.6},\"loss\":{loss:.6},\"arch\":\"{:?}\"}}",
        y.len(),
        svgp::arch::level()
    );
    Ok(())
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
