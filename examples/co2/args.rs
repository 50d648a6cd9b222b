//! Command-line flags of the CO₂ example, every value checked when parsed;
//! [`Args::check_resources`] checks the files before any work.

use super::checks;
use super::data;
use std::path::PathBuf;

/// Which splits to fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    Both,
    Random,
    Extrapolate,
}

/// The kernel: the composite CO₂ kernel, or a plain RBF (the baseline).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelChoice {
    Co2,
    Rbf,
}

/// Parsed command line.
#[derive(Clone, Debug)]
pub struct Args {
    pub steps: usize,
    pub m: usize,
    pub lr: f64,
    pub seed: u64,
    pub which: Which,
    pub train_frac: f64,
    pub cut: f64,
    pub kernel: KernelChoice,
    pub threads: usize,
    pub data: PathBuf,
    pub out: PathBuf,
    pub plots: bool,
    pub json: bool,
    pub quiet: bool,
}

/// Training steps of the recipe.
pub const STEPS: usize = 3000;
/// Inducing points of the recipe.
pub const M: usize = 50;
/// Adam's learning rate in the recipe.
pub const LR: f64 = 1e-2;

pub const USAGE: &str = "\
usage: cargo run --release --example co2 -- [flags]

  --split S        random (train on a random 80 %), extrapolate (train before --cut) or both
                   (default both)
  --steps N        Adam steps per fit (default 3000)
  --m M            inducing points (default 50)
  --lr X           Adam learning rate (default 0.01)
  --seed N         seed of the random split and the inducing inputs (default 0)
  --train-frac F   training fraction of the random split (default 0.8)
  --cut YEAR       the extrapolation split trains on the weeks before YEAR (default 1995)
  --kernel K       co2 (RBF trend + periodic x RBF + rational quadratic, default) or rbf
  --threads N      threads per fit (default: cores, at most 2); the numbers do not depend on it
  --data PATH      the CSV (default: examples/data/co2_weekly.csv)
  --out DIR        directory for the PNG figures (default target/co2)
  --no-plots       do not write figures
  --json           one JSON line per split on stdout (keys: split, kernel, n_train, n_test, m,
                   steps, rmse_ppm, nlpd, coverage95, train_s, step_ms, seed)
  --quiet          no progress display
  -h, --help       this text";

impl Args {
    /// Parses `std::env::args()`-style arguments (without the program name); `Ok(None)` for `--help`.
    pub fn parse<I: IntoIterator<Item = String>>(it: I) -> Result<Option<Args>, String> {
        let mut a = Args {
            steps: STEPS,
            m: M,
            lr: LR,
            seed: 0,
            which: Which::Both,
            train_frac: 0.8,
            cut: 1995.0,
            kernel: KernelChoice::Co2,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()).min(2),
            data: PathBuf::from(data::CSV),
            out: PathBuf::from("target/co2"),
            plots: true,
            json: false,
            quiet: false,
        };
        let mut it = it.into_iter();
        while let Some(flag) = it.next() {
            let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
            match flag.as_str() {
                "--steps" => a.steps = checks::count("--steps", &value("--steps")?, 1, 100_000_000)?,
                "--m" => a.m = checks::count("--m", &value("--m")?, 1, 100_000)?,
                "--lr" => a.lr = checks::number("--lr", &value("--lr")?, "finite and > 0", |v| v > 0.0)?,
                "--seed" => {
                    let v = value("--seed")?;
                    a.seed = v.parse().map_err(|_| format!("--seed: not a non-negative integer: {v:?}"))?
                }
                "--split" => {
                    a.which = match value("--split")?.as_str() {
                        "both" => Which::Both,
                        "random" => Which::Random,
                        "extrapolate" => Which::Extrapolate,
                        other => {
                            return Err(format!(
                                "--split: expected random, extrapolate or both, got {other:?}"
                            ))
                        }
                    }
                }
                "--train-frac" => {
                    a.train_frac =
                        checks::number("--train-frac", &value("--train-frac")?, "in (0, 1)", |v| {
                            v > 0.0 && v < 1.0
                        })?
                }
                "--cut" => a.cut = checks::number("--cut", &value("--cut")?, "a finite year", |_| true)?,
                "--kernel" => {
                    a.kernel = match value("--kernel")?.as_str() {
                        "co2" => KernelChoice::Co2,
                        "rbf" => KernelChoice::Rbf,
                        other => return Err(format!("--kernel: expected co2 or rbf, got {other:?}")),
                    }
                }
                "--threads" => a.threads = checks::count("--threads", &value("--threads")?, 1, 1024)?,
                "--data" => a.data = PathBuf::from(value("--data")?),
                "--out" => a.out = PathBuf::from(value("--out")?),
                "--no-plots" => a.plots = false,
                "--json" => a.json = true,
                "--quiet" => a.quiet = true,
                "-h" | "--help" => return Ok(None),
                other => return Err(format!("unknown flag {other:?}")),
            }
        }
        Ok(Some(a))
    }

    /// Before any work: the data can be read and the figures' directory written.
    pub fn check_resources(&self) -> Result<(), String> {
        checks::readable_file(&self.data)?;
        if self.plots {
            checks::writable_dir(&self.out)?;
        }
        Ok(())
    }
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
        assert_eq!(
            (a.steps, a.m, a.which, a.kernel, a.train_frac, a.cut),
            (STEPS, M, Which::Both, KernelChoice::Co2, 0.8, 1995.0)
        );
        let a = parse(&["--split", "random", "--steps", "300", "--m", "80", "--kernel", "rbf", "--json"])
            .unwrap()
            .unwrap();
        assert_eq!(
            (a.which, a.steps, a.m, a.kernel, a.json),
            (Which::Random, 300, 80, KernelChoice::Rbf, true)
        );
        assert!(parse(&["-h"]).unwrap().is_none());
    }

    #[test]
    fn bad_values_name_the_flag() {
        for (args, says) in [
            (&["--steps", "0"][..], "--steps must be in [1, "),
            (&["--m", "0"], "--m must be in [1, "),
            (&["--lr", "0"], "--lr must be finite and > 0"),
            (&["--lr", "-0.1"], "--lr must be finite and > 0"),
            (&["--train-frac", "1"], "--train-frac must be in (0, 1)"),
            (&["--cut", "nan"], "--cut must be a finite year"),
            (&["--split", "half"], "--split: expected random, extrapolate or both"),
            (&["--kernel", "deep"], "--kernel: expected co2 or rbf"),
            (&["--threads", "0"], "--threads must be in [1, 1024]"),
            (&["--out"], "--out needs a value"),
            (&["--batch", "0"], "unknown flag \"--batch\""),
        ] {
            let e = parse(args).unwrap_err();
            assert!(e.contains(says), "{args:?}: {e}");
        }
    }

    #[test]
    fn files_are_checked_before_work() {
        let a = parse(&["--data", "no/such.csv"]).unwrap().unwrap();
        assert!(a.check_resources().unwrap_err().contains("cannot read no/such.csv"));
        let file = std::env::temp_dir().join(format!("svgp-co2-args-{}", std::process::id()));
        std::fs::write(&file, b"x").unwrap();
        let a = parse(&["--out", file.join("figs").to_str().unwrap()]).unwrap().unwrap();
        let e = a.check_resources().unwrap_err();
        assert!(e.contains("cannot create output directory") && e.contains("figs"), "{e}");
        std::fs::remove_file(&file).unwrap();
    }
}
