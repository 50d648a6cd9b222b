//! Priors on hyperparameters (MAP terms): their gradients against Dual forward mode for an RBF,
//! an ARD kernel and the deep kernel, the roles that find the parameters, and the objective
//! wrapper's loss and gradient.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::gp::random_params;
use common::oracle::{dual_gradient, grad_errors, D8};
use svgp::features::DeepRff;
use svgp::gp::{Closed, Features, Prior, Svgp};
use svgp::hyperprior::{HyperPrior, LogPrior};
use svgp::kernel::{Kernel, ParamRole, Rbf, RbfArd};
use svgp::nn::{Activation, Mlp};
use svgp::rng::Xoshiro256;

fn all_priors() -> HyperPrior {
    HyperPrior::default()
        .variance(LogPrior::gamma(2.0, 1.5))
        .lengthscale(LogPrior::log_normal(0.4, 0.7))
        .noise(LogPrior::log_normal(0.05, 1.0))
        .noise_floor(0.2) // the random parameters' noise variance is 0.05: below the floor
        .weight_decay(0.8)
}

fn check<P: Prior>(model: &Svgp<P>, params: &[f64], prior: HyperPrior, label: &str) -> Vec<f64> {
    let mut g = vec![0.0; params.len()];
    let lp = prior.log_prior(model, params, Some(&mut g)).unwrap();
    let (ld, gd) = dual_gradient(|p: &[D8]| prior.log_prior(model, p, None).unwrap(), params);
    assert!((lp - ld).abs() <= 1e-12 * lp.abs().max(1.0), "{label}: {lp} vs Dual {ld}");
    let (max_rel, norm_rel) = grad_errors(&g, &gd);
    println!("{label}: log p = {lp:.6}, gradient vs Dual {max_rel:.1e} / {norm_rel:.1e}");
    assert!(max_rel <= 1e-12 && norm_rel <= 1e-12, "{label}: {max_rel:e} {norm_rel:e}");
    g
}

#[test]
fn rbf_and_ard_gradients_match_dual() {
    let mut rng = Xoshiro256::from_u64(1);
    let model = Svgp::new(Closed(Rbf::new(2)), 3, 1e-6).unwrap();
    let p = random_params(&model, &Rbf::params(1.3, 0.6), &mut rng);
    let g = check(&model, &p, all_priors(), "rbf");
    let gv = model.params(&g).unwrap();
    assert!(gv.prior.ln_variance() != 0.0 && gv.prior.ln_lengthscale() != 0.0);
    assert!(gv.likelihood.ln_noise_variance() > 0.0, "below the floor: the prior pushes the noise up");
    assert!(gv.z.iter().chain(gv.mean).all(|&v| v == 0.0), "no prior on Z or the guide");
    let ard = Svgp::new(Closed(RbfArd::new(3)), 3, 1e-6).unwrap();
    let p = random_params(&ard, &[0.2, -0.5, 0.1, 0.7], &mut rng);
    let g = check(&ard, &p, all_priors(), "rbf-ard");
    assert!(g[1..4].iter().all(|&v| v != 0.0), "every ARD lengthscale has its prior");
    // Above the floor the floor has no effect.
    let mut q = p.clone();
    *ard.params_mut(&mut q).unwrap().likelihood.ln_noise_variance_mut() = 0.0;
    let only_floor = HyperPrior::default().noise_floor(0.2);
    assert_eq!(only_floor.log_prior(&ard, &q, None).unwrap(), 0.0);
    assert!(only_floor.log_prior(&ard, &p, None).unwrap() < 0.0);
}

#[test]
fn deep_kernel_weight_decay_matches_dual_and_spares_biases() {
    let map = DeepRff::new(Mlp::equinox(2, 4, 1, 2, Activation::Tanh).unwrap(), 6).unwrap();
    let model = Svgp::new(Features(map), 3, 1e-4).unwrap();
    let mut rng = Xoshiro256::from_u64(2);
    let mut prior = vec![0.0; model.prior().n_params()];
    map.init(&mut rng, 0.5, model.prior().parts(&mut prior[..]).unwrap().map).unwrap();
    let p = random_params(&model, &prior, &mut rng);
    let g = check(&model, &p, all_priors(), "deep");
    // Roles: ln σ², the MLP's weights (2·4 + 4·2), its biases (4 + 2), W, b, ln ℓ.
    let roles: Vec<ParamRole> = (0..model.prior().n_params()).map(|i| model.prior().param_role(i)).collect();
    assert_eq!(roles[0], ParamRole::LnVariance);
    assert_eq!(roles.iter().filter(|&&r| r == ParamRole::Weight).count(), 2 * 4 + 4 * 2);
    assert_eq!(roles.iter().filter(|&&r| r == ParamRole::Frequency).count(), 2 * 6);
    assert_eq!(*roles.last().unwrap(), ParamRole::LnLengthscale);
    let gp = model.params(&g).unwrap().prior;
    let mlp = map.mlp();
    for (i, &v) in gp.map.mlp.iter().enumerate() {
        assert_eq!(v == 0.0, !mlp.is_weight(i), "MLP entry {i}: bias {} gradient {v}", !mlp.is_weight(i));
    }
    assert!(gp.map.w.iter().chain(gp.map.b).all(|&v| v == 0.0), "no prior on W or b unless asked");
    // The kernels' own roles.
    assert_eq!(Rbf::new(1).param_role(1), ParamRole::LnLengthscale);
}

#[cfg(feature = "alloc")]
#[test]
fn the_map_objective_adds_the_prior_to_any_elbo() {
    use common::gp::data;
    use svgp::hyperprior::WithHyperPrior;
    use svgp::objective::{CollapsedElbo, FullBatchElbo, Objective};
    let mut rng = Xoshiro256::from_u64(3);
    let model = Svgp::new(Closed(Rbf::new(2)), 4, 1e-6).unwrap();
    let (x, y) = data(&mut rng, 12, 2);
    let p = random_params(&model, &Rbf::params(1.0, 0.5), &mut rng);
    let prior = all_priors();
    let mut gp = vec![0.0; p.len()];
    let lp = prior.log_prior(&model, &p, Some(&mut gp)).unwrap();
    let mut full = FullBatchElbo::alloc(&model, &x, &y).unwrap();
    let mut collapsed = CollapsedElbo::alloc(&model, &x, &y).unwrap();
    for inner in [&mut full as &mut dyn Objective<f64>, &mut collapsed] {
        let mut g0 = vec![0.0; p.len()];
        let l0 = inner.loss_and_grad(&p, &mut g0).unwrap();
        let mut g = vec![0.0; p.len()];
        let l = WithHyperPrior::new(&model, prior, inner).unwrap().loss_and_grad(&p, &mut g).unwrap();
        assert!((l - (l0 - lp)).abs() <= 1e-12 * l.abs());
        for i in 0..p.len() {
            assert!((g[i] - (g0[i] - gp[i])).abs() <= 1e-12 * g[i].abs().max(1.0));
        }
    }
    // Settings no prior can have are refused.
    assert!(HyperPrior::default().weight_decay(0.0).log_prior(&model, &p, None).is_err());
    assert!(HyperPrior::default().noise(LogPrior::gamma(-1.0, 1.0)).check().is_err());
}
