//! Counts with a Poisson likelihood (log link): counts drawn at a known rate surface over
//! [−1, 1]², an SVGP (RBF kernel) trained by minibatches, and the estimated rate
//! E[y | x] = e^{μ + s²/2} compared with the truth: the test NLPD, the RMSE of the rate on a
//! grid, and a PNG of the true and the estimated rate side by side.
//!
//! ```text
//! cargo run --release --example counts                    # figure in target/counts/
//! cargo run --release --example counts -- --json
//! cargo run --release --example counts -- --help
//! ```
//!
//! Data: inputs uniform on [−1, 1]², counts y ~ Poisson(λ(x)) with
//! λ(x) = exp(1 + sin(3·x1)·cos(2·x2)) (between 1 and e² ≈ 7.4); `--n` training points
//! (50,000) and `--n-test` test points (10,000) from separate streams of `--seed`.
//!
//! Model: M = `--m` (50) inducing inputs by k-means++ and 10 Lloyd steps on the training inputs,
//! RBF kernel starting at variance 1 and lengthscale 0.3; Adam (lr `--lr` 0.01, clipped at global
//! norm 1) for `--steps` (4000) steps on batches of `--batch` (500) drawn by shuffled epochs,
//! each batch's ELBO scaled by N/b (`svgp::batch::MinibatchElbo`).
//!
//! Reported: the test NLPD (mean −ln p(y | data) of the Poisson predictive, `Svgp::nlpd`) beside
//! the NLPD of the true rate on the same counts (the floor a perfect rate estimate reaches), the
//! RMSE of the estimated rate against λ on a 60 × 60 grid, and the wall time of training.

#[allow(dead_code)] // shared by the examples: each uses a part
#[path = "common/checks.rs"]
mod checks;
#[path = "common/colour.rs"]
mod colour;
#[allow(dead_code)]
#[path = "deep_rff/experiment.rs"]
mod experiment;
#[path = "common/font.rs"]
mod font;
#[allow(dead_code)]
#[path = "common/heatmap.rs"]
mod heatmap;
#[path = "deep_rff/progress.rs"]
mod progress;

use core::ops::ControlFlow;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;
use svgp::batch::{Minibatch, MinibatchElbo, SliceSource};
use svgp::gp::{Closed, Svgp};
use svgp::inducing::{kmeans_pp, kmeans_pp_workspace_len, lloyd, lloyd_workspace_len};
use svgp::kernel::Rbf;
use svgp::likelihood::Poisson;
use svgp::metrics::rmse;
use svgp::optim::AdamConfig;
use svgp::rng::{uniform, uniform01, Xoshiro256};
use svgp::train::{FitOptions, Trainer};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Grid points per axis of the figure and of the rate's RMSE.
const GRID: usize = 60;
/// Jitter added to K_zz.
const JITTER: f64 = 1e-6;

/// The true rate λ(x) = exp(1 + sin(3·x1)·cos(2·x2)).
fn rate(x1: f64, x2: f64) -> f64 {
    (1.0 + (3.0 * x1).sin() * (2.0 * x2).cos()).exp()
}

/// Parsed command line.
#[derive(Clone, Debug)]
struct Args {
    n: usize,
    n_test: usize,
    m: usize,
    batch: usize,
    steps: usize,
    lr: f64,
    seed: u64,
    out: PathBuf,
    plots: bool,
    json: bool,
    quiet: bool,
}

const USAGE: &str = "\
usage: cargo run --release --example counts -- [flags]

  --n N          training points (default 50000)
  --n-test N     test points (default 10000)
  --m M          inducing points, at most --n (default 50)
  --batch B      minibatch size, at most --n (default 500)
  --steps N      Adam steps, one batch each (default 4000)
  --lr X         Adam learning rate (default 0.01)
  --seed N       seed of the data, the inducing inputs and the batches (default 0)
  --out DIR      directory of the figure counts.png (default target/counts)
  --no-plots     do not write the figure
  --json         one JSON line on stdout: {n_train, n_test, m, batch, steps, seed, test_nlpd,
                 true_rate_nlpd, rate_rmse, train_s}
  --quiet        no progress display
  -h, --help     this text";

impl Args {
    /// Parses the command line (without the program name), every value checked; `Ok(None)`
    /// for `--help`.
    fn parse<I: IntoIterator<Item = String>>(it: I) -> Result<Option<Args>, String> {
        let mut a = Args {
            n: 50_000,
            n_test: 10_000,
            m: 50,
            batch: 500,
            steps: 4000,
            lr: 0.01,
            seed: 0,
            out: PathBuf::from("target/counts"),
            plots: true,
            json: false,
            quiet: false,
        };
        let mut it = it.into_iter();
        while let Some(flag) = it.next() {
            let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
            match flag.as_str() {
                "--n" => a.n = checks::count("--n", &value("--n")?, 1, 100_000_000)?,
                "--n-test" => a.n_test = checks::count("--n-test", &value("--n-test")?, 1, 100_000_000)?,
                "--m" => a.m = checks::count("--m", &value("--m")?, 1, 10_000)?,
                "--batch" => a.batch = checks::count("--batch", &value("--batch")?, 1, 100_000_000)?,
                "--steps" => a.steps = checks::count("--steps", &value("--steps")?, 1, 1_000_000_000)?,
                "--lr" => a.lr = checks::number("--lr", &value("--lr")?, "finite and > 0", |v| v > 0.0)?,
                "--seed" => {
                    let v = value("--seed")?;
                    a.seed = v.parse().map_err(|_| format!("--seed: not a non-negative integer: {v:?}"))?
                }
                "--out" => a.out = PathBuf::from(value("--out")?),
                "--no-plots" => a.plots = false,
                "--json" => a.json = true,
                "--quiet" => a.quiet = true,
                "-h" | "--help" => return Ok(None),
                other => return Err(format!("unknown argument {other:?}")),
            }
        }
        if a.m > a.n {
            return Err(format!("--m {} exceeds the {} training points (--n)", a.m, a.n));
        }
        if a.batch > a.n {
            return Err(format!("--batch {} exceeds the {} training points (--n)", a.batch, a.n));
        }
        Ok(Some(a))
    }

    /// Checks what the run needs from the machine before any work: the output directory can be
    /// written, and the data and the workspaces fit in the memory available.
    fn check_resources(&self) -> Result<(), String> {
        if self.plots {
            checks::writable_dir(&self.out)?;
        }
        let sizes = |e: svgp::Error| format!("model workspace: {e}");
        let model = model(self.m).map_err(sizes)?;
        let mb = Minibatch::new(self.n, self.batch).map_err(sizes)?;
        let ws = mb.workspace_len(&model).map_err(sizes)?;
        let lpd = model.log_predictive_workspace_len(self.n_test).map_err(sizes)?;
        let data = 3usize.saturating_mul(self.n.saturating_add(self.n_test));
        let floats = data.saturating_add(ws).saturating_add(lpd);
        checks::fits_in_memory("the data and the workspaces", checks::bytes_of(floats, 8))
    }
}

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = args.check_resources() {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Inputs (n × 2, row-major) and counts.
struct Data {
    x: Vec<f64>,
    y: Vec<f64>,
}

/// A Poisson(λ) draw by inversion of the CDF (λ here is at most e², a few terms).
fn poisson(lambda: f64, rng: &mut Xoshiro256) -> f64 {
    let u = uniform01(rng);
    let (mut k, mut pk) = (0.0, (-lambda).exp());
    let mut cdf = pk;
    while u > cdf && pk > 0.0 {
        k += 1.0;
        pk *= lambda / k;
        cdf += pk;
    }
    k
}

/// `n` inputs uniform on [−1, 1]² and their counts at the true rate.
fn counts(n: usize, rng: &mut Xoshiro256) -> Data {
    let (mut x, mut y) = (Vec::with_capacity(2 * n), Vec::with_capacity(n));
    for _ in 0..n {
        let (x1, x2) = (uniform(rng, -1.0, 1.0), uniform(rng, -1.0, 1.0));
        x.extend_from_slice(&[x1, x2]);
        y.push(poisson(rate(x1, x2), rng));
    }
    Data { x, y }
}

/// ln p(y | λ) of a Poisson count: y ln λ − λ − ln y!.
fn poisson_log_pmf(y: f64, lambda: f64) -> f64 {
    let ln_fact: f64 = (2..=y as u64).map(|k| (k as f64).ln()).sum();
    y * lambda.ln() - lambda - ln_fact
}

/// The model: RBF kernel, Poisson likelihood (log link).
fn model(m: usize) -> Result<Svgp<Closed<Rbf>, Poisson>, svgp::Error> {
    Svgp::with_likelihood(Closed(Rbf::new(2)), Poisson::new(), m, JITTER)
}

fn run(args: &Args) -> Res<()> {
    let train = counts(args.n, &mut Xoshiro256::from_u64(3 * args.seed));
    let test = counts(args.n_test, &mut Xoshiro256::from_u64(3 * args.seed + 1));
    let mut init = Xoshiro256::from_u64(3 * args.seed + 2);
    if !args.json {
        println!(
            "counts: Poisson, {} training and {} test points, M = {}, {} Adam steps (lr {}) on batches of {}, seed {}",
            args.n, args.n_test, args.m, args.steps, args.lr, args.batch, args.seed
        );
    }

    let model = model(args.m)?;
    let mut z = vec![0.0; 2 * args.m];
    let mut kws = vec![0.0; kmeans_pp_workspace_len(args.n)?.max(lloyd_workspace_len(args.m, 2)?)];
    kmeans_pp(&train.x, 2, &mut init, &mut z, &mut kws)?;
    lloyd(&train.x, 2, &mut z, 10, &mut kws)?;
    let mut params = vec![0.0; model.n_params()];
    model.init(&Rbf::params(1.0, 0.3), &z, &mut params)?;

    let mb = Minibatch::new(args.n, args.batch)?;
    let src = SliceSource::new(&train.x, &train.y, 2, init)?;
    let mut ws = vec![0.0; mb.workspace_len(&model)?];
    let mut objective = MinibatchElbo::new(model, mb, src, &mut ws)?;
    let trainer = Trainer::new(AdamConfig::new(args.lr).with_clip(1.0), FitOptions::new(args.steps));
    let mut bar = progress::Progress::new("poisson", args.steps, !args.quiet);
    let start = Instant::now();
    trainer.fit(&mut objective, &mut params, |r| {
        bar.update(r.step, r.loss);
        ControlFlow::Continue(())
    })?;
    let train_s = start.elapsed().as_secs_f64();

    let mut lws = vec![0.0; model.log_predictive_workspace_len(args.n_test)?];
    let test_nlpd = model.nlpd(&params, &test.x, &test.y, &mut lws)?;
    let true_lpd: Vec<f64> =
        test.x.chunks_exact(2).zip(&test.y).map(|(p, &y)| poisson_log_pmf(y, rate(p[0], p[1]))).collect();
    let true_rate_nlpd = svgp::metrics::nlpd(&true_lpd)?;

    let axis = experiment::linspace(-1.0, 1.0, GRID);
    let grid = experiment::mesh(&axis, &axis);
    let truth: Vec<f64> = grid.chunks_exact(2).map(|p| rate(p[0], p[1])).collect();
    let (mut est, mut var) = (vec![0.0; truth.len()], vec![0.0; truth.len()]);
    let mut pws = vec![0.0; model.predict_workspace_len(truth.len())?];
    model.predict_y(&params, &grid, &mut est, &mut var, &mut pws)?;
    let rate_rmse = rmse(&truth, &est)?;

    if args.json {
        let line = serde_json::json!({
            "n_train": args.n, "n_test": args.n_test, "m": args.m, "batch": args.batch,
            "steps": args.steps, "seed": args.seed, "test_nlpd": test_nlpd,
            "true_rate_nlpd": true_rate_nlpd, "rate_rmse": rate_rmse, "train_s": train_s,
        });
        println!("{line}");
    } else {
        println!("  test NLPD        {test_nlpd:.4} (the true rate's: {true_rate_nlpd:.4})");
        println!("  rate RMSE        {rate_rmse:.4} on a {GRID} x {GRID} grid (rates from 1 to 7.4)");
        println!("  training         {train_s:.1} s");
    }
    if args.plots {
        let text = font::init_font();
        let hi = truth.iter().chain(&est).fold(0.0_f64, |a, &b| a.max(b));
        let panel = |title: String, values| heatmap::Panel {
            title,
            values,
            cmap: heatmap::viridis,
            lo: 0.0,
            hi,
            level: None,
            points: None,
        };
        let row = [
            panel("true rate λ(x)".into(), &truth[..]),
            panel(format!("estimated E[y | x], RMSE {rate_rmse:.3}"), &est[..]),
        ];
        let path = args.out.join("counts.png");
        heatmap::save(&path, |p| heatmap::panels(p, &row, GRID, text))?;
        if !args.json {
            println!("  figure: {}", path.display());
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Args>, String> {
        Args::parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_and_flags() {
        let a = parse(&[]).unwrap().unwrap();
        assert_eq!((a.n, a.n_test, a.m, a.batch, a.steps), (50_000, 10_000, 50, 500, 4000));
        let a = parse(&["--n", "100", "--batch", "100", "--no-plots", "--json"]).unwrap().unwrap();
        assert!(a.n == 100 && a.batch == 100 && !a.plots && a.json);
        assert!(parse(&["-h"]).unwrap().is_none());
    }

    #[test]
    fn bad_arguments_are_refused_before_work() {
        for (args, says) in [
            (&["--n", "0"][..], "--n must be in [1, "),
            (&["--n", "100", "--batch", "101"], "--batch 101 exceeds the 100 training points"),
            (&["--n", "10", "--m", "11"], "--m 11 exceeds the 10 training points"),
            (&["--batch", "0"], "--batch must be in [1, "),
            (&["--lr", "nan"], "--lr"),
            (&["--steps", "-5"], "--steps: not a non-negative integer"),
            (&["--out"], "--out needs a value"),
            (&["extra"], "unknown argument \"extra\""),
        ] {
            let e = parse(args).unwrap_err();
            assert!(e.contains(says), "{args:?}: {e}");
        }
    }

    #[test]
    fn counts_follow_the_rate() {
        // The mean of Poisson(λ) draws is λ (within 4 standard errors) and the log pmf sums to 1.
        let mut rng = Xoshiro256::from_u64(9);
        for lambda in [1.0, 7.389] {
            let n = 20_000;
            let mean = (0..n).map(|_| poisson(lambda, &mut rng)).sum::<f64>() / n as f64;
            assert!((mean - lambda).abs() < 4.0 * (lambda / n as f64).sqrt(), "λ {lambda}: mean {mean}");
            let total: f64 = (0..60).map(|k| poisson_log_pmf(k as f64, lambda).exp()).sum();
            assert!((total - 1.0).abs() < 1e-12, "λ {lambda}: Σ pmf = {total}");
        }
        assert!((rate(0.0, 0.3) - 1.0_f64.exp()).abs() < 1e-15);
    }
}
