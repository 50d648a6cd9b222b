//! Minibatch training of the flagship deep-kernel SVGP (issue 7).
//!
//! ```text
//! cargo run --release --example minibatch                 # both parts
//! cargo run --release --example minibatch -- flagship     # full batch vs batches of 100, N = 600
//! cargo run --release --example minibatch -- million      # 10⁶ streamed points, time per epoch, peak memory
//! ```
//!
//! Flags: `--seed S` (0), `--passes P` (3000: data passes of both flagship runs), `--batch B`
//! (100 for flagship, 1000 for million), `--lr L[,L2…]` (minibatch learning rate(s): 5e-3 for
//! flagship, 1e-2 for million), `--tail F` (last fraction of the minibatch steps at lr/5: 0.3
//! for flagship, 0 for million), `--threads T` (1), `--n N` (10⁶), `--epochs E` (1).
//!
//! # The minibatch recipe (a documented choice)
//!
//! Full batch keeps the notebook's recipe (Adam 1e-2, clip 1, 3000 steps). Batches of 100 with
//! that same constant 1e-2 end with grid RMSE 1.3–1.6× the full-batch run's (seeds 0, 1, 2):
//! the last steps still carry batch noise. The minibatch recipe here is Adam 5e-3 (clip 1) for
//! 70% of the steps, then 1e-3 for the last 30%. Measured (release, loaded 2-core machine),
//! grid RMSE minibatch / full batch: seed 0 0.73, seed 1 0.60, seed 2 1.18 — two of three
//! seeds within the 15% target, and better than full batch on those two; seed-to-seed spread
//! of the full-batch RMSE itself is 0.050–0.066.
//!
//! **flagship**: the recipe of `examples/deep_rff` (N = 600, deep kernel, Adam at 1e-2 with
//! global-norm clipping) trained full-batch for P steps, then with batches of B for the same P
//! passes (P·N/B steps, each batch's ELBO scaled by N/b), both from the same initialisation;
//! prints both grid RMSEs and whether the minibatch one is within 15% of the full-batch one.
//!
//! **million**: N points of the same target that never sit in memory: point i is generated from
//! its index by a counter-seeded generator, and shuffled epochs (a keyed permutation, O(1)
//! memory) pick the indices, through a callback [`FnSource`]. Inducing inputs by k-means++ on a
//! 10,000-point random sample. Prints time per epoch, the grid RMSE, and peak resident memory
//! (VmHWM) at the end.

#[allow(dead_code)] // shared by the examples: each uses a part
#[path = "common/checks.rs"]
mod checks;
#[allow(dead_code)]
#[path = "deep_rff/experiment.rs"]
mod experiment;

use core::ops::ControlFlow;
use std::time::Instant;
use svgp::batch::{with_split_minibatch, FnSource, Minibatch, MinibatchElbo, ShuffledEpochs, SliceSource};
use svgp::gp::{Features, Svgp};
use svgp::inducing::{kmeans_pp, kmeans_pp_workspace_len, lloyd, lloyd_workspace_len};
use svgp::metrics::rmse;
use svgp::optim::{Adam, AdamConfig};
use svgp::parallel::Split;
use svgp::rng::{standard_normal, uniform, Xoshiro256};
use svgp::train::fit;

/// The minibatch recipe's learning rate for the flagship comparison (the full-batch recipe's is
/// 1e-2): batch gradients are 6× noisier per step, and 1e-2 held constant ends 1.3–1.6× worse
/// than full batch on seeds 0–2 (see "The minibatch recipe" above).
const FLAGSHIP_LR: f64 = 5e-3;
/// Fraction of the minibatch steps run at lr/5 at the end (fresh Adam state).
const FLAGSHIP_TAIL: f64 = 0.3;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

#[derive(Clone, Debug)]
struct Opts {
    part: String,
    seed: u64,
    passes: usize,
    batch: Option<usize>,
    lr: Option<Vec<f64>>,
    threads: usize,
    n: usize,
    epochs: usize,
    tail: Option<f64>,
}

const USAGE: &str = "\
usage: cargo run --release --example minibatch -- [flagship | million | all] [flags]

  --seed S       data and initialisation seed (default 0)
  --passes P     data passes of both flagship runs (default 3000)
  --batch B      batch size (default 100 for flagship, 1000 for million; at most N)
  --lr L[,L2..]  minibatch learning rate(s) (default 5e-3 for flagship, 1e-2 for million)
  --tail F       last fraction of the minibatch steps at lr/5, in [0, 1) (default 0.3 flagship, 0 million)
  --threads T    threads per batch (default 1)
  --n N          streamed points of the million run (default 1000000, at most 1e10)
  --epochs E     epochs of the million run (default 1)
  -h, --help     this text";

/// The most points `--n` takes: 10¹⁰ streamed points would take about a day and a half per
/// epoch (12 s per 10⁶ on the reference machine).
const MAX_N: usize = 10_000_000_000;

/// Parses and checks the command line (without the program name); `Ok(None)` for `--help`.
/// Every value is checked here, before any work: sizes, rates, and the step counts they imply.
fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Option<Opts>, String> {
    let mut o = Opts {
        part: "all".into(),
        seed: 0,
        passes: experiment::STEPS,
        batch: None,
        lr: None,
        threads: 1,
        n: 1_000_000,
        epochs: 1,
        tail: None,
    };
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "flagship" | "million" | "all" => o.part = a.clone(),
            "--seed" => {
                let v = val()?;
                o.seed = v.parse().map_err(|_| format!("--seed: not a non-negative integer: {v:?}"))?
            }
            "--passes" => o.passes = checks::count("--passes", &val()?, 1, 100_000_000)?,
            "--batch" => o.batch = Some(checks::count("--batch", &val()?, 1, MAX_N)?),
            "--lr" => {
                o.lr = Some(
                    val()?
                        .split(',')
                        .map(|v| checks::number("--lr", v, "finite and > 0", |x| x > 0.0))
                        .collect::<Result<_, _>>()?,
                )
            }
            "--threads" => o.threads = checks::count("--threads", &val()?, 1, 1024)?,
            "--n" => o.n = checks::count("--n", &val()?, 1, MAX_N)?,
            "--epochs" => o.epochs = checks::count("--epochs", &val()?, 1, 1_000_000)?,
            "--tail" => {
                o.tail = Some(checks::number("--tail", &val()?, "in [0, 1)", |x| (0.0..1.0).contains(&x))?)
            }
            "-h" | "--help" => return Ok(None),
            _ => return Err(format!("unknown argument {a:?}")),
        }
    }
    let flagship = o.part != "million";
    let million = o.part != "flagship";
    if let Some(b) = o.batch {
        if flagship && b > experiment::N_TRAIN {
            return Err(format!("--batch {b} exceeds the flagship's N = {}", experiment::N_TRAIN));
        }
        if million && b > o.n {
            return Err(format!("--batch {b} exceeds --n {}", o.n));
        }
    }
    if flagship {
        let b = o.batch.unwrap_or(100);
        o.passes
            .checked_mul(experiment::N_TRAIN)
            .map(|v| v / b)
            .filter(|&steps| steps <= 1_000_000_000)
            .ok_or_else(|| {
                format!("--passes {} with batches of {b} asks for more than 10^9 steps", o.passes)
            })?;
    }
    if million {
        let b = o.batch.unwrap_or(1000);
        o.n.div_ceil(b).checked_mul(o.epochs).filter(|&steps| steps <= 1_000_000_000).ok_or_else(|| {
            format!("--n {} in batches of {b} for {} epochs asks for more than 10^9 steps", o.n, o.epochs)
        })?;
    }
    Ok(Some(o))
}

fn main() -> std::process::ExitCode {
    let o = match parse(std::env::args().skip(1)) {
        Ok(Some(o)) => o,
        Ok(None) => {
            println!("{USAGE}");
            return std::process::ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    match run(&o) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(o: &Opts) -> Res<()> {
    if o.part == "flagship" || o.part == "all" {
        flagship(o)?;
    }
    if o.part == "million" || o.part == "all" {
        million(o)?;
    }
    Ok(())
}

/// Full batch vs minibatch on the flagship data, for the same number of data passes.
fn flagship(o: &Opts) -> Res<()> {
    let data = experiment::make_data(experiment::N_TRAIN, o.seed);
    let n = data.len();
    let b = o.batch.unwrap_or(100);
    let (model, init) = experiment::deep_model::<f64>(o.seed, experiment::JITTER_F64)?;
    println!(
        "flagship: N = {n}, deep kernel (M = {}, J = {}), {} data passes",
        model.n_inducing(),
        experiment::FEATURES,
        o.passes
    );

    let t0 = Instant::now();
    let full = experiment::train(&model, init.clone(), &data, o.passes, 1, &mut |s, l| {
        if s % 1000 == 0 {
            println!("  full batch step {s:>6}: -ELBO {l:.3}");
        }
    })?;
    let full_s = t0.elapsed().as_secs_f64();
    let (_, truth) = experiment::eval_grid();
    let rmse_full = rmse(&truth, &experiment::predict_grid(&model, &full.params)?)?;

    println!(
        "  full batch: {:>6} steps, {full_s:>6.1} s, final -ELBO {:>9.3}, grid RMSE {rmse_full:.4}",
        o.passes,
        full.losses.last().copied().unwrap_or(f64::NAN)
    );
    let steps = o.passes * n / b;
    let tail = o.tail.unwrap_or(FLAGSHIP_TAIL);
    for &lr in o.lr.as_deref().unwrap_or(&[FLAGSHIP_LR]) {
        let mb = Minibatch::new(n, b)?;
        let src = SliceSource::new(&data.x, &data.y, 2, Xoshiro256::from_u64(1000 + o.seed))?;
        let t1 = Instant::now();
        let (params, last) =
            train_minibatch(&model, init.clone(), mb, src, o.threads, &schedule(lr, steps, tail), 0)?;
        let mb_s = t1.elapsed().as_secs_f64();
        let rmse_mb = rmse(&truth, &experiment::predict_grid(&model, &params)?)?;
        let ratio = rmse_mb / rmse_full;
        let verdict = if ratio <= 1.15 { "within" } else { "NOT within" };
        println!(
            "  batch {b:>4}: {steps:>6} steps, {mb_s:>6.1} s, last batch -ELBO {last:>9.3}, grid RMSE {rmse_mb:.4} \
             (lr {lr}, tail {tail}): {ratio:.3} x full batch, {verdict} 15%"
        );
    }
    Ok(())
}

/// The minibatch learning-rate schedule: `steps` at `lr`, the last `tail` fraction of them at
/// lr/5 (a fresh Adam state), so the final parameters carry less batch noise.
fn schedule(lr: f64, steps: usize, tail: f64) -> Vec<(f64, usize)> {
    let t = ((steps as f64) * tail).round() as usize;
    [(lr, steps - t.min(steps)), (lr / 5.0, t.min(steps))].into_iter().filter(|p| p.1 > 0).collect()
}

/// Adam (clipped at the recipe's 1.0) on the minibatch loss, phase by phase `(lr, steps)`,
/// each batch split into `threads` chunks on as many threads; returns the parameters and the
/// last batch's loss.
fn train_minibatch<Src: svgp::batch::BatchSource<f64>>(
    model: &Svgp<Features<svgp::features::DeepRff>>,
    mut params: Vec<f64>,
    mb: Minibatch,
    src: Src,
    threads: usize,
    phases: &[(f64, usize)],
    report_every: usize,
) -> Res<(Vec<f64>, f64)> {
    let last = if threads != 1 {
        with_split_minibatch(*model, mb, src, Split::new(threads, threads), |obj| {
            run_phases(obj, &mut params, phases, report_every)
        })??
    } else {
        let mut ws = vec![0.0; mb.workspace_len(model)?];
        run_phases(&mut MinibatchElbo::new(*model, mb, src, &mut ws)?, &mut params, phases, report_every)?
    };
    Ok((params, last))
}

/// The phases of [`train_minibatch`] on one objective; returns the last batch's loss.
fn run_phases<Src: svgp::batch::BatchSource<f64>>(
    obj: &mut MinibatchElbo<'_, Features<svgp::features::DeepRff>, Src, f64>,
    params: &mut [f64],
    phases: &[(f64, usize)],
    report_every: usize,
) -> Res<f64> {
    let np = params.len();
    let (mut grad, mut mu, mut nu) = (vec![0.0; np], vec![0.0; np], vec![0.0; np]);
    let mut last = f64::NAN;
    let t = Instant::now();
    for &(lr, steps) in phases {
        let mut adam = Adam::new(AdamConfig::new(lr).with_clip(experiment::CLIP_NORM), &mut mu, &mut nu)?;
        fit(obj, params, &mut grad, &mut adam, steps, |r| {
            last = r.loss;
            if report_every > 0 && r.step % report_every == 0 {
                println!(
                    "  minibatch step {:>7}: batch -ELBO {:>11.3}  ({:.1} s)",
                    r.step,
                    r.loss,
                    t.elapsed().as_secs_f64()
                );
            }
            ControlFlow::Continue(())
        })?;
    }
    Ok(last)
}

/// Point `i` of the synthetic data set: a pure function of (seed, i), so a data set of any size
/// can be streamed without storing it.
fn point(seed: u64, i: u64) -> ([f64; 2], f64) {
    let mut r = Xoshiro256::from_u64(seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let (x1, x2) = (uniform(&mut r, -1.0, 1.0), uniform(&mut r, -1.0, 1.0));
    ([x1, x2], experiment::f_true(x1, x2) + experiment::NOISE_STD * standard_normal(&mut r))
}

/// Peak resident set size (VmHWM) from /proc/self/status, in MiB.
fn peak_rss_mib() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// The 10⁶-point run.
fn million(o: &Opts) -> Res<()> {
    let (n, b) = (o.n, o.batch.unwrap_or(1000));
    let data_seed = 77 + o.seed;
    let (model, mut params) = experiment::deep_model::<f64>(o.seed, experiment::JITTER_F64)?;
    println!("million: N = {n} streamed points, batch {b}, {} epoch(s), {} thread(s)", o.epochs, o.threads);

    // Inducing inputs: k-means++ (+ 10 Lloyd steps) on a 10,000-point random sample.
    let t0 = Instant::now();
    let ns = 10_000.min(n);
    let mut pick = ShuffledEpochs::new(n, Xoshiro256::from_u64(5 + o.seed))?;
    let mut idx = vec![0; ns];
    pick.next_batch(&mut idx);
    let sample: Vec<f64> = idx.iter().flat_map(|&i| point(data_seed, i as u64).0).collect();
    let z = model.params_mut(&mut params)?.z;
    let mut ws = vec![0.0; kmeans_pp_workspace_len(ns)?.max(lloyd_workspace_len(model.n_inducing(), 2)?)];
    kmeans_pp(&sample, 2, &mut Xoshiro256::from_u64(6 + o.seed), z, &mut ws)?;
    lloyd(&sample, 2, z, 10, &mut ws)?;
    println!("  k-means++ inducing inputs on {ns} samples: {:.2} s", t0.elapsed().as_secs_f64());

    // The stream: shuffled indices → points generated on the fly.
    let mut order = ShuffledEpochs::new(n, Xoshiro256::from_u64(1000 + o.seed))?;
    let mut ibuf = vec![0usize; b];
    let src = FnSource::new(2, move |x: &mut [f64], y: &mut [f64]| {
        let k = order.next_batch(&mut ibuf[..y.len()]);
        for (r, &i) in ibuf[..k].iter().enumerate() {
            let (xi, yi) = point(data_seed, i as u64);
            x[2 * r..2 * r + 2].copy_from_slice(&xi);
            y[r] = yi;
        }
        Ok(k)
    });
    let mb = Minibatch::new(n, b)?;
    let steps_per_epoch = n.div_ceil(b);
    let t1 = Instant::now();
    let (params, last) = train_minibatch(
        &model,
        params,
        mb,
        src,
        o.threads,
        &schedule(
            o.lr.as_ref().map_or(experiment::LR, |v| v[0]),
            o.epochs * steps_per_epoch,
            o.tail.unwrap_or(0.0),
        ),
        steps_per_epoch / 4,
    )?;
    let train_s = t1.elapsed().as_secs_f64();
    let peak_train = peak_rss_mib();
    let (grid, truth) = experiment::eval_grid();
    let rmse = rmse(&truth, &predict_chunked(&model, &params, &grid, 500)?)?;
    println!(
        "  {} steps in {train_s:.1} s: {:.2} s per epoch, {:.2} ms per step; last batch -ELBO {last:.1}",
        o.epochs * steps_per_epoch,
        train_s / o.epochs as f64,
        1e3 * train_s / (o.epochs * steps_per_epoch) as f64
    );
    println!("  grid RMSE {rmse:.4} (noise std {})", experiment::NOISE_STD);
    match (peak_train, peak_rss_mib()) {
        (Some(a), Some(b)) => {
            println!("  peak memory (VmHWM): {a:.1} MiB after training, {b:.1} MiB at the end")
        }
        _ => println!("  peak memory: /proc/self/status not readable"),
    }
    Ok(())
}

/// Posterior mean at `xs` (n × 2), `chunk` points at a time so the workspace stays small.
fn predict_chunked(
    model: &Svgp<Features<svgp::features::DeepRff>>,
    params: &[f64],
    xs: &[f64],
    chunk: usize,
) -> Res<Vec<f64>> {
    let mut ws = vec![0.0; model.predict_workspace_len(chunk)?];
    let (mut mean, mut var) = (vec![0.0; chunk], vec![0.0; chunk]);
    let mut out = Vec::with_capacity(xs.len() / 2);
    for xc in xs.chunks(2 * chunk) {
        let k = xc.len() / 2;
        model.predict(params, xc, &mut mean[..k], &mut var[..k], &mut ws)?;
        out.extend_from_slice(&mean[..k]);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
mod tests {
    use super::*;

    fn parse_args(args: &[&str]) -> Result<Option<Opts>, String> {
        parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_and_parts() {
        let o = parse_args(&[]).unwrap().unwrap();
        assert_eq!((o.part.as_str(), o.passes, o.n, o.batch), ("all", 3000, 1_000_000, None));
        let o = parse_args(&["flagship", "--batch", "50", "--lr", "0.01,0.005", "--tail", "0.2"])
            .unwrap()
            .unwrap();
        assert_eq!(
            (o.part.as_str(), o.batch, o.lr, o.tail),
            ("flagship", Some(50), Some(vec![0.01, 0.005]), Some(0.2))
        );
        assert!(parse_args(&["--help"]).unwrap().is_none());
    }

    #[test]
    fn bad_arguments_are_refused_before_work() {
        for (args, says) in [
            (&["flagship", "--batch", "0"][..], "--batch must be in [1, "),
            (&["flagship", "--batch", "601"], "--batch 601 exceeds the flagship's N = 600"),
            (&["million", "--n", "100", "--batch", "1000"], "--batch 1000 exceeds --n 100"),
            (&["million", "--n", "160000000000000"], "--n must be in [1, 10000000000]"),
            (&["million", "--n", "10000000000", "--batch", "1", "--epochs", "1"], "more than 10^9 steps"),
            (&["flagship", "--passes", "100000000", "--batch", "1"], "more than 10^9 steps"),
            (&["--lr", "0.01,-1"], "--lr must be finite and > 0"),
            (&["--lr", "0.01,abc"], "--lr: not a number"),
            (&["--tail", "1"], "--tail must be in [0, 1)"),
            (&["--threads", "0"], "--threads must be in [1, 1024]"),
            (&["--epochs", "0"], "--epochs must be in [1, "),
            (&["--passes"], "--passes needs a value"),
            (&["bogus"], "unknown argument \"bogus\""),
        ] {
            let e = parse_args(args).unwrap_err();
            assert!(e.contains(says), "{args:?}: {e}");
        }
    }
}
