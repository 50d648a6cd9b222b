//! The reference experiment of the deep-RFF SVGP notebook: an RBF SVGP and a deep-kernel
//! SVGP (MLP warp → 256 random Fourier features) trained on y = sin(2π(x1² − x2)) + noise.
//!
//! ```text
//! cargo run --release --example deep_rff                       # full recipe, both kernels, figures
//! cargo run --release --example deep_rff -- --seed 3 --steps 300 --json
//! cargo run --release --example deep_rff -- --f32              # f64 and f32 side by side
//! ```
//!
//! Prints, per model, the final −ELBO, kernel variance and lengthscale, noise std, the RMSE of
//! the posterior mean against the truth on the 80 × 80 grid, and wall time; writes PNG figures
//! (truth / posterior mean / |error| maps, loss curves, the learned warp) to `--out`.

mod args;
#[allow(dead_code)] // shared by the examples: each uses a part
#[path = "../common/checks.rs"]
mod checks;
#[path = "../common/colour.rs"]
mod colour;
mod experiment;
#[path = "../common/font.rs"]
mod font;
mod plots;
mod progress;

use args::{Args, Which};
use experiment::{Data, Kind, Outcome};
use plotters::style::RGBColor;
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

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let data = experiment::make_data(args.n, args.seed);
    let (grid, truth) = experiment::eval_grid();
    let kinds: &[Kind] = match args.which {
        Which::Both => &[Kind::Rbf, Kind::Deep],
        Which::Rbf => &[Kind::Rbf],
        Which::Deep => &[Kind::Deep],
    };
    if !args.json {
        println!(
            "deep_rff: N = {}, M = 30, seed {} (data stream {}, init stream {}), {} steps, lr {}, clip {}",
            data.len(),
            args.seed,
            experiment::seeds(args.seed).0,
            experiment::seeds(args.seed).1,
            args.steps,
            experiment::LR,
            experiment::CLIP_NORM
        );
    }

    let mut f64_runs = Vec::new();
    let mut f32_runs = Vec::new();
    for &kind in kinds {
        let out = train::<f64>(kind, &data, args, "f64")?;
        report(&out, args);
        f64_runs.push(out);
        if args.f32 {
            let out = train::<f32>(kind, &data, args, "f32")?;
            report(&out, args);
            f32_runs.push(out);
        }
    }
    if args.f32 && !args.json {
        println!("\nf64 vs f32 (f32 jitter {:e}):", args.f32_jitter);
        println!(
            "  {:<6} {:>12} {:>12} {:>12} {:>12}",
            "kernel", "RMSE f64", "RMSE f32", "ms/step f64", "ms/step f32"
        );
        for (a, b) in f64_runs.iter().zip(&f32_runs) {
            println!(
                "  {:<6} {:>12.4} {:>12.4} {:>12.3} {:>12.3}",
                a.kind.name(),
                a.grid_rmse,
                b.grid_rmse,
                a.step_ms,
                b.step_ms
            );
        }
    }
    if args.plots {
        write_figures(args, &f64_runs, &grid, &truth)?;
    }
    Ok(())
}

fn train<S: svgp::Scalar + Send + Sync>(
    kind: Kind,
    data: &Data,
    args: &Args,
    dtype: &str,
) -> Result<Outcome, svgp::Error> {
    let label = format!("{}/{dtype}", kind.name());
    let mut bar = progress::Progress::new(&label, args.steps, !args.quiet);
    let jitter = if experiment::dtype::<S>() == "f64" { experiment::JITTER_F64 } else { args.f32_jitter };
    experiment::run_with::<S>(
        kind,
        data,
        args.seed,
        args.steps,
        jitter,
        args.threads,
        &args.recipe,
        &mut |step, loss| bar.update(step, loss),
    )
}

fn report(o: &Outcome, args: &Args) {
    if let Some(path) = &args.curve {
        use std::io::Write;
        let text: String = o
            .losses
            .iter()
            .enumerate()
            .map(|(i, l)| {
                format!("{} {} {} {} {l}\n", o.kind.name(), args.recipe.mode.name(), args.seed, i + 1)
            })
            .collect();
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(text.as_bytes()));
        if let Err(e) = written {
            eprintln!("warning: --curve {}: {e}", path.display());
        }
    }
    if args.json {
        let line = serde_json::json!({
            "kernel": o.kind.name(),
            "dtype": o.dtype,
            "neg_elbo": o.neg_elbo,
            "final_neg_elbo": o.final_neg_elbo,
            "variance": o.variance,
            "lengthscale": o.lengthscale,
            "noise_std": o.noise_std,
            "grid_rmse": o.grid_rmse,
            "train_s": o.train_s,
            "step_ms": o.step_ms,
            "jitter": o.jitter,
            "steps": o.losses.len(),
            "seed": args.seed,
            "n": args.n,
            "threads": args.threads,
            "inference": args.recipe.mode.name(),
            "lr": args.recipe.lr,
        });
        println!("{line}");
        return;
    }
    let ls_name = match o.kind {
        Kind::Rbf => "lengthscale",
        Kind::Deep => "feat scale",
    };
    println!(
        "\n{} ({}) final -ELBO = {:.3} (last step's loss {:.3})",
        o.kind.title(),
        o.dtype,
        o.final_neg_elbo,
        o.neg_elbo
    );
    println!("    variance    = {:.3}", o.variance);
    println!("    {ls_name:<11} = {:.3}", o.lengthscale);
    println!("    noise std   = {:.3} (truth {})", o.noise_std, experiment::NOISE_STD);
    println!("    grid RMSE   = {:.4}", o.grid_rmse);
    println!("    wall time   = {:.2} s ({:.3} ms/step median)", o.train_s, o.step_ms);
}

fn write_figures(
    args: &Args,
    runs: &[Outcome],
    grid: &[f64],
    truth: &[f64],
) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("cannot create output directory {}: {e}", args.out.display()))?;
    let text = font::init_font();
    let errs: Vec<Vec<f64>> =
        runs.iter().map(|o| o.grid_mean.iter().zip(truth).map(|(m, t)| (m - t).abs()).collect()).collect();
    let rows: Vec<Vec<plots::Field>> = runs
        .iter()
        .zip(&errs)
        .map(|(o, e)| {
            vec![
                plots::Field {
                    title: "truth f(x)".into(),
                    values: truth,
                    cmap: plots::rdbu_r,
                    lo: -1.0,
                    hi: 1.0,
                },
                plots::Field {
                    title: format!("{} posterior mean", o.kind.title()),
                    values: &o.grid_mean,
                    cmap: plots::rdbu_r,
                    lo: -1.0,
                    hi: 1.0,
                },
                plots::Field {
                    title: format!("{} |mean - truth|, RMSE {:.3}", o.kind.title(), o.grid_rmse),
                    values: e,
                    cmap: plots::magma,
                    lo: 0.0,
                    hi: 1.0,
                },
            ]
        })
        .collect();
    let mut written = Vec::new();
    let p = args.out.join("posterior.png");
    plots::field_grid(&p, &rows, experiment::GRID, text).map_err(|e| figure_error(&p, e))?;
    written.push(p);

    const COLOURS: [RGBColor; 2] = [RGBColor(31, 119, 180), RGBColor(214, 39, 40)];
    let curves: Vec<(&str, &[f64], RGBColor)> =
        runs.iter().map(|o| (o.kind.title(), &o.losses[..], COLOURS[o.kind as usize])).collect();
    let p = args.out.join("loss.png");
    plots::loss_curves(&p, &curves, text).map_err(|e| figure_error(&p, e))?;
    written.push(p);

    if let Some(w) = runs.iter().find_map(|o| o.warp.as_ref()) {
        let pcs = plots::first_two_pcs(w, w.len() / truth.len());
        let p = args.out.join("warp.png");
        plots::warp(&p, grid, &pcs, truth, text).map_err(|e| figure_error(&p, e))?;
        written.push(p);
    }
    if !args.json {
        println!("\nfigures{}:", if text { "" } else { " (no font found: drawn without text)" });
        for p in written {
            println!("    {}", p.display());
        }
    }
    Ok(())
}

/// A figure that could not be written, naming its path.
fn figure_error(path: &std::path::Path, e: Box<dyn std::error::Error>) -> String {
    format!("cannot write figure {}: {e}", path.display())
}
