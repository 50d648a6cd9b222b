//! Command-line flags of the example (no parser crate: a handful of flags does not need one).
//! [`Args::parse`] checks every value; [`Args::check_resources`] checks, before any training,
//! that the output directory can be written and the buffers fit in memory.

use super::checks;
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
        };
        let mut it = it.into_iter();
        while let Some(flag) = it.next() {
            let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
            match flag.as_str() {
                "--seed" => {
                    let v = value("--seed")?;
                    a.seed = v.parse().map_err(|_| format!("--seed: not a non-negative integer: {v:?}"))?
                }
                "--steps" => a.steps = checks::count("--steps", &value("--steps")?, 1, MAX_STEPS)?,
                "--threads" => a.threads = checks::count("--threads", &value("--threads")?, 1, MAX_THREADS)?,
                "--n" => a.n = checks::count("--n", &value("--n")?, 1, MAX_N)?,
                "--kernel" => {
                    a.which = match value("--kernel")?.as_str() {
                        "rbf" => Which::Rbf,
                        "deep" => Which::Deep,
                        "both" => Which::Both,
                        other => return Err(format!("--kernel: expected rbf, deep or both, got {other:?}")),
                    }
                }
                "--f32-jitter" => {
                    a.f32_jitter =
                        checks::number("--f32-jitter", &value("--f32-jitter")?, "finite and >= 0", |v| {
                            v >= 0.0
                        })?
                }
                "--out" => a.out = PathBuf::from(value("--out")?),
                "--json" => a.json = true,
                "--f32" => a.f32 = true,
                "--no-plots" => a.plots = false,
                "--quiet" => a.quiet = true,
                "-h" | "--help" => return Ok(None),
                other => return Err(format!("unknown flag {other:?}")),
            }
        }
        Ok(Some(a))
    }

    /// Before any work: the figures' directory can be written (when figures are asked for),
    /// and the data and the models' buffers for `--n` points fit in the memory available.
    pub fn check_resources(&self) -> Result<(), String> {
        checks::fits_in_memory(&format!("--n {}", self.n), experiment::memory_estimate(self.n))?;
        if self.plots {
            checks::writable_dir(&self.out)?;
        }
        Ok(())
    }
}

/// The most steps `--steps` takes (a typo guard: 10⁸ deep steps would take days).
const MAX_STEPS: usize = 100_000_000;
/// The most points `--n` takes (a typo guard; the memory check refuses far less on most
/// machines: the deep model needs about 6 KB a point).
const MAX_N: usize = 1_000_000_000_000;
/// The most threads `--threads` takes.
const MAX_THREADS: usize = 1024;

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
        assert_eq!((a.seed, a.steps, a.n, a.which, a.plots), (0, 3000, 600, Which::Both, true));
        let a = parse(&["--seed", "3", "--steps", "300", "--kernel", "rbf", "--no-plots", "--json"])
            .unwrap()
            .unwrap();
        assert_eq!((a.seed, a.steps, a.which, a.plots, a.json), (3, 300, Which::Rbf, false, true));
        assert!(parse(&["--help"]).unwrap().is_none());
    }

    #[test]
    fn bad_values_name_the_flag() {
        for (args, says) in [
            (&["--steps", "0"][..], "--steps must be in [1, "),
            (&["--n", "0"], "--n must be in [1, "),
            (&["--n", "-5"], "--n: not a non-negative integer"),
            (&["--threads", "0"], "--threads must be in [1, 1024]"),
            (&["--kernel", "svm"], "--kernel: expected rbf, deep or both"),
            (&["--f32-jitter", "-1"], "--f32-jitter must be finite and >= 0"),
            (&["--f32-jitter", "nan"], "--f32-jitter must be finite and >= 0"),
            (&["--seed"], "--seed needs a value"),
            (&["--bogus"], "unknown flag \"--bogus\""),
        ] {
            let e = parse(args).unwrap_err();
            assert!(e.contains(says), "{args:?}: {e}");
        }
    }

    #[test]
    fn resources_are_checked_before_work() {
        // An absurd --n is refused by its memory estimate (no allocation is tried).
        let a = parse(&["--n", "1000000000000"]).unwrap().unwrap();
        let e = a.check_resources().unwrap_err();
        assert!(e.contains("--n 1000000000000") && e.contains("GiB"), "{e}");
        assert!(parse(&["--n", "10000000000000"]).unwrap_err().contains("--n must be in [1, 1000000000000]"));
        // An output directory under a regular file cannot be created.
        let file = std::env::temp_dir().join(format!("svgp-deep-rff-args-{}", std::process::id()));
        std::fs::write(&file, b"x").unwrap();
        let a = parse(&["--out", file.join("figs").to_str().unwrap()]).unwrap().unwrap();
        let e = a.check_resources().unwrap_err();
        assert!(e.contains("cannot create output directory") && e.contains("figs"), "{e}");
        // ... which does not matter without figures.
        let a = parse(&["--out", file.join("figs").to_str().unwrap(), "--no-plots"]).unwrap().unwrap();
        assert!(a.check_resources().is_ok());
        std::fs::remove_file(&file).unwrap();
    }
}
