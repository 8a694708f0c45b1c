//! The SSE spec cases of `sse_spec.rs`, run in wasm (Node) with wasm-bindgen-test:
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner cargo test -p edgechat
//! --target wasm32-unknown-unknown --test sse_wasm`.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::wasm_bindgen_test;

mod sse_cases;

sse_cases::sse_case_tests!(wasm_bindgen_test);

#[wasm_bindgen_test]
fn default_limit_is_one_mebibyte() {
    sse_cases::check_default_limit();
}
