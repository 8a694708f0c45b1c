//! Resumable streams, the pure part: the bounded event log a Durable Object keeps per stream, replay after a
//! `Last-Event-ID`, the owner check, the stop state and usage accounting for streams that end early.
//!
//! The runtime side (`rt::streams`, wasm32 only) owns one [`StreamLog`] per stream: it appends every encoded
//! widget event (an encoded [`edgechat::protocol::Frame`]) as the stream machine makes it, and serves each client from a cursor
//! with [`StreamLog::after`]. Because the log stores the exact bytes sent, a replay is byte-identical to the
//! original stream (docs/protocol.md "Resumable streams").

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// Stream settings from the `EDGECHAT_STREAMS` variable (JSON; every field optional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StreamSettings {
    /// Most events kept per stream; older ones are dropped (a resume from before them gets 404).
    pub max_events: usize,
    /// Most bytes of encoded events kept per stream (same rule).
    pub max_bytes: usize,
    /// How long a finished stream stays resumable, seconds.
    pub retention_seconds: u64,
    /// The SSE `retry:` value sent first on every stream response (the client's reconnect delay), ms.
    pub retry_ms: u32,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self { max_events: 20_000, max_bytes: 2 << 20, retention_seconds: 300, retry_ms: 1000 }
    }
}

impl StreamSettings {
    /// Parses `EDGECHAT_STREAMS` (absent: defaults).
    pub fn from_var(json: Option<&str>) -> Result<Self, String> {
        let Some(json) = json.filter(|s| !s.trim().is_empty()) else { return Ok(Self::default()) };
        let s: Self = serde_json::from_str(json).map_err(|e| format!("EDGECHAT_STREAMS: {e}"))?;
        if s.max_events == 0 || s.max_bytes == 0 {
            return Err("EDGECHAT_STREAMS: max_events and max_bytes must be at least 1".into());
        }
        Ok(s)
    }

    /// The `retry:` block every stream response starts with.
    pub fn preamble(&self) -> String {
        format!("retry: {}\n\n", self.retry_ms)
    }
}

/// Who created a stream: a resume or stop must come from the same origin, site key and session subject.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// `Origin` of the creating request.
    pub origin: Option<String>,
    /// Site key name.
    pub site: Option<String>,
    /// Session subject.
    pub subject: Option<String>,
}

impl Owner {
    /// Whether a resume or stop sent by `request` may act on the stream this owner created: the same site key and
    /// session subject, and the same `Origin` or none. Browsers send no `Origin` on a same-origin `GET` (the
    /// Fetch standard adds it to GET only for CORS requests), which is how a widget served from the edge's own
    /// origin, or through a same-origin proxy, resumes; a page on another origin always sends its `Origin` (and a
    /// no-cors request cannot read the answer), so a missing `Origin` never lets another site read a stream.
    pub fn admits(&self, request: &Owner) -> bool {
        self.site == request.site
            && self.subject == request.subject
            && (request.origin.is_none() || request.origin == self.origin)
    }
}

/// What the routes under `/api/chat/streams/` ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamAction {
    /// `GET /api/chat/streams/{id}`: replay after `Last-Event-ID`, then live.
    Resume,
    /// `POST /api/chat/streams/{id}/stop`.
    Stop,
}

/// The path prefix of the stream routes.
pub const STREAMS_PREFIX: &str = "/api/chat/streams/";

/// Splits a stream route into the stream id and the action; `None` when the path is not one.
pub fn parse_stream_path(path: &str) -> Option<(&str, StreamAction)> {
    let rest = path.strip_prefix(STREAMS_PREFIX)?;
    let (id, action) = match rest.strip_suffix("/stop") {
        Some(id) => (id, StreamAction::Stop),
        None => (rest, StreamAction::Resume),
    };
    valid_stream_id(id).then_some((id, action))
}

/// The HTTP method each action takes.
pub fn method_of(action: StreamAction) -> &'static str {
    match action {
        StreamAction::Resume => "GET",
        StreamAction::Stop => "POST",
    }
}

/// Stream ids are Durable Object ids: 64 lower-case hex characters.
pub fn valid_stream_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The `Last-Event-ID` header as the id of the last event the client has (0: none; absent means 0).
pub fn parse_last_event_id(header: Option<&str>) -> Result<u64, ApiError> {
    match header.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(0),
        Some(s) => s
            .parse::<u64>()
            .map_err(|_| ApiError::bad_request(format!("Last-Event-ID {s:?} is not an event id of this edge"))),
    }
}

/// The answer to an unknown, expired or foreign stream (the three are not told apart, so ids cannot be probed).
pub fn stream_not_found() -> ApiError {
    ApiError::new(404, "not_found", "no such stream (unknown, expired, or created by another client)")
}

/// The bounded log of one stream's encoded events. Ids start at 1 and increase by one.
#[derive(Debug, Clone)]
pub struct StreamLog {
    frames: VecDeque<(u64, String)>,
    bytes: usize,
    last_id: u64,
    ended_at_ms: Option<u64>,
    settings: StreamSettings,
}

/// A finished stream as the object stores it, so it stays resumable after the object leaves memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The stream id.
    pub stream_id: String,
    /// Its owner.
    pub owner: Owner,
    /// The kept frames with their ids.
    pub frames: Vec<(u64, String)>,
    /// The newest id.
    pub last_id: u64,
    /// When the stream ended.
    pub ended_at_ms: Option<u64>,
    /// The settings it ran with.
    pub settings: StreamSettings,
}

/// What a client gets from the log for its cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// The frames after the cursor, concatenated.
    pub bytes: String,
    /// The id of the last frame included (the new cursor).
    pub last_id: u64,
    /// The stream has ended and the cursor is at its end: close the response.
    pub finished: bool,
}

/// Why a cursor cannot be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayError {
    /// Events after the cursor were dropped to stay within the bounds.
    Dropped {
        /// The oldest id still kept.
        oldest: u64,
    },
    /// The cursor names an event that was never sent.
    Ahead {
        /// The last id sent so far.
        last: u64,
    },
}

impl ReplayError {
    /// The client error for this failure.
    pub fn api_error(self, after: u64) -> ApiError {
        match self {
            Self::Dropped { oldest } => ApiError::new(
                404,
                "not_found",
                format!("events after {after} are no longer kept (the oldest kept is {oldest})"),
            ),
            Self::Ahead { last } => {
                ApiError::bad_request(format!("Last-Event-ID {after} is ahead of the stream (last event {last})"))
            }
        }
    }
}

impl StreamLog {
    /// An empty log.
    pub fn new(settings: StreamSettings) -> Self {
        Self { frames: VecDeque::new(), bytes: 0, last_id: 0, ended_at_ms: None, settings }
    }

    /// The settings.
    pub fn settings(&self) -> &StreamSettings {
        &self.settings
    }

    /// Appends the encoded event `id` (must be the next id; out-of-order ids are refused with `false`). Drops the
    /// oldest events beyond the bounds; the newest event is always kept.
    #[must_use]
    pub fn push(&mut self, id: u64, frame: String) -> bool {
        if id != self.last_id + 1 || self.ended_at_ms.is_some() {
            return false;
        }
        self.bytes += frame.len();
        self.frames.push_back((id, frame));
        self.last_id = id;
        while self.frames.len() > 1
            && (self.frames.len() > self.settings.max_events || self.bytes > self.settings.max_bytes)
        {
            if let Some((_, f)) = self.frames.pop_front() {
                self.bytes -= f.len();
            }
        }
        true
    }

    /// Marks the end of the stream (after its `done` or `error`).
    pub fn end(&mut self, now_ms: u64) {
        self.ended_at_ms.get_or_insert(now_ms);
    }

    /// Whether the stream has ended.
    pub fn is_ended(&self) -> bool {
        self.ended_at_ms.is_some()
    }

    /// The id of the newest event.
    pub fn last_id(&self) -> u64 {
        self.last_id
    }

    /// Bytes of the frames kept.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The retention time after the end has passed: the stream is gone.
    pub fn expired(&self, now_ms: u64) -> bool {
        self.ended_at_ms.is_some_and(|t| now_ms >= t.saturating_add(self.settings.retention_seconds * 1000))
    }

    /// When the log may be dropped, if the stream has ended.
    pub fn expires_at_ms(&self) -> Option<u64> {
        self.ended_at_ms.map(|t| t.saturating_add(self.settings.retention_seconds * 1000))
    }

    /// The log as stored (see [`Snapshot`]).
    pub fn snapshot(&self, stream_id: &str, owner: &Owner) -> Snapshot {
        Snapshot {
            stream_id: stream_id.to_string(),
            owner: owner.clone(),
            frames: self.frames.iter().cloned().collect(),
            last_id: self.last_id,
            ended_at_ms: self.ended_at_ms,
            settings: self.settings.clone(),
        }
    }

    /// A log back from its snapshot; `None` when the snapshot is inconsistent (ids not consecutive up to
    /// `last_id`).
    pub fn restore(snap: Snapshot) -> Option<Self> {
        let consecutive = snap.frames.windows(2).all(|w| w[1].0 == w[0].0 + 1);
        if !consecutive || snap.frames.last().map_or(0, |f| f.0) != snap.last_id {
            return None;
        }
        let bytes = snap.frames.iter().map(|(_, f)| f.len()).sum();
        Some(Self {
            frames: snap.frames.into(),
            bytes,
            last_id: snap.last_id,
            ended_at_ms: snap.ended_at_ms,
            settings: snap.settings,
        })
    }

    /// Every frame after `after` (the client's `Last-Event-ID`).
    pub fn after(&self, after: u64) -> Result<Replay, ReplayError> {
        if after > self.last_id {
            return Err(ReplayError::Ahead { last: self.last_id });
        }
        let oldest = self.frames.front().map_or(self.last_id + 1, |(id, _)| *id);
        if after + 1 < oldest {
            return Err(ReplayError::Dropped { oldest });
        }
        let skip = (after + 1 - oldest) as usize;
        let bytes: String = self.frames.iter().skip(skip).map(|(_, f)| f.as_str()).collect();
        Ok(Replay { bytes, last_id: self.last_id, finished: self.is_ended() })
    }
}

/// Splits `s` into pieces of at most `max` bytes (at least one character each), on character boundaries: storage
/// values have a size limit.
pub fn split_utf8(s: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let mut end = max.min(rest.len());
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        if end == 0 {
            end = rest.chars().next().map_or(rest.len(), char::len_utf8);
        }
        let (piece, tail) = rest.split_at(end);
        out.push(piece);
        rest = tail;
    }
    out
}

/// The life of a stream as stop requests see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StopState {
    /// Generating.
    #[default]
    Running,
    /// A stop was asked for; the pump ends the stream with `done` (`stopped: true`).
    Stopping,
    /// The stream has ended.
    Ended,
}

/// The answer to `POST …/stop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopAnswer {
    /// This request stopped the stream.
    Stopped,
    /// A stop was already under way.
    AlreadyStopping,
    /// The stream had already ended on its own.
    AlreadyEnded,
}

impl StopState {
    /// Applies a stop request.
    pub fn request_stop(&mut self) -> StopAnswer {
        match self {
            Self::Running => {
                *self = Self::Stopping;
                StopAnswer::Stopped
            }
            Self::Stopping => StopAnswer::AlreadyStopping,
            Self::Ended => StopAnswer::AlreadyEnded,
        }
    }

    /// Whether the pump must stop.
    pub fn stopping(self) -> bool {
        self == Self::Stopping
    }
}

impl StopAnswer {
    /// The JSON body of the stop response.
    pub fn body(self, stream_id: &str) -> String {
        let (stopped, state) = match self {
            Self::Stopped => (true, "stopping"),
            Self::AlreadyStopping => (true, "stopping"),
            Self::AlreadyEnded => (false, "ended"),
        };
        serde_json::json!({ "stream_id": stream_id, "stopped": stopped, "state": state }).to_string()
    }
}

#[cfg(test)]
mod tests;
