//! One stream run inside the object: upstream (retries, fallback), the pump into the log, the end (usage, log
//! line, lease, cache, storage).

use std::rc::Rc;

use edgechat::protocol::Frame;
use edgechat::provider::build_request;
use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::Response;

use super::relay::subscribe;
use super::state::{json_error, set_alarm, Shared};
use super::{StartMsg, HEARTBEAT_MS, STORAGE_PIECE};
use crate::chat::{self, PreparedChat};
use crate::config::Config;
use crate::error::{scrub, ApiError};
use crate::limiter::Op;
use crate::log::LogLine;
use crate::resume::{self, StopState, StreamLog, StreamSettings};
use crate::rt::js::{call_async, console_log, get_str, now_ms, sleep, Signal};
use crate::rt::pump;
use crate::rt::store::{CacheStore, LimiterStore};
use crate::rt::upstream::{self, Stats, Upstream};
use crate::stream::{self, Framing, Output, Settings, StreamMachine};

struct Run {
    state: Shared,
    env: JsValue,
    storage: Option<JsValue>,
    config: std::rc::Rc<Config>,
    secrets: Rc<Vec<String>>,
    msg: StartMsg,
    log: LogLine,
}

impl Run {
    fn scrub(&self, s: &str) -> String {
        scrub(s, &self.secrets)
    }

    fn write_log(&mut self) {
        self.log.duration_ms = now_ms().saturating_sub(self.msg.started_ms);
        console_log(&self.scrub(&self.log.to_json()));
        // The object lives on for its clients (and its alarm): the record's task needs no waitUntil.
        crate::rt::usage::Sink::new(&self.env, self.config.clone()).record(&self.log, None);
    }

    async fn release(&self, tokens: u64, spend_usd: f64) {
        let key = self.msg.client.clone();
        let op = Op::Release { key: key.clone(), lease: self.msg.lease, tokens, spend_usd, now_ms: now_ms() };
        if let Err(e) = LimiterStore::from_env(&self.env).apply(&key, op).await {
            console_log(&crate::log::incident(&self.msg.request_id, "limiter_error", e.to_string()));
        }
    }

    /// Appends events to the log and wakes the clients.
    fn append(&self, frames: Vec<Frame>) {
        let mut s = self.state.borrow_mut();
        if let Some(log) = s.log.as_mut() {
            for f in frames {
                if !log.push(f.id, f.encode()) {
                    console_log(&crate::log::incident(&self.msg.request_id, "stream_log_refused", f.id));
                }
            }
        }
        s.notify();
    }
}

/// `POST /start`: sends upstream (retries, fallback), then answers with the live stream while the pump runs on.
pub(super) async fn begin(
    state: Shared,
    env: JsValue,
    storage: Option<JsValue>,
    msg: StartMsg,
    gone: Signal,
) -> Response {
    let request_id = msg.request_id.clone();
    if state.borrow().log.is_some() {
        return json_error(&ApiError::new(500, "internal", "this stream was already started"), &request_id);
    }
    let (resolved, secrets) = match crate::rt::environment(&env) {
        Ok((c, s)) => (Ok(c), s),
        Err((e, s)) => (Err(ApiError::new(500, "internal", scrub(&e.to_string(), &s))), Rc::new(s)),
    };
    let ready = resolved.clone().and_then(|c| {
        let s = StreamSettings::from_var(get_str(&env, "EDGECHAT_STREAMS").as_deref())
            .map_err(|e| ApiError::new(500, "internal", e))?;
        let o = &msg.owner;
        let caller = chat::Caller { site: o.site.as_deref(), subject: o.subject.as_deref(), ctx: msg.ctx.as_deref() };
        let p = chat::prepare(&c, msg.body.as_bytes(), &caller)?;
        Ok((c, s, p))
    });
    let (config, settings, prepared) = match ready {
        Ok(x) => x,
        Err(e) => {
            console_log(&scrub(&crate::log::incident(&request_id, "stream_start_error", &e.message), &secrets));
            let line = LogLine {
                request_id: request_id.clone(),
                time: msg.started_ms,
                route: "/api/chat".into(),
                site_key: msg.owner.site.clone(),
                client: msg.client.clone(),
                status: e.status,
                cache: "bypass",
                limiter: LimiterStore::from_env(&env).name(),
                duration_ms: now_ms().saturating_sub(msg.started_ms),
                outcome: "error",
                error: Some(e.kind.to_string()),
                ..LogLine::default()
            };
            console_log(&line.to_json());
            if let Ok(config) = resolved {
                let mut line = line;
                line.subject = msg.owner.subject.as_deref().map(|s| crate::usage::subject_of(&config, s));
                crate::rt::usage::Sink::new(&env, config).record(&line, None);
            }
            let op =
                Op::Release { key: msg.client.clone(), lease: msg.lease, tokens: 0, spend_usd: 0.0, now_ms: now_ms() };
            let _ = LimiterStore::from_env(&env).apply(&msg.client, op).await;
            return json_error(&e, &request_id);
        }
    };
    let log = LogLine {
        request_id: request_id.clone(),
        time: msg.started_ms,
        route: "/api/chat".into(),
        site_key: msg.owner.site.clone(),
        subject: msg.owner.subject.as_deref().map(|s| crate::usage::subject_of(&config, s)),
        client: msg.client.clone(),
        alias: Some(prepared.alias.clone()),
        cache: match msg.cache.as_str() {
            "miss" => "miss",
            "refresh" => "refresh",
            _ => "bypass",
        },
        limiter: LimiterStore::from_env(&env).name(),
        outcome: "error",
        task: msg.task.as_deref().and_then(crate::task::Task::from_name).map(crate::task::Task::as_str),
        trimmed: msg.fitted.trimmed,
        summarized: msg.fitted.summary.as_ref().map_or(0, |s| s.0),
        ..LogLine::default()
    };
    let mut run = Run { state: state.clone(), env, storage, config, secrets, msg, log };
    let chain = upstream::chain(&run.config, &prepared.alias);
    let mut stats = Stats::default();
    let config = run.config.clone();
    let result = upstream::send(&config, &chain, true, run.msg.started_ms, &mut stats, None, &|entry| {
        // A fallback that cannot take the conversation's files is skipped.
        let req = prepared.takes_files(entry).then(|| prepared.request_for(&config, entry))?;
        build_request(&config.provider(entry.provider), &req).ok()
    })
    .await;
    run.log.attempts = stats.attempts;
    run.log.fallback = stats.fallback;
    run.log.ttfb_ms = stats.ttfb_ms;
    let up = match result {
        Ok(up) => up,
        Err(f) => {
            run.log.provider = Some(f.entry.provider.as_str().into());
            run.log.model = Some(f.entry.model.clone());
            run.log.error = Some(format!("{}:{}", f.error.status, run.scrub(&f.error.message)));
            let e = crate::rt::upstream_api_error(&f, &run.scrub(&f.error.message));
            run.log.status = e.status;
            run.release(0, 0.0).await;
            run.write_log();
            return json_error(&e, &request_id);
        }
    };
    run.log.provider = Some(up.entry.provider.as_str().into());
    run.log.model = Some(up.entry.model.clone());
    run.log.status = 200;
    let stop = Signal::default();
    {
        let mut s = state.borrow_mut();
        s.stream_id = run.msg.stream_id.clone();
        s.owner = run.msg.owner.clone();
        s.log = Some(StreamLog::new(settings.clone()));
        s.keepalive_ms = run.config.limits.keepalive_ms;
        s.stop_signal = Some(stop.clone());
    }
    if let Some(st) = run.storage.clone() {
        // Streams that outlast the first heartbeat get the alarm (a storage write, so not on the way to the
        // first byte); the alarm then renews itself until the end.
        let state = state.clone();
        spawn_local(async move {
            sleep(HEARTBEAT_MS / 3).await;
            let running = state.borrow().log.as_ref().is_some_and(|l| !l.is_ended());
            if running {
                set_alarm(&st, now_ms() + HEARTBEAT_MS).await;
            }
        });
    }
    spawn_local(pump(run, up, prepared, stop));
    subscribe(state, 0, settings.preamble(), gone, request_id)
}

async fn pump(mut run: Run, up: Upstream, prepared: PreparedChat, stop: Signal) {
    let Upstream { abort, body, alias, entry, .. } = up;
    let mut settings = Settings::from_config(&run.config, &entry.model, prepared.prompt_tokens, &run.secrets);
    settings.keepalive_ms = None; // each client's relay sends its own keep-alives
    let pending = run.msg.store.as_ref().and_then(crate::rt::cache::Pending::from_value);
    settings.keep_answer = pending.is_some();
    settings.budget = run.msg.budget;
    let mut start = stream::start(&run.msg.request_id, &run.msg.stream_id, &alias, entry.provider, true);
    start.trimmed = run.msg.fitted.trimmed;
    start.task = run.msg.task.clone();
    let output = Output::Widget { start, summary: run.msg.fitted.event(), framing: Framing::Frames };
    let mut machine = StreamMachine::new(entry.provider, output, settings, now_ms());
    machine.set_model(&entry.model);
    let mut reader = pump::first(&mut machine, body);
    let append = |frames: Vec<Frame>| run.append(frames);
    pump::drive(&mut machine, reader.as_mut(), pump::Out::Log { append: &append, stop: &stop }).await;
    let end = machine.into_ending();
    let expires = {
        let mut s = run.state.borrow_mut();
        s.stop = StopState::Ended;
        s.stop_signal = None;
        let log = s.log.as_mut().expect("set by begin");
        log.end(now_ms());
        s.notify();
        s.log.as_ref().and_then(StreamLog::expires_at_ms)
    };
    pump::end_upstream(reader, &abort, end.upstream).await;
    if let (Some(storage), Some(at)) = (&run.storage, expires) {
        persist(&run, storage).await;
        // Wake up after the retention time to forget the stream (requests also check the time themselves).
        set_alarm(storage, at).await;
    }
    run.log.record(&end);
    if let (Some(answer), Some(p)) = (end.answer, &pending) {
        let store = CacheStore::from_env(&run.env);
        run.log.cache_key = crate::rt::cache::save_answer(&store, &run.config, p, answer, &run.msg.request_id).await;
    }
    let f = &run.msg.fitted;
    let tokens = end.usage.total_input_tokens() + end.usage.output_tokens + f.extra_tokens;
    run.release(tokens, end.cost_usd.unwrap_or(0.0) + f.extra_usd).await;
    run.write_log();
}

async fn persist(run: &Run, storage: &JsValue) {
    let json = {
        let s = run.state.borrow();
        let Some(log) = s.log.as_ref() else { return };
        serde_json::to_string(&log.snapshot(&s.stream_id, &s.owner)).unwrap_or_default()
    };
    let pieces = resume::split_utf8(&json, STORAGE_PIECE);
    if pieces.len() > 120 {
        console_log(&crate::log::incident(&run.msg.request_id, "stream_not_persisted", json.len()));
        return;
    }
    let entries = Object::new();
    let _ = Reflect::set(&entries, &"meta".into(), &JsValue::from_f64(pieces.len() as f64));
    for (i, p) in pieces.iter().enumerate() {
        let _ = Reflect::set(&entries, &JsValue::from_str(&format!("p{i}")), &JsValue::from_str(p));
    }
    if let Err(e) = call_async(storage, "put", &[entries.into()]).await {
        console_log(&crate::log::incident(&run.msg.request_id, "stream_persist_error", e));
    }
}
