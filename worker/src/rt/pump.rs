//! The one loop that drives a [`StreamMachine`] for every route: upstream chunks, deadlines, the client leaving
//! and stop requests go in; the machine's bytes (or frames) go out. It decides nothing: every ending, keep-alive
//! and usage figure is the machine's (`crate::stream`).

use edgechat::protocol::Frame;
use web_sys::AbortController;

use super::js::{now_ms, ChunkReader, Read, Signal, Writer};
use super::marks::{mark, Mark};
use super::upstream::Body;
use crate::stream::{StreamMachine, UpstreamEnd};

/// Where the machine's output goes.
pub(crate) enum Out<'a> {
    /// One client's streaming response; its leaving (or not taking a write in time: [`StreamMachine::write_give_up_at`]) is reported
    /// to the machine.
    Client(&'a mut Writer),
    /// A resumable stream's log (each client's relay reads it); `stop` is the stop request's signal.
    Log {
        /// Appends frames to the log.
        append: &'a dyn Fn(Vec<Frame>),
        /// Set by a stop request.
        stop: &'a Signal,
    },
}

/// Feeds the first part of a successful upstream response and returns the reader over the rest (`None` when the
/// body is already whole).
pub(crate) fn first(machine: &mut StreamMachine, body: Body) -> Option<ChunkReader> {
    match body {
        Body::Stream { reader, first: Some(chunk) } => {
            machine.on_upstream(&chunk, now_ms());
            Some(reader)
        }
        Body::Stream { reader, first: None } => {
            machine.on_upstream_end(now_ms());
            Some(reader)
        }
        Body::Full(bytes) => {
            machine.on_upstream(&bytes, now_ms());
            machine.on_upstream_end(now_ms());
            None
        }
    }
}

/// Runs the machine until it ends, moving its output to `out` after every input.
///
/// Backpressure on a client: one write in flight. The next upstream read starts as soon as a write is made, and the
/// write is waited for only before the next one — by then the client has nearly always taken it (the upstream's
/// next chunk takes longer than the client's socket), so a chunk costs no wait of its own. A write not taken by its
/// give-up time ([`StreamMachine::write_give_up_at`], counted from the write) means the client is gone, whether that
/// is seen while reading or before writing.
pub(crate) async fn drive(machine: &mut StreamMachine, mut reader: Option<&mut ChunkReader>, mut out: Out<'_>) {
    // When the write in flight counts as not taken (ms since the epoch).
    let mut give_up_at = f64::INFINITY;
    loop {
        match &mut out {
            Out::Client(w) => {
                if let Some(bytes) = machine.take_bytes() {
                    let taken = match reader.as_deref() {
                        Some(r) if w.pending() => w.ready(give_up_at, give_up_at, r.timer()).await,
                        _ => true,
                    };
                    let written = w.write(&bytes);
                    mark(Mark::Write);
                    if !taken || !written {
                        machine.on_client_gone();
                    }
                    give_up_at = machine.write_give_up_at(now_ms()) as f64;
                }
            }
            Out::Log { append, .. } => {
                let frames = machine.take_frames();
                if !frames.is_empty() {
                    append(frames);
                }
            }
        }
        let (Some(deadline), Some(r)) = (machine.poll_timeout(), reader.as_deref_mut()) else {
            if !machine.is_ended() {
                machine.on_upstream_end(now_ms()); // a whole body: nothing more will come
                continue;
            }
            return;
        };
        let mut deadline = deadline as f64;
        let signal = match &out {
            Out::Client(w) => {
                if w.pending() {
                    deadline = deadline.min(give_up_at);
                }
                w.gone.clone()
            }
            Out::Log { stop, .. } => (*stop).clone(),
        };
        match r.read_until(deadline, Some(&signal)).await {
            Read::Chunk(c) => machine.on_upstream(&c, now_ms()),
            Read::Done => machine.on_upstream_end(now_ms()),
            Read::Failed(e) => machine.on_upstream_error(&e, now_ms()),
            Read::Timeout => match &out {
                Out::Client(w) if w.pending() && now_ms() as f64 >= give_up_at => {
                    w.gone.fire();
                    machine.on_client_gone();
                }
                _ => machine.on_timeout(now_ms()),
            },
            Read::Gone if matches!(out, Out::Log { .. }) => machine.on_stop(),
            Read::Gone => machine.on_client_gone(),
        }
    }
}

/// Ends the upstream as the machine said: a complete answer's body is read to its end (connection reuse; call
/// after the client's stream is closed), anything else is cancelled and the request aborted.
pub(crate) async fn end_upstream(reader: Option<ChunkReader>, abort: &AbortController, how: UpstreamEnd) {
    match (how, reader) {
        (UpstreamEnd::Drain, Some(r)) => r.finish().await,
        (UpstreamEnd::Drain, None) => {}
        (UpstreamEnd::Cancel, r) => {
            if let Some(r) = r {
                r.cancel();
            }
            abort.abort();
        }
    }
}
