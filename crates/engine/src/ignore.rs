//! ignoreDifferences: fields left out of the comparison for some objects — e.g. the
//! `replicas` of a Deployment that an HPA scales.

use serde::{Deserialize, Serialize};

use crate::object_ref::ObjectRef;

/// Which objects a rule applies to (every field set must match) and what it ignores.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IgnoreRule {
    /// API group (`""` for core); any when unset.
    #[serde(default)]
    pub group: Option<String>,
    /// Kind; any when unset.
    #[serde(default)]
    pub kind: Option<String>,
    /// Name; any when unset.
    #[serde(default)]
    pub name: Option<String>,
    /// Namespace; any when unset.
    #[serde(default)]
    pub namespace: Option<String>,
    /// RFC 6901 pointers to leave out, e.g. `/spec/replicas`.
    #[serde(default)]
    pub json_pointers: Vec<String>,
    /// Field managers whose fields (in the live object) are left out, e.g.
    /// `kube-controller-manager` or an operator's name.
    #[serde(default)]
    pub managed_fields_managers: Vec<String>,
}

impl IgnoreRule {
    /// Whether the rule applies to `object`.
    pub fn matches(&self, object: &ObjectRef) -> bool {
        let matches = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        matches(&self.group, &object.group)
            && matches(&self.kind, &object.kind)
            && matches(&self.name, &object.name)
            && matches(
                &self.namespace,
                object.namespace.as_deref().unwrap_or_default(),
            )
    }
}
