//! The built-in transformers, one module each, run in Kustomize's order by the crate's
//! `transform`, with Kustomize's default field specs and those `configurations` declared.

pub(crate) mod images;
pub(crate) mod labels;
pub(crate) mod name_affix;
pub(crate) mod namespace;
pub(crate) mod replicas;
