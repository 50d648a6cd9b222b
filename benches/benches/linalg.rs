//! svgp's linear algebra against faer (single thread) and nalgebra, in one table.
//!
//! Run: `cargo bench -p svgp-bench --bench linalg` (append `-- quick` for shorter batches,
//! `-- cholesky` / `-- gemm` / `-- f64` / `-- f32` to run a subset). Times are per-thread CPU
//! time (the fastest of 7 batches), so a busy machine distorts them less than wall time would.
//! Columns: GFLOP/s for each library, and svgp's throughput as a fraction of faer's.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::factor::{cholesky_in_place as faer_llt, cholesky_in_place_scratch};
use faer::{Accum, Par};
use nalgebra::DMatrix;
use std::hint::black_box;
use std::time::Duration;
use svgp::linalg::{cholesky_in_place, gemm, Jitter, MatMut, MatRef, Trans};
use svgp::Scalar;
use svgp_bench::{matrix, spd, time_per_call};

/// The float types benchmarked, with what faer and nalgebra need of them.
trait Float: Scalar<Real = Self> + faer::traits::ComplexField + nalgebra::RealField + Copy {
    const NAME: &'static str;
    fn of(x: f64) -> Self;
}
impl Float for f64 {
    const NAME: &'static str = "f64";
    fn of(x: f64) -> Self {
        x
    }
}
impl Float for f32 {
    const NAME: &'static str = "f32";
    fn of(x: f64) -> Self {
        x as f32
    }
}

struct Row {
    case: String,
    flops: f64,
    secs: [f64; 3],
}

impl Row {
    fn print(&self) {
        let g = |s: f64| self.flops / s / 1e9;
        println!(
            "| {:<34} | {:>8.2} | {:>8.2} | {:>8.2} | {:>6.2} |",
            self.case,
            g(self.secs[0]),
            g(self.secs[1]),
            g(self.secs[2]),
            self.secs[1] / self.secs[0]
        );
    }
}

fn cholesky_row<T: Float>(n: usize, batch: Duration) -> Row {
    let a64 = spd(n, n as u64);
    let a: Vec<T> = a64.iter().map(|&v| T::of(v)).collect();
    let mut work = a.clone();
    let ours = time_per_call(
        || {
            work.copy_from_slice(&a);
            let r = cholesky_in_place(MatMut::new(n, n, &mut work).unwrap(), Jitter::Fixed(0.0));
            black_box(r.unwrap());
        },
        batch,
        7,
    );
    // faer: column-major, lower triangle read; the matrix is symmetric so the data is the same.
    let src = faer::Mat::<T>::from_fn(n, n, |i, j| a[i * n + j]);
    let mut fm = src.clone();
    let mut mem = MemBuffer::new(cholesky_in_place_scratch::<T>(n, Par::Seq, Default::default()));
    let faer_t = time_per_call(
        || {
            fm.copy_from(&src);
            let r = faer_llt(
                fm.as_mut(),
                Default::default(),
                Par::Seq,
                MemStack::new(&mut mem),
                Default::default(),
            );
            black_box(r.is_ok());
        },
        batch,
        7,
    );
    let nm = DMatrix::<T>::from_row_slice(n, n, &a);
    let nalg = time_per_call(
        || {
            black_box(nm.clone().cholesky().is_some());
        },
        batch,
        7,
    );
    Row {
        case: format!("cholesky {} n={n}", T::NAME),
        flops: (n * n * n) as f64 / 3.0,
        secs: [ours, faer_t, nalg],
    }
}

/// C (m × n) = op(A)·op(B), row-major operands.
fn gemm_row<T: Float>(label: &str, m: usize, n: usize, k: usize, ta: bool, tb: bool, batch: Duration) -> Row {
    let (ar, ac) = if ta { (k, m) } else { (m, k) };
    let (br, bc) = if tb { (n, k) } else { (k, n) };
    let a: Vec<T> = matrix(ar, ac, 1).iter().map(|&v| T::of(v)).collect();
    let b: Vec<T> = matrix(br, bc, 2).iter().map(|&v| T::of(v)).collect();
    let mut c = vec![T::of(0.0); m * n];
    let tr = |t: bool| if t { Trans::Yes } else { Trans::No };
    let ours = time_per_call(
        || {
            gemm(
                T::of(1.0),
                MatRef::new(ar, ac, &a).unwrap(),
                tr(ta),
                MatRef::new(br, bc, &b).unwrap(),
                tr(tb),
                T::of(0.0),
                MatMut::new(m, n, &mut c).unwrap(),
            )
            .unwrap();
            black_box(&mut c);
        },
        batch,
        7,
    );
    // faer reads the very same row-major buffers through strided views.
    let fa = faer::MatRef::from_row_major_slice(&a, ar, ac);
    let fb = faer::MatRef::from_row_major_slice(&b, br, bc);
    let fa = if ta { fa.transpose() } else { fa };
    let fb = if tb { fb.transpose() } else { fb };
    let mut fc = vec![T::of(0.0); m * n];
    let faer_t = time_per_call(
        || {
            let dst = faer::MatMut::from_row_major_slice_mut(&mut fc, m, n);
            faer::linalg::matmul::matmul(dst, Accum::Replace, fa, fb, T::of(1.0), Par::Seq);
            black_box(&mut fc);
        },
        batch,
        7,
    );
    // nalgebra: the same-sized product on column-major matrices (its layout).
    let na = DMatrix::<T>::from_row_slice(m, k, &a);
    let nb = DMatrix::<T>::from_row_slice(k, n, &b);
    let mut nc = DMatrix::<T>::zeros(m, n);
    let nalg = time_per_call(
        || {
            nc.gemm(T::of(1.0), &na, &nb, T::of(0.0));
            black_box(&mut nc);
        },
        batch,
        7,
    );
    let t = |x: bool| if x { "ᵀ" } else { "" };
    Row {
        case: format!("gemm {} {label} {m}x{k}{}·{k}x{n}{}", T::NAME, t(ta), t(tb)),
        flops: 2.0 * (m * n * k) as f64,
        secs: [ours, faer_t, nalg],
    }
}

fn run<T: Float>(batch: Duration, chol: bool, gemms: bool) {
    if chol {
        for n in [8, 16, 32, 64, 128, 256] {
            cholesky_row::<T>(n, batch).print();
        }
    }
    if !gemms {
        return;
    }
    // The flagship step (N = 600, M = 30, J = 256): the forward product and its adjoint's.
    let (nn, mm, jj) = (600, 30, 256);
    gemm_row::<T>("Ψ·W", nn, mm, jj, false, false, batch).print();
    gemm_row::<T>("B·Ψᵀ", mm, nn, jj, false, true, batch).print();
    gemm_row::<T>("Ā·Ψ", mm, jj, nn, false, false, batch).print();
    gemm_row::<T>("Āᵀ·B", nn, jj, mm, true, false, batch).print();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let has = |w: &str| args.iter().any(|a| a == w);
    let quick = has("quick");
    // Optional filters: `cholesky`, `gemm`, `f64`, `f32` (default: everything).
    let (chol, gemms) = (has("cholesky") || !has("gemm"), has("gemm") || !has("cholesky"));
    let (f64s, f32s) = (has("f64") || !has("f32"), has("f32") || !has("f64"));
    let batch = Duration::from_millis(if quick { 10 } else { 40 });
    println!("svgp kernels: {}; faer single-thread (Par::Seq); nalgebra default", svgp::arch::level());
    println!("| case                               | svgp GF/s | faer GF/s | nalg GF/s | svgp/faer |");
    println!("|------------------------------------|---------:|---------:|---------:|-------:|");
    if f64s {
        run::<f64>(batch, chol, gemms);
    }
    if f32s {
        run::<f32>(batch, chol, gemms);
    }
}
