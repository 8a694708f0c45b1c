//! The structured-output mode's JSON Schema: checked before a question is sent (so a broken schema is reported
//! here, not as the edge's refusal), and the answer validated against it. The subset providers accept for
//! structured output: `type` (also a list), `properties`, `required`, `additionalProperties`, `items`, `enum`,
//! `const`, `anyOf` / `oneOf` / `allOf`, number, string and array bounds, `pattern`; annotations (`title`,
//! `description`, `default`, `examples`, `format`, `$schema`, `$id`) are accepted and not checked. `$ref` is not
//! supported: a schema using it is reported.

use crate::json::Json;

const TYPES: [&str; 7] = ["string", "number", "integer", "boolean", "object", "array", "null"];
const ANNOTATIONS: [&str; 7] = ["title", "description", "default", "examples", "format", "$schema", "$id"];

/// What is wrong with `schema` (empty when it can be used), each message starting with where (`#/properties/age`).
pub fn check(schema: &Json) -> Vec<String> {
    let mut errors = Vec::new();
    match schema {
        Json::Obj(_) => check_at(schema, "#", &mut errors),
        _ => {
            errors.push("#: the schema must be a JSON object, e.g. {\"type\": \"object\", \"properties\": {…}}".into())
        }
    }
    if errors.is_empty() && schema.get("type").and_then(Json::as_str) != Some("object") {
        errors.push("#: structured output needs an object at the top: \"type\": \"object\"".into());
    }
    errors
}

fn check_at(s: &Json, at: &str, errors: &mut Vec<String>) {
    let Json::Obj(members) = s else {
        if !matches!(s, Json::Bool(_)) {
            errors.push(format!("{at}: a schema must be an object (or true / false)"));
        }
        return;
    };
    let mut err = |m: String| errors.push(format!("{at}: {m}"));
    let mut nested = Vec::new();
    for (k, v) in members {
        match k.as_str() {
            "type" => {
                let names: Vec<&Json> = match v {
                    Json::Arr(a) => a.iter().collect(),
                    other => vec![other],
                };
                for n in names {
                    if !n.as_str().is_some_and(|n| TYPES.contains(&n)) {
                        err(format!(
                            "\"type\" must be one of {} (or a list of them), not {}",
                            TYPES.join(", "),
                            n.summary()
                        ));
                    }
                }
            }
            "properties" => match v {
                Json::Obj(props) => nested.extend(props.iter().map(|(name, p)| (format!("{at}/properties/{name}"), p))),
                _ => err("\"properties\" must be an object of schemas".into()),
            },
            "required" => match v {
                Json::Arr(names) => {
                    for n in names {
                        match n.as_str() {
                            None => err(format!("\"required\" must list property names, not {}", n.summary())),
                            Some(name) if s.get("properties").is_some_and(|p| p.get(name).is_none()) => {
                                err(format!("\"required\" names \"{name}\", which is not in \"properties\""));
                            }
                            _ => {}
                        }
                    }
                }
                _ => err("\"required\" must be a list of property names".into()),
            },
            "items" | "additionalProperties" => match v {
                Json::Bool(_) => {}
                Json::Obj(_) => nested.push((format!("{at}/{k}"), v)),
                _ => err(format!("\"{k}\" must be a schema")),
            },
            "anyOf" | "oneOf" | "allOf" => match v {
                Json::Arr(list) if !list.is_empty() => {
                    nested.extend(list.iter().enumerate().map(|(i, x)| (format!("{at}/{k}/{i}"), x)));
                }
                _ => err(format!("\"{k}\" must be a non-empty list of schemas")),
            },
            "enum" => {
                if !matches!(v, Json::Arr(a) if !a.is_empty()) {
                    err("\"enum\" must be a non-empty list of values".into());
                }
            }
            "const" => {}
            "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf" => {
                if v.as_f64().is_none() {
                    err(format!("\"{k}\" must be a number"));
                }
            }
            "minLength" | "maxLength" | "minItems" | "maxItems" => {
                if !v.as_f64().is_some_and(|n| n >= 0.0 && n.fract() == 0.0) {
                    err(format!("\"{k}\" must be a whole number ≥ 0"));
                }
            }
            "pattern" => match v.as_str() {
                Some(p) => {
                    if let Err(e) = regex_test(p, "") {
                        err(format!("\"pattern\" is not a valid regular expression: {e}"));
                    }
                }
                None => err("\"pattern\" must be a string".into()),
            },
            "$ref" | "$defs" | "definitions" => {
                err(format!("\"{k}\" is not supported here: write the schema out in full"))
            }
            _ if ANNOTATIONS.contains(&k.as_str()) => {}
            _ => err(format!("unknown keyword \"{k}\" (a typo?)")),
        }
    }
    for (path, sub) in nested {
        check_at(sub, &path, errors);
    }
}

/// Where `value` does not match `schema` (empty when it matches), each message starting with the value's path
/// (`$.items[2].name`). `schema` should have passed [`check`].
pub fn validate(schema: &Json, value: &Json) -> Vec<String> {
    let mut errors = Vec::new();
    validate_at(schema, value, "$", &mut errors);
    errors
}

fn validate_at(s: &Json, v: &Json, at: &str, errors: &mut Vec<String>) {
    let s = match s {
        Json::Bool(true) => return,
        Json::Bool(false) => return errors.push(format!("{at}: no value is allowed here")),
        Json::Obj(_) => s,
        _ => return,
    };
    let mut err = |m: String| errors.push(format!("{at}: {m}"));
    if let Some(t) = s.get("type") {
        let allowed: Vec<&str> = match t {
            Json::Arr(a) => a.iter().filter_map(Json::as_str).collect(),
            other => other.as_str().into_iter().collect(),
        };
        let actual = v.type_name();
        let ok = allowed.iter().any(|&a| a == actual || (a == "number" && actual == "integer"));
        if !ok {
            err(format!("expected {}, got {actual} {}", allowed.join(" or "), v.summary()));
            return;
        }
    }
    if let Some(Json::Arr(options)) = s.get("enum") {
        if !options.contains(v) {
            let list: Vec<String> = options.iter().map(Json::summary).collect();
            err(format!("{} is not one of {}", v.summary(), list.join(", ")));
        }
    }
    if let Some(c) = s.get("const") {
        if c != v {
            err(format!("expected {}, got {}", c.summary(), v.summary()));
        }
    }
    match v {
        Json::Num(n) => {
            let bound = |k: &str| s.get(k).and_then(Json::as_f64);
            if let Some(m) = bound("minimum").filter(|m| n < m) {
                err(format!("{} is less than the minimum {}", num(*n), num(m)));
            }
            if let Some(m) = bound("maximum").filter(|m| n > m) {
                err(format!("{} is more than the maximum {}", num(*n), num(m)));
            }
            if let Some(m) = bound("exclusiveMinimum").filter(|m| n <= m) {
                err(format!("{} must be more than {}", num(*n), num(m)));
            }
            if let Some(m) = bound("exclusiveMaximum").filter(|m| n >= m) {
                err(format!("{} must be less than {}", num(*n), num(m)));
            }
        }
        Json::Str(text) => {
            let len = text.chars().count() as f64;
            if let Some(m) = s.get("minLength").and_then(Json::as_f64).filter(|&m| len < m) {
                err(format!("shorter than {} characters", num(m)));
            }
            if let Some(m) = s.get("maxLength").and_then(Json::as_f64).filter(|&m| len > m) {
                err(format!("longer than {} characters", num(m)));
            }
            if let Some(p) = s.get("pattern").and_then(Json::as_str) {
                if regex_test(p, text) == Ok(false) {
                    err(format!("{} does not match the pattern {}", v.summary(), crate::js::quote(p)));
                }
            }
        }
        Json::Arr(items) => {
            let len = items.len() as f64;
            if let Some(m) = s.get("minItems").and_then(Json::as_f64).filter(|&m| len < m) {
                err(format!("fewer than {} items", num(m)));
            }
            if let Some(m) = s.get("maxItems").and_then(Json::as_f64).filter(|&m| len > m) {
                err(format!("more than {} items", num(m)));
            }
            if let Some(item) = s.get("items") {
                for (i, x) in items.iter().enumerate() {
                    validate_at(item, x, &format!("{at}[{i}]"), errors);
                }
            }
        }
        Json::Obj(members) => {
            if let Some(Json::Arr(required)) = s.get("required") {
                for name in required.iter().filter_map(Json::as_str) {
                    if v.get(name).is_none() {
                        err(format!("the required property \"{name}\" is missing"));
                    }
                }
            }
            let props = s.get("properties");
            for (k, x) in members {
                let path = format!("{at}.{k}");
                match (props.and_then(|p| p.get(k)), s.get("additionalProperties")) {
                    (Some(p), _) => validate_at(p, x, &path, errors),
                    (None, Some(extra)) => validate_at(extra, x, &path, errors),
                    (None, None) => {}
                }
            }
        }
        _ => {}
    }
    let passes = |sub: &Json| validate(sub, v).is_empty();
    if let Some(Json::Arr(all)) = s.get("allOf") {
        for sub in all {
            validate_at(sub, v, at, errors);
        }
    }
    if let Some(Json::Arr(any)) = s.get("anyOf") {
        if !any.iter().any(passes) {
            errors.push(format!("{at}: matches none of the \"anyOf\" schemas"));
        }
    }
    if let Some(Json::Arr(one)) = s.get("oneOf") {
        let n = one.iter().filter(|x| passes(x)).count();
        if n != 1 {
            errors.push(format!("{at}: matches {n} of the \"oneOf\" schemas, not exactly one"));
        }
    }
}

fn num(n: f64) -> String {
    crate::js::number(n)
}

/// Whether `text` matches the regular expression `pattern` (ECMAScript syntax, as JSON Schema says), or why the
/// pattern is invalid. Natively (unit tests) every pattern matches.
fn regex_test(pattern: &str, text: &str) -> Result<bool, String> {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        let make = js_sys::Function::new_with_args("p", "return new RegExp(p, 'u')");
        let re = make.call1(&wasm_bindgen::JsValue::NULL, &pattern.into()).map_err(|e| {
            e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| "invalid".into())
        })?;
        Ok(re.unchecked_into::<js_sys::RegExp>().test(text))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (pattern, text);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::obj;
    use Json::*;

    fn person() -> Json {
        obj(&[
            ("type", Str("object".into())),
            (
                "properties",
                obj(&[
                    ("name", obj(&[("type", Str("string".into())), ("minLength", Num(1.0))])),
                    ("age", obj(&[("type", Str("integer".into())), ("minimum", Num(0.0))])),
                    (
                        "tags",
                        obj(&[
                            ("type", Str("array".into())),
                            ("items", obj(&[("enum", Arr(vec![Str("a".into()), Str("b".into())]))])),
                        ]),
                    ),
                ]),
            ),
            ("required", Arr(vec![Str("name".into()), Str("age".into())])),
            ("additionalProperties", Bool(false)),
        ])
    }

    #[test]
    fn a_good_schema_has_no_errors() {
        assert_eq!(check(&person()), Vec::<String>::new());
    }

    #[test]
    fn schema_errors_say_where() {
        let bad = obj(&[
            ("type", Str("object".into())),
            ("properties", obj(&[("age", obj(&[("type", Str("int".into())), ("minimun", Num(0.0))]))])),
            ("required", Arr(vec![Str("name".into())])),
        ]);
        let errors = check(&bad);
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].starts_with("#: \"required\" names \"name\""), "{errors:?}");
        assert!(errors[1].starts_with("#/properties/age: \"type\" must be one of"), "{errors:?}");
        assert!(errors[2].contains("unknown keyword \"minimun\""), "{errors:?}");
        assert_eq!(check(&Arr(vec![])).len(), 1);
        assert_eq!(
            check(&obj(&[("type", Str("string".into()))])),
            vec!["#: structured output needs an object at the top: \"type\": \"object\"".to_string()]
        );
        assert!(
            check(&obj(&[("type", Str("object".into())), ("$ref", Str("#/x".into()))]))[0].contains("not supported")
        );
    }

    #[test]
    fn a_matching_value_validates() {
        let v = obj(&[("name", Str("Ada".into())), ("age", Num(36.0)), ("tags", Arr(vec![Str("a".into())]))]);
        assert_eq!(validate(&person(), &v), Vec::<String>::new());
    }

    #[test]
    fn mismatches_are_listed_with_their_path() {
        let v = obj(&[
            ("name", Str(String::new())),
            ("age", Num(-1.5)),
            ("tags", Arr(vec![Str("c".into())])),
            ("extra", Null),
        ]);
        let errors = validate(&person(), &v);
        assert_eq!(
            errors,
            vec![
                "$.name: shorter than 1 characters".to_string(),
                "$.age: expected integer, got number -1.5".to_string(),
                "$.tags[0]: \"c\" is not one of \"a\", \"b\"".to_string(),
                "$.extra: no value is allowed here".to_string(),
            ]
        );
        assert_eq!(
            validate(&person(), &obj(&[("name", Str("x".into()))])),
            vec!["$: the required property \"age\" is missing".to_string()]
        );
        assert_eq!(validate(&person(), &Str("x".into())), vec!["$: expected object, got string \"x\"".to_string()]);
    }

    #[test]
    fn combinators() {
        let s =
            obj(&[("anyOf", Arr(vec![obj(&[("type", Str("string".into()))]), obj(&[("type", Str("null".into()))])]))]);
        assert!(validate(&s, &Null).is_empty());
        assert_eq!(validate(&s, &Num(1.0)), vec!["$: matches none of the \"anyOf\" schemas".to_string()]);
        let one = obj(&[(
            "oneOf",
            Arr(vec![obj(&[("type", Str("number".into()))]), obj(&[("type", Str("integer".into()))])]),
        )]);
        assert_eq!(validate(&one, &Num(2.0)).len(), 1);
        assert!(validate(&one, &Num(2.5)).is_empty());
    }
}
