//! The app's shared state, provided as context: the thread list (a signal holding the plain [`Threads`] model),
//! the IndexedDB store it is written to, the open conversations, and the notices the app shows (a storage error,
//! an import refused, an undo offer). Every change to a thread goes through here, so it is saved once and a
//! failed save is reported.

use std::collections::HashMap;
use std::rc::Rc;

use edgechat_www::api::{ChatError, Config, Endpoint, RequestOptions};
use edgechat_www::state::Store;
use leptos::prelude::*;
use wasm_bindgen_futures::spawn_local;

use crate::js;
use crate::playground::Module;
use crate::session::Session;
use crate::threads::db::{Db, DbError};
use crate::threads::{file, Settings, Thread, Threads};

/// Something the app tells the user until it is dismissed or replaced.
#[derive(Debug, Clone, PartialEq)]
pub enum Notice {
    /// A thread was deleted; Undo puts it back.
    Deleted(String),
    /// A thread was imported.
    Imported(String),
    /// An import was refused (nothing was changed).
    ImportRefused(String),
    /// A write to storage failed; the change is kept in this tab and written again with the next save or when
    /// the user asks ([`AppCtx::retry_saving`]).
    Storage(String),
}

/// The app's state (copyable handles, provided as context).
#[derive(Clone, Copy)]
pub struct AppCtx {
    /// Every thread.
    pub threads: RwSignal<Threads>,
    /// The threads have been read from storage.
    pub loaded: RwSignal<bool>,
    /// The notice shown.
    pub notice: RwSignal<Option<Notice>>,
    /// `GET /api/config`, once loaded (the model list of compare and the settings).
    pub config: RwSignal<Option<Result<Config, ChatError>>>,
    /// The sidebar's search box.
    pub search: RwSignal<String>,
    /// The sidebar is open (narrow screens).
    pub drawer: RwSignal<bool>,
    /// Asks the sidebar to focus its search box (`/`).
    pub focus_search: RwSignal<u32>,
    /// The playground module (structured output's checks), loaded on first use.
    pub playground: Module,
    db: StoredValue<Option<Db>, LocalStorage>,
    /// Threads whose last save failed.
    unsaved: StoredValue<Vec<String>>,
    sessions: StoredValue<HashMap<String, Rc<Session>>, LocalStorage>,
}

/// The context.
pub fn use_app() -> AppCtx {
    expect_context::<AppCtx>()
}

/// A thread's conversation as the shared model sees it: its store is the thread record.
struct ThreadStore {
    app: AppCtx,
    id: String,
}

impl ThreadStore {
    fn draft_key(&self) -> String {
        format!("edgechat-app:draft:{}", self.id)
    }
}

impl Store for ThreadStore {
    fn get(&self, what: &str) -> Option<String> {
        match what {
            "chat" => {
                self.app.threads.with_untracked(|t| t.get(&self.id).map(|t| t.chat.clone())).filter(|c| !c.is_empty())
            }
            // The draft is not part of the thread: it stays in this browser's localStorage.
            _ => window().local_storage().ok().flatten()?.get_item(&self.draft_key()).ok().flatten(),
        }
    }

    fn set(&self, what: &str, value: &str) {
        match what {
            "chat" => self.app.set_chat(&self.id, value),
            _ => {
                if let Some(st) = window().local_storage().ok().flatten() {
                    let _ = if value.is_empty() {
                        st.remove_item(&self.draft_key())
                    } else {
                        st.set_item(&self.draft_key(), value)
                    };
                }
            }
        }
    }

    fn remove(&self, what: &str) {
        self.set(what, "");
    }
}

/// The request options of a thread's settings.
pub fn request_options(s: &Settings, config: Option<&Config>) -> RequestOptions {
    let allow_system = config.is_some_and(|c| c.allow_system_prompt);
    RequestOptions {
        system: Some(s.system.trim().to_string()).filter(|p| allow_system && !p.is_empty()),
        temperature: s.temperature,
        max_tokens: s.max_tokens,
        response_format: s.structured.then(|| response_format(&s.schema)),
    }
}

/// The `response_format` to send for `schema` (JSON text the playground's check passed).
fn response_format(schema: &str) -> String {
    format!("{{\"type\":\"json_schema\",\"name\":\"answer\",\"schema\":{},\"strict\":true}}", schema.trim())
}

impl AppCtx {
    /// Creates the state and starts reading the threads and the config.
    pub fn start() -> Self {
        let app = Self {
            threads: RwSignal::new(Threads::default()),
            loaded: RwSignal::new(false),
            notice: RwSignal::new(None),
            config: RwSignal::new(None),
            search: RwSignal::new(String::new()),
            drawer: RwSignal::new(false),
            focus_search: RwSignal::new(0),
            playground: Module::new(),
            db: StoredValue::new_local(None),
            unsaved: StoredValue::new(Vec::new()),
            sessions: StoredValue::new_local(HashMap::new()),
        };
        spawn_local(async move {
            let config = edgechat_www::api::fetch_config(&Endpoint::default()).await;
            app.config.set(Some(config));
        });
        spawn_local(async move {
            let records = match Db::open().await {
                Ok(db) => {
                    let all = db.all().await;
                    app.db.set_value(Some(db));
                    all
                }
                Err(e) => Err(e),
            };
            match records {
                Ok(r) => app.threads.set(Threads::from_records(r.into_iter().filter_map(Thread::from_js).collect())),
                Err(e) => app.report(&e, "Your threads could not be read"),
            }
            app.loaded.set(true);
            // An answer that was streaming when the page closed resumes now, in the background.
            let streaming: Vec<String> = app
                .threads
                .with_untracked(|t| t.list.iter().filter(|t| t.digest.streaming).map(|t| t.id.clone()).collect());
            for id in streaming {
                app.session(&id);
            }
        });
        app
    }

    fn report(&self, e: &DbError, what: &str) {
        let message = if e.quota {
            format!("{what}: the browser's storage for this site is full. Export and delete threads you no longer need, then try again; until then the change is kept in this tab only.")
        } else {
            format!("{what}: {}", e.message)
        };
        self.notice.set(Some(Notice::Storage(message)));
    }

    /// Writes thread `id` to storage (reporting a failure).
    fn save(&self, id: &str) {
        let Some(record) = self.threads.with_untracked(|t| t.get(id).map(Thread::to_js)) else { return };
        let Some(db) = self.db.get_value() else { return };
        let (app, id) = (*self, id.to_string());
        spawn_local(async move {
            match db.put(&record).await {
                Ok(()) => {
                    let others = app.unsaved.try_update_value(|u| {
                        u.retain(|x| *x != id);
                        std::mem::take(u)
                    });
                    match others.unwrap_or_default() {
                        // Storage works again: what failed before is written now.
                        pending if !pending.is_empty() => pending.iter().for_each(|p| app.save(p)),
                        _ if matches!(app.notice.get_untracked(), Some(Notice::Storage(_))) => app.notice.set(None),
                        _ => {}
                    }
                }
                Err(e) => {
                    app.unsaved.update_value(|u| {
                        if !u.contains(&id) {
                            u.push(id.clone());
                        }
                    });
                    app.report(&e, "The last change could not be saved");
                }
            }
        });
    }

    /// Writes again every thread whose save failed, on a new connection: the browser reads the quota when it
    /// opens the database, and keeps it open a moment after its last connection closes (Chromium: 2 s).
    pub fn retry_saving(&self) {
        let app = *self;
        if let Some(old) = self.db.try_update_value(Option::take).flatten() {
            old.close();
        }
        self.notice.set(Some(Notice::Storage("Saving again…".into())));
        spawn_local(async move {
            js::sleep(2500).await;
            match Db::open().await {
                Ok(db) => {
                    app.db.set_value(Some(db));
                    let pending = app.unsaved.try_update_value(std::mem::take).unwrap_or_default();
                    pending.iter().for_each(|id| app.save(id));
                }
                Err(e) => app.report(&e, "Storage could not be opened"),
            }
        });
    }

    fn set_chat(&self, id: &str, chat: &str) {
        let changed =
            self.threads.try_update(|t| t.get_mut(id).is_some_and(|t| t.set_chat(chat, js::now()))).unwrap_or(false);
        if changed {
            self.save(id);
        }
    }

    /// The open conversation of thread `id` (opened now if needed).
    pub fn session(&self, id: &str) -> Rc<Session> {
        if let Some(s) = self.sessions.with_value(|m| m.get(id).cloned()) {
            return s;
        }
        let session = Session::open(Rc::new(ThreadStore { app: *self, id: id.to_string() }));
        self.apply_settings(id, &session);
        self.sessions.update_value(|m| {
            m.insert(id.to_string(), session.clone());
        });
        session
    }

    /// Sends thread `id`'s settings with its questions from now on.
    pub fn apply_settings(&self, id: &str, session: &Session) {
        let settings = self.threads.with_untracked(|t| t.get(id).map(|t| t.settings.clone())).unwrap_or_default();
        let config = session.chat.state().config.clone().or_else(|| self.config.get_untracked().and_then(Result::ok));
        session.chat.set_options(request_options(&settings, config.as_ref()));
    }

    /// Opens the sidebar (a drawer on narrow screens) with the focus in its search box.
    pub fn open_drawer(&self) {
        self.drawer.set(true);
        self.focus_search.update(|n| *n += 1);
    }

    /// Creates an empty thread; returns its id.
    pub fn new_thread(&self) -> String {
        let t = Thread::new(js::new_id(), js::now());
        let id = t.id.clone();
        self.threads.update(|l| l.add(t));
        self.save(&id);
        id
    }

    /// Renames thread `id`.
    pub fn rename(&self, id: &str, title: &str) {
        self.threads.update(|t| {
            t.rename(id, title, js::now());
        });
        self.save(id);
    }

    /// Changes thread `id`'s settings.
    pub fn set_settings(&self, id: &str, settings: Settings) {
        self.threads.update(|t| {
            if let Some(t) = t.get_mut(id) {
                t.settings = settings;
            }
        });
        self.save(id);
        if let Some(s) = self.sessions.with_value(|m| m.get(id).cloned()) {
            self.apply_settings(id, &s);
        }
    }

    /// Deletes thread `id` (its answer in progress is stopped); [`AppCtx::undo`] puts it back.
    pub fn delete(&self, id: &str) {
        if let Some(s) = self.sessions.try_update_value(|m| m.remove(id)).flatten() {
            s.close();
        }
        let title = self.threads.try_update(|t| t.remove(id).map(|t| t.title.clone())).flatten();
        let Some(title) = title else { return };
        self.notice.set(Some(Notice::Deleted(title)));
        if let Some(db) = self.db.get_value() {
            let (app, id) = (*self, id.to_string());
            spawn_local(async move {
                if let Err(e) = db.delete(&id).await {
                    app.report(&e, "The thread could not be deleted from storage");
                }
            });
        }
    }

    /// Puts the last deleted thread back; returns its id.
    pub fn undo(&self) -> Option<String> {
        let id = self.threads.try_update(|t| t.undo().map(|t| t.id.clone())).flatten()?;
        self.notice.set(None);
        self.save(&id);
        Some(id)
    }

    /// Imports an exported thread; returns its id, or reports why the file was refused (nothing changes then).
    pub fn import(&self, text: &str) -> Option<String> {
        match file::import(text, js::new_id(), js::now()) {
            Ok(t) => {
                let (id, title) = (t.id.clone(), t.title.clone());
                self.threads.update(|l| l.add(t));
                self.save(&id);
                self.notice.set(Some(Notice::Imported(title)));
                Some(id)
            }
            Err(e) => {
                self.notice.set(Some(Notice::ImportRefused(e)));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_response_format_carries_the_schema() {
        assert_eq!(
            super::response_format(" {} \n"),
            r#"{"type":"json_schema","name":"answer","schema":{},"strict":true}"#
        );
    }
}
