//! Every dispatched kernel on every level this CPU has, side by side in one run: the
//! elementary functions over the flagship's feature block, the step's matrix products and
//! the M × M Cholesky. Thread CPU time (the fastest of 7 batches), and each level's speed-up
//! over the portable copy.
//!
//! ```text
//! cargo bench -p svgp-bench --bench levels            # everything (~1 minute)
//! cargo bench -p svgp-bench --bench levels -- quick   # shorter batches
//! cargo bench -p svgp-bench --bench levels -- gemm    # one group: fastmath | gemm | cholesky
//! ```

use std::hint::black_box;
use std::time::Duration;
use svgp::arch::{self, Level};
use svgp::linalg::{cholesky_in_place, gemm, Jitter, MatMut, MatRef, Trans};
use svgp::{fastmath, Scalar};
use svgp_bench::{matrix, spd, time_per_call};

/// One benchmark case: a name, its work in flops (or entries), and the timed closure.
struct Case {
    name: String,
    work: f64,
    unit: &'static str,
    run: Box<dyn FnMut()>,
}

fn fastmath_cases() -> Vec<Case> {
    // The deep step's block: 600 points × 256 features.
    let n = 600 * 256;
    let x: Vec<f64> = matrix(1, n, 3).iter().map(|v| 6.0 * v).collect();
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let mut cases = Vec::new();
    {
        let (x, mut s, mut c) = (x.clone(), vec![0.0; n], vec![0.0; n]);
        cases.push(Case {
            name: "sin_cos f64".into(),
            work: n as f64,
            unit: "Mel/s",
            run: Box::new(move || fastmath::sin_cos_slice(&x, &mut s, &mut c)),
        });
    }
    {
        let (x, mut s, mut c) = (x32.clone(), vec![0.0; n], vec![0.0; n]);
        cases.push(Case {
            name: "sin_cos f32".into(),
            work: n as f64,
            unit: "Mel/s",
            run: Box::new(move || fastmath::sin_cos_slice_f32(&x, &mut s, &mut c)),
        });
    }
    {
        let (x, mut v) = (x.clone(), vec![0.0; n]);
        cases.push(Case {
            name: "cos f64 (hook)".into(),
            work: n as f64,
            unit: "Mel/s",
            run: Box::new(move || {
                v.copy_from_slice(&x);
                f64::cos_in_place(&mut v);
            }),
        });
    }
    {
        let (x, mut t) = (x.clone(), vec![0.0; n]);
        cases.push(Case {
            name: "tanh f64".into(),
            work: n as f64,
            unit: "Mel/s",
            run: Box::new(move || fastmath::tanh_slice(&x, &mut t)),
        });
    }
    {
        let (x, mut t) = (x32.clone(), vec![0.0; n]);
        cases.push(Case {
            name: "tanh f32".into(),
            work: n as f64,
            unit: "Mel/s",
            run: Box::new(move || fastmath::tanh_slice_f32(&x, &mut t)),
        });
    }
    {
        let (x, mut v) = (x.clone(), vec![0.0; n]);
        cases.push(Case {
            name: "exp f64 (RBF scaled)".into(),
            work: n as f64,
            unit: "Mel/s",
            run: Box::new(move || {
                v.iter_mut().zip(&x).for_each(|(o, i)| *o = i.abs());
                fastmath::scaled_exp_in_place(&mut v, 1.3, -0.5, 0.09);
            }),
        });
    }
    {
        let (x, mut v) = (x32, vec![0.0_f32; n]);
        cases.push(Case {
            name: "exp f32 (RBF scaled)".into(),
            work: n as f64,
            unit: "Mel/s",
            run: Box::new(move || {
                v.iter_mut().zip(&x).for_each(|(o, i)| *o = i.abs());
                fastmath::scaled_exp_in_place_f32(&mut v, 1.3, -0.5, 0.09);
            }),
        });
    }
    cases
}

/// C (m × n) = op(A)·op(B) on row-major operands.
fn gemm_case<T: Scalar>(label: &str, m: usize, n: usize, k: usize, ta: bool, tb: bool) -> Case {
    let (ar, ac) = if ta { (k, m) } else { (m, k) };
    let (br, bc) = if tb { (n, k) } else { (k, n) };
    let a: Vec<T> = matrix(ar, ac, 1).iter().map(|&v| T::from_f64(v)).collect();
    let b: Vec<T> = matrix(br, bc, 2).iter().map(|&v| T::from_f64(v)).collect();
    let mut c = vec![T::zero(); m * n];
    let tr = |t: bool| if t { Trans::Yes } else { Trans::No };
    let t = |x: bool| if x { "ᵀ" } else { "" };
    let bits = 8 * core::mem::size_of::<T>();
    Case {
        name: format!("gemm f{bits} {label} {m}x{k}{}·{k}x{n}{}", t(ta), t(tb)),
        work: 2.0 * (m * n * k) as f64,
        unit: "GF/s",
        run: Box::new(move || {
            gemm(
                T::one(),
                MatRef::new(ar, ac, &a).unwrap(),
                tr(ta),
                MatRef::new(br, bc, &b).unwrap(),
                tr(tb),
                T::zero(),
                MatMut::new(m, n, &mut c).unwrap(),
            )
            .unwrap();
            black_box(&mut c);
        }),
    }
}

fn gemm_cases<T: Scalar>() -> Vec<Case> {
    let (n, m, j, h) = (600, 30, 256, 8);
    vec![
        // The three N·M·J products of the deep step (forward A, then the two adjoint products).
        gemm_case::<T>("A=B·Ψᵀ", m, n, j, false, true),
        gemm_case::<T>("B̄=Ā·Ψ", m, j, n, false, false),
        gemm_case::<T>("Ψ̄=Āᵀ·B", n, j, m, true, false),
        // The feature map's thin products (one 32-row block forward, the adjoint's two).
        gemm_case::<T>("Φ·W", 32, j, h, false, false),
        gemm_case::<T>("Z̄·Wᵀ", n, h, j, false, true),
        gemm_case::<T>("Φᵀ·Z̄", h, j, n, true, false),
        // The MLP's hidden layer and the guide's Q = (S − I)·A.
        gemm_case::<T>("MLP", n, 32, 32, false, true),
        gemm_case::<T>("Q", m, n, m, false, false),
    ]
}

fn cholesky_case<T: Scalar>(n: usize) -> Case {
    let a: Vec<T> = spd(n, n as u64).iter().map(|&v| T::from_f64(v)).collect();
    let mut w = a.clone();
    let bits = 8 * core::mem::size_of::<T>();
    Case {
        name: format!("cholesky f{bits} n={n}"),
        work: (n * n * n) as f64 / 3.0,
        unit: "GF/s",
        run: Box::new(move || {
            w.copy_from_slice(&a);
            cholesky_in_place(MatMut::new(n, n, &mut w).unwrap(), Jitter::Fixed(0.0)).unwrap();
            black_box(&mut w);
        }),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let has = |w: &str| args.iter().any(|a| a == w);
    let any_group = has("fastmath") || has("gemm") || has("cholesky");
    let want = |g: &str| !any_group || has(g);
    let batch = Duration::from_millis(if has("quick") { 10 } else { 40 });
    let levels: Vec<Level> = Level::ALL.into_iter().filter(|&l| l <= arch::best()).collect();
    let mut cases = Vec::new();
    if want("fastmath") {
        cases.extend(fastmath_cases());
    }
    if want("gemm") {
        cases.extend(gemm_cases::<f64>());
        cases.extend(gemm_cases::<f32>());
    }
    if want("cholesky") {
        for n in [30, 64] {
            cases.push(cholesky_case::<f64>(n));
            cases.push(cholesky_case::<f32>(n));
        }
    }
    // Any other argument filters the cases by a substring of their names.
    let keywords = ["quick", "fastmath", "gemm", "cholesky", "--bench"];
    let filters: Vec<&String> =
        args[1..].iter().filter(|a| !keywords.contains(&a.as_str()) && !a.starts_with("only=")).collect();
    cases.retain(|c| filters.is_empty() || filters.iter().any(|f| c.name.contains(f.as_str())));
    // `only=LEVEL` times one level (for profiling).
    let levels: Vec<Level> = match args.iter().find_map(|a| a.strip_prefix("only=")) {
        Some(name) => levels.into_iter().filter(|l| l.name() == name).collect(),
        None => levels,
    };
    let names: Vec<&str> = levels.iter().map(|l| l.name()).collect();
    println!("levels on this CPU: {}; rate per level, then speed-up over portable", names.join(", "));
    let mut head = format!("| {:<32} |", "case");
    for l in &levels {
        head += &format!(" {:>9} |", l.name());
    }
    for l in levels.iter().skip(1) {
        head += &format!(" {:>9} |", format!("{}/p", l.name()));
    }
    println!("{head}");
    for mut c in cases {
        let secs: Vec<f64> =
            levels.iter().map(|&l| arch::with_level(l, || time_per_call(&mut c.run, batch, 7))).collect();
        let mut row = format!("| {:<32} |", c.name);
        for s in &secs {
            row += &format!(" {:>9.2} |", c.work / s / 1e9 * if c.unit == "Mel/s" { 1e3 } else { 1.0 });
        }
        for s in secs.iter().skip(1) {
            row += &format!(" {:>9.2} |", secs[0] / s);
        }
        println!("{row} {}", c.unit);
    }
}
