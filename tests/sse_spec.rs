//! WHATWG SSE parsing rules, one test per case; each is checked whole, split at every byte, one byte at a time,
//! and against the reference parser (see `sse_cases`). The same cases run in wasm in `sse_wasm.rs`.
#![cfg(not(target_arch = "wasm32"))]

mod sse_cases;

sse_cases::sse_case_tests!(test);

#[test]
fn default_limit_is_one_mebibyte() {
    sse_cases::check_default_limit();
}
