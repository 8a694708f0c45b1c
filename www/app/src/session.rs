//! A conversation open in the app: the shared model's [`Chat`] (its actions and streaming, exactly as the widget
//! uses them), a trigger the view tracks, and the event inspector's logs. [`Live`] is the handle components hold;
//! they read the state through it and memoize what they show, so a streamed token re-renders only what changed.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use edgechat_www::api::Endpoint;
use edgechat_www::state::{Chat, State, Store, Trace, Turn};
use leptos::prelude::*;

use crate::inspector::{AnswerLog, Inspector};
use crate::js;

/// One open conversation.
pub struct Session {
    /// The conversation and its actions.
    pub chat: Chat,
    /// Notified after every change of the chat's state.
    changed: ArcTrigger,
    /// Notified when an answer's log grows.
    logged: ArcTrigger,
    inspector: Rc<RefCell<Inspector>>,
}

impl Session {
    /// Opens a conversation kept in `store` (restoring it, and resuming an answer that was streaming).
    pub fn open(store: Rc<dyn Store>) -> Rc<Self> {
        let chat = Chat::with_store(Endpoint::default(), store);
        let changed = ArcTrigger::new();
        let logged = ArcTrigger::new();
        let inspector = Rc::new(RefCell::new(Inspector::default()));
        let notify = changed.clone();
        chat.watch(Some(Rc::new(move |_: &State| notify.notify())));
        // The tracer holds the chat (for the model asked for): [`Session::close`] breaks that cycle.
        let (log, tick, me) = (inspector.clone(), logged.clone(), chat.clone());
        chat.trace(Some(Rc::new(move |id, trace: Trace<'_>| {
            let asked = me.state().model.clone();
            log.borrow_mut().record(id, &trace, js::clock(), &asked);
            tick.notify();
        })));
        chat.load_config();
        Rc::new(Self { chat, changed, logged, inspector })
    }

    /// A conversation kept only in memory (compare).
    pub fn ephemeral() -> Rc<Self> {
        Self::open(Rc::new(MemoryStore::default()))
    }

    /// Stops its answer and lets go of the view and the inspector (the session is being dropped).
    pub fn close(&self) {
        self.chat.stop();
        self.chat.watch(None);
        self.chat.trace(None);
    }
}

/// A store that keeps the conversation in memory only.
#[derive(Default)]
pub struct MemoryStore(RefCell<HashMap<String, String>>);

impl Store for MemoryStore {
    fn get(&self, what: &str) -> Option<String> {
        self.0.borrow().get(what).cloned()
    }

    fn set(&self, what: &str, value: &str) {
        self.0.borrow_mut().insert(what.into(), value.into());
    }

    fn remove(&self, what: &str) {
        self.0.borrow_mut().remove(what);
    }
}

/// The handle components hold on a [`Session`] (a copyable reference that lives as long as the component).
#[derive(Clone, Copy)]
pub struct Live(StoredValue<Rc<Session>, LocalStorage>);

impl Live {
    /// A handle on `session`, owned by the current component.
    pub fn new(session: Rc<Session>) -> Self {
        Self(StoredValue::new_local(session))
    }

    /// The chat, to call an action on.
    pub fn chat(&self) -> Chat {
        self.0.with_value(|s| s.chat.clone())
    }

    /// Reads the state, tracking its changes (in a memo or a view).
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        self.0.with_value(|s| {
            s.changed.track();
            f(&s.chat.state())
        })
    }

    /// Reads turn `id`, tracking its changes.
    pub fn turn<R>(&self, id: u32, f: impl FnOnce(&Turn) -> R) -> Option<R> {
        self.read(|s| s.turns.iter().rev().find(|t| t.id == id).map(f))
    }

    /// Reads turn `id`'s inspector log, tracking its growth.
    pub fn log<R>(&self, id: u32, f: impl FnOnce(Option<&AnswerLog>) -> R) -> R {
        self.0.with_value(|s| {
            s.logged.track();
            f(s.inspector.borrow().log(id))
        })
    }
}
