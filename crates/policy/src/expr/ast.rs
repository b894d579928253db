//! The expression tree, with every `context` member resolved at parse time.

/// A `context.…` member the subset knows, resolved once so evaluation is a match, not a
/// name lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    RequestIpAddress,
    RequestMethod,
    RequestUrl,
    RequestUrlHost,
    RequestUrlPath,
    RequestUrlPort,
    RequestUrlQuery,
    RequestUrlQueryString,
    RequestUrlScheme,
    RequestOriginalUrl,
    SubscriptionId,
    SubscriptionName,
    SubscriptionKey,
    SubscriptionPrimaryKey,
    SubscriptionSecondaryKey,
    ProductId,
    ProductName,
    ApiId,
    ApiName,
    ApiPath,
    ApiServiceUrl,
    OperationId,
    OperationName,
    OperationMethod,
    OperationUrlTemplate,
    ResponseStatusCode,
    ResponseStatusReason,
    RequestId,
    DeploymentServiceName,
    DeploymentRegion,
    /// A member of `context.User`: Portcullis has no developer accounts, so it is null.
    UserMember,
    LastErrorSource,
    LastErrorReason,
    LastErrorMessage,
    LastErrorScope,
    LastErrorSection,
    LastErrorPath,
    LastErrorPolicyId,
}

/// Every supported member path after `context.`.
pub const FIELDS: &[(&str, Field)] = &[
    ("Request.IpAddress", Field::RequestIpAddress),
    ("Request.Method", Field::RequestMethod),
    ("Request.Url", Field::RequestUrl),
    ("Request.Url.Host", Field::RequestUrlHost),
    ("Request.Url.Path", Field::RequestUrlPath),
    ("Request.Url.Port", Field::RequestUrlPort),
    ("Request.Url.Query", Field::RequestUrlQuery),
    ("Request.Url.QueryString", Field::RequestUrlQueryString),
    ("Request.Url.Scheme", Field::RequestUrlScheme),
    ("Request.OriginalUrl", Field::RequestOriginalUrl),
    // The URL as the caller sent it; policies change what goes to the backend, not it.
    ("Request.OriginalUrl.Host", Field::RequestUrlHost),
    ("Request.OriginalUrl.Path", Field::RequestUrlPath),
    ("Request.OriginalUrl.Port", Field::RequestUrlPort),
    (
        "Request.OriginalUrl.QueryString",
        Field::RequestUrlQueryString,
    ),
    ("Request.OriginalUrl.Scheme", Field::RequestUrlScheme),
    ("Subscription.Id", Field::SubscriptionId),
    ("Subscription.Name", Field::SubscriptionName),
    ("Subscription.Key", Field::SubscriptionKey),
    ("Subscription.PrimaryKey", Field::SubscriptionPrimaryKey),
    ("Subscription.SecondaryKey", Field::SubscriptionSecondaryKey),
    ("Product.Id", Field::ProductId),
    ("Product.Name", Field::ProductName),
    ("Api.Id", Field::ApiId),
    ("Api.Name", Field::ApiName),
    ("Api.Path", Field::ApiPath),
    ("Api.ServiceUrl", Field::ApiServiceUrl),
    ("Operation.Id", Field::OperationId),
    ("Operation.Name", Field::OperationName),
    ("Operation.Method", Field::OperationMethod),
    ("Operation.UrlTemplate", Field::OperationUrlTemplate),
    ("Response.StatusCode", Field::ResponseStatusCode),
    ("Response.StatusReason", Field::ResponseStatusReason),
    ("RequestId", Field::RequestId),
    ("Deployment.ServiceName", Field::DeploymentServiceName),
    ("Deployment.Region", Field::DeploymentRegion),
    ("User.Id", Field::UserMember),
    ("User.Email", Field::UserMember),
    ("User.FirstName", Field::UserMember),
    ("User.LastName", Field::UserMember),
    ("User.Note", Field::UserMember),
    ("User.RegistrationDate", Field::UserMember),
    ("LastError.Source", Field::LastErrorSource),
    ("LastError.Reason", Field::LastErrorReason),
    ("LastError.Message", Field::LastErrorMessage),
    ("LastError.Scope", Field::LastErrorScope),
    ("LastError.Section", Field::LastErrorSection),
    ("LastError.Path", Field::LastErrorPath),
    ("LastError.PolicyId", Field::LastErrorPolicyId),
];

/// Named collections under `context` that are read with `GetValueOrDefault`, `[…]` or
/// `ContainsKey`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    RequestHeaders,
    ResponseHeaders,
    QueryParameters,
    MatchedParameters,
    Variables,
}

pub const COLLECTIONS: &[(&str, Collection)] = &[
    ("Request.Headers", Collection::RequestHeaders),
    ("Response.Headers", Collection::ResponseHeaders),
    ("Request.Url.Query", Collection::QueryParameters),
    ("Request.OriginalUrl.Query", Collection::QueryParameters),
    ("Request.MatchedParameters", Collection::MatchedParameters),
    ("Variables", Collection::Variables),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Eq,
    NotEq,
    Less,
    LessEq,
    Greater,
    GreaterEq,
    And,
    Or,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringMethod {
    ToString,
    ToUpper,
    ToLower,
    Trim,
    Contains,
    StartsWith,
    EndsWith,
    Equals,
    Replace,
    Length,
}

impl StringMethod {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "ToString" => Self::ToString,
            "ToUpper" | "ToUpperInvariant" => Self::ToUpper,
            "ToLower" | "ToLowerInvariant" => Self::ToLower,
            "Trim" => Self::Trim,
            "Contains" => Self::Contains,
            "StartsWith" => Self::StartsWith,
            "EndsWith" => Self::EndsWith,
            "Equals" => Self::Equals,
            "Replace" => Self::Replace,
            _ => return None,
        })
    }

    /// How many arguments the method takes.
    pub fn arity(self) -> usize {
        match self {
            Self::ToString | Self::ToUpper | Self::ToLower | Self::Trim | Self::Length => 0,
            Self::Contains | Self::StartsWith | Self::EndsWith | Self::Equals => 1,
            Self::Replace => 2,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cast {
    String,
    Int,
    Bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Str(Box<str>),
    Int(i64),
    Bool(bool),
    Null,
    Field(Field),
    /// `collection.GetValueOrDefault(name[, default])`; without a default a missing entry is
    /// null (APIM's behaviour for headers) — `[name]` is the form that fails when missing.
    Lookup {
        collection: Collection,
        name: Box<Expr>,
        default: Option<Box<Expr>>,
        /// `[name]`: a missing entry is an error.
        required: bool,
    },
    ContainsKey {
        collection: Collection,
        name: Box<Expr>,
    },
    Method {
        target: Box<Expr>,
        method: StringMethod,
        args: Vec<Expr>,
    },
    IsNullOrEmpty(Box<Expr>),
    ParseInt(Box<Expr>),
    Cast(Cast, Box<Expr>),
    Not(Box<Expr>),
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Conditional {
        condition: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
}
