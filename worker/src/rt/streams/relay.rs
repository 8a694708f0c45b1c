//! One client of a resumable stream: replay from its cursor, then live, with keep-alives; it gives up on a client
//! that takes nothing of a write in time.

use std::task::Poll;

use wasm_bindgen_futures::spawn_local;
use web_sys::Response;

use super::state::{json_error, poll_changed, Shared};
use crate::error::ApiError;
use crate::rt::js::{console_log, stream_response, Writer, WRITE_GIVE_UP_MS};
use crate::rt::wait::{now, Signal, Timer};

/// A streaming response that replays the log after `after`, then follows it live until the stream ends or the
/// client goes away. `request_id` (of the request that opened it) names the relay in its log line.
pub(in crate::rt::streams) fn subscribe(
    state: Shared,
    after: u64,
    preamble: String,
    gone: Signal,
    request_id: String,
) -> Response {
    let headers = vec![
        ("content-type".to_string(), "text/event-stream; charset=utf-8".to_string()),
        ("cache-control".into(), "no-cache, no-transform".into()),
    ];
    let (resp, writer) = match stream_response(200, &headers, &gone) {
        Ok(x) => x,
        Err(_) => return json_error(&ApiError::internal(), ""),
    };
    let keepalive = state.borrow().keepalive_ms;
    spawn_local(serve(state, writer, after, preamble, keepalive, request_id));
    resp
}

async fn serve(
    state: Shared,
    mut writer: Writer,
    mut cursor: u64,
    preamble: String,
    keepalive_ms: u32,
    request_id: String,
) {
    if !writer.write(preamble.as_bytes()) {
        return left(&state, &request_id, cursor);
    }
    let timer = Timer::default();
    let keepalive = f64::from(keepalive_ms.max(1));
    let mut ping_at = now() + keepalive;
    loop {
        let (bytes, seen) = {
            let s = state.borrow();
            let Some(log) = s.log.as_ref() else { break };
            match log.after(cursor) {
                Err(_) => break,
                Ok(r) if !r.bytes.is_empty() => {
                    cursor = r.last_id;
                    (Some(r.bytes), s.version)
                }
                Ok(r) if r.finished => break,
                Ok(_) => (None, s.version),
            }
        };
        if let Some(b) = bytes {
            if !deliver(&mut writer, b.as_bytes(), keepalive, &timer).await {
                return left(&state, &request_id, cursor); // the writer is dropped: aborted, as the client is gone
            }
            ping_at = now() + keepalive;
            continue;
        }
        // Wait for the next event, the client leaving, or the keep-alive time (one timer, re-armed lazily).
        let woke = std::future::poll_fn(|cx| {
            if poll_changed(&state, seen, cx) {
                Poll::Ready(Wake::Changed)
            } else if writer.gone.poll_set(cx) {
                Poll::Ready(Wake::Gone)
            } else if timer.poll_until(ping_at, cx) {
                Poll::Ready(Wake::Ping)
            } else {
                Poll::Pending
            }
        })
        .await;
        match woke {
            Wake::Changed => {}
            Wake::Gone => return left(&state, &request_id, cursor), // generation goes on
            // Keep-alive comment while the stream is idle; it also finds clients that went away.
            Wake::Ping => {
                if !deliver(&mut writer, b": ping\n\n", keepalive, &timer).await {
                    return left(&state, &request_id, cursor);
                }
                ping_at = now() + keepalive;
            }
        }
    }
    writer.close();
}

/// Writes `bytes` (events or a ping) and waits until the client has taken them; `false` when it is gone. A client
/// that takes nothing of a write for WRITE_GIVE_UP_MS counts as gone, as in the stateless pumps: workerd may leave
/// the write to a client that closed pending forever, firing nothing, and the relay would stay parked on it.
/// Generation goes on; a live client resumes from its Last-Event-ID.
async fn deliver(writer: &mut Writer, bytes: &[u8], keepalive: f64, timer: &Timer) -> bool {
    let give_up_at = now() + f64::from(WRITE_GIVE_UP_MS);
    writer.write(bytes) && writer.ready((now() + keepalive).min(give_up_at), give_up_at, timer).await
}

/// Logs that the relay ended because its client went away (however that was seen: the request's signal, a failed
/// write, a write not taken in time), with the last event id it wrote: where the client's resume starts.
fn left(state: &Shared, request_id: &str, cursor: u64) {
    let id = state.borrow().stream_id.clone();
    console_log(
        &crate::log::RelayGone { request_id, stream_id: &id, relay: "client_gone", written_through: cursor }.to_json(),
    );
}

enum Wake {
    Changed,
    Gone,
    Ping,
}
