//! The wall clock, as status, history and notifications write it.

/// The time now, RFC 3339 (seconds).
pub(crate) fn now() -> String {
    format(std::time::SystemTime::now())
}

/// `time`, RFC 3339 (seconds).
pub(crate) fn format(time: std::time::SystemTime) -> String {
    k8s_openapi::jiff::Timestamp::try_from(time)
        .and_then(|t| t.round(k8s_openapi::jiff::Unit::Second))
        .map(|t| t.to_string())
        .unwrap_or_default()
}
