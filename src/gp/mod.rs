//! Sparse variational GP: prior, whitened guide, likelihood, ELBO and its reverse sweep, prediction.
