//! Each likelihood's expected log-likelihood, its derivatives (Bonnet/Price), its predictive
//! moments and its log predictive density against independent oracles: a fine trapezoid rule
//! over log densities written in the test (`common::lik`), with `Dual` numbers through it for
//! the derivatives of the true expectation; from a point mass (s² = 1e-6) to a wide latent
//! (s² = 16).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use common::lik::{ln_factorial, ln_phi, ln_sigmoid, log_trapezoid, student_t_norm, trapezoid};
use svgp::likelihood::{Bernoulli, GaussHermite, Gaussian, Likelihood, Poisson, StudentT};
use svgp::{Dual, Scalar};

type D3 = Dual<f64, 3>;

/// Latent marginals q(f) = N(μ, s²): a point mass, narrow, unit, wide, very wide.
const REGIMES: [(f64, f64); 5] = [(0.3, 1e-6), (-0.8, 0.04), (1.2, 1.0), (-2.0, 4.0), (0.5, 16.0)];

/// A likelihood under test with its independent log density ln p(y | f; θ) (θ raw, as the
/// crate stores it) and conditional moments E[y | f], Var[y | f].
struct Case<L> {
    name: &'static str,
    lik: L,
    theta: Vec<f64>,
    targets: Vec<f64>,
    log_density: fn(&[D3], D3, D3) -> D3,
    cond_moments: fn(&[f64], f64) -> (f64, f64),
}

/// Worst errors of one case, relative to max(1, |oracle|).
#[derive(Default, Debug)]
struct Errors {
    ell: f64,
    grad: f64,
    lpd: f64,
    moments: f64,
}

fn err(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs().max(1.0)
}

fn run<L: Likelihood>(case: &Case<L>, lik: &L, regimes: &[(f64, f64)]) -> Errors {
    let mut e = Errors::default();
    let np = lik.n_params();
    for &(mu, s2) in regimes {
        for &y in &case.targets {
            // Oracle: value and derivatives of the true expectation, lanes (μ, s², θ₀).
            let th: Vec<D3> = case.theta.iter().map(|&t| D3::variable(t, 2)).collect();
            let (m, v) = (D3::variable(mu, 0), D3::variable(s2, 1));
            let yd = D3::constant(y);
            let oracle = trapezoid(m, v, |f| (case.log_density)(&th, yd, f));
            let mut g = vec![0.0; np];
            let got = lik.expected_log_lik_grad(&case.theta, y, mu, s2, &mut g);
            assert_eq!(
                got.value,
                lik.expected_log_lik(&case.theta, y, mu, s2),
                "{}: value alone differs",
                case.name
            );
            e.ell = e.ell.max(err(got.value, oracle.re));
            let mut ge = err(got.d_mean, oracle.eps[0]).max(err(got.d_var, oracle.eps[1]));
            if np > 0 {
                ge = ge.max(err(g[0], oracle.eps[2]));
            }
            e.grad = e.grad.max(ge);
            // Log predictive density.
            let lpd = lik.log_predictive_density(&case.theta, y, mu, s2);
            let th0: Vec<D3> = case.theta.iter().map(|&t| D3::constant(t)).collect();
            let want = log_trapezoid(mu, s2, |f| (case.log_density)(&th0, yd, D3::constant(f)).re);
            e.lpd = e.lpd.max(err(lpd, want));
        }
        // Predictive moments: E[y] = E[m(f)], Var[y] = E[v(f)] + Var[m(f)].
        if let Ok(mo) = lik.predictive(&case.theta, mu, s2) {
            let mean = trapezoid(mu, s2, |f| (case.cond_moments)(&case.theta, f).0);
            let second = trapezoid(mu, s2, |f| {
                let (a, b) = (case.cond_moments)(&case.theta, f);
                b + a * a
            });
            let var = second - mean * mean;
            e.moments = e.moments.max(err(mo.mean, mean)).max((mo.var - var).abs() / var.abs().max(1e-300));
        }
    }
    e
}

fn gaussian() -> Case<Gaussian> {
    Case {
        name: "Gaussian",
        lik: Gaussian,
        theta: vec![0.3_f64.ln()],
        targets: vec![-1.0, 0.4, 2.5],
        log_density: |th, y, f| {
            let s2 = th[0].exp();
            let r = y - f;
            -(D3::from_f64(0.5) * (D3::from_f64(2.0 * core::f64::consts::PI) * s2).ln())
                - r * r / (D3::from_f64(2.0) * s2)
        },
        cond_moments: |th, f| (f, th[0].exp()),
    }
}

fn probit() -> Case<Bernoulli> {
    Case {
        name: "Bernoulli probit",
        lik: Bernoulli::probit(),
        theta: vec![],
        targets: vec![0.0, 1.0],
        log_density: |_, y, f| ln_phi((D3::from_f64(2.0) * y - D3::from_f64(1.0)) * f),
        cond_moments: |_, f| {
            let p = ln_phi(f).exp();
            (p, p * (1.0 - p))
        },
    }
}

fn logit() -> Case<Bernoulli> {
    Case {
        name: "Bernoulli logit",
        lik: Bernoulli::logit(),
        theta: vec![],
        targets: vec![0.0, 1.0],
        log_density: |_, y, f| ln_sigmoid((D3::from_f64(2.0) * y - D3::from_f64(1.0)) * f),
        cond_moments: |_, f| {
            let p = ln_sigmoid(f).exp();
            (p, p * (1.0 - p))
        },
    }
}

fn poisson() -> Case<Poisson> {
    Case {
        name: "Poisson",
        lik: Poisson::new(),
        theta: vec![],
        targets: vec![0.0, 3.0, 17.0],
        log_density: |_, y, f| y * f - f.exp() - D3::from_f64(ln_factorial(y.re)),
        cond_moments: |_, f| (f.exp(), f.exp()),
    }
}

fn student_t(nu: f64, scale: f64) -> Case<StudentT> {
    Case {
        name: if nu == 3.0 { "Student-t ν = 3" } else { "Student-t ν = 4" },
        lik: StudentT::new(nu).unwrap(),
        theta: vec![2.0 * scale.ln()],
        targets: vec![-1.5, 0.2, 6.0],
        log_density: if nu == 3.0 {
            |th, y, f| t_log_density(3.0, th, y, f)
        } else {
            |th, y, f| t_log_density(4.0, th, y, f)
        },
        cond_moments: if nu == 3.0 { |th, f| (f, th[0].exp() * 3.0) } else { |th, f| (f, th[0].exp() * 2.0) },
    }
}

fn t_log_density(nu: f64, th: &[D3], y: D3, f: D3) -> D3 {
    let s2 = th[0].exp();
    let r = y - f;
    D3::from_f64(student_t_norm(nu))
        - D3::from_f64(0.5) * th[0]
        - D3::from_f64(0.5 * (nu + 1.0)) * (r * r / (D3::from_f64(nu) * s2)).ln_1p()
}

/// Asserts the worst errors of `case` at quadrature order `k` over `regimes` (indices into
/// [`REGIMES`]) against `tol` = [ell, grad, lpd, moments], printing what it measured.
fn check<L: Likelihood>(case: &Case<L>, lik: &L, k: usize, regimes: &[usize], tol: [f64; 4]) -> Errors {
    let rs: Vec<_> = regimes.iter().map(|&i| REGIMES[i]).collect();
    let e = run(case, lik, &rs);
    println!(
        "{} (K = {k}) s² ∈ {:?}: E[log p] {:.1e}, gradient {:.1e}, log density {:.1e}, moments {:.1e}",
        case.name,
        rs.iter().map(|r| r.1).collect::<Vec<_>>(),
        e.ell,
        e.grad,
        e.lpd,
        e.moments
    );
    let got = [e.ell, e.grad, e.lpd, e.moments];
    for (what, (g, t)) in ["E[log p]", "gradient", "log density", "moments"].iter().zip(got.iter().zip(tol)) {
        assert!(*g <= t, "{} (K = {k}): {what} error {g:e} above {t:e}", case.name);
    }
    e
}

/// Indices of [`REGIMES`] by latent sd s: 0.001, 0.2, 1, 2, 4.
const ALL: [usize; 5] = [0, 1, 2, 3, 4];

#[test]
fn gaussian_closed_forms_match_the_oracle_for_every_latent_width() {
    check(&gaussian(), &Gaussian, 20, &ALL, [1e-13, 1e-11, 1e-13, 1e-13]);
}

/// Probit: the predictive and its density are closed forms (exact everywhere); E[ln Φ(y′f)] by
/// Gauss–Hermite is accurate while s ≲ 1, the scale on which ln Φ bends.
#[test]
fn bernoulli_probit_matches_the_oracle() {
    let c = probit();
    check(&c, &c.lik, 20, &[0, 1, 2], [1e-11, 1e-8, 1e-13, 1e-13]);
    check(&c, &c.lik, 20, &[3, 4], [1e-3, 1e-2, 1e-13, 1e-13]);
    converges(&c, |l, q| l.with_quadrature(q));
}

#[test]
fn bernoulli_logit_matches_the_oracle() {
    let c = logit();
    check(&c, &c.lik, 20, &[0, 1, 2], [1e-11, 1e-9, 1e-10, 1e-9]);
    check(&c, &c.lik, 20, &[3, 4], [1e-3, 1e-2, 1e-3, 1e-2]);
    converges(&c, |l, q| l.with_quadrature(q));
}

/// Poisson: E[log p], its gradient and the predictive moments are closed forms (exact
/// everywhere); the log density by adaptive Gauss–Hermite is accurate even where p(y | f) is
/// far narrower than q(f) (y = 17 under s = 4: the plain rule is off by 0.76 there).
#[test]
fn poisson_matches_the_oracle() {
    let c = poisson();
    check(&c, &c.lik, 20, &[0, 1, 2], [1e-13, 1e-11, 1e-8, 1e-13]);
    check(&c, &c.lik, 20, &[3, 4], [1e-13, 1e-11, 2e-3, 1e-13]);
    converges(&c, |l, q| l.with_quadrature(q));
}

/// Student-t: accurate while the latent sd s stays below the likelihood's width √ν·σ (here 2
/// and 0.35); beyond, the rule's nodes cannot resolve the peak of log p at f = y (see the
/// [`StudentT`] docs for the measured errors), and more nodes help only slowly.
#[test]
fn student_t_matches_the_oracle_while_the_latent_is_narrower_than_the_likelihood() {
    let wide = student_t(4.0, 1.0);
    check(&wide, &wide.lik, 20, &[0, 1, 2], [1e-7, 1e-5, 1e-6, 1e-13]);
    check(&wide, &wide.lik, 20, &[3, 4], [1e-2, 1e-1, 1e-1, 1e-13]);
    converges(&wide, |l, q| l.with_quadrature(q));
    let narrow = student_t(3.0, 0.2);
    check(&narrow, &narrow.lik, 20, &[0, 1], [1e-8, 1e-5, 1e-5, 1e-13]);
    let k64 = narrow.lik.with_quadrature(GaussHermite::new(64).unwrap());
    check(&narrow, &k64, 64, &[0, 1], [1e-13, 1e-10, 1e-10, 1e-13]);
}

/// Where the default rule is not exact (the wide latents), 64 nodes are at least ten times
/// closer to the oracle than 20: the sums converge to the true expectation.
fn converges<L: Likelihood>(case: &Case<L>, with: impl Fn(&L, GaussHermite) -> L) {
    let (k20, k64) =
        (with(&case.lik, GaussHermite::new(20).unwrap()), with(&case.lik, GaussHermite::new(64).unwrap()));
    let (a, b) = (run(case, &k20, &REGIMES[3..]), run(case, &k64, &REGIMES[3..]));
    for (what, x, y) in
        [("E[log p]", a.ell, b.ell), ("gradient", a.grad, b.grad), ("log density", a.lpd, b.lpd)]
    {
        if x > 1e-11 {
            assert!(y <= 0.1 * x, "{}: {what} error {y:e} at K = 64, {x:e} at K = 20", case.name);
        }
    }
}
