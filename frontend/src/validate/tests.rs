//! Each rule with a failing and a passing case. The same tests run natively (`cargo test`) and
//! compiled to wasm (`wasm-bindgen-test-runner`), the build the browser runs.

use super::*;
use serde_json::json;

macro_rules! case {
    ($name:ident, $body:block) => {
        #[cfg_attr(not(target_arch = "wasm32"), test)]
        #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
        fn $name() $body
    };
}

fn api() -> Value {
    json!({
        "apiVersion": "tyk.tyk.io/v1alpha1", "kind": "ApiDefinition",
        "metadata": {"name": "httpbin", "namespace": "default"},
        "spec": {"name": "httpbin", "protocol": "http", "active": true, "use_keyless": true,
                 "proxy": {"listen_path": "/httpbin", "target_url": "http://httpbin.org", "strip_listen_path": true}}
    })
}

fn policy() -> Value {
    json!({
        "apiVersion": "tyk.tyk.io/v1alpha1", "kind": "SecurityPolicy",
        "metadata": {"name": "gold", "namespace": "default"},
        "spec": {"name": "Gold", "state": "active", "active": true, "rate": 10, "per": 60,
                 "access_rights_array": [{"name": "httpbin", "namespace": "default", "versions": ["Default"]}]}
    })
}

fn codes(issues: &[Issue]) -> Vec<&str> {
    issues
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .map(|i| i.code.as_str())
        .collect()
}

fn api_codes(change: impl FnOnce(&mut Value)) -> Vec<String> {
    let mut doc = api();
    change(&mut doc);
    codes(&validate_api("ApiDefinition/default/httpbin", &doc))
        .into_iter()
        .map(str::to_owned)
        .collect()
}

case!(a_valid_api_passes, {
    assert!(validate_api("a", &api()).is_empty());
    assert!(validate_policy("p", &policy()).is_empty());
});

case!(names_must_be_kubernetes_names, {
    assert_eq!(
        api_codes(|d| d["metadata"]["name"] = json!("Bad_Name")),
        vec!["invalid_name"]
    );
    assert_eq!(
        api_codes(|d| d["metadata"]["name"] = json!("")),
        vec!["required"]
    );
    assert_eq!(
        api_codes(|d| d["metadata"]["namespace"] = json!("a.b")),
        vec!["invalid_namespace"]
    );
    assert!(api_codes(|d| d["metadata"]["name"] = json!("v2.api-1")).is_empty());
    // DNS-1123 subdomains: every dot-separated part starts and ends with a letter or digit.
    for bad in ["a..b", "a.-b", "a-.b", ".a", "a.", &"a".repeat(254)] {
        assert_eq!(
            api_codes(|d| d["metadata"]["name"] = json!(bad)),
            vec!["invalid_name"],
            "{bad}"
        );
    }
    assert!(api_codes(|d| d["metadata"]["name"] = json!("a".repeat(253))).is_empty());
    assert!(api_codes(|d| d["metadata"]["name"] = json!("0.a-b.c")).is_empty());
});

case!(only_known_api_versions, {
    assert_eq!(
        api_codes(|d| d["apiVersion"] = json!("tyk.tyk.io/v9")),
        vec!["unknown_api_version"]
    );
    let mut p = policy();
    p["apiVersion"] = json!("tyk.tyk.io/v1beta1");
    assert_eq!(
        codes(&validate_policy("p", &p)),
        vec!["unknown_api_version"]
    );
});

case!(keyless_and_standard_auth_are_exclusive, {
    let both = api_codes(|d| d["spec"]["use_standard_auth"] = json!(true));
    assert!(both.contains(&"auth_exclusive".to_owned()), "{both:?}");
    assert!(
        api_codes(|d| {
            d["spec"]["use_keyless"] = json!(false);
            d["spec"]["use_standard_auth"] = json!(true);
            d["spec"]["auth_configs"] = json!({"authToken": {"auth_header_name": "Authorization"}});
        })
        .is_empty()
    );
});

case!(standard_auth_needs_an_auth_token_config, {
    let codes = api_codes(|d| {
        d["spec"]["use_keyless"] = json!(false);
        d["spec"]["use_standard_auth"] = json!(true);
    });
    assert_eq!(codes, vec!["auth_token_required"]);
});

case!(empty_target_only_for_graphql_or_internal, {
    assert_eq!(
        api_codes(|d| d["spec"]["proxy"]["target_url"] = json!("")),
        vec!["target_required"]
    );
    assert!(
        api_codes(|d| {
            d["spec"]["proxy"]["target_url"] = json!("");
            d["spec"]["graphql"] = json!({"enabled": true, "execution_mode": "executionEngine"});
        })
        .is_empty()
    );
    assert!(
        api_codes(|d| {
            d["spec"]["proxy"]["target_url"] = json!("");
            d["spec"]["proxy"]["target_internal"] =
                json!({"target": {"name": "other", "namespace": "default"}});
        })
        .is_empty()
    );
    assert_eq!(
        api_codes(|d| d["spec"]["proxy"]["target_url"] = json!("not a url")),
        vec!["invalid_url"]
    );
});

case!(required_fields_and_enums, {
    assert_eq!(
        api_codes(|d| d["spec"]["protocol"] = json!("ftp")),
        vec!["invalid_enum"]
    );
    assert_eq!(
        api_codes(|d| d["spec"]["name"] = json!("")),
        vec!["required"]
    );
    assert_eq!(
        api_codes(|d| d["spec"]["proxy"]["listen_path"] = json!("httpbin")),
        vec!["invalid_listen_path"]
    );
    assert_eq!(
        api_codes(
            |d| d["spec"]["CORS"] = json!({"enable": true, "allowed_methods": ["GET", "FETCH"]})
        ),
        vec!["invalid_enum"]
    );
});

case!(jwt_needs_method_and_source, {
    let codes = api_codes(|d| {
        d["spec"]["use_keyless"] = json!(false);
        d["spec"]["enable_jwt"] = json!(true);
    });
    assert_eq!(codes, vec!["invalid_enum", "required"]);
    assert!(
        api_codes(|d| {
            d["spec"]["use_keyless"] = json!(false);
            d["spec"]["enable_jwt"] = json!(true);
            d["spec"]["jwt_signing_method"] = json!("rsa");
            d["spec"]["jwt_source"] = json!("https://idp.example/jwks");
            d["spec"]["jwt_identity_base_field"] = json!("sub");
        })
        .is_empty()
    );
});

case!(rate_limits_versions_and_ip_lists, {
    assert_eq!(
        api_codes(|d| d["spec"]["global_rate_limit"] = json!({"rate": 10, "per": 0})),
        vec!["invalid_number"]
    );
    assert!(
        api_codes(|d| d["spec"]["global_rate_limit"] = json!({"rate": 10, "per": 60})).is_empty()
    );
    assert_eq!(
        api_codes(
            |d| d["spec"]["version_data"] = json!({"not_versioned": false, "default_version": "v3", "versions": {"v1": {"name": "v1"}}})
        ),
        vec!["unknown_version"]
    );
    assert_eq!(
        api_codes(|d| {
            d["spec"]["enable_ip_whitelisting"] = json!(true);
            d["spec"]["allowed_ips"] = json!(["10.0.0.1", "10.0.0.0/33"]);
        }),
        vec!["invalid_ip"]
    );
    assert!(
        api_codes(|d| {
            d["spec"]["enable_ip_whitelisting"] = json!(true);
            d["spec"]["allowed_ips"] = json!(["10.0.0.1", "10.0.0.0/8", "2001:db8::/32"]);
        })
        .is_empty()
    );
});

case!(policy_rules, {
    let mut p = policy();
    p["spec"]["state"] = json!("on");
    p["spec"]["access_rights_array"][0]["namespace"] = json!("");
    let issues = validate_policy("p", &p);
    assert_eq!(codes(&issues), vec!["invalid_enum", "required"]);
    assert_eq!(issues[1].field, "spec.access_rights_array[0].namespace");
});

fn env() -> Environment {
    Environment {
        apis: vec![
            ApiRef {
                kind: "ApiDefinition".into(),
                namespace: "default".into(),
                name: "a".into(),
                domain: String::new(),
                listen_path: Some("/a".into()),
            },
            ApiRef {
                kind: "ApiDefinition".into(),
                namespace: "default".into(),
                name: "b".into(),
                domain: String::new(),
                listen_path: Some("/b/".into()),
            },
            ApiRef {
                kind: "ApiDefinition".into(),
                namespace: "other".into(),
                name: "c".into(),
                domain: "api.example.com".into(),
                listen_path: Some("/a".into()),
            },
        ],
        policies: vec![PolicyRef {
            namespace: "default".into(),
            name: "gold".into(),
        }],
        grants: vec![GrantRef {
            policy_namespace: "default".into(),
            policy_name: "gold".into(),
            index: 0,
            api_kind: "ApiDefinition".into(),
            api_namespace: "default".into(),
            api_name: "a".into(),
        }],
        jwt_defaults: vec![DefaultPolicyRef {
            api_namespace: "default".into(),
            api_name: "b".into(),
            policy_namespace: "default".into(),
            policy_name: "gold".into(),
        }],
    }
}

case!(listen_paths_are_unique_per_domain, {
    let env = env();
    assert!(
        validate_environment(&env, &["ApiDefinition/default/a".into()]).is_empty(),
        "same path on another domain is fine"
    );
    let mut clash = env.clone();
    clash.apis[1].listen_path = Some("/a/".into());
    let issues = validate_environment(&clash, &["ApiDefinition/default/b".into()]);
    assert_eq!(codes(&issues), vec!["listen_path_taken"]);
    assert_eq!(issues[0].resource, "ApiDefinition/default/b");
    // A whole repo: both sides of the clash, and nothing else.
    assert!(validate_whole_environment(&env).is_empty());
    let whole = validate_whole_environment(&clash);
    let resources: Vec<&str> = whole.iter().map(|i| i.resource.as_str()).collect();
    assert_eq!(
        resources,
        ["ApiDefinition/default/b", "ApiDefinition/default/a"]
    );
});

case!(references_must_exist, {
    let mut env = env();
    assert!(validate_environment(&env, &["SecurityPolicy/default/gold".into()]).is_empty());
    env.grants[0].api_name = "gone".into();
    assert_eq!(
        codes(&validate_environment(
            &env,
            &["SecurityPolicy/default/gold".into()]
        )),
        vec!["missing_api"]
    );
    let mut env = self::env();
    env.policies.clear();
    assert_eq!(
        codes(&validate_environment(
            &env,
            &["ApiDefinition/default/b".into()]
        )),
        vec!["missing_policy"]
    );
    // Deleting an API a policy still grants: the grant now points at nothing.
    let mut env = self::env();
    env.apis.remove(0);
    assert_eq!(
        codes(&validate_environment(
            &env,
            &["ApiDefinition/default/a".into()]
        )),
        vec!["missing_api"]
    );
});

case!(oas_rules, {
    let cr = json!({"apiVersion": "tyk.tyk.io/v1alpha1", "kind": "TykOasApiDefinition", "metadata": {"name": "pets", "namespace": "default"},
        "spec": {"tykOAS": {"configmapRef": {"name": "pets", "keyName": "oas.json"}}}});
    let doc = json!({"openapi": "3.0.3", "x-tyk-api-gateway": {"info": {"name": "Pets", "state": {"active": true}},
        "server": {"listenPath": {"value": "/pets/", "strip": true}}, "upstream": {"url": "http://pets:8080"}}});
    assert!(validate_oas("o", &cr, Some(&doc)).is_empty());
    let mut bad = doc.clone();
    bad["x-tyk-api-gateway"]["server"]["listenPath"]["value"] = json!("pets");
    bad["x-tyk-api-gateway"]["upstream"]["url"] = json!("");
    assert_eq!(
        codes(&validate_oas("o", &cr, Some(&bad))),
        vec!["invalid_listen_path", "invalid_url"]
    );
    assert_eq!(
        codes(&validate_oas("o", &cr, Some(&json!({"openapi": "3.0.3"})))),
        vec!["required"]
    );
    assert_eq!(
        codes(&validate_oas("o", &cr, None)),
        vec!["missing_configmap"]
    );
});

/// The repo the form checks against: `payments/payments-api` on `api.example.com`,
/// `payments/invoices` on no domain, and a policy granting the first.
fn context() -> Environment {
    let mut env = Environment::default();
    let mut on = |ns: &str, name: &str, domain: Option<&str>, lp: &str| {
        let mut doc = api();
        doc["spec"]["proxy"]["listen_path"] = json!(lp);
        if let Some(d) = domain {
            doc["spec"]["domain"] = json!(d);
        }
        env.add("ApiDefinition", ns, name, &doc);
    };
    on(
        "payments",
        "payments-api",
        Some("api.example.com"),
        "/payments/",
    );
    on("payments", "invoices", None, "/payments/invoices/");
    let mut gold = policy();
    gold["spec"]["access_rights_array"] =
        json!([{"name": "payments-api", "namespace": "payments", "kind": "ApiDefinition"}]);
    env.add("SecurityPolicy", "payments", "gold", &gold);
    env
}

fn api_at(ns: &str, name: &str, domain: &str, lp: &str) -> Value {
    let mut doc = api();
    doc["metadata"] = json!({"name": name, "namespace": ns});
    doc["spec"]["domain"] = json!(domain);
    doc["spec"]["proxy"]["listen_path"] = json!(lp);
    doc
}

case!(
    a_listen_path_taken_on_the_same_domain_is_an_error_at_the_field,
    {
        let doc = api_at("shop", "orders", "api.example.com", "/payments");
        let issues = validate_in_context(&context(), "ApiDefinition", None, "default", &doc);
        assert_eq!(codes(&issues), vec!["listen_path_taken"]);
        assert_eq!(issues[0].field, "spec.proxy.listen_path");
        assert_eq!(issues[0].resource, "ApiDefinition/shop/orders");
        assert_eq!(
            issues[0].message,
            "listen path /payments is already used by payments/payments-api on api.example.com"
        );
        // No domain on either side: the message names none.
        let doc = api_at("shop", "orders", "", "/payments/invoices/");
        let issues = validate_in_context(&context(), "ApiDefinition", None, "default", &doc);
        assert_eq!(
            issues[0].message,
            "listen path /payments/invoices/ is already used by payments/invoices"
        );
    }
);

case!(the_same_listen_path_on_another_domain_is_fine, {
    let doc = api_at("shop", "orders", "shop.example.com", "/payments/");
    assert!(validate_in_context(&context(), "ApiDefinition", None, "default", &doc).is_empty());
});

case!(
    an_edit_does_not_conflict_with_itself_nor_a_rename_with_its_old_self,
    {
        let own = api_at("payments", "invoices", "", "/payments/invoices/");
        let original = Some(("payments", "invoices"));
        assert!(
            validate_in_context(&context(), "ApiDefinition", original, "default", &own).is_empty()
        );
        let renamed = api_at("payments", "invoices-v2", "", "/payments/invoices/");
        assert!(
            validate_in_context(&context(), "ApiDefinition", original, "default", &renamed)
                .is_empty(),
            "a rename keeps its listen path"
        );
        // Renaming an API a policy grants leaves the grant pointing at nothing: said at the name.
        let mut moved = api_at(
            "payments",
            "payments-api-v2",
            "api.example.com",
            "/payments/",
        );
        moved["spec"]["domain"] = json!("api.example.com");
        let issues = validate_in_context(
            &context(),
            "ApiDefinition",
            Some(("payments", "payments-api")),
            "default",
            &moved,
        );
        assert_eq!(codes(&issues), vec!["missing_api"]);
        assert_eq!(issues[0].field, "metadata.name");
        assert_eq!(
            issues[0].message,
            "SecurityPolicy/payments/gold: grants ApiDefinition payments/payments-api, which does not exist"
        );
    }
);

case!(a_policy_granting_a_missing_api_is_an_error_at_the_grant, {
    let mut doc = policy();
    doc["metadata"] = json!({"name": "silver", "namespace": "payments"});
    doc["spec"]["access_rights_array"] = json!([
        {"name": "invoices", "namespace": "payments"},
        {"name": "gone", "namespace": "payments", "kind": "ApiDefinition"},
        {"name": "", "namespace": "payments"}
    ]);
    let issues = validate_in_context(&context(), "SecurityPolicy", None, "default", &doc);
    assert_eq!(codes(&issues), vec!["missing_api"]);
    assert_eq!(issues[0].field, "spec.access_rights_array[1]");
    assert_eq!(
        issues[0].message,
        "grants ApiDefinition payments/gone, which does not exist"
    );
    // Editing the policy that grants an existing API: nothing to say.
    let mut gold = policy();
    gold["metadata"] = json!({"name": "gold", "namespace": "payments"});
    gold["spec"]["access_rights_array"] =
        json!([{"name": "payments-api", "namespace": "payments"}]);
    let original = Some(("payments", "gold"));
    assert!(
        validate_in_context(&context(), "SecurityPolicy", original, "default", &gold).is_empty()
    );
});

case!(an_oas_api_listen_path_counts_too, {
    let cr = |name: &str| {
        json!({"apiVersion": "tyk.tyk.io/v1alpha1", "kind": "TykOasApiDefinition",
            "metadata": {"name": name, "namespace": "catalog"},
            "spec": {"tykOAS": {"configmapRef": {"name": "pets", "keyName": "oas.json"}}}})
    };
    let oas = |lp: &str| json!({"x-tyk-api-gateway": {"server": {"listenPath": {"value": lp}}}});
    let mut context = context();
    context.add_oas("catalog", "pets", Some(&oas("/catalog/pets/")));
    let issues = validate_oas_in_context(
        &context,
        None,
        "default",
        &cr("pets-v2"),
        &oas("/payments/invoices/"),
    );
    assert_eq!(codes(&issues), vec!["listen_path_taken"]);
    assert_eq!(issues[0].field, "x-tyk-api-gateway.server.listenPath.value");
    let own = Some(("catalog", "pets"));
    assert!(
        validate_oas_in_context(
            &context,
            own,
            "default",
            &cr("pets"),
            &oas("/catalog/pets/")
        )
        .is_empty()
    );
    // An API form sees the OAS API's path.
    let doc = api_at("shop", "pets", "", "/catalog/pets");
    let issues = validate_in_context(&context, "ApiDefinition", None, "default", &doc);
    assert_eq!(
        issues[0].message,
        "listen path /catalog/pets is already used by catalog/pets"
    );
});
