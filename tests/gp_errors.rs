//! Bad data gives typed errors naming what is wrong, never a panic and never `Ok` with a NaN.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use svgp::features::{DeepRff, FeatureMap};
use svgp::gp::{Closed, ElboOptions, Features, Prior, Svgp};
use svgp::kernel::{Matern, Nu, Rbf};
use svgp::nn::{Activation, Mlp};
use svgp::rng::Xoshiro256;
use svgp::{Error, Scalar};

fn setup() -> (Svgp<Closed<Rbf>>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let model = Svgp::new(Closed(Rbf::new(1)), 3, 1e-6).unwrap();
    let mut p = vec![0.0; model.n_params()];
    model.init_params(&Rbf::params(1.0, 0.5), &[-1.0, 0.0, 1.0], 0.1, &mut p).unwrap();
    (model, p, vec![-0.5, 0.1, 0.7, 0.9], vec![0.2, 0.0, -0.3, 0.4])
}

#[test]
fn invalid_shapes_and_settings() {
    assert!(matches!(Svgp::new(Closed(Rbf::new(1)), 0, 1e-6), Err(Error::InvalidParameter { .. })));
    assert!(matches!(Svgp::new(Closed(Rbf::new(1)), 3, -1.0), Err(Error::InvalidParameter { .. })));
    assert!(matches!(Svgp::new(Closed(Rbf::new(1)), 3, f64::NAN), Err(Error::InvalidParameter { .. })));
}

#[test]
fn mismatched_sizes_and_small_buffers() {
    let (model, p, x, y) = setup();
    let mut ws = vec![0.0; model.workspace_len(4).unwrap()];
    let o = ElboOptions::default();
    assert!(matches!(model.elbo(&p[1..], &x, &y, o, &mut ws), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(model.elbo(&p, &x[..3], &y, o, &mut ws), Err(Error::DimensionMismatch { .. })));
    let mut small = vec![0.0; model.workspace_len(4).unwrap() - 1];
    assert!(matches!(model.elbo(&p, &x, &y, o, &mut small), Err(Error::BufferTooSmall { .. })));
    let mut g = vec![0.0; 2];
    assert!(matches!(
        model.elbo_and_grad(&p, &x, &y, o, &mut g, &mut ws),
        Err(Error::DimensionMismatch { .. })
    ));
}

#[test]
fn non_finite_data_and_parameters() {
    let (model, mut p, mut x, mut y) = setup();
    let mut ws = vec![0.0; model.workspace_len(4).unwrap()];
    let o = ElboOptions::default();
    y[2] = f64::NAN;
    assert!(matches!(
        model.elbo(&p, &x, &y, o, &mut ws),
        Err(Error::NonFinite { what: "targets y", index: 2, .. })
    ));
    y[2] = 0.0;
    x[1] = f64::INFINITY;
    assert!(matches!(
        model.elbo(&p, &x, &y, o, &mut ws),
        Err(Error::NonFinite { what: "inputs x", index: 1, .. })
    ));
    x[1] = 0.1;
    *model.params_mut(&mut p).unwrap().likelihood.ln_noise_variance_mut() = f64::NAN;
    assert!(matches!(model.elbo(&p, &x, &y, o, &mut ws), Err(Error::NonFinite { what: "parameters", .. })));
    // Coincident inducing points with zero jitter: K_zz is singular.
    let model0 = Svgp::new(Closed(Rbf::new(1)), 3, 0.0).unwrap();
    let mut p0 = vec![0.0; model0.n_params()];
    model0.init_params(&Rbf::params(1.0, 0.5), &[0.3, 0.3, 0.3], 0.1, &mut p0).unwrap();
    assert!(matches!(model0.elbo(&p0, &x, &y, o, &mut ws), Err(Error::NotPositiveDefinite { .. })));
}

/// A deep-kernel model (MLP 2 → 8 → 4, 32 features, M = 4) and its initial parameters.
fn deep_setup() -> (Svgp<Features<DeepRff>>, Vec<f64>) {
    let map = DeepRff::new(Mlp::equinox(2, 8, 1, 4, Activation::Tanh).unwrap(), 32).unwrap();
    let model = Svgp::new(Features(map), 4, 1e-4).unwrap();
    let mut prior = vec![0.0; model.prior().n_params()];
    map.init(&mut Xoshiro256::from_u64(3), 0.5, model.prior().parts(&mut prior[..]).unwrap().map).unwrap();
    let mut p = vec![0.0; model.n_params()];
    model.init_params(&prior, &[-0.5, -0.5, 0.5, -0.5, -0.5, 0.5, 0.5, 0.5], 0.01, &mut p).unwrap();
    (model, p)
}

/// N = 0 for the ELBO, its terms, its gradient, `predict` and `predict_cov`, on a closed-form
/// and on a feature prior: one typed error, no panic (the ELBO and `predict_cov` used to panic
/// in a `chunks_exact(0)`, `predict` returned `Ok` on nothing).
fn empty_data_errors<P: Prior>(model: &Svgp<P>, p: &[f64]) {
    let empty = Err(Error::InvalidParameter { what: "number of data points N (must be ≥ 1)", value: 0.0 });
    let o = ElboOptions::default();
    let mut ws = vec![0.0; model.workspace_len(1).unwrap()];
    let mut g = vec![0.0; model.n_params()];
    assert_eq!(model.elbo(p, &[], &[], o, &mut ws), empty);
    assert_eq!(model.elbo_terms(p, &[], &[], o, &mut ws).map(|t| t.elbo), empty);
    assert_eq!(model.elbo_and_grad(p, &[], &[], o, &mut g, &mut ws), empty);
    let mut pws = vec![0.0; model.predict_workspace_len(0).unwrap()];
    assert_eq!(model.predict(p, &[], &mut [], &mut [], &mut pws).map(|()| 0.0), empty);
    let mut cws = vec![0.0; model.predict_cov_workspace_len(1).unwrap()];
    assert_eq!(model.predict_cov(p, &[], &mut [], &mut [], &mut cws).map(|()| 0.0), empty);
}

#[test]
fn empty_data_is_a_typed_error() {
    let (model, p, _, _) = setup();
    empty_data_errors(&model, &p);
    let (deep, pd) = deep_setup();
    empty_data_errors(&deep, &pd);
}

/// `Ok` only with a finite ELBO and gradient; otherwise [`Error::NonFinite`] naming the quantity.
fn finite_or_typed<S: Scalar>(r: svgp::Result<S>, grad: &[S]) -> Option<&'static str> {
    match r {
        Ok(e) => {
            assert!(e.is_finite(), "Ok with a non-finite ELBO {e:?}");
            assert!(grad.iter().all(|g| g.is_finite()), "Ok with a non-finite gradient");
            None
        }
        Err(Error::NonFinite { what, .. }) => Some(what),
        Err(e) => panic!("unexpected error {e}"),
    }
}

#[test]
fn huge_targets_give_a_typed_error_not_an_infinite_elbo() {
    let (model, p, x, _) = setup();
    let o = ElboOptions::default();
    let mut ws = vec![0.0; model.workspace_len(4).unwrap()];
    let mut g = vec![0.0; model.n_params()];
    // (y − μ)² overflows: the expected log-likelihood is −∞.
    let y = [1e200, -1e200, 3e200, 0.0];
    let want = Some("ELBO: expected log-likelihood");
    assert_eq!(finite_or_typed(model.elbo_and_grad(&p, &x, &y, o, &mut g, &mut ws), &g), want);
    assert_eq!(finite_or_typed(model.elbo(&p, &x, &y, o, &mut ws), &[]), want);
    let (deep, pd) = deep_setup();
    let xd = [0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8];
    let mut ws = vec![0.0; deep.workspace_len(4).unwrap()];
    let mut g = vec![0.0; deep.n_params()];
    assert_eq!(finite_or_typed(deep.elbo_and_grad(&pd, &xd, &y, o, &mut g, &mut ws), &g), want);
}

#[test]
fn f32_overflow_gives_a_typed_error() {
    let (model, p, x, _) = setup();
    let (p32, x32): (Vec<f32>, Vec<f32>) =
        (p.iter().map(|&v| v as f32).collect(), x.iter().map(|&v| v as f32).collect());
    let y32 = [1e20_f32, -2e20, 0.0, 1.0]; // finite in f32, but (y − μ)² is not
    let mut ws = vec![0.0_f32; model.workspace_len(4).unwrap()];
    let mut g = vec![0.0_f32; model.n_params()];
    let r = model.elbo_and_grad(&p32, &x32, &y32, ElboOptions::default(), &mut g, &mut ws);
    assert_eq!(finite_or_typed(r, &g), Some("ELBO: expected log-likelihood"));
}

#[test]
fn huge_inputs_give_finite_values_or_a_typed_error() {
    // Inputs around 1e300 (and 1e160, where |x|² alone overflows): far from every inducing
    // point, so k(x, z) = 0 and the model is its prior there. The RBF's gradient used to be NaN.
    let o = ElboOptions::default();
    let y = [0.3, -0.2, 0.1, 0.5];
    for scale in [1e300, -1e300, 1e160] {
        let x = [scale, 2.0 * scale, -0.5, 0.25];
        let (model, p, _, _) = setup();
        let mut ws = vec![0.0; model.workspace_len(4).unwrap()];
        let mut g = vec![0.0; model.n_params()];
        assert_eq!(
            finite_or_typed(model.elbo_and_grad(&p, &x, &y, o, &mut g, &mut ws), &g),
            None,
            "{scale:e}"
        );
        let (mut mean, mut var) = ([0.0; 4], [0.0; 4]);
        let mut pws = vec![0.0; model.predict_workspace_len(4).unwrap()];
        model.predict(&p, &x, &mut mean, &mut var, &mut pws).unwrap();
        assert!(
            (var[0] - 1.0).abs() < 1e-12 && mean[0] == 0.0,
            "far away: the prior, {} {}",
            mean[0],
            var[0]
        );
        // Matérn-3/2 (Dual adjoint) and the deep kernel too.
        let mat = Svgp::new(Closed(Matern::new(1, Nu::ThreeHalves)), 3, 1e-6).unwrap();
        let mut pm = vec![0.0; mat.n_params()];
        mat.init_params(&[0.0, 0.5_f64.ln()], &[-1.0, 0.0, 1.0], 0.1, &mut pm).unwrap();
        let mut g = vec![0.0; mat.n_params()];
        assert_eq!(
            finite_or_typed(mat.elbo_and_grad(&pm, &x, &y, o, &mut g, &mut ws), &g),
            None,
            "{scale:e}"
        );
        let (deep, pd) = deep_setup();
        let xd = [scale, -scale, 0.1, 0.2, scale, 0.3, -0.4, 0.5];
        let mut ws = vec![0.0; deep.workspace_len(4).unwrap()];
        let mut g = vec![0.0; deep.n_params()];
        let r = deep.elbo_and_grad(&pd, &xd, &y, o, &mut g, &mut ws);
        let _ = finite_or_typed(r, &g); // finite (tanh saturates) or a typed error, never Ok(NaN)
    }
}

#[test]
fn init_params_rejects_non_finite_and_degenerate_priors() {
    let model = Svgp::new(Closed(Rbf::new(1)), 2, 1e-6).unwrap();
    let mut p = vec![0.0; model.n_params()];
    let z = [-1.0, 1.0];
    let init = |prior: &[f64], z: &[f64], p: &mut [f64]| model.init_params(prior, z, 0.01, p);
    // A lengthscale of 0: ln 0 = −∞.
    assert!(matches!(init(&Rbf::params(1.0, 0.0), &z, &mut p), Err(Error::NonFinite { .. })));
    assert!(matches!(init(&[f64::NAN, 0.0], &z, &mut p), Err(Error::NonFinite { .. })));
    assert!(matches!(init(&[0.0, 0.0], &[f64::INFINITY, 0.0], &mut p), Err(Error::NonFinite { .. })));
    // Finite logs whose transforms are degenerate: ℓ² underflows to 0, σ² overflows.
    for bad in [[0.0, -400.0], [0.0, 400.0], [800.0, 0.0], [-800.0, 0.0]] {
        assert!(matches!(init(&bad, &z, &mut p), Err(Error::InvalidParameter { .. })), "{bad:?}");
    }
    init(&Rbf::params(1.0, 0.5), &z, &mut p).unwrap();
    // The feature prior checks its variance and the map's lengthscale.
    let (deep, pd) = deep_setup();
    let mut prior = pd[..deep.prior().n_params()].to_vec();
    let mut p = vec![0.0; deep.n_params()];
    let z = [0.0; 8];
    deep.init_params(&prior, &z, 0.01, &mut p).unwrap();
    *deep.prior().view(&mut prior[..]).unwrap().map.ln_lengthscale.first_mut().unwrap() = -800.0;
    assert!(matches!(deep.init_params(&prior, &z, 0.01, &mut p), Err(Error::InvalidParameter { .. })));
    let mut prior = pd[..deep.prior().n_params()].to_vec();
    prior[0] = 1e3; // ln σ²
    assert!(matches!(deep.init_params(&prior, &z, 0.01, &mut p), Err(Error::InvalidParameter { .. })));
    let _ = deep.prior().0.n_features();
}

#[test]
fn absurd_sizes_are_a_size_overflow_before_any_allocation() {
    // M·D, M² and the parameter count of a model whose sizes cannot exist.
    let big = Svgp::new(Closed(Rbf::new(1)), 1 << 40, 1e-6);
    assert!(matches!(big, Err(Error::SizeOverflow { .. })), "{big:?}");
    let wide = Svgp::new(Closed(svgp::kernel::RbfArd::new(usize::MAX / 2)), 3, 1e-6);
    assert!(matches!(wide, Err(Error::SizeOverflow { .. })), "{wide:?}");
    // An absurd N for a valid model: the workspace length, not a wrapped product.
    let (model, _, _, _) = setup();
    assert!(matches!(model.workspace_len(usize::MAX / 2), Err(Error::SizeOverflow { .. })));
    assert!(matches!(model.predict_cov_workspace_len(usize::MAX / 2), Err(Error::SizeOverflow { .. })));
    let (deep, _) = deep_setup();
    assert!(matches!(deep.workspace_len(usize::MAX / 8), Err(Error::SizeOverflow { .. })));
    // Feature maps and MLPs check their own products when built.
    assert!(matches!(
        DeepRff::new(Mlp::equinox(2, 8, 1, 1 << 33, Activation::Tanh).unwrap(), 1 << 33),
        Err(Error::SizeOverflow { .. })
    ));
    assert!(matches!(Mlp::new(&[1 << 33, 1 << 33], Activation::Tanh), Err(Error::SizeOverflow { .. })));
}
