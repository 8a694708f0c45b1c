//! Reading configuration objects out of a `serde_json::Value` by hand, with precise errors and unknown-field
//! checks. Derived deserializers cost a few KB of wasm per type; this keeps the edge under its size budget.

use serde_json::{Map, Value};

/// Entries in the order of their keys (what a JSON object read through `serde_json::Map` yields), with the
/// lookups a `BTreeMap<String, T>` offers.
#[derive(Debug, Clone, PartialEq)]
pub struct Named<T>(pub Vec<(String, T)>);

impl<T> Default for Named<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> Named<T> {
    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    /// The stored key and value under `key`.
    pub fn get_key_value(&self, key: &str) -> Option<(&String, &T)> {
        self.0.iter().find(|(k, _)| k == key).map(|(k, v)| (k, v))
    }
    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    /// Keys in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }
    /// Values in order.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.0.iter().map(|(_, v)| v)
    }
    /// Entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &T)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Sets `key` (replacing an existing entry).
    pub fn insert(&mut self, key: String, value: T) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }
}

impl<T> std::ops::Index<&str> for Named<T> {
    type Output = T;
    fn index(&self, key: &str) -> &T {
        self.get(key).expect("no entry for key")
    }
}

/// One JSON object being read; `path` names it in errors (`limits`, `models.fast`).
pub struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

/// Joins a path and a field.
fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

impl<'a> Obj<'a> {
    /// `value` as an object with only the `known` fields.
    pub fn new(value: &'a Value, path: &str, known: &[&str]) -> Result<Self, String> {
        let map = value
            .as_object()
            .ok_or_else(|| format!("{} must be an object", if path.is_empty() { "the configuration" } else { path }))?;
        if let Some(k) = map.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(format!("unknown field `{}`; expected one of: {}", join(path, k), known.join(", ")));
        }
        Ok(Self { map, path: path.to_string() })
    }

    /// `value` as an object; unknown fields are ignored (request bodies, which clients may extend).
    pub fn lenient(value: &'a Value, path: &str) -> Result<Self, String> {
        let map = value
            .as_object()
            .ok_or_else(|| format!("{} must be an object", if path.is_empty() { "the body" } else { path }))?;
        Ok(Self { map, path: path.to_string() })
    }

    /// The path of `field` for errors and nested objects.
    pub fn path(&self, field: &str) -> String {
        join(&self.path, field)
    }

    /// The raw value of `field` (absent and `null` are both `None`).
    pub fn get(&self, field: &str) -> Option<&'a Value> {
        self.map.get(field).filter(|v| !v.is_null())
    }

    fn typed<T>(&self, field: &str, what: &str, f: impl Fn(&Value) -> Option<T>) -> Result<Option<T>, String> {
        match self.get(field) {
            None => Ok(None),
            Some(v) => f(v).map(Some).ok_or_else(|| format!("{} must be {what}", self.path(field))),
        }
    }

    /// A boolean.
    pub fn bool(&self, field: &str) -> Result<Option<bool>, String> {
        self.typed(field, "true or false", Value::as_bool)
    }
    /// A string.
    pub fn str(&self, field: &str) -> Result<Option<String>, String> {
        self.typed(field, "a string", |v| v.as_str().map(str::to_string))
    }
    /// A non-negative integer.
    pub fn u64(&self, field: &str) -> Result<Option<u64>, String> {
        self.typed(field, "a non-negative integer", Value::as_u64)
    }
    /// A non-negative integer that fits in 32 bits.
    pub fn u32(&self, field: &str) -> Result<Option<u32>, String> {
        self.typed(field, "a non-negative 32-bit integer", |v| v.as_u64().and_then(|n| u32::try_from(n).ok()))
    }
    /// A finite, non-negative number.
    pub fn f64(&self, field: &str) -> Result<Option<f64>, String> {
        self.typed(field, "a non-negative number", |v| v.as_f64().filter(|x| x.is_finite() && *x >= 0.0))
    }
    /// An array of strings.
    pub fn strings(&self, field: &str) -> Result<Option<Vec<String>>, String> {
        self.typed(field, "an array of strings", |v| {
            v.as_array()?.iter().map(|s| s.as_str().map(str::to_string)).collect::<Option<Vec<_>>>()
        })
    }
    /// An object whose every value is read by `read(value, path)`.
    pub fn named<T>(
        &self,
        field: &str,
        read: impl Fn(&Value, &str) -> Result<T, String>,
    ) -> Result<Option<Named<T>>, String> {
        let Some(v) = self.get(field) else { return Ok(None) };
        let map = v.as_object().ok_or_else(|| format!("{} must be an object", self.path(field)))?;
        let mut out = Named::default();
        for (k, v) in map {
            out.insert(k.clone(), read(v, &join(&self.path(field), k))?);
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_reports_paths() {
        let v: Value = serde_json::from_str(r#"{"a":1,"b":"x","c":[ "y" ],"d":{"k":true},"n":null}"#).unwrap();
        let o = Obj::new(&v, "root", &["a", "b", "c", "d", "n"]).unwrap();
        assert_eq!(o.u32("a").unwrap(), Some(1));
        assert_eq!(o.str("b").unwrap().as_deref(), Some("x"));
        assert_eq!(o.strings("c").unwrap().unwrap(), ["y"]);
        assert_eq!(o.u64("n").unwrap(), None);
        assert_eq!(o.bool("b").unwrap_err(), "root.b must be true or false");
        let d = o.named("d", |v, p| v.as_bool().ok_or(format!("{p} bad"))).unwrap().unwrap();
        assert!(d["k"]);
        assert!(Obj::new(&v, "root", &["a"]).err().unwrap().contains("unknown field `root.b`"));
    }

    #[test]
    fn named_keeps_order_and_replaces() {
        let mut n = Named::default();
        n.insert("b".to_string(), 1);
        n.insert("a".to_string(), 2);
        n.insert("b".to_string(), 3);
        assert_eq!(n.keys().collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(n.get("b"), Some(&3));
        assert_eq!(n.len(), 2);
    }
}
