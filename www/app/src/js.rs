//! Small browser helpers: clocks, JSON through the browser's own `JSON.parse`, ids, downloads.

use wasm_bindgen::{JsCast, JsValue};

/// Milliseconds since the epoch (`Date.now()`).
pub fn now() -> f64 {
    js_sys::Date::now()
}

/// A monotonic clock in milliseconds (`performance.now()`), for timings.
pub fn clock() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or_else(now, |p| p.now())
}

/// Waits `ms` milliseconds.
pub async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}

/// `JSON.parse(text)`, or the browser's message for why it is not JSON.
pub fn parse(text: &str) -> Result<JsValue, String> {
    js_sys::JSON::parse(text).map_err(|e| {
        e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| "not JSON".into())
    })
}

/// `JSON.stringify(value, null, indent)` (empty for values JSON cannot hold).
pub fn stringify(value: &JsValue, indent: u32) -> String {
    js_sys::JSON::stringify_with_replacer_and_space(value, &JsValue::NULL, &JsValue::from(indent))
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

/// `o[key]` (`undefined` when `o` is not an object).
pub fn get(o: &JsValue, key: &str) -> JsValue {
    if o.is_object() {
        js_sys::Reflect::get(o, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// Sets `o[key]` on a plain object.
pub fn set(o: &JsValue, key: &str, value: &JsValue) {
    let _ = js_sys::Reflect::set(o, &JsValue::from_str(key), value);
}

/// A number as JavaScript writes it (`12`, `0.7`, `-1.5`). In the browser this is `Number#toString`, which
/// keeps Rust's float formatting (and its tables, ~20 KB) out of the wasm; natively (tests) it is Rust's.
/// (Used by the playground, which compiles this file too.)
#[allow(dead_code)]
pub fn number(n: f64) -> String {
    #[cfg(target_arch = "wasm32")]
    return js_sys::Number::from(n).to_string_with_radix(10).map(String::from).unwrap_or_default();
    #[cfg(not(target_arch = "wasm32"))]
    n.to_string()
}

/// Reads a plain decimal number (`2`, `0.7`, `-.5`): what a number field holds. Written out rather than
/// `str::parse::<f64>`, whose general algorithm is ~10 KB of wasm. (Used by the playground's settings panel.)
#[allow(dead_code)]
pub fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (whole, fraction) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty())
        || !digits(whole)
        || !digits(fraction)
        || whole.len() + fraction.len() > 15
    {
        return None;
    }
    let int = |s: &str| s.bytes().fold(0u64, |n, b| n * 10 + u64::from(b - b'0'));
    let n = int(whole) as f64 + int(fraction) as f64 / 10f64.powi(fraction.len() as i32);
    Some(if negative { -n } else { n })
}

/// `s` in quotes with JSON escapes (`"a \"b\""`): `JSON.stringify` in the browser, Rust's `Debug` natively.
/// (Used by the playground's JSON values.)
#[allow(dead_code)]
pub fn quote(s: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    return js_sys::JSON::stringify(&JsValue::from_str(s)).ok().and_then(|s| s.as_string()).unwrap_or_default();
    #[cfg(not(target_arch = "wasm32"))]
    format!("{s:?}")
}

/// Lower case, for search (`String#toLowerCase` in the browser: no Unicode tables in the wasm).
pub fn lower(s: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    return String::from(js_sys::JsString::from(s).to_lower_case());
    #[cfg(not(target_arch = "wasm32"))]
    s.to_lowercase()
}

/// An element id unique in the page: `prefix-N`.
pub fn unique_id(prefix: &str) -> String {
    thread_local!(static NEXT: std::cell::Cell<u32> = const { std::cell::Cell::new(0) });
    let n = NEXT.with(|c| {
        c.set(c.get() + 1);
        c.get()
    });
    format!("{prefix}-{n}")
}

/// A new random id: time and randomness in base 36 (`m3x9k2-4fz81q`).
pub fn new_id() -> String {
    let t = now() as u64;
    let r = (js_sys::Math::random() * 2f64.powi(40)) as u64;
    format!("{}-{}", base36(t), base36(r))
}

fn base36(mut n: u64) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Offers `text` as a file download named `name`.
pub fn download(name: &str, mime: &str, text: &str) {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else { return };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else { return };
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    if let Ok(a) = doc.create_element("a").map(JsCast::unchecked_into::<web_sys::HtmlAnchorElement>) {
        a.set_href(&url);
        a.set_download(name);
        a.click();
    }
    // The download starts after this task: the URL must outlive it.
    let revoke = wasm_bindgen::closure::Closure::once_into_js(move || drop(web_sys::Url::revoke_object_url(&url)));
    if let Some(w) = web_sys::window() {
        let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 10_000);
    }
}

/// A file name from a title: letters, digits and dashes.
pub fn file_name(title: &str, ext: &str) -> String {
    let mut s: String = title
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    s.truncate(60);
    if s.is_empty() {
        s = "thread".into();
    }
    format!("{s}.{ext}")
}
