//! The wall clock, as status, history and notifications write it.

/// The time now, RFC 3339 (seconds).
pub(crate) fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .round(k8s_openapi::jiff::Unit::Second)
        .map(|t| t.to_string())
        .unwrap_or_default()
}
