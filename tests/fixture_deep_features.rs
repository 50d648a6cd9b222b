//! The deep RFF feature map alone (no SVGP) against the JAX fixture `flagship_deep_seed0_tril.json`.
//!
//! At the fixture's init the guide is m = 0, L = I, so the −ELBO and its kernel gradient
//! depend on the features only through diag K(X, X) = σ²·|ψ(x_i)|²:
//! −ELBO = N/2·ln(2πσ_n²) + (|y|² + Σ_i var_i)/(2σ_n²) with var_i = σ²|ψ(x_i)|² (the A terms
//! cancel: L = I), and ∂(−ELBO)/∂ψ(x_i) = σ²·ψ(x_i)/σ_n² (the A-dependent terms have zero
//! gradient at L = I, m = 0). That checks ψ and its adjoint against JAX without an SVGP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::fixture::{flagship_deep_map, floats, load, prior_params, DEEP};
use serde_json::Value;
use svgp::features::FeatureMap;

/// The map's parameters of a fixture parameter set (its kernel dict without ln σ²): mlp
/// (weight, bias per layer), W, b, ln ℓ.
fn kernel_params(p: &Value) -> Vec<f64> {
    prior_params(p, "deep")[1..].to_vec()
}

#[test]
fn fixture_init_matches_jax_loss_and_kernel_gradient() {
    let fx = load(DEEP);
    let map = flagship_deep_map();
    let params = kernel_params(&fx["init"]);
    assert_eq!(params.len(), map.n_params(), "layout is a flat copy of the fixture's kernel dict");
    assert_eq!(map.view(&params[..]).unwrap().ln_lengthscale[0], 0.5_f64.ln());

    let x = floats(&fx["data"]["X"]);
    let y = floats(&fx["data"]["y"]);
    let n = y.len();
    let j = map.n_features();
    let log_var = fx["init"]["kernel"]["log_variance"].as_f64().unwrap();
    let log_noise = fx["init"]["log_noise_var"].as_f64().unwrap();
    let (s2, noise) = (log_var.exp(), log_noise.exp());

    let mut psi = vec![0.0; n * j];
    let mut ws = vec![0.0; map.workspace_len(n).unwrap()];
    map.features(&params, &x, &mut psi, &mut ws).unwrap();
    let var: Vec<f64> = psi.chunks(j).map(|r| s2 * r.iter().map(|v| v * v).sum::<f64>()).collect();
    let yy: f64 = y.iter().map(|v| v * v).sum();
    let neg_elbo = 0.5 * n as f64 * (2.0 * std::f64::consts::PI * noise).ln()
        + (yy + var.iter().sum::<f64>()) / (2.0 * noise);
    let want = fx["trace"]["neg_elbo"]["1"].as_f64().unwrap();
    let rel = ((neg_elbo - want) / want).abs();
    assert!(rel <= 1e-12, "−ELBO at init {neg_elbo} vs JAX {want} (rel {rel:e})");

    // Kernel gradient: ψ̄ = σ²ψ/σ_n².
    let psi_bar: Vec<f64> = psi.iter().map(|v| s2 * v / noise).collect();
    let mut grad = vec![0.0; map.n_params()];
    let mut gx = vec![0.0; x.len()];
    map.features_adjoint(&params, &x, &psi_bar, &mut grad, Some(&mut gx), &mut ws).unwrap();
    let want_grad = kernel_params(&fx["trace"]["grad_init"]);
    let scale = want_grad.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    let mut worst = 0.0_f64;
    for (i, (&g, &w)) in grad.iter().zip(&want_grad).enumerate() {
        assert!((g - w).abs() <= 1e-10 * (scale + w.abs()), "grad[{i}] = {g}, JAX {w}");
        worst = worst.max((g - w).abs() / scale);
    }
    eprintln!("init −ELBO rel. error {rel:e}; kernel gradient max error / max |grad| {worst:e}");
    // ln σ² enters only through the diagonal: ∂/∂ln σ² = Σ var_i / (2σ_n²).
    let g_lv = var.iter().sum::<f64>() / (2.0 * noise);
    let w_lv = fx["trace"]["grad_init"]["kernel"]["log_variance"].as_f64().unwrap();
    assert!(((g_lv - w_lv) / w_lv).abs() <= 1e-12, "d/d ln σ²: {g_lv} vs {w_lv}");
}

#[test]
fn fixture_shapes_match_the_map() {
    let fx = load(DEEP);
    let map = flagship_deep_map();
    let shapes = &fx["meta"]["shapes"];
    let dims = |k: &str| -> Vec<usize> {
        shapes[k].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect()
    };
    assert_eq!(dims("kernel.W"), vec![map.hidden_dim(), map.n_features()]);
    let mlp = map.mlp();
    let widths = mlp.widths();
    for l in 0..map.mlp().n_layers() {
        assert_eq!(dims(&format!("kernel.mlp[{l}].weight")), vec![widths[l + 1], widths[l]]);
    }
}
