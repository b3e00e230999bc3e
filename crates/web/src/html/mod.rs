//! The page layer's markup. Pages, charts and QR codes are written with `maud`'s `html!`, which escapes every
//! value it is given — so text from a record, a comment or a form can never become markup; nothing in the
//! program writes HTML by string formatting. The pieces every page uses live here: the frame, the
//! error page, alerts, form fields, option lists and tables.

mod error;
mod frame;

pub use error::{PageError, PageResult, error_page};
pub use frame::{Frame, document, page, page_in};

use hcp_app::AppError;
use maud::{Markup, html};

/// A message a screen reader announces at once (`role="alert"`), given an id when a field points to it with
/// `aria-describedby`.
pub fn alert(message: &str, id: Option<&str>) -> Markup {
    html! { div.alert role="alert" id=[id] { (message) } }
}

/// A use-case error as an [`alert`] at the top of a form that is shown again.
pub fn error_alert(e: &AppError) -> Markup {
    alert(&e.message(), None)
}

/// A field's error: the announced alert, and the id the field points to with `aria-describedby`.
pub struct FieldError<'a> {
    pub alert: Markup,
    pub described_by: Option<&'a str>,
}

impl FieldError<'_> {
    /// `aria-invalid` for the field: present only with an error.
    pub fn invalid(&self) -> Option<&'static str> {
        self.described_by.map(|_| "true")
    }
}

/// The alert for a field's error (empty without one) and what ties the field to it.
pub fn field_error<'a>(id: &'a str, error: Option<&AppError>) -> FieldError<'a> {
    match error {
        Some(e) => FieldError { alert: alert(&e.message(), Some(id)), described_by: Some(id) },
        None => FieldError { alert: html! {}, described_by: None },
    }
}

/// The hidden field every console form carries.
pub fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// A hidden field.
pub fn hidden(name: &str, value: &str) -> Markup {
    html! { input type="hidden" name=(name) value=(value); }
}

/// A labelled text box.
pub fn text_field(name: &str, label: &str, value: &str) -> Markup {
    html! { label { (label) " " input name=(name) value=(value); } " " }
}

/// The `<option>`s of a closed list of codes with their Chinese names, `chosen` selected.
pub fn options<T: Copy + PartialEq>(
    all: &[T],
    chosen: Option<T>,
    code: fn(T) -> &'static str,
    name: fn(T) -> &'static str,
) -> Markup {
    html! {
        @for x in all {
            option value=(code(*x)) selected[Some(*x) == chosen] { (name(*x)) }
        }
    }
}

/// The `<option>`s of (value, text) pairs, the one whose value is `chosen` selected.
pub fn pair_options(pairs: &[(&str, &str)], chosen: &str) -> Markup {
    html! {
        @for (value, text) in pairs {
            option value=(value) selected[*value == chosen] { (text) }
        }
    }
}

/// A table with a header row; `rows` are its `<tr>`s.
pub fn table(head: &[&str], rows: Markup) -> Markup {
    html! {
        table {
            thead { tr { @for h in head { th { (h) } } } }
            tbody { (rows) }
        }
    }
}

/// A quiet status line (`role="status"`), for "nothing here" and "done".
pub fn notice(text: &str) -> Markup {
    html! { p.notice role="status" { (text) } }
}

/// A URL's query string from its pairs, each value percent-encoded (the page escapes the `&` in turn).
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_unless_said_otherwise() {
        let m = html! { p title=("\"><script>") { ("<b>&") } };
        assert_eq!(m.into_string(), r#"<p title="&quot;&gt;&lt;script&gt;">&lt;b&gt;&amp;</p>"#);
        assert_eq!(alert("<x>", Some("e")).into_string(), r#"<div class="alert" role="alert" id="e">&lt;x&gt;</div>"#);
        assert_eq!(alert("ok", None).into_string(), r#"<div class="alert" role="alert">ok</div>"#);
    }

    /// Markup is written with `html!` only: a page assembled from `format!` strings would escape only where
    /// someone remembered to. Looks for string literals that open a tag in the crate's sources.
    #[test]
    fn no_markup_is_written_by_string_formatting() {
        let opening = regex::Regex::new(r#"(format!|push_str|write!)\(\s*(r#)?"\s*<[a-zA-Z!/]"#).expect("regex");
        let mut found = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("src") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    // The whole file at once: the literal may start on the line after `format!(`.
                    let text = std::fs::read_to_string(&path).expect("source");
                    for m in opening.find_iter(&text) {
                        let line = text[..m.start()].lines().count();
                        found.push(format!("{}:{line}: {}", path.display(), m.as_str().trim()));
                    }
                }
            }
        }
        assert!(found.is_empty(), "markup written by string formatting:\n{}", found.join("\n"));
    }

    #[test]
    fn queries_are_percent_encoded() {
        assert_eq!(query(&[("org", "青山 镇&1"), ("p", "2")]), "org=%E9%9D%92%E5%B1%B1+%E9%95%87%261&p=2");
    }
}
