//! [`CmePolicy`]: a CME Globex algorithm together with validated parameters, the payload of
//! [`MatchPolicy::Cme`](crate::MatchPolicy::Cme) that a book's configuration carries.
//!
//! It exists so that a book never sees parameters out of range: the only way to build one
//! is [`CmePolicy::new`], which validates, so the books' calls to
//! [`allocate`](super::allocate) cannot fail on parameters (they are `Copy` and travel
//! inside [`BookConfig`](crate::BookConfig), about a hundred bytes).

use super::{Algorithm, AllocationParams, ParamError};

/// A CME Globex allocation algorithm and its (validated) parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CmePolicy {
    algorithm: Algorithm,
    params: AllocationParams,
}

impl CmePolicy {
    /// `algorithm` with `params`, refused (naming the field) when a parameter is out of
    /// range.
    pub fn new(algorithm: Algorithm, params: AllocationParams) -> Result<Self, ParamError> {
        params.validate()?;
        Ok(CmePolicy { algorithm, params })
    }

    /// `algorithm` with the default parameters (no TOP limits, pro-rata minimum 1, no LMMs,
    /// split all pro rata, leveling off).
    pub fn with_defaults(algorithm: Algorithm) -> Self {
        CmePolicy {
            algorithm,
            params: AllocationParams::default(),
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The parameters.
    pub fn params(&self) -> &AllocationParams {
        &self.params
    }
}
