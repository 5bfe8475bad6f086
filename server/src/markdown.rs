//! Change descriptions and comments as HTML: CommonMark rendered with `pulldown-cmark`, then
//! sanitised with `ammonia` (no scripts, styles, frames, event handlers or `javascript:` URLs;
//! links get `rel="noopener noreferrer"`). Done on the server so the sanitiser stays out of the
//! browser bundle; pages set the result as `inner_html`.

use pulldown_cmark::{Options, Parser, html};

/// Renders Markdown to sanitised HTML.
pub fn to_safe_html(markdown: &str) -> String {
    if markdown.trim().is_empty() {
        return String::new();
    }
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .clean(&unsafe_html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::to_safe_html;

    #[test]
    fn keeps_markdown_and_drops_active_content() {
        let html = to_safe_html(
            "**bold** `code` [docs](https://example.com)\n\n- one\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))\n\n<iframe src=\"https://evil\"></iframe>\n\n<style>body{}</style>",
        );
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(html.contains("<code>code</code>"), "{html}");
        assert!(html.contains("<li>one</li>"), "{html}");
        assert!(
            html.contains(r#"<a href="https://example.com" rel="noopener noreferrer">docs</a>"#),
            "{html}"
        );
        for bad in [
            "<script",
            "alert(1)</",
            "onerror",
            "javascript:",
            "<iframe",
            "<style",
        ] {
            assert!(!html.contains(bad), "{bad} survived: {html}");
        }
    }

    #[test]
    fn blank_is_empty() {
        assert_eq!(to_safe_html("  \n"), "");
    }
}
