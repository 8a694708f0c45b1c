//! HTTP described as plain data: the edge (web-sys `fetch`) and the widget send it, the core only builds it.

use serde::{Deserialize, Serialize};

/// An HTTP request the caller should send. The core never sends anything itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpRequest {
    /// Method, upper case (`"POST"`, `"GET"`).
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header names (lower case) and values, in the order they should be sent.
    pub headers: Vec<(String, String)>,
    /// Body bytes (JSON for every provider request the core builds).
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// The first value of header `name` (compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }
}

/// The first value of header `name` in `headers`, compared case-insensitively.
pub fn header_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}
