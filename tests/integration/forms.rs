//! What the server-rendered edit forms offer before any JavaScript runs.

use crate::support::TestApp;

#[tokio::test]
async fn namespace_fields_offer_the_repos_namespaces() {
    let app = TestApp::demo().await;
    for path in ["/apis/new", "/policies/new"] {
        let (status, html) = app.html(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            html.contains(r#"list="metadata-namespace-options""#),
            "{path}: the namespace input names its list"
        );
        let start = html
            .find(r#"<datalist id="metadata-namespace-options">"#)
            .unwrap_or_else(|| panic!("{path}: no datalist in {html}"));
        let list = &html[start..];
        let list = &list[..list.find("</datalist>").expect("closed")];
        let options: Vec<&str> = list
            .split(r#"<option value=""#)
            .skip(1)
            .filter_map(|o| o.split('"').next())
            .collect();
        assert_eq!(options, ["catalog", "identity", "payments"], "{path}");
    }
    app.stop().await;
}
