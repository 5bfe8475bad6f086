//! Edits on the shapes that break naive YAML patchers (flow collections, URLs in lists,
//! quoting, YAML 1.1 words, block scalars, comments, aliases, CRLF).

use super::*;
use serde_json::json;

const FIXTURE: &str = "# Tyk Operator ApiDefinition for httpbin
apiVersion: tyk.tyk.io/v1alpha1
kind: ApiDefinition
metadata:
  name: httpbin   # resource name
  namespace: default
spec:
  name: httpbin
  use_keyless: true  # no auth
  protocol: http
  active: true
  # upstream settings
  proxy:
    # where requests go
    target_url: http://httpbin.org  # upstream
    listen_path: /httpbin
    strip_listen_path: true
  global_rate_limit: {rate: 100, per: 1}
  tags: [a, 'b', \"c\"]
  domain: 'example.com'
  description: \"double quoted\"
  upstreams:
    - http://a.svc:8080
    - \"http://b.svc:8080\"   # quoted
  allowed_ips:
    - 10.0.0.1
    - 10.0.0.2   # office
  notes: >-
    folded text
  certs: |
    line one
    line two
  # trailing comment of spec
";

fn read(text: &str) -> Value {
    crate::yaml::parse_document(text, 1).expect("fixture parses")
}

/// Applies `change` to the parsed fixture, edits the text, returns the changed lines.
fn edited(text: &str, change: impl FnOnce(&mut Value)) -> (String, Vec<(String, String)>) {
    let old = read(text);
    let mut new = old.clone();
    change(&mut new);
    let out = edit_document(text, &old, &new).unwrap_or_else(|e| panic!("edit refused: {e}"));
    assert!(same(&read(&out), &new));
    let a: Vec<&str> = text.lines().collect();
    let b: Vec<&str> = out.lines().collect();
    let changed = if a.len() == b.len() {
        a.iter()
            .zip(&b)
            .filter(|(x, y)| x != y)
            .map(|(x, y)| ((*x).to_owned(), (*y).to_owned()))
            .collect()
    } else {
        Vec::new()
    };
    (out, changed)
}

fn one_line(text: &str, change: impl FnOnce(&mut Value)) -> (String, String) {
    let (out, changed) = edited(text, change);
    assert_eq!(changed.len(), 1, "expected one changed line, got:\n{out}");
    changed.into_iter().next().unwrap_or_default()
}

#[test]
fn untouched_documents_are_byte_identical() {
    let v = read(FIXTURE);
    assert_eq!(edit_document(FIXTURE, &v, &v).unwrap(), FIXTURE);
}

#[test]
fn scalars_keep_their_line_comment_and_style() {
    let (_, after) = one_line(FIXTURE, |v| {
        v["spec"]["proxy"]["target_url"] = json!("http://upstream.svc:8080")
    });
    assert_eq!(
        after,
        "    target_url: http://upstream.svc:8080  # upstream"
    );
    let (_, after) = one_line(FIXTURE, |v| v["spec"]["domain"] = json!("example.org"));
    assert_eq!(after, "  domain: 'example.org'");
    let (_, after) = one_line(FIXTURE, |v| v["spec"]["description"] = json!("say \"hi\""));
    assert_eq!(after, "  description: \"say \\\"hi\\\"\"");
    let (_, after) = one_line(FIXTURE, |v| v["spec"]["use_keyless"] = json!(false));
    assert_eq!(after, "  use_keyless: false  # no auth");
    let (_, after) = one_line(FIXTURE, |v| v["metadata"]["name"] = json!("httpbin-2"));
    assert_eq!(after, "  name: httpbin-2   # resource name");
}

#[test]
fn yaml_1_1_words_are_quoted() {
    let (_, after) = one_line(FIXTURE, |v| v["spec"]["protocol"] = json!("yes"));
    assert!(
        after == "  protocol: 'yes'" || after == "  protocol: \"yes\"",
        "{after}"
    );
    let (_, after) = one_line(FIXTURE, |v| v["spec"]["protocol"] = json!("012"));
    assert!(
        after.contains("'012'") || after.contains("\"012\""),
        "{after}"
    );
}

#[test]
fn flow_collections_change_in_place() {
    let (_, after) = one_line(FIXTURE, |v| {
        v["spec"]["global_rate_limit"]["rate"] = json!(200)
    });
    assert_eq!(after, "  global_rate_limit: {rate: 200, per: 1}");
    let (_, after) = one_line(FIXTURE, |v| v["spec"]["tags"][1] = json!("bb"));
    assert_eq!(after, "  tags: [a, 'bb', \"c\"]");
    let (_, after) = one_line(FIXTURE, |v| {
        v["spec"]["tags"].as_array_mut().unwrap().push(json!("d"))
    });
    assert_eq!(after, "  tags: [a, 'b', \"c\", d]");
    let (_, after) = one_line(FIXTURE, |v| {
        v["spec"]["global_rate_limit"]["quota"] = json!(10)
    });
    assert_eq!(after, "  global_rate_limit: {rate: 100, per: 1, quota: 10}");
    let (_, after) = one_line(FIXTURE, |v| {
        v["spec"]["global_rate_limit"]
            .as_object_mut()
            .unwrap()
            .remove("per");
    });
    assert_eq!(after, "  global_rate_limit: {rate: 100}");
}

#[test]
fn list_items_with_colons_stay_strings() {
    let (_, after) = one_line(FIXTURE, |v| {
        v["spec"]["upstreams"][0] = json!("http://c.svc:9090")
    });
    assert_eq!(after, "    - http://c.svc:9090");
    let (_, after) = one_line(FIXTURE, |v| {
        v["spec"]["upstreams"][1] = json!("http://d.svc:9090")
    });
    assert_eq!(after, "    - \"http://d.svc:9090\"   # quoted");
}

#[test]
fn new_keys_go_after_the_mapping_at_its_indentation() {
    let (out, _) = edited(FIXTURE, |v| {
        v["spec"]["proxy"]["preserve_host_header"] = json!(true)
    });
    assert!(
        out.contains(
            "    strip_listen_path: true\n    preserve_host_header: true\n  global_rate_limit"
        ),
        "{out}"
    );
    let (out, _) =
        edited(
            FIXTURE,
            |v| {
                v["spec"]["CORS"] =
                    json!({"enable": true, "allowed_origins": ["https://a.example"]})
            },
        );
    assert!(out.contains("    line two\n  CORS:\n    enable: true\n    allowed_origins:\n      - https://a.example\n  # trailing comment of spec\n"), "{out}");
    assert_eq!(out.lines().count(), FIXTURE.lines().count() + 4);
}

#[test]
fn block_lists_grow_and_keys_go_away() {
    let (out, _) = edited(FIXTURE, |v| {
        v["spec"]["allowed_ips"]
            .as_array_mut()
            .unwrap()
            .push(json!("10.0.0.3"))
    });
    assert!(
        out.contains("    - 10.0.0.2   # office\n    - 10.0.0.3\n  notes:"),
        "{out}"
    );
    let (out, _) = edited(FIXTURE, |v| {
        v["spec"].as_object_mut().unwrap().remove("domain");
    });
    assert!(
        !out.contains("domain") && out.lines().count() == FIXTURE.lines().count() - 1,
        "{out}"
    );
    let (out, _) = edited(FIXTURE, |v| {
        v["spec"]["proxy"]
            .as_object_mut()
            .unwrap()
            .remove("listen_path");
    });
    assert!(
        out.contains("# upstream\n    strip_listen_path: true"),
        "{out}"
    );
}

#[test]
fn block_scalars_are_rewritten_as_literal_blocks() {
    let (out, _) = edited(FIXTURE, |v| {
        v["spec"]["certs"] = json!("new one\nnew two\n")
    });
    assert!(
        out.contains("  certs: |\n    new one\n    new two\n"),
        "{out}"
    );
    let (out, _) = edited(FIXTURE, |v| v["spec"]["notes"] = json!("a\nb"));
    assert!(out.contains("  notes: |-\n    a\n    b\n"), "{out}");
    let (out, _) = edited(FIXTURE, |v| v["spec"]["notes"] = json!("short"));
    assert!(out.contains("  notes: short\n  certs: |"), "{out}");
}

#[test]
fn edits_through_aliases_are_refused() {
    let text = "spec:\n  base: &base\n    rate: 100\n  alias_user: *base\n";
    let old = read(text);
    let mut new = old.clone();
    new["spec"]["alias_user"]["rate"] = json!(7);
    assert!(
        edit_document(text, &old, &new).is_err(),
        "editing through an alias would change `base` too"
    );
}

#[test]
fn crlf_files_stay_crlf() {
    let text = "a: 1\r\nb:\r\n  c: x\r\n";
    let old = read(&text.replace("\r\n", "\n"));
    let mut new = old.clone();
    new["b"]["c"] = json!("z");
    new["b"]["d"] = json!(2);
    let out = edit_document(text, &old, &new).unwrap();
    assert_eq!(out, "a: 1\r\nb:\r\n  c: z\r\n  d: 2\r\n");
    assert_eq!(
        edit_document(
            "a: 1\r\nb: 2\n",
            &json!({"a": 1, "b": 2}),
            &json!({"a": 2, "b": 2})
        ),
        Err(EditError::MixedLineEndings)
    );
}

#[test]
fn empty_values_and_type_changes() {
    let text = "spec:\n  empty:   # nothing here\n  n: 1\n";
    let (out, _) = edited(text, |v| v["spec"]["empty"] = json!("filled"));
    assert!(out.starts_with("spec:\n  empty: filled"), "{out}");
    let (out, _) = edited(text, |v| v["spec"]["n"] = json!({"rate": 1}));
    assert!(out.contains("  n:\n    rate: 1"), "{out}");
}
