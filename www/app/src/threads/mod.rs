//! Threads: the saved conversations the sidebar lists. A [`Thread`] is one record of the IndexedDB store
//! ([`db`]); its conversation is kept exactly as the shared model (`edgechat_www::state`) saves it, so the chat
//! restores it (and resumes an answer that was streaming). [`Threads`] is the list with its operations: new,
//! rename, delete with undo, search by title and text, usage totals.

pub mod db;
pub mod file;

use wasm_bindgen::JsValue;

use crate::js;

/// Per-thread request settings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Settings {
    /// A system prompt of the user's (sent only when the edge allows it; empty: none).
    pub system: String,
    /// Temperature (the edge's default when unset).
    pub temperature: Option<f64>,
    /// Most output tokens (the edge's default when unset).
    pub max_tokens: Option<u32>,
    /// Structured-output mode: answers are JSON matching [`Settings::schema`].
    pub structured: bool,
    /// The JSON Schema text of structured-output mode.
    pub schema: String,
}

impl Settings {
    /// The stored (and exported) form: `{system, temperature, max_tokens, structured, schema}`.
    pub fn to_js(&self) -> JsValue {
        let o: JsValue = js_sys::Object::new().into();
        js::set(&o, "system", &self.system.as_str().into());
        js::set(&o, "temperature", &self.temperature.map_or(JsValue::NULL, JsValue::from));
        js::set(&o, "max_tokens", &self.max_tokens.map_or(JsValue::NULL, JsValue::from));
        js::set(&o, "structured", &self.structured.into());
        js::set(&o, "schema", &self.schema.as_str().into());
        o
    }

    /// Reads the stored form, or why it cannot be read (a missing field takes its default).
    pub fn from_js(v: &JsValue) -> Result<Self, String> {
        if !v.is_object() {
            return Err("must be an object".into());
        }
        let text = |k: &str| match js::get(v, k) {
            x if x.is_undefined() || x.is_null() => Ok(String::new()),
            x => x.as_string().ok_or_else(|| format!("\"{k}\" must be a string")),
        };
        let number = |k: &str| match js::get(v, k) {
            x if x.is_undefined() || x.is_null() => Ok(None),
            x => x.as_f64().filter(|n| n.is_finite()).map(Some).ok_or_else(|| format!("\"{k}\" must be a number")),
        };
        let max_tokens = number("max_tokens")?;
        if max_tokens.is_some_and(|n| n < 1.0 || n.fract() != 0.0 || n > f64::from(u32::MAX)) {
            return Err("\"max_tokens\" must be a whole number ≥ 1".into());
        }
        Ok(Self {
            system: text("system")?,
            temperature: number("temperature")?,
            max_tokens: max_tokens.map(|n| n as u32),
            structured: js::get(v, "structured").as_bool().unwrap_or(false),
            schema: text("schema")?,
        })
    }
}

/// One conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Thread {
    /// Stable id (the IndexedDB key, and the `/t/{id}` route).
    pub id: String,
    /// Shown in the sidebar; follows the first question until renamed.
    pub title: String,
    /// Renamed by hand: the title no longer follows the first question.
    pub named: bool,
    /// Created, `Date.now()`.
    pub created: f64,
    /// Last changed, `Date.now()`.
    pub updated: f64,
    /// Request settings.
    pub settings: Settings,
    /// The conversation as the shared model saves it: `{"turns": [...], "model": "..."}` as JSON text.
    pub chat: String,
    /// What is derived from `chat` (not stored).
    pub digest: Digest,
}

/// What the list needs from a thread's conversation, computed when it changes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Digest {
    /// Every turn's text, lower-cased, for search.
    pub text: String,
    /// The first question, for the title.
    pub first_question: Option<String>,
    /// Usage of its answers.
    pub usage: Usage,
    /// The model last selected.
    pub model: String,
    /// An answer was streaming when it was saved (its stream may be resumable).
    pub streaming: bool,
}

/// Tokens and cost of a set of answers.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Usage {
    /// Answers with a `usage` event.
    pub answers: u32,
    /// Prompt tokens.
    pub input: u64,
    /// Generated tokens.
    pub output: u64,
    /// Cost in US dollars of the answers whose price is known.
    pub cost: f64,
    /// Answers whose price is unknown (`cost_usd: null`).
    pub unpriced: u32,
    /// Answers whose tokens were counted from text rather than reported.
    pub estimated: u32,
}

impl Usage {
    /// One answer's `usage` (the shared model's `UsageInfo`).
    pub fn add(&mut self, u: &edgechat_www::api::UsageInfo) {
        self.answers += 1;
        self.input += u.input_tokens;
        self.output += u.output_tokens;
        match u.cost_usd {
            Some(c) => self.cost += c,
            None => self.unpriced += 1,
        }
        self.estimated += u32::from(u.estimated);
    }

    /// Both together.
    pub fn plus(mut self, o: Usage) -> Usage {
        self.answers += o.answers;
        self.input += o.input;
        self.output += o.output;
        self.cost += o.cost;
        self.unpriced += o.unpriced;
        self.estimated += o.estimated;
        self
    }
}

/// The title a thread gets from its first question: its first line, at most 60 characters.
pub fn title_from(question: &str) -> String {
    let line = question.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    let mut t: String = line.chars().take(60).collect();
    if line.chars().count() > 60 {
        t = format!("{}…", t.trim_end());
    }
    t
}

/// The title of a thread without one.
pub const UNTITLED: &str = "New thread";

impl Thread {
    /// An empty thread.
    pub fn new(id: String, now: f64) -> Self {
        Self {
            id,
            title: UNTITLED.into(),
            named: false,
            created: now,
            updated: now,
            settings: Settings::default(),
            chat: String::new(),
            digest: Digest::default(),
        }
    }

    /// Takes the conversation the chat saved; `false` when nothing changed.
    pub fn set_chat(&mut self, chat: &str, now: f64) -> bool {
        if self.chat == chat {
            return false;
        }
        self.chat = chat.to_string();
        self.updated = now;
        self.refresh();
        true
    }

    /// Recomputes the digest (and the title, unless named by hand) from the conversation.
    pub fn refresh(&mut self) {
        self.digest = digest(&self.chat);
        if !self.named {
            self.title = self
                .digest
                .first_question
                .as_deref()
                .map(title_from)
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| UNTITLED.into());
        }
    }

    /// Whether the title or any turn's text contains `query` (case-insensitive; empty matches all).
    pub fn matches(&self, query: &str) -> bool {
        let q = js::lower(query.trim());
        q.is_empty() || has(&js::lower(&self.title), &q) || has(&self.digest.text, &q)
    }

    /// The record for IndexedDB: `{id, title, named, created, updated, settings, chat}`.
    pub fn to_js(&self) -> JsValue {
        let o: JsValue = js_sys::Object::new().into();
        js::set(&o, "id", &self.id.as_str().into());
        js::set(&o, "title", &self.title.as_str().into());
        js::set(&o, "named", &self.named.into());
        js::set(&o, "created", &self.created.into());
        js::set(&o, "updated", &self.updated.into());
        js::set(&o, "settings", &self.settings.to_js());
        js::set(&o, "chat", &self.chat.as_str().into());
        o
    }

    /// A record read from IndexedDB (`None` without an id); missing fields take defaults.
    pub fn from_js(v: JsValue) -> Option<Self> {
        let text = |k| js::get(&v, k).as_string();
        let mut t = Self::new(text("id")?, js::get(&v, "created").as_f64().unwrap_or(0.0));
        t.title = text("title").unwrap_or_else(|| UNTITLED.into());
        t.named = js::get(&v, "named").as_bool().unwrap_or(false);
        t.updated = js::get(&v, "updated").as_f64().unwrap_or(t.created);
        t.settings = Settings::from_js(&js::get(&v, "settings")).unwrap_or_default();
        t.chat = text("chat").unwrap_or_default();
        t.refresh();
        Some(t)
    }
}

/// Reads what the list needs from the shared model's saved conversation.
fn digest(chat: &str) -> Digest {
    let mut d = Digest::default();
    if chat.is_empty() {
        return d;
    }
    let Ok(saved) = js::parse(chat) else { return d };
    d.model = js::get(&saved, "model").as_string().unwrap_or_default();
    let turns = js::get(&saved, "turns");
    if !js_sys::Array::is_array(&turns) {
        return d;
    }
    for t in js_sys::Array::from(&turns).iter() {
        let text = js::get(&t, "text").as_string().unwrap_or_default();
        if js::get(&t, "role").as_string().as_deref() == Some("user") && d.first_question.is_none() {
            d.first_question = Some(text.clone());
        }
        let usage = js::get(&t, "usage");
        if usage.is_object() {
            d.usage.add(&edgechat_www::api::UsageInfo::from_json(&usage));
        }
        d.streaming |= js::get(&t, "status").as_string().as_deref() == Some("streaming");
        if !d.text.is_empty() {
            d.text.push('\n');
        }
        d.text.push_str(&js::lower(&text));
    }
    d
}

/// A thread deleted a moment ago, kept so that Undo can put it back where it was.
#[derive(Debug, Clone, PartialEq)]
pub struct Removed {
    /// The thread.
    pub thread: Thread,
    /// Its position in the list.
    pub at: usize,
}

/// Whether `text` contains `part`: a byte loop, where `str::contains` with a string links the Two-Way searcher
/// (~1.7 KB of wasm).
fn has(text: &str, part: &str) -> bool {
    let part = part.as_bytes();
    part.is_empty() || text.as_bytes().windows(part.len()).any(|w| w == part)
}

/// `list` most recently created first; equal times keep their order. An insertion sort, written out: `sort_by`
/// links ~3.7 KB of wasm for this one call. The store gives the records by id, which starts with the creation time
/// (`js::new_id`), so the list comes oldest first and, taken from its end, each thread goes in with one
/// comparison; an imported thread (an older time under a new id) moves past the threads created since.
fn newest_first(list: Vec<Thread>) -> Vec<Thread> {
    let mut out: Vec<Thread> = Vec::with_capacity(list.len());
    for t in list.into_iter().rev() {
        let mut at = out.len();
        while at > 0 && out[at - 1].created <= t.created {
            at -= 1;
        }
        out.insert(at, t);
    }
    out
}

/// Every thread, most recently created first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Threads {
    /// The threads.
    pub list: Vec<Thread>,
    /// The last deleted thread, until it is undone or another is deleted.
    pub removed: Option<Removed>,
}

impl Threads {
    /// Takes the records read from the store, newest first.
    pub fn from_records(list: Vec<Thread>) -> Self {
        let list = newest_first(list);
        Self { list, removed: None }
    }

    /// The thread with this id.
    pub fn get(&self, id: &str) -> Option<&Thread> {
        self.list.iter().find(|t| t.id == id)
    }

    /// The thread with this id, to change.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut Thread> {
        self.list.iter_mut().find(|t| t.id == id)
    }

    /// Adds a thread at the top.
    pub fn add(&mut self, thread: Thread) {
        self.list.insert(0, thread);
    }

    /// Renames a thread (an empty name gives the title back to the first question).
    pub fn rename(&mut self, id: &str, title: &str, now: f64) -> Option<&Thread> {
        let t = self.get_mut(id)?;
        let title = title.trim();
        t.named = !title.is_empty();
        if t.named {
            t.title = title.chars().take(120).collect();
        }
        t.updated = now;
        t.refresh();
        Some(t)
    }

    /// Removes a thread, keeping it for [`Threads::undo`].
    pub fn remove(&mut self, id: &str) -> Option<&Thread> {
        let at = self.list.iter().position(|t| t.id == id)?;
        let thread = self.list.remove(at);
        self.removed = Some(Removed { thread, at });
        self.removed.as_ref().map(|r| &r.thread)
    }

    /// Puts the last removed thread back where it was.
    pub fn undo(&mut self) -> Option<&Thread> {
        let Removed { thread, at } = self.removed.take()?;
        let at = at.min(self.list.len());
        self.list.insert(at, thread);
        self.list.get(at)
    }

    /// The threads matching `query` (title or text), in list order.
    pub fn search<'a>(&'a self, query: &'a str) -> impl Iterator<Item = &'a Thread> + 'a {
        self.list.iter().filter(move |t| t.matches(query))
    }

    /// Usage of every thread together.
    pub fn total(&self) -> Usage {
        self.list.iter().fold(Usage::default(), |u, t| u.plus(t.digest.usage))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread(id: &str, title: &str, text: &str) -> Thread {
        let mut t = Thread::new(id.into(), 0.0);
        t.title = title.into();
        t.named = true;
        t.digest.text = js::lower(text);
        t
    }

    #[test]
    fn titles_come_from_the_first_line_of_the_first_question() {
        assert_eq!(title_from("\n  How do I deploy?\nMore detail"), "How do I deploy?");
        let long = "word ".repeat(20);
        let t = title_from(&long);
        assert!(t.ends_with('…') && t.chars().count() <= 61, "{t}");
    }

    #[test]
    fn search_matches_title_and_text_case_insensitively() {
        let list = Threads::from_records(vec![
            thread("a", "Deploy notes", "wrangler secret put"),
            thread("b", "Cooking", "pasta"),
        ]);
        let ids = |q: &str| list.search(q).map(|t| t.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids("deploy"), ["a"]);
        assert_eq!(ids("PASTA"), ["b"]);
        assert_eq!(ids(""), ["a", "b"]);
        assert!(ids("nothing").is_empty());
    }

    #[test]
    fn records_are_listed_newest_first_and_equal_times_keep_their_order() {
        let at = |id: &str, created: f64| Thread { created, ..thread(id, id, "") };
        // As the store gives them (by id: oldest first), with an imported thread (older, under a newer id).
        let list = Threads::from_records(vec![
            at("a", 1.0),
            at("b", 2.0),
            at("c", 2.0),
            at("d", 4.0),
            at("imported", 0.5),
            at("e", 5.0),
        ]);
        let ids = list.list.iter().map(|t| t.id.as_str()).collect::<Vec<_>>();
        assert_eq!(ids, ["e", "d", "b", "c", "a", "imported"]);
        assert!(Threads::from_records(Vec::new()).list.is_empty());
    }

    #[test]
    fn delete_then_undo_puts_the_thread_back_in_place() {
        let mut list = Threads::from_records(vec![thread("a", "A", ""), thread("b", "B", ""), thread("c", "C", "")]);
        list.remove("b");
        assert_eq!(list.list.len(), 2);
        assert_eq!(list.undo().map(|t| t.id.as_str()), Some("b"));
        assert_eq!(list.list.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert!(list.undo().is_none());
    }

    #[test]
    fn renaming_to_nothing_gives_the_title_back() {
        let mut list = Threads::from_records(vec![Thread::new("a".into(), 0.0)]);
        list.rename("a", "  Mine ", 1.0);
        assert_eq!((list.list[0].title.as_str(), list.list[0].named), ("Mine", true));
        list.rename("a", "", 2.0);
        assert_eq!((list.list[0].title.as_str(), list.list[0].named), (UNTITLED, false));
    }
}
