//! JSON through the browser's own `JSON.parse`/`JSON.stringify`: keeps a JSON library (and float parsing and
//! formatting) out of the wasm, which is most of the widget's size budget.

use js_sys::{Object, Reflect, JSON};
use wasm_bindgen::JsValue;

/// Parses `text`; `None` when it is not JSON.
pub fn parse(text: &str) -> Option<JsValue> {
    JSON::parse(text).ok()
}

/// `JSON.stringify(value)` (empty on failure, which only cyclic values cause).
pub fn stringify(value: &JsValue) -> String {
    JSON::stringify(value).ok().and_then(|s| s.as_string()).unwrap_or_default()
}

/// `o[key]`, `undefined` when `o` is not an object or has no such key.
pub fn get(o: &JsValue, key: &str) -> JsValue {
    if !o.is_object() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(o, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A string field.
pub fn string(o: &JsValue, key: &str) -> Option<String> {
    get(o, key).as_string()
}

/// A non-negative integer field (JSON numbers are `f64`; fractions are truncated).
pub fn uint(o: &JsValue, key: &str) -> Option<u64> {
    get(o, key).as_f64().filter(|n| n.is_finite() && *n >= 0.0).map(|n| n as u64)
}

/// A number field.
pub fn number(o: &JsValue, key: &str) -> Option<f64> {
    get(o, key).as_f64().filter(|n| n.is_finite())
}

/// A boolean field (`false` when absent).
pub fn flag(o: &JsValue, key: &str) -> bool {
    get(o, key).as_bool().unwrap_or(false)
}

/// The elements of an array field (empty when absent or not an array).
pub fn array(o: &JsValue, key: &str) -> Vec<JsValue> {
    let v = get(o, key);
    if js_sys::Array::is_array(&v) {
        js_sys::Array::from(&v).iter().collect()
    } else {
        Vec::new()
    }
}

/// Builds a plain object.
pub struct Obj(Object);

impl Obj {
    /// `{}`
    pub fn new() -> Self {
        Self(Object::new())
    }

    /// Sets `key` (chainable).
    pub fn set(self, key: &str, value: impl Into<JsValue>) -> Self {
        let _ = Reflect::set(&self.0, &JsValue::from_str(key), &value.into());
        self
    }

    /// Sets `key` when `value` is `Some`.
    pub fn opt(self, key: &str, value: Option<impl Into<JsValue>>) -> Self {
        match value {
            Some(v) => self.set(key, v),
            None => self,
        }
    }

    /// The object.
    pub fn build(self) -> JsValue {
        self.0.into()
    }
}

impl Default for Obj {
    fn default() -> Self {
        Self::new()
    }
}

/// A parsed JS object read as the core's protocol decoder reads JSON (`edgechat::protocol::Fields`).
pub struct JsFields<'a>(pub &'a JsValue);

impl edgechat::protocol::Fields for JsFields<'_> {
    fn string(&self, key: &str) -> Option<String> {
        string(self.0, key)
    }
    fn number(&self, key: &str) -> Option<f64> {
        number(self.0, key)
    }
    fn flag(&self, key: &str) -> Option<bool> {
        get(self.0, key).as_bool()
    }
}
