//! Train on the desktop, deploy to a microcontroller: build the compact posterior, export it
//! as a model blob under a storage plan, read it back in place and predict; report the blob
//! (evaluated in f32, as the firmware does) against the f64 model on the 80 × 80 grid.
//!
//! ```text
//! cargo run --release --example deploy -- [--steps 3000 | --jax-final] [--kernel rbf]
//!     [--precision compact|f32|f16|bf16|i16|i8] [--export firmware/model.bin]
//! cargo run --release --example deploy -- --check qemu.log --model firmware/model.bin
//! ```
//!
//! The deep kernel (MLP 2→32→32→8, J = 256 random Fourier features, M = 30) is trained here
//! from the reference's data and initial parameters (the JAX fixtures vendored in
//! `tests/data/`) with the reference's recipe (full-batch Adam, lr 0.01, clip 1, 3000 steps);
//! `--jax-final` skips training and deploys the parameters JAX trained instead.
//! The RBF kernel (`--kernel rbf`) always deploys JAX's trained parameters.
//!
//! `--precision` picks the storage plan (`compact`, the default: 16-bit integers with per-row
//! scales and f32 single values; or one encoding for every block). `--export PATH` writes that
//! blob, which the firmware embeds, and next to it `PATH.f64`, the same posterior in f64 (the
//! desktop reference for `--check`). `--check LOG` reads the firmware's semihosting output
//! (`P <i> <x1> <x2> <mean> <var>` as f32 bit patterns) and compares every line with the
//! host's predictions from the same blobs, then prints one `CHECK key=value ...` line.

use std::error::Error as StdError;
use std::path::{Path, PathBuf};

use std::ops::ControlFlow;
use svgp::deploy::{
    feature_to_bytes, kernel_to_bytes, read_header, view_feature, view_kernel, DeployMap, Encoding,
    FeatureModel, FeaturePosterior, KernelModel, KernelPosterior, ModelKind, Plan, Prediction, StoredScalar,
};
use svgp::features::DeepRff;
use svgp::gp::{Closed, Features, Prior, Svgp};
use svgp::kernel::{Kernel, Rbf};
use svgp::linalg::MatRef;
use svgp::metrics::rmse;
use svgp::nn::{Activation, Mlp};
use svgp::optim::AdamConfig;
use svgp::train::{FitOptions, Trainer};
use svgp::Scalar;

type Res<T> = Result<T, Box<dyn StdError>>;

/// Options from the command line.
#[derive(Debug)]
struct Opts {
    kernel: String,
    plan: Plan,
    steps: usize,
    jax_final: bool,
    export: Option<PathBuf>,
    check: Option<PathBuf>,
    model: PathBuf,
}

#[allow(dead_code)] // shared by the examples: each uses a part
#[path = "common/checks.rs"]
mod checks;

const USAGE: &str = "\
usage: cargo run --release --example deploy -- [flags]

  --kernel K      deep (default) or rbf
  --steps N       training steps of the deep kernel (default 3000)
  --jax-final     deploy the parameters JAX trained instead of training here
  --precision P   the blob's storage plan: compact (default: 16-bit integers with per-row
                  scales, f32 single values) or one of f64, f32, f16, bf16, i16, i8
  --export PATH   write the blob to PATH and the all-f64 reference to PATH.f64
  --check LOG     compare the firmware's output LOG with the host's predictions
  --model PATH    the blob --check reads (default firmware/model.bin, and PATH.f64)
  -h, --help      this text";

/// Parses the command line (without the program name); `Ok(None)` for `--help`.
fn parse<I: IntoIterator<Item = String>>(args: I) -> Result<Option<Opts>, String> {
    let mut o = Opts {
        kernel: "deep".into(),
        plan: Plan::compact(),
        steps: 3000,
        jax_final: false,
        export: None,
        check: None,
        model: "firmware/model.bin".into(),
    };
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--kernel" => {
                o.kernel = val()?;
                if o.kernel != "deep" && o.kernel != "rbf" {
                    return Err(format!("--kernel: expected deep or rbf, got {:?}", o.kernel));
                }
            }
            "--precision" => o.plan = plan(&val()?)?,
            "--steps" => o.steps = checks::count("--steps", &val()?, 1, 100_000_000)?,
            "--jax-final" => o.jax_final = true,
            "--export" => o.export = Some(val()?.into()),
            "--check" => o.check = Some(val()?.into()),
            "--model" => o.model = val()?.into(),
            "-h" | "--help" => return Ok(None),
            _ => return Err(format!("unknown argument {a:?}")),
        }
    }
    Ok(Some(o))
}

/// Before any work: the files `--check` reads can be read, and the blobs `--export` writes can
/// be written.
fn check_files(o: &Opts) -> Result<(), String> {
    if let Some(log) = &o.check {
        checks::readable_file(log)?;
        checks::readable_file(&o.model)?;
        checks::readable_file(&f64_path(&o.model))?;
    } else if let Some(path) = &o.export {
        checks::writable_file(path)?;
        checks::writable_file(&f64_path(path))?;
    }
    Ok(())
}

/// A storage plan by name: `compact`, or one encoding for every block.
fn plan(name: &str) -> Result<Plan, String> {
    if name == "compact" {
        return Ok(Plan::compact());
    }
    let e = Encoding::from_name(name)
        .ok_or(format!("--precision: expected compact, f64, f32, f16, bf16, i16 or i8, got {name:?}"))?;
    Ok(Plan::uniform(e))
}

/// The JAX reference fixtures vendored in this repository (`tests/data/README.md`).
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

fn floats(v: &serde_json::Value) -> Vec<f64> {
    match v {
        serde_json::Value::Array(a) => a.iter().flat_map(floats).collect(),
        serde_json::Value::Number(n) => n.as_f64().into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Copies a fixture array into a named part of a parameter buffer, checking its length.
fn fill(dst: &mut [f64], src: &[f64], what: &str) -> Res<()> {
    if dst.len() != src.len() {
        return Err(format!("fixture {what}: {} values, the model has {}", src.len(), dst.len()).into());
    }
    dst.copy_from_slice(src);
    Ok(())
}

/// Z, m, L (its lower triangle, packed) and ln σ_n² of a fixture parameter set, by name.
fn fill_guide<P: Prior>(svgp: &Svgp<P>, p: &serde_json::Value, flat: &mut [f64]) -> Res<()> {
    let m = svgp.n_inducing();
    let mut v = svgp.params_mut(flat)?;
    fill(v.z, &floats(&p["Z"]), "Z")?;
    fill(v.mean, &floats(&p["guide"]["m"]), "guide.m")?;
    v.scale_tril.pack_from(MatRef::new(m, m, &floats(&p["guide"]["L"]))?)?;
    fill(v.likelihood.as_mut_slice(), &floats(&p["log_noise_var"]), "log_noise_var")
}

/// The 80 × 80 evaluation grid (x1 fastest) and the true function on it.
struct Grid {
    points: Vec<[f64; 2]>,
    f_true: Vec<f64>,
}

fn grid(fx: &serde_json::Value) -> Grid {
    let axis = floats(&fx["data"]["grid"]["axis"]);
    let g = axis.len();
    Grid {
        points: (0..g * g).map(|k| [axis[k % g], axis[k / g]]).collect(),
        f_true: floats(&fx["data"]["grid"]["f_true"]),
    }
}

/// A posterior the example can evaluate, whatever its storage type.
trait Predict<S> {
    fn at(&self, x: &[S], ws: &mut [S]) -> svgp::Result<Prediction<S>>;
    fn ws_len(&self) -> svgp::Result<usize>;
}

impl<S: StoredScalar, K: svgp::kernel::Kernel> Predict<S> for KernelPosterior<'_, S, K> {
    fn at(&self, x: &[S], ws: &mut [S]) -> svgp::Result<Prediction<S>> {
        self.predict(x, ws)
    }
    fn ws_len(&self) -> svgp::Result<usize> {
        self.workspace_len()
    }
}

impl<S: StoredScalar, F: DeployMap> Predict<S> for FeaturePosterior<'_, S, F> {
    fn at(&self, x: &[S], ws: &mut [S]) -> svgp::Result<Prediction<S>> {
        self.predict(x, ws)
    }
    fn ws_len(&self) -> svgp::Result<usize> {
        self.workspace_len()
    }
}

fn on_grid<S: Scalar>(post: &dyn Predict<S>, points: &[[f64; 2]]) -> Res<Vec<(f64, f64)>> {
    let mut ws = vec![S::zero(); post.ws_len()?];
    points
        .iter()
        .map(|p| {
            let r = post.at(&[S::from_f64(p[0]), S::from_f64(p[1])], &mut ws)?;
            Ok((r.mean.re(), r.variance.re()))
        })
        .collect()
}

/// max |Δ mean| and max |Δ variance| between two sets of predictions.
fn max_diff(a: &[(f64, f64)], b: &[(f64, f64)]) -> (f64, f64) {
    a.iter()
        .zip(b)
        .fold((0.0, 0.0), |(dm, dv), (p, q)| (dm.max((p.0 - q.0).abs()), dv.max((p.1 - q.1).abs())))
}

/// The RBF SVGP as JAX trained it (fixture `final.params`), written by name into its buffer.
fn rbf_model_params(fx: &serde_json::Value) -> Res<(Svgp<Closed<Rbf>>, Vec<f64>)> {
    let p = &fx["final"]["params"];
    let m = floats(&p["guide"]["m"]).len();
    let svgp = Svgp::new(Closed(Rbf::new(2)), m, fx["meta"]["jitter"].as_f64().unwrap_or(1e-4))?;
    let mut flat = vec![0.0; svgp.n_params()];
    let mut prior = svgp.params_mut(&mut flat)?.prior;
    fill(
        std::slice::from_mut(prior.ln_variance_mut()),
        &floats(&p["kernel"]["log_variance"]),
        "log_variance",
    )?;
    let ln_l = floats(&p["kernel"]["log_lengthscale"]);
    fill(std::slice::from_mut(prior.ln_lengthscale_mut()), &ln_l, "log_lengthscale")?;
    fill_guide(&svgp, p, &mut flat)?;
    Ok((svgp, flat))
}

/// The deep-kernel SVGP of the fixture (`init`, or `final.params` as JAX trained it), written by
/// name into its buffer (the fixture's MLP layers, weight then bias, are the MLP's layout).
fn deep_model_params(fx: &serde_json::Value, trained: bool) -> Res<(Svgp<Features<DeepRff>>, Vec<f64>)> {
    let p = if trained { &fx["final"]["params"] } else { &fx["init"] };
    let k = &p["kernel"];
    let m = floats(&p["guide"]["m"]).len();
    let map = DeepRff::new(Mlp::equinox(2, 32, 2, 8, Activation::Tanh)?, floats(&k["b"]).len())?;
    let svgp = Svgp::new(Features(map), m, fx["meta"]["jitter"].as_f64().unwrap_or(1e-4))?;
    let mut flat = vec![0.0; svgp.n_params()];
    let prior = svgp.params_mut(&mut flat)?.prior;
    fill(prior.ln_variance, &floats(&k["log_variance"]), "log_variance")?;
    let mut mlp = Vec::new();
    for layer in k["mlp"].as_array().ok_or("fixture: kernel.mlp")? {
        mlp.extend(floats(&layer["weight"]));
        mlp.extend(floats(&layer["bias"]));
    }
    fill(prior.map.mlp, &mlp, "mlp")?;
    fill(prior.map.w, &floats(&k["W"]), "W")?;
    fill(prior.map.b, &floats(&k["b"]), "b")?;
    fill(prior.map.ln_lengthscale, &floats(&k["log_feature_lengthscale"]), "log_feature_lengthscale")?;
    fill_guide(&svgp, p, &mut flat)?;
    Ok((svgp, flat))
}

fn export_deep(o: &Opts) -> Res<()> {
    let fx = load_fixture("flagship_deep_seed0_tril.json")?;
    let (svgp, mut flat) = deep_model_params(&fx, o.jax_final)?;
    let (map, m) = (svgp.prior().0, svgp.n_inducing());
    if !o.jax_final {
        train(&fx, &svgp, &mut flat, o.steps)?;
    }
    let g = grid(&fx);
    let model = FeatureModel::from_svgp(&svgp, &flat)?;
    let mut s64 = vec![0.0; FeaturePosterior::<f64, DeepRff>::storage_len(&map, m)?];
    let p64 = FeaturePosterior::build(&model, &mut s64, &mut vec![0.0; model.build_workspace_len()?])?;
    let (blob, blob64) =
        (feature_to_bytes(&p64, &o.plan)?, feature_to_bytes(&p64, &Plan::uniform(Encoding::F64))?);
    // The compact posterior against the training model's own prediction, both in f64.
    let xs: Vec<f64> = g.points.iter().flatten().copied().collect();
    let n = g.points.len();
    let (mut mean, mut var) = (vec![0.0; n], vec![0.0; n]);
    svgp.predict(&flat, &xs, &mut mean, &mut var, &mut vec![0.0; svgp.predict_workspace_len(n)?])?;
    let full: Vec<(f64, f64)> = mean.into_iter().zip(var).collect();
    let (dm, dv) = max_diff(&full, &on_grid(&p64, &g.points)?);
    println!("compact f64 posterior vs Svgp::predict: max |Δ mean| = {dm:.3e}, max |Δ variance| = {dv:.3e}");
    // The blob as the firmware reads it: in place, evaluated in f32.
    report(&g, &p64, &view_feature::<f32, DeepRff>(&blob)?, blob.len(), p64.kernel_variance())?;
    if let Some(path) = &o.export {
        write_blobs(path, &blob, &blob64)?;
    }
    Ok(())
}

/// Trains the SVGP from the fixture's data with the reference recipe, reporting progress.
fn train(
    fx: &serde_json::Value,
    svgp: &Svgp<Features<DeepRff>>,
    params: &mut [f64],
    steps: usize,
) -> Res<()> {
    let (x, y) = (floats(&fx["data"]["X"]), floats(&fx["data"]["y"]));
    let trainer = Trainer::new(AdamConfig::new(0.01).with_clip(1.0), FitOptions::new(steps));
    let t0 = std::time::Instant::now();
    let summary = trainer.fit_svgp(svgp, params, &x, &y, |r| {
        if r.step == 1 || r.step % 500 == 0 || r.step == steps {
            println!("step {:5}  -ELBO {:12.4}", r.step, r.loss);
        }
        ControlFlow::Continue(())
    })?;
    println!("trained {} steps in {:.1} s", summary.steps, t0.elapsed().as_secs_f64());
    Ok(())
}

fn load_fixture(name: &str) -> Res<serde_json::Value> {
    let path = Path::new(FIXTURES).join(name);
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("reading fixture {}: {e}", path.display()))?;
    Ok(serde_json::from_str(&text).map_err(|e| format!("parsing fixture {}: {e}", path.display()))?)
}

fn export_rbf(o: &Opts) -> Res<()> {
    let fx = load_fixture("flagship_rbf_seed0_tril.json")?;
    let (svgp, flat) = rbf_model_params(&fx)?;
    let (k, m) = (svgp.prior().0, svgp.n_inducing());
    let model = KernelModel::from_svgp(&svgp, &flat)?;
    let mut s64 = vec![0.0; KernelPosterior::<f64, Rbf>::storage_len(&k, m)?];
    let p64 = KernelPosterior::build(&model, &mut s64, &mut vec![0.0; model.build_workspace_len()?])?;
    let (blob, blob64) =
        (kernel_to_bytes(&p64, &o.plan)?, kernel_to_bytes(&p64, &Plan::uniform(Encoding::F64))?);
    let s2 = k.eval_diag(&flat[..k.n_params()], &[0.0, 0.0]); // the prior variance σ²
    report(&grid(&fx), &p64, &view_kernel::<f32, Rbf>(&blob)?, blob.len(), s2)?;
    if let Some(path) = &o.export {
        write_blobs(path, &blob, &blob64)?;
    }
    Ok(())
}

fn write_blobs(path: &Path, b32: &[u8], b64: &[u8]) -> Res<()> {
    std::fs::write(path, b32).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    std::fs::write(f64_path(path), b64)
        .map_err(|e| format!("cannot write {}: {e}", f64_path(path).display()))?;
    println!(
        "wrote {} ({} bytes) and {} ({} bytes, f64)",
        path.display(),
        b32.len(),
        f64_path(path).display(),
        b64.len()
    );
    Ok(())
}

fn f64_path(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".f64");
    s.into()
}

/// The blob (evaluated in f32) against the f64 model on the whole grid; σ² is the prior
/// variance the variance error is measured against.
fn report(g: &Grid, p64: &dyn Predict<f64>, blob: &dyn Predict<f32>, blob_len: usize, s2: f64) -> Res<()> {
    let a = on_grid(p64, &g.points)?;
    let b = on_grid(blob, &g.points)?;
    let (dm, dv) = max_diff(&a, &b);
    let rmse = |p: &[(f64, f64)]| rmse(&g.f_true, &p.iter().map(|q| q.0).collect::<Vec<_>>());
    println!("blob: {blob_len} bytes");
    println!("grid RMSE vs truth: f64 {:.5}, blob {:.5}", rmse(&a)?, rmse(&b)?);
    println!(
        "blob (f32 evaluation) vs f64 model on the {}-point grid: max |Δ mean| = {dm:.3e}, max |Δ variance| = {dv:.3e} ({:.3e} of σ² = {s2:.4})",
        g.points.len(),
        dv / s2
    );
    Ok(())
}

/// One firmware line: index, input and f32 results.
fn parse_line(line: &str) -> Option<(usize, [f32; 2], f32, f32)> {
    let mut it = line.strip_prefix("P ")?.split_whitespace();
    let i = it.next()?.parse().ok()?;
    let mut f = || u32::from_str_radix(it.next()?, 16).ok().map(f32::from_bits);
    Some((i, [f()?, f()?], f()?, f()?))
}

fn check(o: &Opts, log: &Path) -> Res<()> {
    let text = std::fs::read_to_string(log).map_err(|e| format!("cannot read {}: {e}", log.display()))?;
    let lines: Vec<_> = text.lines().filter_map(parse_line).collect();
    if lines.is_empty() || !text.lines().any(|l| l == "DONE") {
        return Err(format!("{}: no predictions or no DONE line", log.display()).into());
    }
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
    let (blob, b64) = (read(&o.model)?, read(&f64_path(&o.model))?);
    let h = read_header(&blob)?;
    // The same blob read the firmware's way (in place, f32), and the f64 reference.
    let (p32, p64, s2): (Box<dyn Predict<f32> + '_>, Box<dyn Predict<f64> + '_>, f64) = match h.kind {
        ModelKind::Kernel => {
            let p64 = view_kernel::<f64, Rbf>(&b64)?;
            let mut params = vec![0.0; p64.kernel_params().len()];
            p64.kernel_params().decode_into(&mut params)?;
            let s2 = p64.kernel().eval_diag(&params, &[0.0, 0.0]);
            (Box::new(view_kernel::<f32, Rbf>(&blob)?), Box::new(p64), s2)
        }
        ModelKind::Feature => {
            let p64 = view_feature::<f64, DeepRff>(&b64)?;
            let s2 = p64.kernel_variance();
            (Box::new(view_feature::<f32, DeepRff>(&blob)?), Box::new(p64), s2)
        }
    };
    let (mut w32, mut w64) = (vec![0.0f32; p32.ws_len()?], vec![0.0f64; p64.ws_len()?]);
    let (mut host32, mut host64) = ((0.0f64, 0.0f64), (0.0f64, 0.0f64));
    for &(_, x, m, v) in &lines {
        let a = p32.at(&x, &mut w32)?;
        let b = p64.at(&[x[0] as f64, x[1] as f64], &mut w64)?;
        host32 = (host32.0.max((m - a.mean).abs() as f64), host32.1.max((v - a.variance).abs() as f64));
        host64 = (host64.0.max((m as f64 - b.mean).abs()), host64.1.max((v as f64 - b.variance).abs()));
    }
    println!("{} firmware predictions checked", lines.len());
    println!(
        "firmware vs host f32 (same blob): max |Δ mean| = {:.3e}, max |Δ variance| = {:.3e}",
        host32.0, host32.1
    );
    println!(
        "firmware vs host f64 model:       max |Δ mean| = {:.3e}, max |Δ variance| = {:.3e} ({:.3e} of σ²)",
        host64.0,
        host64.1,
        host64.1 / s2
    );
    println!(
        "CHECK points={} max_dmean={:.2e} max_dvar={:.2e} host_f32_dmean={:.1e} host_f32_dvar={:.1e}",
        lines.len(),
        host64.0,
        host64.1 / s2,
        host32.0,
        host32.1
    );
    if host64.0 > TOL_F64 || host64.1 > TOL_F64 * s2 {
        return Err(format!(
            "firmware predictions differ from the f64 model by more than {TOL_F64:e} (variance: of σ²)"
        )
        .into());
    }
    if host32.0 > TOL_F32 || host32.1 > TOL_F32 {
        return Err(
            format!("firmware predictions differ from the host f32 ones by more than {TOL_F32:e}").into()
        );
    }
    println!("OK: within {TOL_F64:e} of the desktop f64 model (variance: of σ²) and {TOL_F32:e} of the host f32 posterior");
    Ok(())
}

/// Agreement required between the firmware and the desktop f64 model: |Δ mean| and
/// |Δ variance|/σ² (σ² the prior variance), the accuracy goal of the deployment issue.
///
/// Means are O(1) (|f| ≤ 1 here) and latent variances ≤ σ². The storage plan sets the error:
/// an f32 blob is within ~5e-6 of the f64 model on the whole 80 × 80 grid, the compact
/// (16-bit) one within ~5e-4 (`tests/deploy_precision.rs` asserts both), so a real defect (a
/// misread parameter, a wrong feature) shows up at 1e-2 or more, well above this bound.
const TOL_F64: f64 = 1e-3;

/// Agreement required between the firmware and the host evaluating the same blob in f32. Both
/// run the same IEEE-754 single-precision operations in the same order (Rust never contracts
/// `a * b + c` into an FMA, the fast cosine is plain arithmetic, the integer dot products are
/// exact), so they agree bit for bit, soft-float Cortex-M0 included; the bound only allows for
/// a libm fallback differing between targets.
const TOL_F32: f64 = 1e-6;

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
    if let Err(e) = check_files(&o) {
        eprintln!("error: {e}");
        return std::process::ExitCode::from(2);
    }
    let done = match (&o.check, o.kernel.as_str()) {
        (Some(log), _) => check(&o, log),
        (None, "rbf") => export_rbf(&o),
        (None, _) => export_deep(&o),
    };
    match done {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a failed unwrap is a failed test
mod tests {
    use super::*;

    fn parse_args(args: &[&str]) -> Result<Option<Opts>, String> {
        parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags_and_bad_values() {
        let o = parse_args(&["--kernel", "rbf", "--export", "m.bin"]).unwrap().unwrap();
        assert_eq!((o.kernel.as_str(), o.export), ("rbf", Some(PathBuf::from("m.bin"))));
        assert!(parse_args(&["-h"]).unwrap().is_none());
        for (args, says) in [
            (&["--steps", "0"][..], "--steps must be in [1, "),
            (&["--kernel", "svm"], "--kernel: expected deep or rbf"),
            (&["--export"], "--export needs a value"),
            (&["--bogus"], "unknown argument \"--bogus\""),
            (&["--precision", "f8"], "--precision: expected compact"),
        ] {
            let e = parse_args(args).unwrap_err();
            assert!(e.contains(says), "{args:?}: {e}");
        }
    }

    #[test]
    fn files_are_checked_before_work() {
        let base = std::env::temp_dir().join(format!("svgp-deploy-args-{}", std::process::id()));
        std::fs::create_dir_all(&base).unwrap();
        let file = base.join("plain");
        std::fs::write(&file, b"x").unwrap();
        // An export under a regular file: refused, naming the directory.
        let o = parse_args(&["--export", file.join("model.bin").to_str().unwrap()]).unwrap().unwrap();
        let e = check_files(&o).unwrap_err();
        assert!(e.contains("cannot create output directory") && e.contains("plain"), "{e}");
        // A writable export passes and creates nothing.
        let ok = base.join("out/model.bin");
        let o = parse_args(&["--export", ok.to_str().unwrap()]).unwrap().unwrap();
        check_files(&o).unwrap();
        assert!(!ok.exists());
        // --check needs its log and both blobs.
        let o = parse_args(&[
            "--check",
            file.to_str().unwrap(),
            "--model",
            base.join("none.bin").to_str().unwrap(),
        ])
        .unwrap()
        .unwrap();
        assert!(check_files(&o).unwrap_err().contains("none.bin"));
        std::fs::remove_dir_all(&base).unwrap();
    }
}
