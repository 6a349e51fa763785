//! Kustomization shapes met in real repositories, each edited and compared byte for byte.

use super::*;

const SHA: &str = "sha256:24a0c4b4a4c0eb97a1aabb8e29f18e917d05abfe1b7a7c07857230879ce7d3d3";

fn tag(name: &str, tag: &str) -> ImageEntryChange {
    ImageEntryChange {
        new_tag: FieldChange::Set(tag.into()),
        digest: FieldChange::Remove,
        ..ImageEntryChange::keep(name)
    }
}

fn edit(text: &str, changes: &[ImageEntryChange]) -> String {
    set_images("envs/dev/kustomization.yaml", text, changes)
        .unwrap_or_else(|err| panic!("{err}"))
        .expect("a change")
}

fn refused(text: &str, changes: &[ImageEntryChange]) -> String {
    set_images("k.yaml", text, changes)
        .expect_err("refused")
        .to_string()
}

#[test]
fn a_tag_changes_and_nothing_else_does() {
    let text = "\
# dev overlay: CI bumps the tag
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../base   # shared base
images:
- name: app
  newName: registry.example.com/team/app   # our registry
  newTag: 1.3.0 # bumped by CI
- name: sidecar
  newTag: \"2.0\"

namespace: dev
";
    assert_eq!(
        edit(text, &[tag("app", "1.4.0")]),
        text.replace("newTag: 1.3.0 # bumped", "newTag: 1.4.0 # bumped")
    );
}

#[test]
fn quoting_style_of_an_edited_value_is_kept_and_numbers_stay_strings() {
    let text = "images:\n- name: a\n  newTag: \"1.0\"\n- name: b\n  newTag: '1.0'\n- name: c\n  newTag: v1\n";
    let out = edit(text, &[tag("a", "1.1"), tag("b", "it's"), tag("c", "1.20")]);
    assert_eq!(
        out,
        "images:\n- name: a\n  newTag: \"1.1\"\n- name: b\n  newTag: 'it''s'\n- name: c\n  newTag: \"1.20\"\n"
    );
}

#[test]
fn indented_lists_comments_between_entries_and_new_entries_follow_the_file() {
    let text = "\
resources:
  - ../../base
images:
  # the web tier
  - name: web
    newTag: 1.0.0

  # the worker
  - name: worker
    newTag: 1.0.0
# trailing comment about patches
patches:
  - path: replicas.yaml
";
    let out = edit(text, &[tag("worker", "1.1.0"), tag("api", "2.0.0")]);
    let expected = "\
resources:
  - ../../base
images:
  # the web tier
  - name: web
    newTag: 1.0.0

  # the worker
  - name: worker
    newTag: 1.1.0
  - name: api
    newTag: 2.0.0
# trailing comment about patches
patches:
  - path: replicas.yaml
";
    assert_eq!(out, expected);
}

#[test]
fn a_missing_images_list_is_appended_in_the_files_list_style() {
    let text = "resources:\n  - base\nnamespace: prod";
    assert_eq!(
        edit(text, &[tag("app", "1.0.0")]),
        "resources:\n  - base\nnamespace: prod\nimages:\n  - name: app\n    newTag: 1.0.0\n"
    );
    let text = "resources:\n- base\n";
    assert_eq!(
        edit(text, &[tag("app", "1.0.0")]),
        "resources:\n- base\nimages:\n- name: app\n  newTag: 1.0.0\n"
    );
}

#[test]
fn empty_and_null_lists_become_block_lists() {
    assert_eq!(
        edit(
            "images: []  # none yet\nresources:\n- base\n",
            &[tag("app", "1")]
        ),
        "images: # none yet\n- name: app\n  newTag: \"1\"\nresources:\n- base\n"
    );
    assert_eq!(
        edit("resources:\n- base\nimages:", &[tag("app", "v1")]),
        "resources:\n- base\nimages:\n- name: app\n  newTag: v1\n"
    );
    assert_eq!(
        edit("images: ~\n", &[tag("app", "v1")]),
        "images:\n- name: app\n  newTag: v1\n"
    );
}

#[test]
fn crlf_files_stay_crlf() {
    let text = "resources:\r\n- base\r\nimages:\r\n- name: app\r\n  newTag: v1\r\n";
    assert_eq!(
        edit(text, &[tag("app", "v2"), tag("db", "15")]),
        "resources:\r\n- base\r\nimages:\r\n- name: app\r\n  newTag: v2\r\n- name: db\r\n  newTag: \"15\"\r\n"
    );
}

#[test]
fn a_digest_replaces_a_tag_and_new_keys_go_in_kustomizes_order() {
    let text = "images:\n- name: app # the app\n  newTag: v1\n  tagSuffix: -debug\n";
    let change = ImageEntryChange {
        new_name: FieldChange::Set("ghcr.io/o/app".into()),
        new_tag: FieldChange::Remove,
        digest: FieldChange::Set(SHA.into()),
        ..ImageEntryChange::keep("app")
    };
    assert_eq!(
        edit(text, &[change]),
        format!(
            "images:\n- name: app # the app\n  newName: ghcr.io/o/app\n  digest: {SHA}\n  tagSuffix: -debug\n"
        )
    );
}

#[test]
fn new_keys_land_after_the_last_key_before_them() {
    let text = "images:\n- name: app\n  newTag: v1\n  digest: sha256:x\n";
    let change = ImageEntryChange {
        new_name: FieldChange::Set("reg/app".into()),
        ..ImageEntryChange::keep("app")
    };
    assert_eq!(
        edit(text, &[change]),
        "images:\n- name: app\n  newName: reg/app\n  newTag: v1\n  digest: sha256:x\n"
    );
}

#[test]
fn a_key_on_the_dash_line_that_must_go_rewrites_that_entry_only() {
    let text = "images:\n- newName: other/app\n  name: app\n  newTag: v1\n- name: keep   # untouched\n  newTag: '1'\n";
    let change = ImageEntryChange {
        new_name: FieldChange::Remove,
        ..tag("app", "v2")
    };
    assert_eq!(
        edit(text, &[change]),
        "images:\n- name: app\n  newTag: v2\n- name: keep   # untouched\n  newTag: '1'\n"
    );
}

#[test]
fn entries_opened_by_a_lone_dash_and_flow_entries_are_edited() {
    let text = "images:\n-\n  name: a\n  newTag: v1\n- {name: b, newTag: v1}  # flow\n";
    assert_eq!(
        edit(text, &[tag("a", "v2"), tag("b", "v2")]),
        "images:\n-\n  name: a\n  newTag: v2\n- {name: b, newTag: v2}  # flow\n"
    );
}

#[test]
fn documents_with_markers_and_an_indented_sequence_under_a_comment() {
    let text = "%YAML 1.2\n---\n# overlay\nimages:\n    - name: app\n      newTag: v1\n...\n";
    assert_eq!(
        edit(text, &[tag("app", "v2"), tag("db", "v3")]),
        "%YAML 1.2\n---\n# overlay\nimages:\n    - name: app\n      newTag: v2\n    - name: db\n      newTag: v3\n...\n"
    );
    let text = "---\nresources:\n- base\n...\n";
    assert_eq!(
        edit(text, &[tag("app", "v2")]),
        "---\nresources:\n- base\nimages:\n- name: app\n  newTag: v2\n...\n"
    );
}

#[test]
fn a_file_that_already_says_it_is_not_changed() {
    let text = "images:\n- name: app\n  newTag: \"1.4.0\"\n";
    assert_eq!(
        set_images("k.yaml", text, &[tag("app", "1.4.0")]).unwrap(),
        None
    );
}

#[test]
fn the_last_entry_without_a_final_newline() {
    assert_eq!(
        edit(
            "images:\n- name: app\n  newTag: v1",
            &[tag("app", "v2"), tag("b", "v1")]
        ),
        "images:\n- name: app\n  newTag: v2\n- name: b\n  newTag: v1\n"
    );
    let change = ImageEntryChange {
        new_name: FieldChange::Set("reg/app".into()),
        ..ImageEntryChange::keep("app")
    };
    assert_eq!(
        edit("images:\n- name: app\n  newTag: v1", &[change]),
        "images:\n- name: app\n  newName: reg/app\n  newTag: v1"
    );
}

#[test]
fn shapes_that_cannot_be_edited_safely_are_refused() {
    for (text, says) in [
        ("images: [{name: app, newTag: v1}]\n", "flow-style list"),
        ("images:\n- name: app\n  newTag: &t v1\n", "does not edit"),
        (
            "images:\n- name: app\n  newTag: v1\n- name: app\n  newTag: v2\n",
            "2 entries named \"app\"",
        ),
        ("images: []\n---\nimages: []\n", "several YAML documents"),
        ("{images: []}\n", "flow style"),
        (
            "images:\n- name: app\n  newTag: >-\n    v1\n",
            "does not edit",
        ),
        ("images: 3\n", "not a list"),
        ("# nothing\n", "not a mapping"),
    ] {
        let err = refused(text, &[tag("app", "v9")]);
        assert!(err.contains(says), "{text:?}: {err}");
    }
}

#[test]
fn several_changes_of_one_name_merge() {
    let changes = [
        tag("app", "v1"),
        ImageEntryChange {
            new_name: FieldChange::Set("reg/app".into()),
            ..ImageEntryChange::keep("app")
        },
    ];
    assert_eq!(
        edit("images: []\n", &changes),
        "images:\n- name: app\n  newName: reg/app\n  newTag: v1\n"
    );
}
