//! GitHub: the Git database API, tokens, and App installation tokens.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_tree_commit_ref_makes_a_branch_with_the_files() {
    let f = fixture().await;
    let tree = f
        .call(Flavour::GitHub, &f.alice, "POST", "/repos/acme/config/git/trees", Some(json!({
            "base_tree": f.base,
            "tree": [
                {"path": "apis/new.yaml", "mode": "100644", "type": "blob", "content": "name: new\n"},
                {"path": "README.md", "mode": "100644", "type": "blob", "sha": null}
            ]
        })))
        .await;
    assert_eq!(tree.status, 201);
    let commit = f
        .call(Flavour::GitHub, &f.alice, "POST", "/repos/acme/config/git/commits", Some(json!({
            "message": "Add new\n\nCo-authored-by: Bob <bob@example.com>", "tree": tree.json()["sha"], "parents": [f.base]
        })))
        .await;
    assert_eq!(commit.status, 201);
    let c = commit.json();
    assert_eq!(c["parents"][0]["sha"], json!(f.base));
    assert_eq!(c["author"]["name"], "alice");
    let sha = c["sha"].as_str().unwrap().to_owned();
    let made = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "POST",
            "/repos/acme/config/git/refs",
            Some(json!({"ref": "refs/heads/tollgate/1-new", "sha": sha})),
        )
        .await;
    assert_eq!(made.status, 201);
    assert_eq!(made.json()["object"]["sha"], json!(sha));
    let again = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "POST",
            "/repos/acme/config/git/refs",
            Some(json!({"ref": "refs/heads/tollgate/1-new", "sha": sha})),
        )
        .await;
    assert_eq!(again.status, 422);
    assert_eq!(again.json()["message"], "Reference already exists");
    let head = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "GET",
            "/repos/acme/config/git/ref/heads/tollgate/1-new",
            None,
        )
        .await;
    assert_eq!(head.json()["object"]["sha"], json!(sha));
    // The real repository holds it: `git show` sees the files.
    assert_eq!(
        f.host
            .file_at(REPO, "tollgate/1-new", "apis/new.yaml")
            .as_deref(),
        Some("name: new\n")
    );
    assert_eq!(f.host.file_at(REPO, "tollgate/1-new", "README.md"), None);
    assert_eq!(
        f.host
            .file_at(REPO, "tollgate/1-new", "apis/petstore.yaml")
            .as_deref(),
        Some("name: petstore\nport: 8080\n")
    );
    // A non-fast-forward update needs force.
    let other = f
        .github_branch("tollgate/2-other", "name: petstore\nport: 1\n")
        .await;
    let patch = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "PATCH",
            "/repos/acme/config/git/refs/heads/tollgate/1-new",
            Some(json!({"sha": other})),
        )
        .await;
    assert_eq!(patch.status, 422);
    assert_eq!(patch.json()["message"], "Update is not a fast forward");
    let forced = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "PATCH",
            "/repos/acme/config/git/refs/heads/tollgate/1-new",
            Some(json!({"sha": other, "force": true})),
        )
        .await;
    assert_eq!(forced.status, 200);
    // A read-only token cannot write.
    let ro = f.host.add_token("carol", true);
    let denied = f
        .call(
            Flavour::GitHub,
            &ro,
            "POST",
            "/repos/acme/config/git/refs",
            Some(json!({"ref": "refs/heads/x", "sha": sha})),
        )
        .await;
    assert_eq!(denied.status, 403);
    let bad = f
        .call(Flavour::GitHub, "nope", "GET", "/repos/acme/config", None)
        .await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["message"], "Bad credentials");
    let repo = f
        .call(Flavour::GitHub, &f.alice, "GET", "/repos/acme/config", None)
        .await;
    assert_eq!(repo.json()["permissions"]["push"], true);
}

/// An RS256 JWT for `claims`, signed with a PKCS#1 DER private key.
fn jwt(key_der: &[u8], claims: Value) -> String {
    use base64::Engine;
    let enc = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let signing = format!(
        "{}.{}",
        enc(&json!({"alg": "RS256", "typ": "JWT"})),
        enc(&claims)
    );
    let pair = ring::signature::RsaKeyPair::from_der(key_der).unwrap();
    let mut sig = vec![0; pair.public().modulus_len()];
    pair.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signing.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!(
        "{signing}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig)
    )
}

fn rsa_key(dir: &Path, name: &str) -> Option<(String, Vec<u8>)> {
    let pem = dir.join(format!("{name}.pem"));
    let made = std::process::Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(&pem)
        .arg("2048")
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    if !made.success() {
        return None;
    }
    let text = std::fs::read_to_string(&pem).ok()?;
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    use base64::Engine;
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .ok()?;
    Some((text, der))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_app_jwts_buy_installation_tokens() {
    let f = fixture().await;
    let keys = tempfile::tempdir().unwrap();
    let Some((pem, der)) = rsa_key(keys.path(), "app") else {
        eprintln!("openssl not available: skipped");
        return;
    };
    let Some((_, other)) = rsa_key(keys.path(), "other") else {
        return;
    };
    f.host
        .register_github_app(42, 7, "tollgate", &pem, 3600)
        .unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let exchange = |token: String| {
        let f = &f;
        async move {
            f.call(
                Flavour::GitHub,
                &token,
                "POST",
                "/app/installations/7/access_tokens",
                None,
            )
            .await
        }
    };
    let good = exchange(jwt(
        &der,
        json!({"iss": "42", "iat": now - 60, "exp": now + 540}),
    ))
    .await;
    assert_eq!(good.status, 201, "{:?}", good.json());
    let token = good.json()["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("ghs_"));
    let me = f.call(Flavour::GitHub, &token, "GET", "/user", None).await;
    assert_eq!(me.json()["login"], "tollgate[bot]");
    let far = exchange(jwt(&der, json!({"iss": 42, "iat": now, "exp": now + 3600}))).await;
    assert_eq!(far.status, 401);
    assert_eq!(
        far.json()["message"],
        "'Expiration time' claim ('exp') is too far in the future"
    );
    let forged = exchange(jwt(
        &other,
        json!({"iss": 42, "iat": now, "exp": now + 300}),
    ))
    .await;
    assert_eq!(forged.status, 401);
    let wrong = f
        .call(
            Flavour::GitHub,
            &jwt(&der, json!({"iss": 42, "iat": now, "exp": now + 300})),
            "POST",
            "/app/installations/8/access_tokens",
            None,
        )
        .await;
    assert_eq!(wrong.status, 404);
    // An expired installation token is refused like any bad token.
    f.host
        .register_github_app(42, 7, "tollgate", &pem, 0)
        .unwrap();
    let short = exchange(jwt(&der, json!({"iss": 42, "iat": now, "exp": now + 300})))
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let expired = f
        .call(Flavour::GitHub, &short, "GET", "/repos/acme/config", None)
        .await;
    assert_eq!(expired.status, 401);
}
