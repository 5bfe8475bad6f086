//! Pulls in the three dialects: duplicates, reviews, merges, statuses.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_pull_for_the_same_branch_is_refused_by_each_flavour() {
    let f = fixture().await;
    f.github_branch("tollgate/1-a", "name: petstore\nport: 1\n")
        .await;
    let gh = json!({"title": "T", "head": "tollgate/1-a", "base": "main", "body": "B"});
    let first = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "POST",
            "/repos/acme/config/pulls",
            Some(gh.clone()),
        )
        .await;
    assert_eq!(first.status, 201);
    assert_eq!(first.json()["number"], 1);
    assert_eq!(first.json()["mergeable"], Value::Null);
    let second = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "POST",
            "/repos/acme/config/pulls",
            Some(gh),
        )
        .await;
    assert_eq!(second.status, 422);
    assert_eq!(
        second.json()["errors"][0]["message"],
        "A pull request already exists for acme:tollgate/1-a."
    );
    let gl = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "POST",
            &format!("/projects/{GL}/merge_requests"),
            Some(json!({"source_branch": "tollgate/1-a", "target_branch": "main", "title": "T"})),
        )
        .await;
    assert_eq!(gl.status, 409);
    assert_eq!(
        gl.json()["message"][0],
        "Another open merge request already exists for this source branch: !1"
    );
    let gt = f
        .call(
            Flavour::Gitea,
            &f.alice,
            "POST",
            "/repos/acme/config/pulls",
            Some(json!({"head": "tollgate/1-a", "base": "main", "title": "T"})),
        )
        .await;
    assert_eq!(gt.status, 409);
    assert!(
        gt.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("pull request already exists for these targets")
    );
    // Found by head branch in each dialect.
    let listed = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "GET",
            "/repos/acme/config/pulls?head=acme:tollgate/1-a&state=all",
            None,
        )
        .await;
    assert_eq!(listed.json().as_array().unwrap().len(), 1);
    let found = f
        .call(
            Flavour::Gitea,
            &f.alice,
            "GET",
            "/repos/acme/config/pulls/main/tollgate/1-a",
            None,
        )
        .await;
    assert_eq!(found.json()["number"], 1);
    let mrs = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "GET",
            &format!("/projects/{GL}/merge_requests?source_branch=tollgate/1-a&state=all"),
            None,
        )
        .await;
    assert_eq!(mrs.json()[0]["iid"], 1);
    assert_eq!(f.host.open_pulls(REPO).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authors_cannot_approve_their_own_pull() {
    let f = fixture().await;
    f.github_branch("tollgate/1-a", "name: petstore\nport: 1\n")
        .await;
    let pr = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "POST",
            "/repos/acme/config/pulls",
            Some(json!({"title": "T", "head": "tollgate/1-a", "base": "main"})),
        )
        .await;
    assert_eq!(pr.status, 201);
    let gh = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "POST",
            "/repos/acme/config/pulls/1/reviews",
            Some(json!({"event": "APPROVE"})),
        )
        .await;
    assert_eq!(gh.status, 422);
    assert_eq!(
        gh.json()["errors"][0],
        "Can not approve your own pull request"
    );
    let gl = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "POST",
            &format!("/projects/{GL}/merge_requests/1/approve"),
            None,
        )
        .await;
    assert_eq!(gl.status, 401);
    let gt = f
        .call(
            Flavour::Gitea,
            &f.alice,
            "POST",
            "/repos/acme/config/pulls/1/reviews",
            Some(json!({"event": "APPROVED"})),
        )
        .await;
    assert_eq!(gt.status, 422);
    assert_eq!(gt.json()["message"], "approve your own pull is not allowed");
    let ok = f
        .call(
            Flavour::GitHub,
            &f.bob,
            "POST",
            "/repos/acme/config/pulls/1/reviews",
            Some(json!({"event": "APPROVE"})),
        )
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.json()["state"], "APPROVED");
    let approvals = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "GET",
            &format!("/projects/{GL}/merge_requests/1/approvals"),
            None,
        )
        .await;
    assert_eq!(
        approvals.json()["approved_by"][0]["user"]["username"],
        "bob"
    );
    let reviews = f
        .call(
            Flavour::Gitea,
            &f.alice,
            "GET",
            "/repos/acme/config/pulls/1/reviews",
            None,
        )
        .await;
    assert_eq!(reviews.json().as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merges_check_the_head_sha_and_the_required_approvals() {
    let f = fixture().await;
    f.host.set_required_approvals(REPO, 1).unwrap();
    let head = f
        .github_branch("tollgate/1-a", "name: petstore\nport: 1\n")
        .await;
    f.call(
        Flavour::GitHub,
        &f.alice,
        "POST",
        "/repos/acme/config/pulls",
        Some(json!({"title": "T", "head": "tollgate/1-a", "base": "main"})),
    )
    .await;
    let pr = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "GET",
            "/repos/acme/config/pulls/1",
            None,
        )
        .await
        .json();
    assert_eq!(
        (pr["mergeable"].clone(), pr["mergeable_state"].clone()),
        (json!(true), json!("blocked"))
    );
    let blocked = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "PUT",
            "/repos/acme/config/pulls/1/merge",
            Some(json!({"sha": head})),
        )
        .await;
    assert_eq!(blocked.status, 405);
    assert_eq!(
        blocked.json()["message"],
        "At least 1 approving review is required by reviewers with write access."
    );
    f.call(
        Flavour::GitHub,
        &f.bob,
        "POST",
        "/repos/acme/config/pulls/1/reviews",
        Some(json!({"event": "APPROVE"})),
    )
    .await;
    let stale = "0123456789abcdef0123456789abcdef01234567";
    let gh = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "PUT",
            "/repos/acme/config/pulls/1/merge",
            Some(json!({"sha": stale})),
        )
        .await;
    assert_eq!(gh.status, 409);
    assert_eq!(
        gh.json()["message"],
        "Head branch was modified. Review and try the merge again."
    );
    let gl = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "PUT",
            &format!("/projects/{GL}/merge_requests/1/merge"),
            Some(json!({"sha": stale})),
        )
        .await;
    assert_eq!(gl.status, 409);
    assert_eq!(
        gl.json()["message"],
        format!("SHA does not match HEAD of source branch: {head}")
    );
    let gt = f
        .call(
            Flavour::Gitea,
            &f.alice,
            "POST",
            "/repos/acme/config/pulls/1/merge",
            Some(json!({"Do": "merge", "head_commit_id": stale})),
        )
        .await;
    assert_eq!(gt.status, 409);
    let merged = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "PUT",
            "/repos/acme/config/pulls/1/merge",
            Some(json!({"sha": head, "merge_method": "merge"})),
        )
        .await;
    assert_eq!(merged.status, 200, "{:?}", merged.json());
    let sha = merged.json()["sha"].as_str().unwrap().to_owned();
    assert_eq!(f.host.branches(REPO)["main"], sha);
    let log = f.host.commits(REPO, "main");
    assert_eq!(log[0].parents, vec![f.base.clone(), head.clone()]);
    assert_eq!(
        f.host
            .file_at(REPO, "main", "apis/petstore.yaml")
            .as_deref(),
        Some("name: petstore\nport: 1\n")
    );
    let pr = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "GET",
            "/repos/acme/config/pulls/1",
            None,
        )
        .await
        .json();
    assert_eq!(
        (
            pr["state"].clone(),
            pr["merged"].clone(),
            pr["merge_commit_sha"].clone()
        ),
        (json!("closed"), json!(true), json!(sha))
    );
    let mr = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "GET",
            &format!("/projects/{GL}/merge_requests/1"),
            None,
        )
        .await
        .json();
    assert_eq!(mr["state"], "merged");
    let again = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "PUT",
            "/repos/acme/config/pulls/1/merge",
            Some(json!({"sha": head})),
        )
        .await;
    assert_eq!(again.status, 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicting_pulls_are_not_mergeable_and_squash_merges_one_commit() {
    let f = fixture().await;
    f.github_branch("tollgate/1-a", "name: petstore\nport: 1\n")
        .await;
    let b = f
        .github_branch("tollgate/2-b", "name: petstore\nport: 2\n")
        .await;
    for (n, head) in [(1, "tollgate/1-a"), (2, "tollgate/2-b")] {
        let r = f
            .call(
                Flavour::GitHub,
                &f.alice,
                "POST",
                "/repos/acme/config/pulls",
                Some(json!({"title": format!("T{n}"), "head": head, "base": "main"})),
            )
            .await;
        assert_eq!(r.status, 201);
    }
    let gt = f
        .call(
            Flavour::Gitea,
            &f.alice,
            "POST",
            "/repos/acme/config/pulls/1/merge",
            Some(json!({"Do": "squash"})),
        )
        .await;
    assert_eq!(gt.status, 200);
    let main = f.host.commits(REPO, "main");
    assert_eq!(main[0].parents, vec![f.base.clone()]);
    let pr = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "GET",
            "/repos/acme/config/pulls/2",
            None,
        )
        .await
        .json();
    assert_eq!(
        (pr["mergeable"].clone(), pr["mergeable_state"].clone()),
        (json!(false), json!("dirty"))
    );
    let mr = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "GET",
            &format!("/projects/{GL}/merge_requests/2"),
            None,
        )
        .await
        .json();
    assert_eq!(mr["detailed_merge_status"], "conflict");
    let refused = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "PUT",
            "/repos/acme/config/pulls/2/merge",
            Some(json!({"sha": b})),
        )
        .await;
    assert_eq!(
        (refused.status, refused.json()["message"].clone()),
        (405, json!("Pull Request is not mergeable"))
    );
    let gl = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "PUT",
            &format!("/projects/{GL}/merge_requests/2/merge"),
            Some(json!({"sha": b})),
        )
        .await;
    assert_eq!(gl.status, 422);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_close_and_rebase_merge() {
    let f = fixture().await;
    let head = f
        .github_branch("tollgate/1-a", "name: petstore\nport: 1\n")
        .await;
    f.call(
        Flavour::Gitea,
        &f.alice,
        "POST",
        "/repos/acme/config/pulls",
        Some(json!({"title": "T", "head": "tollgate/1-a", "base": "main"})),
    )
    .await;
    let s = f
        .call(
            Flavour::GitHub,
            &f.bob,
            "POST",
            &format!("/repos/acme/config/statuses/{head}"),
            Some(json!({"state": "failure", "context": "ci/lint", "target_url": "http://ci/1"})),
        )
        .await;
    assert_eq!(s.status, 201);
    let gl = f
        .call(
            Flavour::GitLab,
            &f.bob,
            "POST",
            &format!("/projects/{GL}/statuses/{head}"),
            Some(json!({"state": "success", "name": "ci/lint"})),
        )
        .await;
    assert_eq!(gl.status, 201);
    let combined = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "GET",
            &format!("/repos/acme/config/commits/{head}/status"),
            None,
        )
        .await
        .json();
    assert_eq!(
        (combined["state"].clone(), combined["total_count"].clone()),
        (json!("success"), json!(1))
    );
    let runs = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "GET",
            &format!("/repos/acme/config/commits/{head}/check-runs"),
            None,
        )
        .await
        .json();
    assert_eq!(runs["total_count"], 0);
    let gt = f
        .call(
            Flavour::Gitea,
            &f.alice,
            "GET",
            "/repos/acme/config/commits/tollgate%2F1-a/status",
            None,
        )
        .await
        .json();
    assert_eq!(gt["statuses"][0]["status"], "success");
    let listed = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "GET",
            &format!("/projects/{GL}/repository/commits/{head}/statuses"),
            None,
        )
        .await
        .json();
    assert_eq!(listed[0]["status"], "success");
    // Close and reopen, comment, then a rebase merge keeps the author and moves main linearly.
    let closed = f
        .call(
            Flavour::Gitea,
            &f.alice,
            "PATCH",
            "/repos/acme/config/pulls/1",
            Some(json!({"state": "closed"})),
        )
        .await;
    assert_eq!(
        (closed.status, closed.json()["state"].clone()),
        (201, json!("closed"))
    );
    let reopened = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "PUT",
            &format!("/projects/{GL}/merge_requests/1"),
            Some(json!({"state_event": "reopen"})),
        )
        .await;
    assert_eq!(reopened.json()["state"], "opened");
    let note = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "POST",
            "/repos/acme/config/issues/1/comments",
            Some(json!({"body": "hello"})),
        )
        .await;
    assert_eq!(note.status, 201);
    let notes = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "GET",
            &format!("/projects/{GL}/merge_requests/1/notes"),
            None,
        )
        .await
        .json();
    assert_eq!(notes[0]["body"], "hello");
    f.host
        .push_files(
            REPO,
            "main",
            &[("other.yaml", Some("o: 1\n"))],
            "Other change",
            "carol",
        )
        .unwrap();
    let merged = f
        .call(
            Flavour::GitHub,
            &f.alice,
            "PUT",
            "/repos/acme/config/pulls/1/merge",
            Some(json!({"sha": head, "merge_method": "rebase"})),
        )
        .await;
    assert_eq!(merged.status, 200, "{:?}", merged.json());
    let log = f.host.commits(REPO, "main");
    assert_eq!(log[0].author_name, "alice");
    assert_eq!(log[0].parents.len(), 1);
    assert_eq!(log[1].message, "Other change\n");
    assert_eq!(
        f.host.file_at(REPO, "main", "other.yaml").as_deref(),
        Some("o: 1\n")
    );
    assert_eq!(
        f.host
            .file_at(REPO, "main", "apis/petstore.yaml")
            .as_deref(),
        Some("name: petstore\nport: 1\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_the_head_branch_closes_the_pull_on_github_and_gitea_but_not_gitlab() {
    let f = fixture().await;
    f.github_branch("tollgate/1-a", "name: petstore\nport: 1\n")
        .await;
    f.github_branch("tollgate/2-b", "name: petstore\nport: 2\n")
        .await;
    for head in ["tollgate/1-a", "tollgate/2-b"] {
        let r = f
            .call(
                Flavour::GitHub,
                &f.alice,
                "POST",
                "/repos/acme/config/pulls",
                Some(json!({"title": "T", "head": head, "base": "main"})),
            )
            .await;
        assert_eq!(r.status, 201);
    }
    let gt = f
        .call(
            Flavour::Gitea,
            &f.alice,
            "DELETE",
            "/repos/acme/config/branches/tollgate/1-a",
            None,
        )
        .await;
    assert_eq!(gt.status, 204);
    let pr = f
        .call(
            Flavour::Gitea,
            &f.alice,
            "GET",
            "/repos/acme/config/pulls/1",
            None,
        )
        .await
        .json();
    assert_eq!(
        (pr["state"].clone(), pr["merged"].clone()),
        (json!("closed"), json!(false))
    );
    let gl = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "DELETE",
            &format!("/projects/{GL}/repository/branches/tollgate%2F2-b"),
            None,
        )
        .await;
    assert_eq!(gl.status, 204);
    let mr = f
        .call(
            Flavour::GitLab,
            &f.alice,
            "GET",
            &format!("/projects/{GL}/merge_requests/2"),
            None,
        )
        .await
        .json();
    assert_eq!(mr["state"], "opened");
}
