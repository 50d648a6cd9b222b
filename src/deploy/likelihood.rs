//! Which observation model a blob's posterior belongs to.
//!
//! The compact posteriors predict the latent f, whatever the likelihood; the likelihood says
//! how to turn that into a prediction of the observation y, and its parameters travel in the
//! blob (header: id and parameter count; payload: the parameters, a [`Role::Scalar`] block).
//! A reader rejects an id it does not know ([`BlobError::UnsupportedLikelihood`]) and a
//! parameter count that is not the likelihood's.
//!
//! The ids are the crate's one numbering, [`LikelihoodId`]: a blob's id is the trained model's
//! `Likelihood::id()`. Deployment serves the Gaussian today; [`Likelihood::from_model`] refuses
//! the others (Bernoulli, Poisson, Student-t, custom) with [`BlobError::UnsupportedLikelihood`],
//! and a reader meets the same error on their ids.
//!
//! [`Role::Scalar`]: super::Role::Scalar
//! [`BlobError::UnsupportedLikelihood`]: crate::error::BlobError::UnsupportedLikelihood

use super::block::Block;
use super::prediction::Prediction;
use super::shape::StoredScalar;
use crate::error::{BlobError, Error, Result};
use crate::likelihood::{self as lik, LikelihoodId};

/// The observation model, by its stable id in the blob header ([`LikelihoodId`]'s number).
///
/// | likelihood | id | parameters in the blob |
/// |---|---|---|
/// | `Gaussian` | 0 | σ_n² (noise variance) |
///
/// ```
/// use svgp::deploy::Likelihood;
/// use svgp::likelihood::{Bernoulli, Gaussian};
/// assert_eq!(Likelihood::from_model(&Gaussian)?, Likelihood::Gaussian);
/// assert!(Likelihood::from_model(&Bernoulli::logit()).is_err()); // not deployable yet
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Likelihood {
    /// y = f + ε, ε ~ N(0, σ_n²).
    Gaussian,
}

impl Likelihood {
    /// The crate-wide id.
    pub const fn likelihood_id(self) -> LikelihoodId {
        match self {
            Likelihood::Gaussian => LikelihoodId::Gaussian,
        }
    }

    /// The header id ([`LikelihoodId`]'s number).
    pub const fn id(self) -> u16 {
        self.likelihood_id().as_u8() as u16
    }

    /// The likelihood with header id `id`, if this reader can serve it.
    pub const fn from_id(id: u16) -> Option<Self> {
        if id > u8::MAX as u16 {
            return None;
        }
        match LikelihoodId::from_u8(id as u8) {
            Some(LikelihoodId::Gaussian) => Some(Likelihood::Gaussian),
            _ => None,
        }
    }

    /// The deployable likelihood of a trained model's, or
    /// [`BlobError::UnsupportedLikelihood`] (at the header's likelihood offset) for one
    /// deployment cannot serve yet.
    pub fn from_model<L: lik::Likelihood>(likelihood: &L) -> Result<Self> {
        Self::from_id(u16::from(likelihood.id().as_u8())).ok_or(Error::InvalidModel {
            kind: BlobError::UnsupportedLikelihood,
            at: super::format::offset::LIKELIHOOD,
        })
    }

    /// Number of parameters stored in the blob.
    pub const fn n_params(self) -> usize {
        match self {
            Likelihood::Gaussian => 1,
        }
    }

    /// [`Error::InvalidParameter`] unless the stored parameters are usable (a positive noise
    /// variance).
    pub(crate) fn check<S: StoredScalar>(self, params: &Block<'_, S>) -> Result<()> {
        if params.len() != self.n_params() {
            return Err(Error::DimensionMismatch {
                what: "likelihood parameters",
                expected: self.n_params(),
                found: params.len(),
            });
        }
        match self {
            Likelihood::Gaussian => match params.get(0) {
                v if v > S::zero() => Ok(()),
                v => Err(Error::InvalidParameter { what: "noise variance", value: v.re() }),
            },
        }
    }

    /// The predictive mean and variance of y from the latent f's (`params` as stored).
    pub(crate) fn observe<S: StoredScalar>(
        self,
        params: &Block<'_, S>,
        latent: Prediction<S>,
    ) -> Prediction<S> {
        match self {
            Likelihood::Gaussian => {
                Prediction { mean: latent.mean, variance: latent.variance + params.get(0) }
            }
        }
    }
}
