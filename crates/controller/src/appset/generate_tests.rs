use super::*;
use crate::appset::spec::{DirectoryMatch, FileMatch, MatrixGenerator};
use serde_json::json;

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn git(directories: &[(&str, bool)], files: &[&str]) -> GitGenerator {
    GitGenerator {
        repo_url: "https://git.example/deploy.git".into(),
        directories: directories
            .iter()
            .map(|(path, exclude)| DirectoryMatch {
                path: (*path).into(),
                exclude: *exclude,
            })
            .collect(),
        files: files
            .iter()
            .map(|path| FileMatch {
                path: (*path).into(),
            })
            .collect(),
        ..GitGenerator::default()
    }
}

fn inputs(tree: &Path) -> Inputs {
    Inputs {
        trees: [(
            ("https://git.example/deploy.git".into(), "HEAD".into()),
            tree.to_path_buf(),
        )]
        .into(),
        clusters: Vec::new(),
    }
}

fn values<'a>(sets: &'a [Params], key: &str) -> Vec<&'a str> {
    sets.iter().map(|p| p[key].as_str()).collect()
}

#[test]
fn a_folder_per_app_minus_the_excluded_ones() {
    let repo = tree(&[
        ("apps/web/deployment.yaml", ""),
        ("apps/api/deployment.yaml", ""),
        ("apps/legacy/deployment.yaml", ""),
        ("apps/web/overlays/prod/kustomization.yaml", ""),
        ("README.md", ""),
        (".github/workflows/ci.yaml", ""),
    ]);
    let generator = Generator {
        git: Some(git(&[("apps/*", false), ("apps/legacy", true)], &[])),
        ..Generator::default()
    };
    let sets = generate(&[generator], &inputs(repo.path())).unwrap();
    assert_eq!(values(&sets, "path"), ["apps/api", "apps/web"]);
    assert_eq!(values(&sets, "path.basename"), ["api", "web"]);
    assert_eq!(sets[1]["path[0]"], "apps");
    assert_eq!(sets[1]["path[1]"], "web");
}

#[test]
fn a_set_per_parameter_file_and_per_element_of_a_list() {
    let repo = tree(&[
        (
            "clusters/eu/config.json",
            r#"{"cluster": {"name": "prod-eu", "replicas": 3}, "region": "eu"}"#,
        ),
        (
            "clusters/us/config.yaml",
            "- cluster: {name: prod-us}\n  region: us\n- cluster: {name: stage-us}\n  region: us\n",
        ),
        ("clusters/us/notes.txt", "not matched"),
    ]);
    let generator = Generator {
        git: Some(git(&[], &["clusters/**/config.*"])),
        ..Generator::default()
    };
    let sets = generate(&[generator], &inputs(repo.path())).unwrap();
    assert_eq!(
        values(&sets, "cluster.name"),
        ["prod-eu", "prod-us", "stage-us"]
    );
    assert_eq!(sets[0]["cluster.replicas"], "3");
    assert_eq!(sets[0]["path"], "clusters/eu");
    assert_eq!(sets[0]["path.basename"], "eu");
    assert_eq!(sets[0]["path.filename"], "config.json");
    assert_eq!(sets[2]["path.filename"], "config.yaml");
}

#[test]
fn a_parameter_file_that_is_not_yaml_names_itself() {
    let repo = tree(&[("envs/dev.yaml", "a: [unclosed\n")]);
    let generator = Generator {
        git: Some(git(&[], &["envs/*.yaml"])),
        ..Generator::default()
    };
    let err = generate(&[generator], &inputs(repo.path())).unwrap_err();
    assert!(
        err.contains("spec.generators[0]: envs/dev.yaml is not JSON or YAML"),
        "{err}"
    );
}

#[test]
fn list_elements_flatten_and_a_matrix_combines_two_generators() {
    let list = |elements: serde_json::Value| ListGenerator {
        elements: serde_json::from_value(elements).unwrap(),
    };
    let environments = NestedGenerator {
        list: Some(list(
            json!([{"env": "dev"}, {"env": "prod", "values": {"replicas": 3}}]),
        )),
        ..NestedGenerator::default()
    };
    let apps = NestedGenerator {
        list: Some(list(json!([{"app": "web"}, {"app": "api"}]))),
        ..NestedGenerator::default()
    };
    let matrix = Generator {
        matrix: Some(MatrixGenerator {
            generators: vec![environments.clone(), apps],
        }),
        ..Generator::default()
    };
    let sets = generate(&[matrix], &Inputs::default()).unwrap();
    let pairs: Vec<String> = sets
        .iter()
        .map(|p| format!("{}-{}", p["env"], p["app"]))
        .collect();
    assert_eq!(pairs, ["dev-web", "dev-api", "prod-web", "prod-api"]);
    assert_eq!(sets[2]["values.replicas"], "3");

    let clash = Generator {
        matrix: Some(MatrixGenerator {
            generators: vec![environments.clone(), environments],
        }),
        ..Generator::default()
    };
    let err = generate(&[clash], &Inputs::default()).unwrap_err();
    assert!(err.contains("both generators give parameter env"), "{err}");
}

#[test]
fn clusters_are_chosen_by_their_labels() {
    let cluster = |name: &str, env: Option<&str>| RegisteredCluster {
        name: name.into(),
        server: format!("https://{name}.example:6443"),
        labels: env
            .map(|e| [("env".to_owned(), e.to_owned())].into())
            .unwrap_or_default(),
        annotations: BTreeMap::new(),
    };
    let inputs = Inputs {
        trees: BTreeMap::new(),
        clusters: vec![
            cluster("in-cluster", None),
            cluster("prod-eu", Some("prod")),
            cluster("dev", Some("dev")),
        ],
    };
    let all = Generator {
        clusters: Some(ClustersGenerator::default()),
        ..Generator::default()
    };
    assert_eq!(
        values(&generate(&[all], &inputs).unwrap(), "name"),
        ["in-cluster", "prod-eu", "dev"]
    );
    let prod = Generator {
        clusters: Some(ClustersGenerator {
            match_labels: [("env".to_owned(), "prod".to_owned())].into(),
        }),
        ..Generator::default()
    };
    let sets = generate(&[prod], &inputs).unwrap();
    assert_eq!(values(&sets, "name"), ["prod-eu"]);
    assert_eq!(sets[0]["metadata.labels.env"], "prod");
    assert_eq!(sets[0]["server"], "https://prod-eu.example:6443");
}

#[test]
fn a_generator_names_exactly_one_kind() {
    let err = generate(&[Generator::default()], &Inputs::default()).unwrap_err();
    assert!(err.contains("sets none of"), "{err}");
    let both = Generator {
        list: Some(ListGenerator::default()),
        clusters: Some(ClustersGenerator::default()),
        ..Generator::default()
    };
    let err = generate(&[both], &Inputs::default()).unwrap_err();
    assert!(err.contains("more than one"), "{err}");
}
