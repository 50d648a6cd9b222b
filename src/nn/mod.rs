//! Dense neural networks (the warp of a deep kernel).
