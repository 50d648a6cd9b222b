//! Which observation model a blob's posterior belongs to.
//!
//! The compact posteriors predict the latent f, whatever the likelihood; the likelihood says
//! how to turn that into a prediction of the observation y, and its parameters travel in the
//! blob (header: id and parameter count; payload: the parameters, a [`Role::Scalar`] block).
//! A reader rejects an id it does not know ([`BlobError::UnsupportedLikelihood`]) and a
//! parameter count that is not the likelihood's.
//!
//! [`Role::Scalar`]: super::Role::Scalar
//! [`BlobError::UnsupportedLikelihood`]: crate::error::BlobError::UnsupportedLikelihood

use super::block::Block;
use super::prediction::Prediction;
use super::shape::StoredScalar;
use crate::error::{Error, Result};

/// The observation model, by its stable id in the blob header.
///
/// | likelihood | id | parameters in the blob |
/// |---|---|---|
/// | `Gaussian` | 1 | σ_n² (noise variance) |
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Likelihood {
    /// y = f + ε, ε ~ N(0, σ_n²).
    Gaussian,
}

impl Likelihood {
    /// The header id.
    pub const fn id(self) -> u16 {
        match self {
            Likelihood::Gaussian => 1,
        }
    }

    /// The likelihood with header id `id`, if this reader knows it.
    pub const fn from_id(id: u16) -> Option<Self> {
        match id {
            1 => Some(Likelihood::Gaussian),
            _ => None,
        }
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
