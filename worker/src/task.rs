//! Routing by task: the `auto` alias classifies each request with rules (its size, code in the question, a
//! requested JSON schema, keyword sets) — or, when `routing.classifier` names a cheap model, asks that model for
//! the task whenever size and schema leave it open — and a table maps the task to the alias that serves it: cheap
//! models for classification and summaries, strong ones for reasoning and code, a long-context one for long
//! documents.

use serde_json::Value;

use crate::jsonread::Obj;

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Task {
    /// Ordinary conversation.
    Chat,
    /// Writing, fixing or explaining code.
    Code,
    /// Multi-step reasoning, maths, proofs.
    Reasoning,
    /// Condensing text.
    Summarization,
    /// Labelling or extracting into a fixed shape.
    Classification,
    /// A prompt too long for the ordinary models.
    LongDocument,
}

impl Task {
    /// Every task, in the order the rules check them.
    pub const ALL: [Task; 6] =
        [Task::LongDocument, Task::Classification, Task::Code, Task::Summarization, Task::Reasoning, Task::Chat];

    /// The task's name in the configuration, `start` and the log line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chat => "chat",
            Self::Code => "code",
            Self::Reasoning => "reasoning",
            Self::Summarization => "summarization",
            Self::Classification => "classification",
            Self::LongDocument => "long_document",
        }
    }

    /// The task named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    fn default_keywords(self) -> &'static [&'static str] {
        match self {
            Self::Code => &[
                "```",
                "fn ",
                "def ",
                "function ",
                "class ",
                "#include",
                "import ",
                "traceback",
                "stack trace",
                "compile",
                "compiler",
                "refactor",
                "regex",
                "sql",
                "javascript",
                "typescript",
                "python",
                "rust",
                "bug in",
                "unit test",
            ],
            Self::Summarization => &["summarize", "summarise", "summary", "tl;dr", "tldr", "key points", "condense"],
            Self::Classification => {
                &["classify", "categorize", "categorise", "which category", "sentiment", "label this", "tag this"]
            }
            Self::Reasoning => &[
                "step by step",
                "prove",
                "proof",
                "why does",
                "why is",
                "reason about",
                "calculate",
                "solve",
                "derive",
                "how many",
                "puzzle",
                "logic",
            ],
            Self::Chat | Self::LongDocument => &[],
        }
    }
}

/// The `routing` section of `EDGECHAT_CONFIG`.
#[derive(Debug, Clone, PartialEq)]
pub struct Routing {
    /// The alias that routes (default `auto`).
    pub alias: String,
    /// Its label in the widget's picker.
    pub label: String,
    /// Task to alias; a task without an entry goes to the `chat` entry, or the default model.
    pub tasks: Vec<(Task, String)>,
    /// Estimated prompt tokens from which a request is a long document.
    pub long_document_tokens: u64,
    /// Keyword sets per task (matched as substrings of the newest user turn, ignoring the case of ASCII letters —
    /// no Unicode case tables in the edge's wasm), replacing the built-in set of the tasks they name.
    pub keywords: Vec<(Task, Vec<String>)>,
    /// A model that names the task in place of the keyword rules (`routing.classifier`).
    pub classifier: Option<Classifier>,
}

/// `routing.classifier`: `{"model": "<alias>", "max_tokens": N}`. Asked with the newest user turn; its answer must
/// name a task, or the rules decide (as they do when the call fails).
#[derive(Debug, Clone, PartialEq)]
pub struct Classifier {
    /// The alias asked (a configured model alias).
    pub model: String,
    /// Its answer's cap (a task name is a few tokens).
    pub max_tokens: u32,
}

/// At most this much of the question goes to the classifier (characters, from its start).
const CLASSIFIER_QUESTION_CHARS: usize = 2_000;

/// The classifier's system prompt and user turn for `question`.
pub fn classifier_request(question: &str) -> (String, String) {
    let names: Vec<&str> = Task::ALL.iter().filter(|t| **t != Task::LongDocument).map(|t| t.as_str()).collect();
    let system = format!(
        "You route requests to models. Name the task of the user's message with exactly one word from this list: {}. \
         code: writing, fixing or explaining code; reasoning: maths, logic, multi-step problems; summarization: \
         condensing a text; classification: labelling or extracting into categories; chat: anything else. Answer \
         with the word only.",
        names.join(", ")
    );
    let cut = question.char_indices().nth(CLASSIFIER_QUESTION_CHARS).map_or(question.len(), |(i, _)| i);
    (system, question[..cut].to_string())
}

/// The task a classifier's answer names: its first word that is a task name (case and punctuation ignored).
pub fn parse_label(answer: &str) -> Option<Task> {
    answer
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .take(8)
        .find_map(|w| Task::from_name(&w.to_ascii_lowercase()))
}

/// What the classifier looks at.
#[derive(Debug, Clone, Copy)]
pub struct Signals<'a> {
    /// The newest user turn.
    pub question: &'a str,
    /// The request's estimated prompt tokens.
    pub prompt_tokens: u64,
    /// A JSON schema (or JSON object) output was asked for.
    pub structured: bool,
}

impl Routing {
    /// Reads the `routing` section; `aliases` are the configured model aliases (every target must be one).
    pub fn from_json(v: &Value, aliases: &[&str]) -> Result<Self, String> {
        let o = Obj::new(v, "routing", &["alias", "label", "tasks", "long_document_tokens", "keywords", "classifier"])?;
        let alias = o.str("alias")?.unwrap_or_else(|| "auto".into());
        if aliases.contains(&alias.as_str()) {
            return Err(format!("routing.alias {alias:?} is already a model alias"));
        }
        let names = || Task::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ");
        let task = |k: &str, path: &str| {
            Task::from_name(k).ok_or_else(|| format!("{path}.{k} is not a task (the tasks are {})", names()))
        };
        let mut tasks = Vec::new();
        match o.get("tasks") {
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    let t = task(k, "routing.tasks")?;
                    let a = v.as_str().ok_or_else(|| format!("routing.tasks.{k} must be a model alias (a string)"))?;
                    if !aliases.contains(&a) {
                        return Err(format!("routing.tasks.{k}: {a:?} is not a configured model alias"));
                    }
                    tasks.push((t, a.to_string()));
                }
            }
            Some(_) => return Err("routing.tasks must be an object of task to alias".into()),
            None => return Err("routing.tasks is required (task to alias, e.g. {\"chat\": \"fast\"})".into()),
        }
        let mut keywords = Vec::new();
        match o.get("keywords") {
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    let t = task(k, "routing.keywords")?;
                    let words = v
                        .as_array()
                        .and_then(|a| {
                            a.iter().map(|w| w.as_str().map(str::to_ascii_lowercase)).collect::<Option<Vec<_>>>()
                        })
                        .ok_or_else(|| format!("routing.keywords.{k} must be an array of strings"))?;
                    keywords.push((t, words));
                }
            }
            Some(_) => return Err("routing.keywords must be an object of task to keyword list".into()),
            None => {}
        }
        let classifier = match o.get("classifier") {
            None | Some(Value::Null) => None,
            Some(c) => {
                let c = Obj::new(c, "routing.classifier", &["model", "max_tokens"])?;
                let model = c.str("model")?.ok_or("routing.classifier.model is required (a model alias)")?;
                if !aliases.contains(&model.as_str()) {
                    return Err(format!("routing.classifier.model: {model:?} is not a configured model alias"));
                }
                let max_tokens = c.u64("max_tokens")?.unwrap_or(8);
                if !(1..=256).contains(&max_tokens) {
                    return Err("routing.classifier.max_tokens must be 1..=256".into());
                }
                Some(Classifier { model, max_tokens: max_tokens as u32 })
            }
        };
        Ok(Self {
            label: o.str("label")?.unwrap_or_else(|| "Auto".into()),
            classifier,
            alias,
            tasks,
            long_document_tokens: o.u64("long_document_tokens")?.unwrap_or(16_000),
            keywords,
        })
    }

    /// The task the request's size or requested schema decides, whatever the question says.
    pub fn decided(&self, s: &Signals<'_>) -> Option<Task> {
        if s.prompt_tokens >= self.long_document_tokens {
            return Some(Task::LongDocument);
        }
        s.structured.then_some(Task::Classification)
    }

    /// The classifier to ask about this request: configured, and nothing [`Self::decided`] it already.
    pub fn classifier_for(&self, s: &Signals<'_>) -> Option<&Classifier> {
        self.classifier.as_ref().filter(|_| self.decided(s).is_none())
    }

    /// The task of a request, by the rules.
    pub fn classify(&self, s: &Signals<'_>) -> Task {
        if let Some(t) = self.decided(s) {
            return t;
        }
        let q = s.question.to_ascii_lowercase();
        for t in [Task::Code, Task::Summarization, Task::Classification, Task::Reasoning] {
            let hit = match self.keywords.iter().find(|(k, _)| *k == t) {
                Some((_, words)) => words.iter().any(|w| q.contains(w.as_str())),
                None => t.default_keywords().iter().any(|w| q.contains(w)),
            };
            if hit {
                return t;
            }
        }
        Task::Chat
    }

    /// The alias that serves `task`: its entry, else the `chat` entry, else `fallback` (the default model).
    pub fn alias_for<'a>(&'a self, task: Task, fallback: &'a str) -> &'a str {
        let find = |t: Task| self.tasks.iter().find(|(k, _)| *k == t).map(|(_, a)| a.as_str());
        find(task).or_else(|| find(Task::Chat)).unwrap_or(fallback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn routing() -> Routing {
        let v = json!({ "tasks": { "chat": "fast", "code": "smart", "reasoning": "smart", "long_document": "long" },
            "long_document_tokens": 1000 });
        Routing::from_json(&v, &["fast", "smart", "long"]).unwrap()
    }

    fn sig(q: &str) -> Signals<'_> {
        Signals { question: q, prompt_tokens: 50, structured: false }
    }

    #[test]
    fn rules_pick_the_task_and_the_table_the_alias() {
        let r = routing();
        assert_eq!(r.alias, "auto");
        let cases = [
            ("Hi! How are you?", Task::Chat, "fast"),
            ("Why does this fail?\n```rust\nfn main() {}\n```", Task::Code, "smart"),
            ("Please summarize this article for me", Task::Summarization, "fast"),
            ("Classify the sentiment of: great product", Task::Classification, "fast"),
            ("Solve step by step: 12 * 17", Task::Reasoning, "smart"),
        ];
        for (q, task, alias) in cases {
            let t = r.classify(&sig(q));
            assert_eq!(t, task, "{q}");
            assert_eq!(r.alias_for(t, "dflt"), alias, "{q}");
        }
        let long = Signals { prompt_tokens: 1000, ..sig("summarize") };
        assert_eq!(r.classify(&long), Task::LongDocument);
        assert_eq!(r.alias_for(Task::LongDocument, "dflt"), "long");
        assert_eq!(r.classify(&Signals { structured: true, ..sig("hello") }), Task::Classification);
    }

    #[test]
    fn keyword_sets_replace_the_built_in_ones() {
        let v = json!({ "tasks": { "chat": "fast", "code": "smart" }, "keywords": { "code": ["kotlin"] } });
        let r = Routing::from_json(&v, &["fast", "smart"]).unwrap();
        assert_eq!(r.classify(&sig("a kotlin question")), Task::Code);
        assert_eq!(r.classify(&sig("```python\nx\n```")), Task::Chat, "the built-in code set is replaced");
    }

    #[test]
    fn the_classifier_is_asked_only_when_size_and_schema_leave_the_task_open() {
        let v = json!({ "tasks": { "chat": "fast", "code": "smart" }, "long_document_tokens": 1000,
            "classifier": { "model": "fast" } });
        let r = Routing::from_json(&v, &["fast", "smart"]).unwrap();
        assert_eq!(r.classifier, Some(Classifier { model: "fast".into(), max_tokens: 8 }));
        assert!(r.classifier_for(&sig("hello")).is_some());
        assert!(r.classifier_for(&Signals { prompt_tokens: 1000, ..sig("hello") }).is_none());
        assert!(r.classifier_for(&Signals { structured: true, ..sig("hello") }).is_none());
        assert!(routing().classifier_for(&sig("hello")).is_none(), "not configured");
    }

    #[test]
    fn the_classifier_answer_names_a_task_or_nothing() {
        assert_eq!(parse_label("code"), Some(Task::Code));
        assert_eq!(parse_label("  Reasoning.\n"), Some(Task::Reasoning));
        assert_eq!(parse_label("Task: summarization"), Some(Task::Summarization));
        assert_eq!(parse_label("**classification**"), Some(Task::Classification));
        assert_eq!(parse_label("I think this is poetry"), None);
        assert_eq!(parse_label(""), None);
        let (system, user) = classifier_request(&"x".repeat(5_000));
        assert!(system.contains("this list: classification, code, summarization, reasoning, chat."), "{system}");
        assert!(!system.contains("long_document"), "size decides that one");
        assert_eq!(user.len(), CLASSIFIER_QUESTION_CHARS);
        assert_eq!(classifier_request("é".repeat(3_000).as_str()).1.chars().count(), CLASSIFIER_QUESTION_CHARS);
    }

    #[test]
    fn bad_tables_are_refused_with_the_field_named() {
        let aliases = ["fast", "smart"];
        let err = |v: Value| Routing::from_json(&v, &aliases).unwrap_err();
        assert!(err(json!({ "tasks": { "poetry": "fast" } })).contains("routing.tasks.poetry is not a task"));
        assert!(err(json!({ "tasks": { "chat": "gpt-9" } })).contains("\"gpt-9\" is not a configured model alias"));
        assert!(err(json!({ "tasks": { "chat": 3 } })).contains("must be a model alias"));
        assert!(err(json!({})).contains("routing.tasks is required"));
        assert!(err(json!({ "alias": "fast", "tasks": {} })).contains("already a model alias"));
        assert!(
            err(json!({ "tasks": {}, "keywords": { "chat2": [] } })).contains("routing.keywords.chat2 is not a task")
        );
        assert!(err(json!({ "tasks": {}, "extra": 1 })).contains("extra"));
        assert!(
            err(json!({ "tasks": {}, "classifier": { "model": "gpt-9" } })).contains("not a configured model alias")
        );
        assert!(err(json!({ "tasks": {}, "classifier": {} })).contains("routing.classifier.model is required"));
        assert!(err(json!({ "tasks": {}, "classifier": { "model": "fast", "max_tokens": 0 } })).contains("1..=256"));
        assert!(err(json!({ "tasks": {}, "classifier": { "model": "fast", "x": 1 } })).contains("x"));
    }
}
