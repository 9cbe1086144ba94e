//! Why a Linkerd object is refused: one typed error per rule, worded as the owner words it
//! (the admission webhook `policy-controller/runtime/src/admission.rs`, its identity checks in
//! `validation.rs`, the index's conversions, the CRD schemas), with the field it is about.

use std::fmt;

use crate::error::BundleError;
use crate::resource::Resource;

/// A refusal: the field (`spec.rules[0].matches[1].path.value`) and why.
#[derive(Debug)]
pub(super) struct Fail {
    pub field: String,
    pub why: Invalid,
}

impl Fail {
    /// The bundle error naming `r`, the field and why.
    pub fn at(self, r: &Resource<'_>) -> BundleError {
        r.error(self.field, self.why.to_string())
    }
}

/// `Err(Fail)` for `field`.
pub(super) fn fail<T>(field: impl Into<String>, why: Invalid) -> Result<T, Fail> {
    Err(Fail {
        field: field.into(),
        why,
    })
}

/// What is wrong.
#[derive(Debug)]
pub(super) enum Invalid {
    /// A required field is missing.
    Required,
    /// A value outside the field's enumeration.
    NotOneOf { value: String, allowed: &'static str },
    /// A field this build cannot enforce, refused rather than ignored.
    Unsupported(&'static str),
    /// A label selector `matchExpressions` entry.
    Selector(&'static str),
    /// A port number outside 1-65535, or an empty port name.
    Port(String),
    /// `exactly one of podSelector and externalWorkloadSelector`.
    OneSelector,
    // --- networks ---
    /// Not a CIDR or an IP address.
    Cidr { value: String, error: String },
    /// `at least one network must be specified`.
    NoNetworks,
    /// `cidr '10.1.1.0/24' is completely negated by exception '10.1.0.0/16'`.
    ExceptNegates { cidr: String, except: String },
    /// `cidr '10.1.1.0/24' does not include exception '10.1.2.0/24'`.
    ExceptOutside { cidr: String, except: String },
    // --- identities ---
    /// `id ** is invalid: ...` (validation.rs).
    Identity { id: String, error: &'static str },
    /// `invalid identity target kind: Pod`.
    IdentityRefKind(String),
    /// `Namespace identity_ref is cluster-scoped and cannot have a namespace`.
    NamespacedNamespace,
    /// The CRD's `oneOf: [identities, identityRefs]`.
    IdentitiesXorRefs,
    // --- ServerAuthorization ---
    /// `unauthenticated` together with `meshTLS`.
    UnauthenticatedAndMeshTls,
    /// `unauthenticatedTLS` together with identities or service accounts.
    UnauthenticatedTlsAndIdentities,
    /// `no client authentication configured`.
    NoClientAuthentication,
    /// `authorization authorizes no clients`.
    NoClients,
    // --- AuthorizationPolicy ---
    /// `cannot target another namespace: foobar`.
    OtherNamespace(String),
    /// `unsupported authorization target type: Deployment.apps`.
    TargetKind(String),
    /// `unsupported authentication kind(s): Secret`.
    AuthenticationKinds(String),
    /// `only a single MeshTLSAuthentication may be set`, and the like.
    OnlyOne(&'static str),
    /// `a MeshTLSAuthentication and ServiceAccount may not be set together`.
    MeshTlsAndServiceAccount,
    // --- routes ---
    /// `cannot target an EgressNetwork without specifying a port`.
    EgressNetworkPort,
    /// A Server parent the index refuses (`InvalidParentRef`): Linkerd ignores the whole route.
    ParentRef(&'static str),
    /// A hostname outside the Gateway API pattern, or an IP address.
    Hostname { value: String, why: &'static str },
    /// `HttpPathMatch paths must be absolute (begin with `/`); "foo" is not an absolute path`.
    RelativePath(String),
    /// A Gateway API path value its CRD refuses.
    GatewayPath { value: String, why: &'static str },
    /// `invalid regular expression: ...`.
    Regex { pattern: String, error: String },
    /// Not an HTTP header name.
    HeaderName(String),
    /// A header or query parameter value must not be empty.
    EmptyValue,
    /// `unsupported GRPCRoute method match type: RegularExpression`.
    GrpcMatchType(String),
    /// `One or both of 'service' or 'method' must be specified`.
    GrpcServiceOrMethod,
    /// A gRPC service or method name outside the CRD's pattern.
    GrpcName { value: String, what: &'static str },
    /// A route filter Linkerd's index does not support: it ignores the whole route.
    Filter(String),
    /// `RequestRedirect filters may only contain absolute paths`.
    RedirectPath(String),
    /// `cannot reference a Service without a port`.
    ServicePort,
    /// A route timeout that is not a duration, negative, or longer for the backend.
    Timeout(String),
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Invalid::*;
        match self {
            Required => write!(f, "is required"),
            NotOneOf { value, allowed } => write!(f, "{value:?} is not {allowed}"),
            Unsupported(what) => write!(f, "{what}"),
            Selector(why) => write!(f, "{why}"),
            Port(v) => write!(f, "{v} is not a port number (1-65535) or a port name"),
            OneSelector => write!(f, "exactly one of podSelector and externalWorkloadSelector is required"),
            Cidr { value, error } => write!(f, "{value:?} is not a network: {error}"),
            NoNetworks => write!(f, "at least one network must be specified"),
            ExceptNegates { cidr, except } => write!(f, "cidr '{cidr}' is completely negated by exception '{except}'"),
            ExceptOutside { cidr, except } => write!(f, "cidr '{cidr}' does not include exception '{except}'"),
            Identity { id, error } => write!(f, "id {id} is invalid: {error}"),
            IdentityRefKind(k) => write!(f, "invalid identity target kind: {k}"),
            NamespacedNamespace => write!(f, "Namespace identity_ref is cluster-scoped and cannot have a namespace"),
            IdentitiesXorRefs => write!(f, "exactly one of identities and identityRefs must be set"),
            UnauthenticatedAndMeshTls => write!(f, "`unauthenticated` must be false if `meshTLS` is specified"),
            UnauthenticatedTlsAndIdentities => {
                write!(f, "`unauthenticatedTLS` must be false if any `identities` or `serviceAccounts` is specified")
            }
            NoClientAuthentication => write!(f, "no client authentication configured (set unauthenticated or meshTLS)"),
            NoClients => write!(f, "authorization authorizes no clients (no identities or serviceAccounts)"),
            OtherNamespace(ns) => write!(f, "cannot target another namespace: {ns}"),
            TargetKind(k) => write!(f, "unsupported authorization target type: {k}"),
            AuthenticationKinds(k) => write!(f, "unsupported authentication kind(s): {k}"),
            OnlyOne(kind) => write!(f, "only a single {kind} may be set"),
            MeshTlsAndServiceAccount => write!(f, "a MeshTLSAuthentication and ServiceAccount may not be set together"),
            EgressNetworkPort => write!(f, "cannot target an EgressNetwork without specifying a port"),
            ParentRef(why) => write!(f, "{why}: Linkerd ignores the whole route, so its Server would fall back to the default route; refused instead"),
            Hostname { value, why } => write!(f, "{value:?}: {why}"),
            RelativePath(v) => write!(f, "HttpPathMatch paths must be absolute (begin with `/`); {v:?} is not an absolute path"),
            GatewayPath { value, why } => write!(f, "{value:?} {why} (Gateway API HTTPRoute path rules)"),
            Regex { pattern, error } => write!(f, "invalid regular expression {pattern:?}: {error}"),
            HeaderName(n) => write!(f, "{n:?} is not an HTTP header name"),
            EmptyValue => write!(f, "must not be empty"),
            GrpcMatchType(t) => write!(f, "unsupported GRPCRoute method match type: {t}"),
            GrpcServiceOrMethod => write!(f, "One or both of 'service' or 'method' must be specified"),
            GrpcName { value, what } => write!(f, "{value:?} is not a valid gRPC {what} name"),
            Filter(kind) => write!(
                f,
                "{kind} filter is not supported: Linkerd's policy controller ignores the whole route, so its Server would fall back to the default route; refused instead"
            ),
            RedirectPath(p) => write!(f, "RequestRedirect filters may only contain absolute paths (starting with '/'); {p:?} is not an absolute path"),
            ServicePort => write!(f, "cannot reference a Service without a port"),
            Timeout(why) => write!(f, "{why}"),
        }
    }
}
