// The crate's front page is the README (GitHub and docs.rs show the same text); its Rust code
// blocks run as doctests. It links no file by a relative path (such a link breaks on docs.rs);
// its figures are images under docs/, which rustdoc shows by their alt text.
#![doc = include_str!("../README.md")]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod arch;
pub mod batch;
pub mod deploy;
pub mod dual;
pub mod error;
pub mod fastmath;
pub mod features;
pub mod gp;
pub mod inducing;
pub mod kernel;
pub mod layout;
pub mod likelihood;
pub mod linalg;
pub mod metrics;
pub mod nn;
pub mod objective;
pub mod optim;
#[cfg(feature = "std")]
pub mod parallel;
pub mod rng;
pub mod scalar;
pub mod train;

pub use dual::Dual;
pub use error::{Error, Result};
pub use scalar::Scalar;
pub mod diff;
