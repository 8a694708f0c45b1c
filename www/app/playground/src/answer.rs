//! A finished structured-output answer: parsed, validated against the schema, and drawn (whether it matches, the
//! mismatches by path, the value as a tree; or why it is not JSON, and its text).

use web_sys::Element;

use crate::dom::add;
use crate::json::Json;
use crate::{schema, tree};

/// What a finished structured answer is: JSON that matches, JSON that does not, or not JSON.
#[derive(Debug, Clone, PartialEq)]
pub enum Checked {
    /// JSON that matches the schema.
    Valid(Json),
    /// JSON, and where it does not match.
    Mismatch(Json, Vec<String>),
    /// Not JSON: the parser's message.
    NotJson(String),
}

/// Parses `output` and validates it against `schema` (JSON text; a schema that does not parse checks nothing).
pub fn check(output: &str, schema: &str) -> Checked {
    let value = match Json::parse(output) {
        Ok(v) => v,
        Err(e) => return Checked::NotJson(e),
    };
    let errors = Json::parse(schema).map(|s| schema::validate(&s, &value)).unwrap_or_default();
    if errors.is_empty() {
        Checked::Valid(value)
    } else {
        Checked::Mismatch(value, errors)
    }
}

/// Appends what `checked` says to `root`; `output` is the answer's text.
pub fn draw(root: &Element, checked: &Checked, output: &str) {
    match checked {
        Checked::Valid(v) => {
            let ok = add(root, "p", "check ok", "✓ Valid JSON that matches the schema");
            let _ = ok.set_attribute("role", "status");
            tree::draw(root, v);
        }
        Checked::Mismatch(v, errors) => {
            let bad = add(root, "div", "check bad", "");
            let _ = bad.set_attribute("role", "alert");
            add(&bad, "strong", "", "The answer does not match the schema");
            let list = add(&bad, "ul", "", "");
            for e in errors {
                add(&list, "li", "", e);
            }
            tree::draw(root, v);
        }
        Checked::NotJson(e) => {
            let bad = add(root, "div", "check bad", "");
            let _ = bad.set_attribute("role", "alert");
            add(&bad, "strong", "", "The answer is not JSON");
            let _ = bad.append_with_str_1(" ");
            add(&bad, "span", "", e);
            add(root, "pre", "raw", output);
        }
    }
}
