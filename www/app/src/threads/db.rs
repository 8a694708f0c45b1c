//! The threads' IndexedDB store (database `edgechat-app`, object store `threads`, key `id`): read all at start,
//! then one `put` per change and one `delete` per removal. A write that fails is reported with its reason; a full
//! quota (`QuotaExceededError`) is told apart so the app can say so.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbObjectStore, IdbRequest, IdbTransaction, IdbTransactionMode};

const NAME: &str = "edgechat-app";
const STORE: &str = "threads";

/// Why a read or write failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbError {
    /// The browser refused for lack of space (`QuotaExceededError`).
    pub quota: bool,
    /// The browser's message.
    pub message: String,
}

impl DbError {
    fn from_js(e: &JsValue) -> Self {
        let name = js_sys::Reflect::get(e, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default();
        let message = js_sys::Reflect::get(e, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_default();
        Self { quota: name == "QuotaExceededError", message: if message.is_empty() { name } else { message } }
    }

    fn other(message: &str) -> Self {
        Self { quota: false, message: message.into() }
    }
}

/// An open database.
#[derive(Clone)]
pub struct Db(IdbDatabase);

/// A promise settled by `target`'s `success`/`complete` (with `result`) or `error`/`abort` (with `error`).
fn settle(
    target: &web_sys::EventTarget,
    ok: &str,
    failed: &[&str],
    result: fn(&JsValue) -> JsValue,
    error: fn(&JsValue) -> JsValue,
) -> js_sys::Promise {
    js_sys::Promise::new(&mut |resolve, reject| {
        let t = target.clone();
        let done = Closure::once_into_js(move || {
            let _ = resolve.call1(&JsValue::NULL, &result(&t));
        });
        let t = target.clone();
        let fail = Closure::<dyn FnMut()>::new(move || {
            let _ = reject.call1(&JsValue::NULL, &error(&t));
        })
        .into_js_value();
        let _ = target.add_event_listener_with_callback(ok, done.unchecked_ref());
        for f in failed {
            let _ = target.add_event_listener_with_callback(f, fail.unchecked_ref());
        }
    })
}

fn request_result(t: &JsValue) -> JsValue {
    t.unchecked_ref::<IdbRequest>().result().unwrap_or(JsValue::UNDEFINED)
}

fn request_error(t: &JsValue) -> JsValue {
    t.unchecked_ref::<IdbRequest>().error().ok().flatten().map_or(JsValue::NULL, JsValue::from)
}

fn tx_error(t: &JsValue) -> JsValue {
    t.unchecked_ref::<IdbTransaction>().error().map_or(JsValue::NULL, JsValue::from)
}

async fn request(req: &IdbRequest) -> Result<JsValue, DbError> {
    JsFuture::from(settle(req, "success", &["error"], request_result, request_error))
        .await
        .map_err(|e| DbError::from_js(&e))
}

async fn committed(tx: &IdbTransaction) -> Result<(), DbError> {
    JsFuture::from(settle(tx, "complete", &["abort"], |_| JsValue::UNDEFINED, tx_error))
        .await
        .map(drop)
        .map_err(|e| DbError::from_js(&e))
}

impl Db {
    /// Opens (creating on first use) the database.
    pub async fn open() -> Result<Self, DbError> {
        let factory = web_sys::window()
            .and_then(|w| w.indexed_db().ok().flatten())
            .ok_or_else(|| DbError::other("IndexedDB is not available in this browser (private mode?)"))?;
        let req = factory.open_with_u32(NAME, 1).map_err(|e| DbError::from_js(&e))?;
        let upgrade = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            let Some(db) = e.target().and_then(|t| t.unchecked_into::<IdbRequest>().result().ok()) else { return };
            let db: IdbDatabase = db.unchecked_into();
            if !db.object_store_names().contains(STORE) {
                let params = web_sys::IdbObjectStoreParameters::new();
                params.set_key_path(&JsValue::from_str("id"));
                let _ = db.create_object_store_with_optional_parameters(STORE, &params);
            }
        });
        req.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
        let db = request(&req).await;
        req.set_onupgradeneeded(None);
        drop(upgrade);
        Ok(Self(db?.unchecked_into()))
    }

    /// Closes the connection (pending transactions finish first).
    pub fn close(&self) {
        self.0.close();
    }

    fn store(&self, mode: IdbTransactionMode) -> Result<(IdbTransaction, IdbObjectStore), DbError> {
        let tx = self.0.transaction_with_str_and_mode(STORE, mode).map_err(|e| DbError::from_js(&e))?;
        let store = tx.object_store(STORE).map_err(|e| DbError::from_js(&e))?;
        Ok((tx, store))
    }

    /// Every record.
    pub async fn all(&self) -> Result<Vec<JsValue>, DbError> {
        let (_, store) = self.store(IdbTransactionMode::Readonly)?;
        let req = store.get_all().map_err(|e| DbError::from_js(&e))?;
        Ok(js_sys::Array::from(&request(&req).await?).iter().collect())
    }

    /// Writes a record; done once the transaction has committed (a full disk fails here).
    pub async fn put(&self, record: &JsValue) -> Result<(), DbError> {
        let (tx, store) = self.store(IdbTransactionMode::Readwrite)?;
        store.put(record).map_err(|e| DbError::from_js(&e))?;
        committed(&tx).await
    }

    /// Deletes the record with this id.
    pub async fn delete(&self, id: &str) -> Result<(), DbError> {
        let (tx, store) = self.store(IdbTransactionMode::Readwrite)?;
        store.delete(&JsValue::from_str(id)).map_err(|e| DbError::from_js(&e))?;
        committed(&tx).await
    }
}
