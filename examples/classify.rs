//! Two-class classification with a Bernoulli (probit) likelihood: the "two moons" generated
//! here, an SVGP with an RBF kernel and one with the deep random-Fourier-feature kernel, the
//! test accuracy and log-loss of each, and a PNG of each decision boundary over the predictive
//! probability P(y = 1 | x) = Φ(μ/√(1 + s²)).
//!
//! ```text
//! cargo run --release --example classify                  # both kernels, figure in target/classify/
//! cargo run --release --example classify -- --kernel rbf --json
//! cargo run --release --example classify -- --help
//! ```
//!
//! Data: two interleaved half circles (class 0 the upper moon, class 1 the lower), each point
//! moved by Gaussian noise of standard deviation `--noise` (0.2), scaled into about [−1, 1]²;
//! `--n` training points (400) and `--n-test` test points (2000) from separate streams of
//! `--seed`. Labels are 0 and 1 (the crate's Bernoulli convention).
//!
//! Model: M = `--m` (20) inducing inputs by k-means++ and 10 Lloyd steps on the training inputs;
//! the RBF kernel starts at variance 1, lengthscale 0.3; the deep kernel is the flagship's
//! (MLP 2 → 32 → 32 → 8, tanh, then 256 random Fourier features; `examples/deep_rff`).
//! Adam (lr `--lr` 0.01, clipped at global norm 1) for `--steps` (1000) full-batch steps, the
//! data in two fixed chunks (the numbers do not depend on `--threads`).
//!
//! Reported on the test set: accuracy (P(y = 1) > ½ against the label), log-loss (the mean
//! −ln p(y | data), i.e. the NLPD of the Bernoulli predictive, `Svgp::nlpd`), and the wall
//! time of training.

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
use svgp::gp::{Closed, Features, Prior, Svgp};
use svgp::inducing::{kmeans_pp, kmeans_pp_workspace_len, lloyd, lloyd_workspace_len};
use svgp::kernel::Rbf;
use svgp::likelihood::Bernoulli;
use svgp::optim::AdamConfig;
use svgp::parallel::Split;
use svgp::rng::{standard_normal, uniform, Xoshiro256};
use svgp::train::{FitOptions, Trainer};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Grid points per axis of the figure.
const GRID: usize = 60;
/// Fixed chunks of the training data (the numbers depend on this count, not on the threads).
const CHUNKS: usize = 2;
/// Jitter added to K_zz.
const JITTER: f64 = 1e-4;

/// Which kernels to train.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kernels {
    Both,
    Rbf,
    Deep,
}

/// Parsed command line.
#[derive(Clone, Debug)]
struct Args {
    n: usize,
    n_test: usize,
    noise: f64,
    m: usize,
    steps: usize,
    lr: f64,
    seed: u64,
    kernels: Kernels,
    threads: usize,
    out: PathBuf,
    plots: bool,
    json: bool,
    quiet: bool,
}

const USAGE: &str = "\
usage: cargo run --release --example classify -- [flags]

  --kernel K     rbf, deep or both (default both)
  --n N          training points (default 400)
  --n-test N     test points (default 2000)
  --noise S      standard deviation of the noise moved onto the moons, in [0, 1] (default 0.2)
  --m M          inducing points, at most --n (default 20)
  --steps N      full-batch Adam steps per kernel (default 1000)
  --lr X         Adam learning rate (default 0.01)
  --seed N       seed of the data, the inducing inputs and the deep kernel's weights (default 0)
  --threads N    threads (default: cores, at most 2); the numbers do not depend on it
  --out DIR      directory of the figure classify.png (default target/classify)
  --no-plots     do not write the figure
  --json         one JSON line on stdout: {n_train, n_test, noise, m, steps, seed, and per kernel
                 (rbf, deep) {accuracy, log_loss, train_s}}
  --quiet        no progress display
  -h, --help     this text";

impl Args {
    /// Parses the command line (without the program name), every value checked; `Ok(None)`
    /// for `--help`.
    fn parse<I: IntoIterator<Item = String>>(it: I) -> Result<Option<Args>, String> {
        let mut a = Args {
            n: 400,
            n_test: 2000,
            noise: 0.2,
            m: 20,
            steps: 1000,
            lr: 0.01,
            seed: 0,
            kernels: Kernels::Both,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()).min(2),
            out: PathBuf::from("target/classify"),
            plots: true,
            json: false,
            quiet: false,
        };
        let mut it = it.into_iter();
        while let Some(flag) = it.next() {
            let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
            match flag.as_str() {
                "--n" => a.n = checks::count("--n", &value("--n")?, 2, 10_000_000)?,
                "--n-test" => a.n_test = checks::count("--n-test", &value("--n-test")?, 1, 100_000_000)?,
                "--noise" => {
                    a.noise = checks::number("--noise", &value("--noise")?, "in [0, 1]", |v| {
                        (0.0..=1.0).contains(&v)
                    })?
                }
                "--m" => a.m = checks::count("--m", &value("--m")?, 1, 10_000)?,
                "--steps" => a.steps = checks::count("--steps", &value("--steps")?, 1, 100_000_000)?,
                "--lr" => a.lr = checks::number("--lr", &value("--lr")?, "finite and > 0", |v| v > 0.0)?,
                "--seed" => {
                    let v = value("--seed")?;
                    a.seed = v.parse().map_err(|_| format!("--seed: not a non-negative integer: {v:?}"))?
                }
                "--kernel" => {
                    a.kernels = match value("--kernel")?.as_str() {
                        "both" => Kernels::Both,
                        "rbf" => Kernels::Rbf,
                        "deep" => Kernels::Deep,
                        other => return Err(format!("--kernel: expected rbf, deep or both, got {other:?}")),
                    }
                }
                "--threads" => a.threads = checks::count("--threads", &value("--threads")?, 1, 1024)?,
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
        Ok(Some(a))
    }

    fn rbf(&self) -> bool {
        self.kernels != Kernels::Deep
    }

    fn deep(&self) -> bool {
        self.kernels != Kernels::Rbf
    }

    /// Checks what the run needs from the machine before any work: the output directory can be
    /// written, and the data and the largest workspace fit in the memory available.
    fn check_resources(&self) -> Result<(), String> {
        if self.plots {
            checks::writable_dir(&self.out)?;
        }
        let sizes = |e: svgp::Error| format!("model workspace: {e}");
        let mut floats = 0usize;
        if self.rbf() {
            floats = floats.max(rbf_model(self.m).map_err(sizes)?.workspace_len(self.n).map_err(sizes)?);
        }
        if self.deep() {
            floats = floats.max(deep_model(self.m).map_err(sizes)?.workspace_len(self.n).map_err(sizes)?);
        }
        let data = 3usize.saturating_mul(self.n.saturating_add(self.n_test));
        checks::fits_in_memory(
            "the data and the training workspace",
            checks::bytes_of(floats.saturating_add(data), 8),
        )
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

/// Inputs (n × 2, row-major) and labels in {0, 1}.
struct Data {
    x: Vec<f64>,
    y: Vec<f64>,
}

/// `n` points of the two moons (alternating classes): class 0 on the upper half circle
/// (cos t, sin t), class 1 on the lower one (1 − cos t, ½ − sin t), t uniform on [0, π], each
/// coordinate moved by N(0, noise²), then mapped by (a − ½)/1.6, (b − ¼) into about [−1, 1]².
fn moons(n: usize, noise: f64, rng: &mut Xoshiro256) -> Data {
    let (mut x, mut y) = (Vec::with_capacity(2 * n), Vec::with_capacity(n));
    for i in 0..n {
        let class = (i % 2) as f64;
        let t = uniform(rng, 0.0, core::f64::consts::PI);
        let (a, b) = if class == 0.0 { (t.cos(), t.sin()) } else { (1.0 - t.cos(), 0.5 - t.sin()) };
        let (a, b) = (a + noise * standard_normal(rng), b + noise * standard_normal(rng));
        x.extend_from_slice(&[(a - 0.5) / 1.6, b - 0.25]);
        y.push(class);
    }
    Data { x, y }
}

/// The RBF model (probit link).
fn rbf_model(m: usize) -> Result<Svgp<Closed<Rbf>, Bernoulli>, svgp::Error> {
    Svgp::with_likelihood(Closed(Rbf::new(2)), Bernoulli::probit(), m, JITTER)
}

/// The deep-kernel model (the flagship's feature map, probit link).
fn deep_model(m: usize) -> Result<Svgp<Features<svgp::features::DeepRff>, Bernoulli>, svgp::Error> {
    Svgp::with_likelihood(Features(experiment::deep_map()?), Bernoulli::probit(), m, JITTER)
}

/// M inducing inputs: k-means++ then 10 Lloyd steps on the training inputs.
fn inducing(x: &[f64], m: usize, rng: &mut Xoshiro256) -> Res<Vec<f64>> {
    let mut z = vec![0.0; 2 * m];
    let mut ws = vec![0.0; kmeans_pp_workspace_len(x.len() / 2)?.max(lloyd_workspace_len(m, 2)?)];
    kmeans_pp(x, 2, rng, &mut z, &mut ws)?;
    lloyd(x, 2, &mut z, 10, &mut ws)?;
    Ok(z)
}

/// One trained classifier, scored.
struct Fit {
    name: &'static str,
    accuracy: f64,
    log_loss: f64,
    train_s: f64,
    /// P(y = 1) on the figure's grid.
    grid_prob: Vec<f64>,
}

/// Trains `model` from `params` on `train` and scores it on `test`.
fn train_and_score<P: Prior + Sync>(
    name: &'static str,
    model: &Svgp<P, Bernoulli>,
    mut params: Vec<f64>,
    train: &Data,
    test: &Data,
    grid: &[f64],
    args: &Args,
) -> Res<Fit> {
    let trainer = Trainer::new(AdamConfig::new(args.lr).with_clip(1.0), FitOptions::new(args.steps))
        .split(Split::new(CHUNKS.min(train.y.len()), args.threads));
    let mut bar = progress::Progress::new(name, args.steps, !args.quiet);
    let start = Instant::now();
    trainer.fit_svgp(model, &mut params, &train.x, &train.y, |r| {
        bar.update(r.step, r.loss);
        ControlFlow::Continue(())
    })?;
    let train_s = start.elapsed().as_secs_f64();

    let prob = |xs: &[f64]| -> Res<Vec<f64>> {
        let n = xs.len() / 2;
        let (mut p, mut v) = (vec![0.0; n], vec![0.0; n]);
        let mut ws = vec![0.0; model.predict_workspace_len(n)?];
        model.predict_y(&params, xs, &mut p, &mut v, &mut ws)?;
        Ok(p)
    };
    let p_test = prob(&test.x)?;
    let right = p_test.iter().zip(&test.y).filter(|(p, y)| f64::from(**p > 0.5) == **y).count();
    let mut ws = vec![0.0; model.log_predictive_workspace_len(test.y.len())?];
    let log_loss = model.nlpd(&params, &test.x, &test.y, &mut ws)?;
    Ok(Fit {
        name,
        accuracy: right as f64 / test.y.len() as f64,
        log_loss,
        train_s,
        grid_prob: if args.plots { prob(grid)? } else { Vec::new() },
    })
}

fn run(args: &Args) -> Res<()> {
    let train = moons(args.n, args.noise, &mut Xoshiro256::from_u64(3 * args.seed));
    let test = moons(args.n_test, args.noise, &mut Xoshiro256::from_u64(3 * args.seed + 1));
    let mut init = Xoshiro256::from_u64(3 * args.seed + 2);
    let z = inducing(&train.x, args.m, &mut init)?;
    let axis = experiment::linspace(-1.0, 1.0, GRID);
    let grid = experiment::mesh(&axis, &axis);
    if !args.json {
        println!(
            "classify: two moons (noise {}), {} training and {} test points, M = {}, {} Adam steps (lr {}), seed {}",
            args.noise, args.n, args.n_test, args.m, args.steps, args.lr, args.seed
        );
    }

    let mut fits = Vec::new();
    if args.rbf() {
        let model = rbf_model(args.m)?;
        let mut p = vec![0.0; model.n_params()];
        model.init(&Rbf::params(1.0, 0.3), &z, &mut p)?;
        fits.push(train_and_score("rbf", &model, p, &train, &test, &grid, args)?);
    }
    if args.deep() {
        let model = deep_model(args.m)?;
        let mut prior = vec![0.0; model.prior().n_params()]; // [ln σ² | map parameters]
        let map = model.prior().0;
        map.init(&mut init, 0.5, model.prior().parts(&mut prior[..])?.map)?;
        model.prior().view(&mut prior[..])?.set_variance(1.0)?;
        let mut p = vec![0.0; model.n_params()];
        model.init(&prior, &z, &mut p)?;
        fits.push(train_and_score("deep", &model, p, &train, &test, &grid, args)?);
    }

    if args.json {
        let mut line = serde_json::json!({
            "n_train": args.n, "n_test": args.n_test, "noise": args.noise, "m": args.m,
            "steps": args.steps, "seed": args.seed,
        });
        for f in &fits {
            line[f.name] =
                serde_json::json!({ "accuracy": f.accuracy, "log_loss": f.log_loss, "train_s": f.train_s });
        }
        println!("{line}");
    } else {
        for f in &fits {
            println!(
                "  {:<4}: test accuracy {:.4}, test log-loss {:.4}, trained in {:.1} s",
                f.name, f.accuracy, f.log_loss, f.train_s
            );
        }
    }
    if args.plots {
        let text = font::init_font();
        let panels: Vec<heatmap::Panel> = fits
            .iter()
            .map(|f| heatmap::Panel {
                title: format!(
                    "{}: P(y = 1), accuracy {:.3}",
                    if f.name == "rbf" { "RBF" } else { "Deep RFF" },
                    f.accuracy
                ),
                values: &f.grid_prob,
                cmap: heatmap::rdbu_r,
                lo: 0.0,
                hi: 1.0,
                level: Some(0.5),
                points: Some(heatmap::Points { xy: &train.x, class: &train.y }),
            })
            .collect();
        let path = args.out.join("classify.png");
        heatmap::save(&path, |p| heatmap::panels(p, &panels, GRID, text))?;
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
        assert_eq!((a.n, a.n_test, a.m, a.steps, a.kernels), (400, 2000, 20, 1000, Kernels::Both));
        let a =
            parse(&["--kernel", "rbf", "--n", "50", "--m", "50", "--no-plots", "--json"]).unwrap().unwrap();
        assert!(a.rbf() && !a.deep() && !a.plots && a.json);
        assert!(parse(&["--help"]).unwrap().is_none());
    }

    #[test]
    fn bad_arguments_are_refused_before_work() {
        for (args, says) in [
            (&["--n", "1"][..], "--n must be in [2, "),
            (&["--n", "30", "--m", "31"], "--m 31 exceeds the 30 training points"),
            (&["--noise", "-0.1"], "--noise must be in [0, 1]"),
            (&["--lr", "0"], "--lr must be finite and > 0"),
            (&["--steps", "0"], "--steps must be in [1, "),
            (&["--kernel", "svm"], "--kernel: expected rbf, deep or both"),
            (&["--threads", "0"], "--threads must be in [1, 1024]"),
            (&["--m"], "--m needs a value"),
            (&["--bogus"], "unknown argument \"--bogus\""),
        ] {
            let e = parse(args).unwrap_err();
            assert!(e.contains(says), "{args:?}: {e}");
        }
    }

    #[test]
    fn moons_are_balanced_labelled_and_in_range() {
        let d = moons(1000, 0.0, &mut Xoshiro256::from_u64(1));
        assert_eq!(d.y.iter().filter(|&&c| c == 1.0).count(), 500);
        assert!(d.y.iter().all(|&c| c == 0.0 || c == 1.0));
        assert!(d.x.iter().all(|v| v.abs() <= 1.0), "noise-free moons lie in [−1, 1]²");
        // Without noise the classes are told apart by the moons' equations.
        for (p, &c) in d.x.chunks_exact(2).zip(&d.y) {
            let (a, b) = (1.6 * p[0] + 0.5, p[1] + 0.25);
            let r = if c == 0.0 { a.hypot(b) } else { (1.0 - a).hypot(0.5 - b) };
            assert!((r - 1.0).abs() < 1e-12);
        }
    }
}
