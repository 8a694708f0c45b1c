use super::*;

fn settings(max_events: usize, max_bytes: usize) -> StreamSettings {
    StreamSettings { max_events, max_bytes, retention_seconds: 10, retry_ms: 500 }
}

fn frame(id: u64) -> String {
    format!("id: {id}\nevent: delta\ndata: {{\"text\":\"t{id}\"}}\n\n")
}

fn log_with(n: u64, s: StreamSettings) -> StreamLog {
    let mut log = StreamLog::new(s);
    for id in 1..=n {
        assert!(log.push(id, frame(id)));
    }
    log
}

#[test]
fn replay_after_every_cursor_concatenates_to_the_whole_stream() {
    // setup
    let log = log_with(20, StreamSettings::default());
    let whole = log.after(0).unwrap().bytes;
    assert_eq!(whole, (1..=20).map(frame).collect::<String>());
    // exec + check: for each cut, the frames up to the cut plus the replay after it are the whole stream.
    for cut in 0..=20 {
        let before: String = (1..=cut).map(frame).collect();
        let r = log.after(cut).unwrap();
        assert_eq!(before + &r.bytes, whole, "cut after {cut}");
        assert_eq!(r.last_id, 20);
        assert!(!r.finished);
    }
}

#[test]
fn any_number_of_resumes_while_the_stream_grows() {
    let mut log = StreamLog::new(StreamSettings::default());
    let mut client = String::new();
    let mut cursor = 0;
    for id in 1..=30u64 {
        assert!(log.push(id, frame(id)));
        if id % 3 == 0 {
            // the client reconnects every third event, including right after another reconnect
            let r = log.after(cursor).unwrap();
            client.push_str(&r.bytes);
            cursor = r.last_id;
        }
    }
    log.end(1_000);
    let r = log.after(cursor).unwrap();
    client.push_str(&r.bytes);
    assert!(r.finished);
    assert_eq!(client, log.after(0).unwrap().bytes);
}

#[test]
fn ids_must_be_consecutive_and_nothing_follows_the_end() {
    let mut log = StreamLog::new(StreamSettings::default());
    assert!(!log.push(2, frame(2)), "gap refused");
    assert!(log.push(1, frame(1)));
    assert!(!log.push(1, frame(1)), "duplicate refused");
    log.end(5);
    assert!(!log.push(2, frame(2)), "after the end refused");
    assert_eq!(log.last_id(), 1);
}

#[test]
fn bounds_drop_the_oldest_events_and_a_resume_before_them_is_refused() {
    let log = log_with(10, settings(4, usize::MAX));
    assert_eq!(log.after(6).unwrap().bytes, (7..=10).map(frame).collect::<String>());
    assert_eq!(log.after(5), Err(ReplayError::Dropped { oldest: 7 }));
    assert_eq!(log.after(5).unwrap_err().api_error(5).status, 404);
    // byte bound: room for exactly the last two frames.
    let two = frame(9).len() + frame(10).len();
    let log = log_with(10, settings(usize::MAX, two));
    assert_eq!(log.bytes(), two);
    assert_eq!(log.after(8).unwrap().bytes, frame(9) + &frame(10));
    // the newest event is kept even when it alone is over the byte bound
    let log = log_with(3, settings(10, 1));
    assert_eq!(log.after(2).unwrap().bytes, frame(3));
}

#[test]
fn a_cursor_ahead_of_the_stream_is_a_bad_request() {
    let log = log_with(3, StreamSettings::default());
    assert_eq!(log.after(4), Err(ReplayError::Ahead { last: 3 }));
    assert_eq!(log.after(4).unwrap_err().api_error(4).kind, "bad_request");
    let r = log.after(3).unwrap();
    assert_eq!((r.bytes.as_str(), r.last_id), ("", 3));
}

#[test]
fn retention_counts_from_the_end() {
    let mut log = log_with(2, settings(10, 1000));
    assert!(!log.expired(u64::MAX), "a running stream never expires");
    assert_eq!(log.expires_at_ms(), None);
    log.end(1_000);
    log.end(5_000); // the first end counts
    assert_eq!(log.expires_at_ms(), Some(11_000));
    assert!(!log.expired(10_999));
    assert!(log.expired(11_000));
}

#[test]
fn settings_parse_with_defaults_and_reject_nonsense() {
    assert_eq!(StreamSettings::from_var(None).unwrap(), StreamSettings::default());
    assert_eq!(StreamSettings::from_var(Some("  ")).unwrap(), StreamSettings::default());
    let s = StreamSettings::from_var(Some(r#"{"retention_seconds":2,"retry_ms":250}"#)).unwrap();
    assert_eq!((s.retention_seconds, s.retry_ms, s.max_events), (2, 250, 20_000));
    assert_eq!(s.preamble(), "retry: 250\n\n");
    assert!(StreamSettings::from_var(Some(r#"{"retension":1}"#)).unwrap_err().contains("unknown field"));
    assert!(StreamSettings::from_var(Some(r#"{"max_events":0}"#)).is_err());
    assert!(StreamSettings::from_var(Some("{")).is_err());
}

#[test]
fn stream_paths_and_ids() {
    let id = "0123456789abcdef".repeat(4);
    assert_eq!(parse_stream_path(&format!("/api/chat/streams/{id}")), Some((id.as_str(), StreamAction::Resume)));
    assert_eq!(parse_stream_path(&format!("/api/chat/streams/{id}/stop")), Some((id.as_str(), StreamAction::Stop)));
    assert_eq!(parse_stream_path(&format!("/api/chat/streams/{id}/other")), None);
    assert_eq!(parse_stream_path("/api/chat/streams/abc"), None);
    assert_eq!(parse_stream_path(&format!("/api/chat/streams/{}", id.to_uppercase())), None);
    assert_eq!(parse_stream_path("/api/chat"), None);
    assert_eq!(method_of(StreamAction::Stop), "POST");
    assert_eq!(method_of(StreamAction::Resume), "GET");
}

#[test]
fn last_event_id_header() {
    assert_eq!(parse_last_event_id(None).unwrap(), 0);
    assert_eq!(parse_last_event_id(Some("")).unwrap(), 0);
    assert_eq!(parse_last_event_id(Some(" 17 ")).unwrap(), 17);
    assert_eq!(parse_last_event_id(Some("-1")).unwrap_err().kind, "bad_request");
    assert_eq!(parse_last_event_id(Some("abc")).unwrap_err().status, 400);
}

#[test]
fn stop_state_answers_once() {
    let mut s = StopState::default();
    assert!(!s.stopping());
    assert_eq!(s.request_stop(), StopAnswer::Stopped);
    assert!(s.stopping());
    assert_eq!(s.request_stop(), StopAnswer::AlreadyStopping);
    let mut ended = StopState::Ended;
    assert_eq!(ended.request_stop(), StopAnswer::AlreadyEnded);
    let body: serde_json::Value = serde_json::from_str(&StopAnswer::AlreadyEnded.body("s1")).unwrap();
    assert_eq!(body, serde_json::json!({ "stream_id": "s1", "stopped": false, "state": "ended" }));
}

#[test]
fn owners_compare_every_field() {
    let a = Owner { origin: Some("https://a.example".into()), site: Some("pk_a".into()), subject: Some("u1".into()) };
    assert_eq!(a, a.clone());
    assert_ne!(a, Owner { subject: Some("u2".into()), ..a.clone() });
    assert_ne!(a, Owner { site: None, ..a.clone() });
    assert_ne!(a, Owner { origin: Some("https://b.example".into()), ..a.clone() });
    let json = serde_json::to_string(&a).unwrap();
    assert_eq!(serde_json::from_str::<Owner>(&json).unwrap(), a);
}

#[test]
fn snapshots_round_trip_and_refuse_inconsistent_logs() {
    let mut log = log_with(12, settings(5, usize::MAX));
    log.end(77);
    let owner = Owner { origin: Some("https://a.example".into()), ..Owner::default() };
    let snap = log.snapshot("sid", &owner);
    let json = serde_json::to_string(&snap).unwrap();
    let back = StreamLog::restore(serde_json::from_str(&json).unwrap()).unwrap();
    assert_eq!(back.after(7).unwrap(), log.after(7).unwrap());
    assert_eq!(back.after(6), Err(ReplayError::Dropped { oldest: 8 }));
    assert_eq!((back.bytes(), back.expires_at_ms()), (log.bytes(), log.expires_at_ms()));
    let mut gap = snap.clone();
    gap.frames.remove(2);
    assert!(StreamLog::restore(gap).is_none());
    let mut short = snap.clone();
    short.last_id = 13;
    assert!(StreamLog::restore(short).is_none());
    assert!(StreamLog::restore(StreamLog::new(StreamSettings::default()).snapshot("s", &owner)).is_some());
}

#[test]
fn split_utf8_keeps_characters_whole_at_every_size() {
    let s = "aé€😀b".repeat(7);
    for max in 1..=s.len() + 1 {
        let parts = split_utf8(&s, max);
        assert_eq!(parts.concat(), s, "max {max}");
        assert!(parts.iter().all(|p| !p.is_empty() && (p.len() <= max || p.chars().count() == 1)), "max {max}");
    }
    assert!(split_utf8("", 4).is_empty());
}

#[test]
fn the_owner_admits_its_own_requests_and_a_same_origin_get_without_origin() {
    let owner = |origin: Option<&str>, site: Option<&str>, subject: Option<&str>| Owner {
        origin: origin.map(str::to_owned),
        site: site.map(str::to_owned),
        subject: subject.map(str::to_owned),
    };
    let creator = owner(Some("https://a.example"), Some("pk_a"), Some("alice"));
    assert!(creator.admits(&creator));
    // A same-origin browser GET carries no Origin.
    assert!(creator.admits(&owner(None, Some("pk_a"), Some("alice"))));
    assert!(!creator.admits(&owner(Some("https://b.example"), Some("pk_a"), Some("alice"))));
    assert!(!creator.admits(&owner(None, Some("pk_b"), Some("alice"))));
    assert!(!creator.admits(&owner(None, Some("pk_a"), None)));
    assert!(!creator.admits(&owner(Some("https://a.example"), None, Some("alice"))));
}
