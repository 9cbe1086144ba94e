//! Drako dialect (not implemented yet: refused with a clear error).

use super::{Ctx, Layer, Resource};
use crate::error::{BundleError, Warning};

/// Compiles the Drako resources of the bundle.
pub(crate) fn compile(
    rs: Vec<Resource<'_>>,
    _ctx: &Ctx<'_>,
    _warnings: &mut Vec<Warning>,
) -> Result<Box<dyn Layer>, BundleError> {
    let first = rs
        .first()
        .map(|r| r.error("kind", "the Drako dialect is not supported by this build yet"));
    Err(first.unwrap_or_else(|| BundleError::Envelope {
        field: "resources".into(),
        message: "no Drako resources".into(),
    }))
}
