//! Bad data gives typed errors naming what is wrong, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use svgp::gp::{Closed, ElboOptions, Svgp};
use svgp::kernel::Rbf;
use svgp::Error;

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
    let mut ws = vec![0.0; model.workspace_len(4)];
    let o = ElboOptions::default();
    assert!(matches!(model.elbo(&p[1..], &x, &y, o, &mut ws), Err(Error::DimensionMismatch { .. })));
    assert!(matches!(model.elbo(&p, &x[..3], &y, o, &mut ws), Err(Error::DimensionMismatch { .. })));
    let mut small = vec![0.0; model.workspace_len(4) - 1];
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
    let mut ws = vec![0.0; model.workspace_len(4)];
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
    let noise = model.noise_index();
    p[noise] = f64::NAN;
    assert!(matches!(model.elbo(&p, &x, &y, o, &mut ws), Err(Error::NonFinite { what: "parameters", .. })));
    // Coincident inducing points with zero jitter: K_zz is singular.
    let model0 = Svgp::new(Closed(Rbf::new(1)), 3, 0.0).unwrap();
    let mut p0 = vec![0.0; model0.n_params()];
    model0.init_params(&Rbf::params(1.0, 0.5), &[0.3, 0.3, 0.3], 0.1, &mut p0).unwrap();
    assert!(matches!(model0.elbo(&p0, &x, &y, o, &mut ws), Err(Error::NotPositiveDefinite { .. })));
}
