//! A kernel's blocks and reverse rules (what the SVGP calls) against its `eval` and the
//! `Dual` block rules (`svgp::kernel::cross_covariance_adjoint` and friends, which evaluate
//! `eval` on dual numbers entry by entry: the oracle).

use super::oracle::grad_errors;
use svgp::kernel::{
    cross_covariance, cross_covariance_adjoint, diagonal, diagonal_adjoint, gradient_workspace_len,
    BlockGrad, Kernel, KernelDual,
};
use svgp::rng::{uniform, Xoshiro256};

/// `n` draws from U(lo, hi) with `seed`.
pub fn rand_vec(n: usize, seed: u64, lo: f64, hi: f64) -> Vec<f64> {
    let mut rng = Xoshiro256::from_u64(seed);
    (0..n).map(|_| uniform(&mut rng, lo, hi)).collect()
}

/// The kernel's block through the trait (with its declared workspace).
pub fn block<K: Kernel>(k: &K, params: &[f64], x1: &[f64], x2: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let d = k.input_dim();
    let (n1, n2) = (x1.len() / d, x2.len() / d);
    let mut ws = vec![f64::NAN; k.block_workspace_len(n1, n2).unwrap()];
    let mut out = vec![f64::NAN; n1 * n2];
    k.cross_covariance_block(params, x1, x2, &mut out, &mut ws).unwrap();
    (out, ws)
}

/// The block's reverse rule through the trait: gradients (params, x1, x2 if `with_x2`),
/// starting from `start` in every entry (the rule *adds*).
pub fn block_adjoint<K: Kernel>(
    k: &K,
    params: &[f64],
    x1: &[f64],
    x2: &[f64],
    k_bar: &[f64],
    with_x2: bool,
    start: f64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (kv, mut ws) = block(k, params, x1, x2);
    let (mut gp, mut g1, mut g2) = (vec![start; params.len()], vec![start; x1.len()], vec![start; x2.len()]);
    let grad = BlockGrad { params: &mut gp, x1: &mut g1, x2: if with_x2 { Some(&mut g2) } else { None } };
    k.cross_covariance_adjoint(params, x1, x2, &kv, k_bar, grad, &mut ws).unwrap();
    (gp, g1, g2)
}

/// The Dual oracle of the block's reverse rule, starting from `start`.
pub fn dual_adjoint<K: Kernel>(
    k: &K,
    params: &[f64],
    x1: &[f64],
    x2: &[f64],
    k_bar: &[f64],
    start: f64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut ws = vec![KernelDual::<f64>::default(); gradient_workspace_len(k).unwrap()];
    let (mut gp, mut g1, mut g2) = (vec![start; params.len()], vec![start; x1.len()], vec![start; x2.len()]);
    cross_covariance_adjoint(k, params, x1, x2, k_bar, &mut gp, Some(&mut g1), Some(&mut g2), &mut ws)
        .unwrap();
    (gp, g1, g2)
}

/// Largest |a − b| over max(‖b‖∞, floor).
pub fn rel_err(a: &[f64], b: &[f64], floor: f64) -> f64 {
    let scale = b.iter().fold(floor, |m, v| m.max(v.abs()));
    a.iter().zip(b).fold(0.0_f64, |m, (x, y)| m.max((x - y).abs())) / scale
}

/// Checks one kernel on random inputs in [−1.5, 1.5]^D (n1 × n2 block, the second set sharing
/// its first row with the first, so one pair coincides):
/// - the block against `cross_covariance` (`eval` entry by entry), within `tol_value`·max|K|;
/// - its reverse rule, with and without the x2 gradient (the parameter and x1 parts must agree
///   to rounding), against the Dual oracle within `tol_grad` (relative to the gradient's
///   largest entry), adding to non-zero gradients;
/// - the K_zz form (x2 = x1, the x2 gradient wanted) and the diagonal's reverse rule against
///   their Dual oracles.
pub fn check_kernel<K: Kernel>(
    label: &str,
    k: &K,
    params: &[f64],
    n1: usize,
    n2: usize,
    tol_value: f64,
    tol_grad: f64,
) {
    let d = k.input_dim();
    let x1 = rand_vec(n1 * d, 1, -1.5, 1.5);
    let mut x2 = rand_vec(n2 * d, 2, -1.5, 1.5);
    x2[..d].copy_from_slice(&x1[..d]);
    let kb = rand_vec(n1 * n2, 3, -1.0, 1.0);

    let (kv, _) = block(k, params, &x1, &x2);
    let mut want = vec![0.0; n1 * n2];
    cross_covariance(k, params, &x1, &x2, &mut want).unwrap();
    let err = rel_err(&kv, &want, 1e-300);
    assert!(err <= tol_value, "{label} (D = {d}): block vs eval {err:e}");

    let (gp, g1, g2) = block_adjoint(k, params, &x1, &x2, &kb, true, 0.5);
    let (gp0, g10, _) = block_adjoint(k, params, &x1, &x2, &kb, false, 0.5);
    // (The same numbers up to summation order: the isotropic RBF sums a row in lanes without it.)
    let err = rel_err(&[&gp[..], &g1].concat(), &[&gp0[..], &g10].concat(), 1e-300);
    assert!(err <= 1e-14, "{label} (D = {d}): the x2 gradient changed the others by {err:e}");
    let (dp, d1, d2) = dual_adjoint(k, params, &x1, &x2, &kb, 0.5);
    let got = [gp, g1, g2].concat();
    let oracle = [dp, d1, d2].concat();
    let (max_rel, _) = grad_errors(&got, &oracle);
    assert!(max_rel <= tol_grad, "{label} (D = {d}): block adjoint vs Dual {max_rel:e}");

    // K_zz: the same inputs on both sides.
    let kbz = rand_vec(n1 * n1, 4, -1.0, 1.0);
    let (gp, g1, g2) = block_adjoint(k, params, &x1, &x1, &kbz, true, 0.0);
    let (dp, d1, d2) = dual_adjoint(k, params, &x1, &x1, &kbz, 0.0);
    let (max_rel, _) = grad_errors(&[gp, g1, g2].concat(), &[dp, d1, d2].concat());
    assert!(max_rel <= tol_grad, "{label} (D = {d}): K_zz adjoint vs Dual {max_rel:e}");

    // The diagonal.
    let db = rand_vec(n1, 5, -1.0, 1.0);
    let mut diag = vec![0.0; n1];
    diagonal(k, params, &x1, &mut diag).unwrap();
    for (i, v) in diag.iter().enumerate() {
        let e = k.eval(params, &x1[i * d..(i + 1) * d], &x1[i * d..(i + 1) * d]);
        assert!((v - e).abs() <= 1e-14 * e.abs().max(1.0), "{label}: eval_diag vs eval at {i}");
    }
    let mut ws = vec![f64::NAN; k.diagonal_workspace_len(n1).unwrap()];
    let mut g = vec![0.25; params.len()];
    k.diagonal_adjoint(params, &x1, &db, &mut g, &mut ws).unwrap();
    let mut dws = vec![KernelDual::<f64>::default(); gradient_workspace_len(k).unwrap()];
    let mut gd = vec![0.25; params.len()];
    diagonal_adjoint(k, params, &x1, &db, &mut gd, None, &mut dws).unwrap();
    let err = rel_err(&g, &gd, 1.0);
    assert!(err <= tol_grad, "{label} (D = {d}): diagonal adjoint vs Dual {err:e}");
}
