//! Seeded random matrices, random SPD matrices, and naive reference products and determinants
//! written independently of the crate's kernels (the linalg tests' oracles).

use svgp::rng::{standard_normal, Xoshiro256};

/// n × m matrix of standard normals.
pub fn randn(rng: &mut Xoshiro256, len: usize) -> Vec<f64> {
    (0..len).map(|_| standard_normal(rng)).collect()
}

/// A random SPD matrix G·Gᵀ/n + shift·I, row-major n × n.
pub fn random_spd(rng: &mut Xoshiro256, n: usize, shift: f64) -> Vec<f64> {
    let g = randn(rng, n * n);
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            let mut s = 0.0;
            for k in 0..n {
                s += g[i * n + k] * g[j * n + k];
            }
            a[i * n + j] = s / n as f64 + if i == j { shift } else { 0.0 };
        }
    }
    a
}

/// Element (i, j) of op(M) for a row-major `cols`-wide M.
pub fn op_at(m: &[f64], cols: usize, trans: bool, i: usize, j: usize) -> f64 {
    if trans {
        m[j * cols + i]
    } else {
        m[i * cols + j]
    }
}

/// Σ_p term(op(A)_ip · op(B)_pj) for every entry of the m × n result, row-major.
fn naive_sums(
    (a, a_cols, ta): (&[f64], usize, bool),
    (b, b_cols, tb): (&[f64], usize, bool),
    (m, n, k): (usize, usize, usize),
    term: fn(f64) -> f64,
) -> Vec<f64> {
    let mut out = vec![0.0; m * n];
    for i in 0..m {
        for j in 0..n {
            let mut s = 0.0;
            for p in 0..k {
                s += term(op_at(a, a_cols, ta, i, p) * op_at(b, b_cols, tb, p, j));
            }
            out[i * n + j] = s;
        }
    }
    out
}

/// Naive α·op(A)·op(B) + β·C in f64 (β = 0 ignores C).
#[allow(clippy::too_many_arguments)]
pub fn naive_gemm(
    alpha: f64,
    a: &[f64],
    a_cols: usize,
    ta: bool,
    b: &[f64],
    b_cols: usize,
    tb: bool,
    beta: f64,
    c: &[f64],
    m: usize,
    n: usize,
    k: usize,
) -> Vec<f64> {
    let mut out = naive_sums((a, a_cols, ta), (b, b_cols, tb), (m, n, k), |t| t);
    for (o, cv) in out.iter_mut().zip(c.iter().chain(core::iter::repeat(&0.0))) {
        *o = alpha * *o + if beta == 0.0 { 0.0 } else { beta * cv };
    }
    out
}

/// Σ|op(A)|·|op(B)| per entry: the scale that gemm's rounding error is relative to.
pub fn abs_scale(
    a: &[f64],
    a_cols: usize,
    ta: bool,
    b: &[f64],
    b_cols: usize,
    tb: bool,
    m: usize,
    n: usize,
    k: usize,
) -> Vec<f64> {
    naive_sums((a, a_cols, ta), (b, b_cols, tb), (m, n, k), f64::abs)
}

/// log det by Gaussian elimination without pivoting (fine for SPD), in f64: independent of any
/// Cholesky factor.
pub fn log_det_elimination(a: &[f64], n: usize) -> f64 {
    let mut u = a.to_vec();
    let mut ld = 0.0;
    for p in 0..n {
        ld += u[p * n + p].ln();
        for i in p + 1..n {
            let f = u[i * n + p] / u[p * n + p];
            for j in p..n {
                u[i * n + j] -= f * u[p * n + j];
            }
        }
    }
    ld
}

/// A⁻¹ by Gauss–Jordan elimination with partial pivoting (n × n, row-major), written
/// independently of the crate's factorisations.
pub fn naive_inverse(a: &[f64], n: usize) -> Vec<f64> {
    let mut w = a.to_vec();
    let mut inv = vec![0.0; n * n];
    for i in 0..n {
        inv[i * n + i] = 1.0;
    }
    for col in 0..n {
        let piv = (col..n).max_by(|&p, &q| w[p * n + col].abs().total_cmp(&w[q * n + col].abs())).unwrap();
        for k in 0..n {
            w.swap(col * n + k, piv * n + k);
            inv.swap(col * n + k, piv * n + k);
        }
        let d = w[col * n + col];
        for k in 0..n {
            w[col * n + k] /= d;
            inv[col * n + k] /= d;
        }
        for r in 0..n {
            if r != col {
                let f = w[r * n + col];
                for k in 0..n {
                    w[r * n + k] -= f * w[col * n + k];
                    inv[r * n + k] -= f * inv[col * n + k];
                }
            }
        }
    }
    inv
}
