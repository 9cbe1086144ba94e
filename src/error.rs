//! Configuration errors and warnings. Every one names where: the resource and the field.

use std::fmt;

/// Why a bundle cannot be loaded. Nothing is half-loaded: the previous bundle keeps serving.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BundleError {
    /// The configuration is not JSON, or the envelope (`workload`, `settings`, `resources`) is
    /// malformed.
    Envelope {
        /// The envelope field, e.g. `settings.defaultAction`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// One resource is invalid or cannot be enforced in-proxy.
    Resource {
        /// `resources[3] (AuthorizationPolicy foo/allow-frontend)`.
        at: String,
        /// The field, e.g. `spec.rules[1].from[0].source.principals[2]`.
        field: String,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BundleError::Envelope { field, message } if field.is_empty() => write!(f, "bundle: {message}"),
            BundleError::Envelope { field, message } => write!(f, "bundle: {field}: {message}"),
            BundleError::Resource { at, field, message } if field.is_empty() => write!(f, "{at}: {message}"),
            BundleError::Resource { at, field, message } => write!(f, "{at}: {field}: {message}"),
        }
    }
}

impl std::error::Error for BundleError {}

/// Something legal but probably not what the author meant (a policy that selects nothing, a
/// rule that can never match). Reported by `validate` and logged at load; never fatal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The resource, as in [`BundleError::Resource`] (empty for the envelope).
    pub at: String,
    /// The field (may be empty).
    pub field: String,
    /// What is suspicious.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.at.is_empty(), self.field.is_empty()) {
            (true, true) => write!(f, "bundle: {}", self.message),
            (true, false) => write!(f, "bundle: {}: {}", self.field, self.message),
            (false, true) => write!(f, "{}: {}", self.at, self.message),
            (false, false) => write!(f, "{}: {}: {}", self.at, self.field, self.message),
        }
    }
}
