//! The repo index on a real git repository: multi-document files, other kinds, broken files,
//! duplicates, hostile YAML, a huge file; then an incremental update after a one-file commit.

use crate::support::TestRepo;
use tollgate::repo::{ConfigRepo, IndexOptions, ProblemKind, RepoIndex};
use tollgate::resources::{Kind, Resource, ResourceKey};

fn api(ns: &str, name: &str, target: &str) -> String {
    format!(
        "apiVersion: tyk.tyk.io/v1alpha1\nkind: ApiDefinition\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  name: {name}\n  protocol: http\n  use_keyless: true\n  proxy:\n    listen_path: /{name}\n    target_url: {target}\n"
    )
}

fn bomb() -> String {
    let mut text = String::from(
        "apiVersion: tyk.tyk.io/v1alpha1\nkind: ApiDefinition\nmetadata: {name: bomb}\nspec:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n",
    );
    for i in 1..12 {
        let p = i - 1;
        text.push_str(&format!(
            "  a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    text
}

fn key(kind: Kind, ns: &str, name: &str) -> ResourceKey {
    ResourceKey::new(kind, ns, name)
}

#[test]
fn index_reads_resources_and_reports_problems_then_updates_incrementally() {
    let repo = TestRepo::new();
    let multi = format!(
        "# several kinds in one file\n{}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n---\napiVersion: tyk.tyk.io/v1alpha1\nkind: SecurityPolicy\nmetadata:\n  name: gold\n  namespace: shop\nspec:\n  name: Gold\n  state: active\n  active: true\n  access_rights_array:\n    - {{name: cart, namespace: shop, versions: [Default]}}\n",
        api("shop", "cart", "http://cart:8080")
    );
    repo.write("apis/shop/multi.yaml", multi)
        .write("apis/shop/orders.yml", api("shop", "orders", "http://orders:8080"))
        .write("apis/default/no-namespace.yaml", api("", "plain", "http://plain").replace("  namespace: \n", ""))
        .write("broken/syntax.yaml", "apiVersion: tyk.tyk.io/v1alpha1\nkind: ApiDefinition\nmetadata: {name: broken\nspec: {}\n")
        .write("broken/dup.yaml", format!("# the same API again\n{}", api("shop", "cart", "http://elsewhere")))
        .write("broken/bomb.yaml", bomb())
        .write("broken/big.yaml", format!("# {}\n", "x".repeat(2 * 1024 * 1024)))
        .write("broken/latin1.yaml", b"kind: ConfigMap\nmetadata: {name: caf\xe9}\n".as_slice())
        .write("broken/schema.yaml", api("shop", "typed", "http://t").replace("use_keyless: true", "use_keyless: [not, a, bool]"))
        .write("README.md", "not yaml: [");
    let first = repo.commit("first");

    let config_repo = ConfigRepo::open(repo.path()).expect("open");
    let head = config_repo.head_of("main").expect("head");
    assert_eq!(head.to_string(), first);
    let options = IndexOptions::default();
    let index = RepoIndex::build(&config_repo, head, None, &options).expect("index");

    let keys: Vec<String> = index.resources().map(|r| r.key.to_string()).collect();
    assert_eq!(
        keys,
        vec![
            "ApiDefinition/default/plain",
            "ApiDefinition/shop/cart",
            "ApiDefinition/shop/orders",
            "SecurityPolicy/shop/gold",
        ]
    );
    let cart = index
        .get(&key(Kind::ApiDefinition, "shop", "cart"))
        .expect("cart");
    assert_eq!(&*cart.path, "apis/shop/multi.yaml");
    assert_eq!(
        cart.line, 2,
        "a document's line is its first content line, after comments"
    );
    let gold = index
        .get(&key(Kind::SecurityPolicy, "shop", "gold"))
        .expect("gold");
    assert_eq!((gold.doc_index, gold.line), (2, 20));
    assert!(
        gold.source
            .starts_with("apiVersion: tyk.tyk.io/v1alpha1\nkind: SecurityPolicy")
    );

    let problems: Vec<(String, Option<u32>, ProblemKind)> = index
        .problems()
        .iter()
        .map(|p| (p.path.clone(), p.line, p.kind))
        .collect();
    let find = |path: &str| {
        problems
            .iter()
            .find(|p| p.0 == path)
            .unwrap_or_else(|| panic!("no problem for {path}: {problems:?}"))
    };
    assert_eq!(find("broken/big.yaml").2, ProblemKind::TooLarge);
    assert_eq!(find("broken/latin1.yaml").2, ProblemKind::NotUtf8);
    assert_eq!(find("broken/bomb.yaml").2, ProblemKind::Syntax);
    let syntax = find("broken/syntax.yaml");
    assert_eq!(syntax.2, ProblemKind::Syntax);
    assert!(
        syntax.1.is_some_and(|l| (3..=5).contains(&l)),
        "syntax error line: {syntax:?}"
    );
    let dup = index
        .problems()
        .iter()
        .find(|p| p.kind == ProblemKind::Duplicate)
        .expect("duplicate");
    assert_eq!((dup.path.as_str(), dup.line), ("broken/dup.yaml", Some(2)));
    assert!(
        dup.message.contains("apis/shop/multi.yaml:2"),
        "{}",
        dup.message
    );
    let schema = find("broken/schema.yaml");
    assert_eq!(schema.2, ProblemKind::Schema);
    assert!(
        index
            .problems()
            .iter()
            .any(|p| p.kind == ProblemKind::Schema && p.message.contains("spec.use_keyless"))
    );
    assert_eq!(problems.len(), 6, "{problems:?}");
    assert_eq!(index.stats().files_read, index.file_count());

    // One file changes: only it is read again.
    repo.write(
        "apis/shop/orders.yml",
        api("shop", "orders", "http://orders-v2:8080"),
    );
    let second = repo.commit("second");
    let head2 = config_repo.head_of("main").expect("head");
    assert_eq!(head2.to_string(), second);
    let next = RepoIndex::build(&config_repo, head2, Some(&index), &options).expect("incremental");
    assert_eq!(next.stats().files_read, 1);
    assert_eq!(next.stats().files_reused, index.file_count() - 1);
    let orders = next
        .get(&key(Kind::ApiDefinition, "shop", "orders"))
        .expect("orders");
    let Resource::Api(orders_api) = orders.resource.as_ref() else {
        panic!("an API")
    };
    assert_eq!(
        orders_api
            .spec
            .as_ref()
            .and_then(|s| s.proxy.as_ref())
            .and_then(|p| p.target_url.as_deref()),
        Some("http://orders-v2:8080")
    );
    assert_eq!(next.problems(), index.problems());

    // A file is removed and one fixed: the index follows.
    repo.git(&["rm", "-q", "broken/dup.yaml"]);
    repo.write("broken/syntax.yaml", api("shop", "fixed", "http://fixed"));
    repo.commit("third");
    let head3 = config_repo.head_of("main").expect("head");
    let third = RepoIndex::build(&config_repo, head3, Some(&next), &options).expect("incremental");
    assert_eq!(third.stats().files_read, 1);
    assert!(
        third
            .get(&key(Kind::ApiDefinition, "shop", "fixed"))
            .is_some()
    );
    assert!(
        !third
            .problems()
            .iter()
            .any(|p| p.kind == ProblemKind::Duplicate || p.path == "broken/syntax.yaml")
    );
    assert_eq!(third.problems().len(), 4);
}

#[test]
fn unknown_branch_is_a_clear_error() {
    let repo = TestRepo::new();
    repo.write("a.yaml", "a: 1\n");
    repo.commit("init");
    let config_repo = ConfigRepo::open(repo.path()).expect("open");
    let err = config_repo.head_of("release").expect_err("no such branch");
    assert_eq!(
        err.to_string(),
        "branch `release` not found in the config repository"
    );
    let err = ConfigRepo::open(&repo.path().join("nope")).expect_err("no repo");
    assert!(
        err.to_string().contains("cannot open the git repository"),
        "{err}"
    );
}

#[test]
fn unknown_api_versions_are_problems_not_v1alpha1() {
    let repo = TestRepo::new();
    let v9 = api("shop", "future", "http://future").replace("tyk.tyk.io/v1alpha1", "tyk.tyk.io/v9");
    repo.write("apis/shop/ok.yaml", api("shop", "ok", "http://ok"))
        .write(
            "apis/shop/future.yaml",
            format!("# from a newer operator\n{v9}"),
        );
    repo.commit("init");
    let config_repo = ConfigRepo::open(repo.path()).expect("open");
    let head = config_repo.head_of("main").expect("head");
    let index =
        RepoIndex::build(&config_repo, head, None, &IndexOptions::default()).expect("index");
    let keys: Vec<String> = index.resources().map(|r| r.key.to_string()).collect();
    assert_eq!(
        keys,
        ["ApiDefinition/shop/ok"],
        "v9 is not read as v1alpha1"
    );
    let problem = &index.problems()[0];
    assert_eq!(
        (problem.path.as_str(), problem.line, problem.kind),
        ("apis/shop/future.yaml", Some(2), ProblemKind::Schema),
        "{problem:?}"
    );
    assert!(problem.message.contains("tyk.tyk.io/v9"), "{problem:?}");
}
