//! Real data: the weekly Mauna Loa CO₂ record (1958–2001, 2,225 weeks, vendored in
//! `examples/data/`), fitted by an SVGP with the classic composite kernel (RBF trend + periodic
//! × RBF + rational quadratic) on two splits: a random 80 % of the weeks (interpolation) and
//! every week before 1995 (extrapolation over the next seven years).
//!
//! ```text
//! cargo run --release --example co2                        # both splits, figures in target/co2/
//! cargo run --release --example co2 -- --split random --json
//! cargo run --release --example co2 -- --kernel rbf        # the RBF-only baseline
//! cargo run --release --example co2 -- --help
//! ```
//!
//! Inputs (years) and targets (ppm) are standardised on the training weeks
//! (`svgp::metrics::Standardizer`); predictions come back in ppm, and the held-out weeks are
//! scored with `svgp::metrics` (RMSE, Gaussian NLPD, coverage of the 95 % band). The period is
//! frozen at one year (`Trainer::freeze`); everything else is learned.

mod args;
#[allow(dead_code)] // shared by the examples: each uses a part
#[path = "../common/checks.rs"]
mod checks;
mod data;
#[path = "../common/font.rs"]
mod font;
mod model;
mod plots;
#[path = "../deep_rff/progress.rs"]
mod progress;

use args::{Args, Which};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{}", args::USAGE);
            return ExitCode::from(2);
        }
    };
    let prepared = args.check_resources().and_then(|()| prepare(&args));
    let (series, splits) = match prepared {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&args, &series, &splits) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Loads the data and makes the splits, checking that each leaves room for M inducing points:
/// all before any training.
fn prepare(args: &Args) -> Result<(data::Series, Vec<data::Split>), String> {
    let series = data::load(&args.data)?;
    let mut splits = Vec::new();
    if matches!(args.which, Which::Both | Which::Random) {
        splits.push(data::random_split(series.len(), args.train_frac, args.seed)?);
    }
    if matches!(args.which, Which::Both | Which::Extrapolate) {
        splits.push(data::split_at_year(&series.year, args.cut)?);
    }
    for s in &splits {
        if args.m > s.train.len() {
            return Err(format!(
                "--m {} exceeds the {} training weeks of the {} split",
                args.m,
                s.train.len(),
                s.name
            ));
        }
    }
    Ok((series, splits))
}

fn run(args: &Args, series: &data::Series, splits: &[data::Split]) -> Result<(), Box<dyn std::error::Error>> {
    if !args.json {
        println!(
            "co2: {} weeks {:.2}–{:.2}, kernel {}, M = {}, {} Adam steps (lr {}), seed {}",
            series.len(),
            series.year[0],
            series.year[series.len() - 1],
            match args.kernel {
                args::KernelChoice::Co2 => "RBF trend + periodic x RBF + RQ",
                args::KernelChoice::Rbf => "RBF",
            },
            args.m,
            args.steps,
            args.lr,
            args.seed
        );
    }
    let mut fits = Vec::new();
    for split in splits {
        let mut bar = progress::Progress::new(split.name, args.steps, !args.quiet);
        let fit = model::fit(series, split, args, &mut |s, l| bar.update(s, l))?;
        report(&fit, args);
        fits.push(fit);
    }
    if args.plots {
        figures(args, series, splits, &fits)?;
    }
    Ok(())
}

fn report(f: &model::Fit, args: &Args) {
    if args.json {
        let line = serde_json::json!({
            "split": f.split,
            "kernel": f.kernel,
            "n_train": f.n_train,
            "n_test": f.n_test,
            "m": f.m,
            "steps": f.steps,
            "rmse_ppm": f.rmse_ppm,
            "nlpd": f.nlpd,
            "coverage95": f.coverage95,
            "train_s": f.train_s,
            "step_ms": f.step_ms,
            "seed": args.seed,
        });
        println!("{line}");
        return;
    }
    println!("\n{} split: {} training weeks, {} held out", f.split, f.n_train, f.n_test);
    println!("    test RMSE       = {:.3} ppm", f.rmse_ppm);
    println!("    test NLPD       = {:.3} (per week, ppm units)", f.nlpd);
    println!("    95 % coverage   = {:.1} %", 100.0 * f.coverage95);
    println!("    final -ELBO     = {:.2} (standardised units)", f.final_loss);
    println!("    wall time       = {:.1} s ({:.2} ms/step median)", f.train_s, f.step_ms);
    println!("    noise sd        = {:.3} ppm", f.noise_ppm);
    for (name, v) in &f.hyper {
        println!("    {name:<22} = {v:.3}");
    }
}

fn points(s: &data::Series) -> plots::Points<'_> {
    plots::Points { year: &s.year, ppm: &s.ppm }
}

fn band<'a>(grid: &'a [f64], f: &'a model::Fit) -> plots::Band<'a> {
    plots::Band { year: grid, mean: &f.grid_mean, sd: &f.grid_sd }
}

fn figures(
    args: &Args,
    series: &data::Series,
    splits: &[data::Split],
    fits: &[model::Fit],
) -> Result<(), String> {
    let text = font::init_font();
    let grid = model::grid();
    let mut written = Vec::new();
    let write = |name: &str, f: &dyn Fn(&std::path::Path) -> plots::Res| {
        let p = args.out.join(name);
        f(&p).map_err(|e| format!("cannot write figure {}: {e}", p.display()))?;
        Ok::<_, String>(p)
    };
    let parts: Vec<(data::Series, data::Series)> =
        splits.iter().map(|s| (series.select(&s.train), series.select(&s.test))).collect();
    for ((split, fit), (train, test)) in splits.iter().zip(fits).zip(&parts) {
        let stats = format!(
            "test RMSE {:.2} ppm, 95 % coverage {:.0} %, NLPD {:.2}",
            fit.rmse_ppm,
            100.0 * fit.coverage95,
            fit.nlpd
        );
        let panels: Vec<plots::Panel> = if split.name == "random" {
            vec![
                plots::Panel {
                    title: format!("Mauna Loa CO2, SVGP (M = {}) on a random 80 %: {stats}", fit.m),
                    years: (1958.0, 2002.0),
                    train: points(train),
                    test: points(test),
                    band: band(&grid, fit),
                    cut: None,
                },
                plots::Panel {
                    title: "1990-1994 in detail".into(),
                    years: (1990.0, 1994.0),
                    train: points(train),
                    test: points(test),
                    band: band(&grid, fit),
                    cut: None,
                },
            ]
        } else {
            vec![plots::Panel {
                title: format!("trained before {}, predicting the rest: {stats}", args.cut),
                years: (args.cut - 10.0, 2002.0),
                train: points(train),
                test: points(test),
                band: band(&grid, fit),
                cut: Some(args.cut),
            }]
        };
        let name = if split.name == "random" { "co2_fit.png" } else { "co2_extrapolation.png" };
        written.push(write(name, &|p| plots::panels(p, &panels, text))?);
    }
    let resid: Vec<Vec<f64>> = fits
        .iter()
        .zip(&parts)
        .map(|(f, (_, test))| test.ppm.iter().zip(&f.test_mean).map(|(y, m)| y - m).collect())
        .collect();
    let rpanels: Vec<plots::Residuals> = fits
        .iter()
        .zip(&parts)
        .zip(&resid)
        .map(|((f, (_, test)), r)| plots::Residuals {
            title: format!("held-out residuals, {} split (RMSE {:.2} ppm)", f.split, f.rmse_ppm),
            year: &test.year,
            resid: r,
            sd: &f.test_sd,
        })
        .collect();
    written.push(write("co2_residuals.png", &|p| plots::residuals(p, &rpanels, text))?);
    if !args.json {
        println!("\nfigures{}:", if text { "" } else { " (no font found: drawn without text)" });
        for p in written {
            println!("    {}", p.display());
        }
    }
    Ok(())
}
