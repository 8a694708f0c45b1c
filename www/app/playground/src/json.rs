//! A JSON value in Rust, read from what `JSON.parse` returns: what the schema checks and the answer tree work on
//! (plain data, so they are unit-tested natively).

use wasm_bindgen::{JsCast, JsValue};

/// A JSON value; object members keep their order.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number.
    Num(f64),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object, members in order.
    Obj(Vec<(String, Json)>),
}

impl Json {
    /// Reads a value `JSON.parse` returned.
    pub fn from_js(v: &JsValue) -> Self {
        if let Some(b) = v.as_bool() {
            Self::Bool(b)
        } else if let Some(n) = v.as_f64() {
            Self::Num(n)
        } else if let Some(s) = v.as_string() {
            Self::Str(s)
        } else if js_sys::Array::is_array(v) {
            Self::Arr(js_sys::Array::from(v).iter().map(|x| Self::from_js(&x)).collect())
        } else if let Some(o) = v.dyn_ref::<js_sys::Object>() {
            let keys = js_sys::Object::keys(o);
            Self::Obj(
                keys.iter()
                    .filter_map(|k| {
                        let name = k.as_string()?;
                        let value = js_sys::Reflect::get(o, &k).ok()?;
                        Some((name, Self::from_js(&value)))
                    })
                    .collect(),
            )
        } else {
            Self::Null
        }
    }

    /// Parses JSON text (with the browser's parser).
    pub fn parse(text: &str) -> Result<Self, String> {
        crate::js::parse(text).map(|v| Self::from_js(&v))
    }

    /// The JSON Schema type name of this value (`integer` for whole numbers).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "boolean",
            Self::Num(n) if n.fract() == 0.0 => "integer",
            Self::Num(_) => "number",
            Self::Str(_) => "string",
            Self::Arr(_) => "array",
            Self::Obj(_) => "object",
        }
    }

    /// A member of an object.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Self::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Num(n) => Some(*n),
            _ => None,
        }
    }

    /// A short one-line rendering of a scalar (`"text"`, `12`, `true`, `null`); containers give their size.
    pub fn summary(&self) -> String {
        match self {
            Self::Null => "null".into(),
            Self::Bool(b) => b.to_string(),
            Self::Num(n) => crate::js::number(*n),
            Self::Str(s) => crate::js::quote(s),
            Self::Arr(a) => format!("[{}]", count(a.len(), "item")),
            Self::Obj(m) => format!("{{{}}}", count(m.len(), "key")),
        }
    }
}

fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// Builds a [`Json`] object in tests.
#[cfg(test)]
pub fn obj(members: &[(&str, Json)]) -> Json {
    Json::Obj(members.iter().map(|(k, v)| ((*k).to_string(), v.clone())).collect())
}
