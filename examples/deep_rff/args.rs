//! Command-line flags of the example (no parser crate: a handful of flags does not need one).

use super::experiment;
use std::path::PathBuf;

/// Which kernels to train.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Both,
    Rbf,
    Deep,
}

/// Parsed command line.
#[derive(Clone, Debug)]
pub struct Args {
    /// `--seed N`: picks the data and the initialisation (see `experiment::Seeds`).
    pub seed: u64,
    /// `--steps N`: training steps (3000 in the recipe).
    pub steps: usize,
    /// `--n N`: number of training points (600 in the recipe).
    pub n: usize,
    /// `--json`: one machine-readable line per model on stdout, nothing else on stdout.
    pub json: bool,
    /// `--f32`: also train in f32 and print it next to f64.
    pub f32: bool,
    /// `--f32-jitter X`: K_zz jitter of the f32 runs.
    pub f32_jitter: f64,
    /// `--kernel rbf|deep|both`.
    pub which: Which,
    /// `--out DIR`: where the PNG figures go.
    pub out: PathBuf,
    /// `--no-plots`: skip the figures.
    pub plots: bool,
    /// `--quiet`: no progress display.
    pub quiet: bool,
    /// `--curve FILE`: append every step's loss to FILE (`kernel inference seed step loss`).
    pub curve: Option<PathBuf>,
    /// `--inference MODE` and `--lr X`: how the models are trained.
    pub recipe: experiment::Recipe,
    /// `--threads N`: threads per training (the data's fixed chunks decide the numbers; this
    /// only the speed). Default: the machine's cores, at most the chunk count.
    pub threads: usize,
}

pub const USAGE: &str = "\
usage: cargo run --release --example deep_rff -- [flags]

  --seed N         data and initialisation seed (default 0)
  --steps N        training steps per model (default 3000)
  --n N            training points (default 600)
  --kernel K       rbf, deep or both (default both)
  --f32            also train in f32 and print RMSE and step time next to f64
  --f32-jitter X   K_zz jitter of the f32 runs (default 1e-4, as f64)
  --json           print one JSON line per model on stdout (keys: kernel, dtype, neg_elbo,
                   variance, lengthscale, noise_std, grid_rmse, train_s, step_ms, steps, seed, n)
  --out DIR        directory for the PNG figures (default target/deep_rff)
  --no-plots       do not write figures
  --quiet          no progress display
  --threads N      threads per training (default: cores, at most 2); the data are always
                   evaluated in the same 2 chunks, so the numbers do not depend on N
  --inference M    adam (the reference recipe), natgrad (natural gradients, γ = 1, on the
                   guide; Adam on the rest), natgrad:G (γ = G), collapsed (the Titsias bound)
  --lr X           Adam's learning rate (default 1e-2)
  --curve FILE     append every step's loss to FILE (lines: kernel inference seed step loss)
  -h, --help       this text";

impl Args {
    /// Parse `std::env::args()`-style arguments (without the program name).
    pub fn parse<I: IntoIterator<Item = String>>(it: I) -> Result<Option<Args>, String> {
        let mut a = Args {
            seed: 0,
            steps: experiment::STEPS,
            n: experiment::N_TRAIN,
            json: false,
            f32: false,
            f32_jitter: experiment::JITTER_F32,
            which: Which::Both,
            out: PathBuf::from("target/deep_rff"),
            plots: true,
            quiet: false,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()).min(experiment::CHUNKS),
            recipe: experiment::Recipe::REFERENCE,
            curve: None,
        };
        let mut it = it.into_iter();
        while let Some(flag) = it.next() {
            let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
            match flag.as_str() {
                "--seed" => a.seed = parse_num(&value("--seed")?, "--seed")?,
                "--steps" => a.steps = parse_num(&value("--steps")?, "--steps")?,
                "--threads" => a.threads = parse_num(&value("--threads")?, "--threads")?,
                "--n" => a.n = parse_num(&value("--n")?, "--n")?,
                "--kernel" => {
                    a.which = match value("--kernel")?.as_str() {
                        "rbf" => Which::Rbf,
                        "deep" => Which::Deep,
                        "both" => Which::Both,
                        other => return Err(format!("--kernel: expected rbf, deep or both, got {other:?}")),
                    }
                }
                "--f32-jitter" => {
                    let v = value("--f32-jitter")?;
                    a.f32_jitter = v.parse().map_err(|_| format!("--f32-jitter: not a number: {v:?}"))?;
                    if !(a.f32_jitter.is_finite() && a.f32_jitter >= 0.0) {
                        return Err(format!("--f32-jitter must be finite and >= 0, got {v}"));
                    }
                }
                "--inference" => a.recipe.mode = experiment::Mode::parse(&value("--inference")?)?,
                "--lr" => {
                    let v = value("--lr")?;
                    a.recipe.lr = v.parse().map_err(|_| format!("--lr: not a number: {v:?}"))?;
                    if !(a.recipe.lr.is_finite() && a.recipe.lr > 0.0) {
                        return Err(format!("--lr must be finite and > 0, got {v}"));
                    }
                }
                "--curve" => a.curve = Some(PathBuf::from(value("--curve")?)),
                "--out" => a.out = PathBuf::from(value("--out")?),
                "--json" => a.json = true,
                "--f32" => a.f32 = true,
                "--no-plots" => a.plots = false,
                "--quiet" => a.quiet = true,
                "-h" | "--help" => return Ok(None),
                other => return Err(format!("unknown flag {other:?}")),
            }
        }
        if a.steps == 0 {
            return Err("--steps must be at least 1".into());
        }
        if a.threads == 0 {
            return Err("--threads must be at least 1".into());
        }
        if a.n == 0 {
            return Err("--n must be at least 1".into());
        }
        Ok(Some(a))
    }
}

fn parse_num<T: std::str::FromStr>(s: &str, name: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("{name}: not a non-negative integer: {s:?}"))
}
