//! Files a user attaches to a message (images, PDFs), for the widget and the app alike: reading them (the lazily
//! loaded `edgechat-attach.js`: downscale to [`MAX_SIDE`], type and size checks against `/api/config`), the draft's
//! files ([`State::files`]), and how a turn's files are sent and saved.
//!
//! A file is kept as the edge's attachment JSON (`{kind, media_type, name, data, width?, height?}`, docs/protocol.md)
//! in a JS object: it is previewed, sent and saved as it is, with no copy of its bytes in the wasm. When the
//! browser's storage is full the conversation is saved without the files' bytes (each then says `"dropped": true`):
//! the text is kept, the turn shows that the file was not kept, and it is no longer sent.

use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};

use super::{Chat, State};
use crate::json::{self, Obj};

/// The words of the attach feature, in one place (the widget's and the app's views use them).
pub mod words {
    /// The attach button's accessible name.
    pub const ATTACH: &str = "Attach files";
    /// A preview's remove button, before the file name.
    pub const REMOVE: &str = "Remove";
    /// A saved turn's file whose bytes the full storage could not keep.
    pub const NOT_KEPT: &str = "file not kept";
    /// Saving the conversation without the files' bytes (storage full).
    pub const STORAGE_FULL: &str =
        "This browser's storage is full: the conversation was saved, but its attached files were not kept.";
    /// More files than the edge takes per message.
    pub const TOO_MANY: &str = "Too many files: the rest were not attached.";
    /// The file reader module could not be loaded.
    pub const NO_READER: &str = "The file reader could not be loaded.";
}

/// Longest side of an image as sent (Anthropic scales larger images down to it; OpenAI's high detail reads it).
pub const MAX_SIDE: u32 = 1568;

#[wasm_bindgen(
    inline_js = "export function load_attach() { return import(new URL('../../edgechat-attach.js', import.meta.url)); }"
)]
extern "C" {
    /// The file reader module, next to the widget's files (wasm-bindgen puts this snippet two folders down).
    fn load_attach() -> js_sys::Promise;
}

/// Whether the file's bytes are still here (not dropped when the storage was full).
pub fn kept(f: &JsValue) -> bool {
    !json::flag(f, "dropped")
}

/// The file's name.
pub fn name(f: &JsValue) -> String {
    json::string(f, "name").unwrap_or_else(|| "file".into())
}

/// A `data:` URL of an image's bytes, for its preview (`None` for a document or a dropped file).
pub fn preview_url(f: &JsValue) -> Option<String> {
    let data = json::string(f, "data").filter(|_| json::string(f, "kind").as_deref() == Some("image"))?;
    Some(["data:", &json::string(f, "media_type").unwrap_or_default(), ";base64,", &data].concat())
}

/// The saved form of a file without its bytes.
pub(super) fn without_data(f: &JsValue) -> JsValue {
    Obj::new()
        .set("kind", json::get(f, "kind"))
        .set("media_type", json::get(f, "media_type"))
        .set("name", name(f).as_str())
        .set("dropped", true)
        .build()
}

impl State {
    /// What the selected model takes (images, PDFs), as far as the edge allows files at all.
    pub fn accepts(&self) -> (bool, bool) {
        let Some(c) = &self.config else { return (false, false) };
        let m = c.models.iter().find(|m| m.alias == self.model);
        match m {
            Some(m) if c.limits.max_attachments > 0 && !self.byok_active() => (m.vision, m.documents),
            _ => (false, false),
        }
    }

    /// The `accept` list of a file picker: the allowed types the selected model takes.
    pub fn accept_types(&self) -> String {
        let (vision, documents) = self.accepts();
        let types = self.config.as_ref().map(|c| c.limits.attachment_types.as_slice()).unwrap_or_default();
        let mut out = String::new();
        for t in types.iter().filter(|t| if t.starts_with("image/") { vision } else { documents }) {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(t);
        }
        out
    }
}

impl Chat {
    /// Reads `files` (a `FileList` or an array of `File`: the picker's, a paste's, a drop's) and adds them to the
    /// draft. Files the edge would refuse are left out, with [`State::problem`] saying why.
    pub fn attach(&self, files: JsValue) {
        let (vision, documents) = self.state().accepts();
        if !vision && !documents {
            return;
        }
        let opts = {
            let s = self.state();
            let l = &s.config.as_ref().expect_throw("config").limits;
            let types: js_sys::Array = l.attachment_types.iter().map(|t| JsValue::from_str(t)).collect();
            Obj::new()
                .set("maxSide", MAX_SIDE)
                .set("maxBytes", l.max_attachment_bytes as f64)
                .set("types", types)
                .set("vision", vision)
                .set("documents", documents)
                .build()
        };
        // Copied now: a picker's list empties when its value is reset, a paste's or drop's after the event.
        let files: JsValue = js_sys::Array::from(&files).into();
        let this = self.clone();
        spawn_local(async move {
            let read = async {
                let module = JsFuture::from(load_attach()).await?;
                let f: js_sys::Function = js_sys::Reflect::get(&module, &"read".into())?.dyn_into()?;
                JsFuture::from(js_sys::Promise::from(f.call2(&JsValue::NULL, &files, &opts)?)).await
            };
            let out = match read.await {
                Ok(v) => v,
                Err(_) => {
                    this.update(|s| s.problem = Some(super::Problem::NoReader));
                    return;
                }
            };
            // The reasons, one sentence each.
            let mut errors = String::new();
            for e in json::array(&out, "errors").iter().filter_map(JsValue::as_string) {
                errors.push_str(&e);
                errors.push(' ');
            }
            this.update(|s| {
                let max = s.config.as_ref().map_or(0, |c| c.limits.max_attachments);
                let mut too_many = false;
                for f in json::array(&out, "files") {
                    if s.files.len() < max {
                        s.files.push(f);
                    } else {
                        too_many = true;
                        break;
                    }
                }
                let refused = errors.trim_end().to_string();
                s.problem = (too_many || !refused.is_empty()).then_some(super::Problem::Files { refused, too_many });
            });
        });
    }

    /// Takes file `i` off the draft.
    pub fn remove_file(&self, i: usize) {
        self.update(|s| {
            if i < s.files.len() {
                s.files.remove(i);
            }
        });
    }
}
