//! The command queue of one tty, without I/O: requests and tty bytes in,
//! bytes to write and events to report out. Time is passed in, so the rules
//! below are tested without sleeping.
//!
//! # Queueing
//!
//! Commands run one at a time in arrival order. A command gets exactly one
//! [`Event::Response`]: its final result, [`Reply::Timeout`] when its timeout
//! (counted from the moment it is written) passes, or [`Reply::Closed`] when
//! the tty is not open or closes before the result.
//!
//! # The late-reply rule
//!
//! A timed-out command is *abandoned*, not forgotten: the engine keeps it as
//! the pending command, so its echo, information lines and final result are
//! still recognised when they come late, and are dropped (logged at debug).
//! The next command is written only once the abandoned one has *drained*: its
//! final result arrived, or the drain period (`drain_ms` of
//! [`Request::Open`], 2 s by default in ATPort) passed since the timeout. A
//! late reply can therefore never be credited to the next command, unless the
//! modem answers later than timeout + drain period, and then the reply is
//! reported as a URC-like stray line rather than as a result.
//!
//! # Bounds
//!
//! Nothing a modem or the owner does grows this state without end
//! ([`Limits`] of [`Request::Open`](cellular_core::protocol::Request::Open)):
//!
//! * a response over `max_response_lines` or `max_response_bytes` is answered
//!   [`Reply::TooLarge`] as soon as the line that passes the limit arrives;
//!   the command is then abandoned like a timed-out one (the rest of its
//!   reply is dropped, the next command waits for its final result or the
//!   drain period);
//! * at most `max_queue` commands wait behind the one in flight; more are
//!   answered [`Reply::QueueFull`] at once;
//! * URCs pass a token bucket (`urc_burst` at once, then `urc_per_second`);
//!   the rest are shed and counted, and the count is reported as
//!   [`Event::UrcsShed`] at most once per [`SHED_REPORT`];
//! * dropped over-long lines are reported as [`Event::Overflow`] (and logged)
//!   at once, then summed and reported at most once per [`SHED_REPORT`], so a
//!   storm of them sends a few events, not one per 4 KiB.
//!
//! # The prompt
//!
//! A `> ` prompt ends its command with [`Reply::Prompt`]. For the next
//! [`PROMPT_HOLD`] a queued [`Request::Raw`] (the body) goes first; if none
//! comes, ESC cancels the prompt before other commands are written.

use cellular_core::engine::{redact::redact, Config, Engine, Event as EngineEvent};
use cellular_core::protocol::{Event, Limits, Reply};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long a prompt waits for its body.
pub const PROMPT_HOLD: Duration = Duration::from_secs(10);
/// How often shed URCs are reported, at most.
pub const SHED_REPORT: Duration = Duration::from_secs(1);

/// A token bucket for URCs: `burst` at once, then `per_second`.
#[derive(Debug)]
struct UrcBucket {
    burst: f64,
    per_second: f64,
    tokens: f64,
    at: Option<Instant>,
    shed: u64,
    report_at: Option<Instant>,
}

impl UrcBucket {
    fn new(limits: &Limits) -> UrcBucket {
        let burst = f64::from(limits.urc_burst.max(1));
        UrcBucket {
            burst,
            per_second: f64::from(limits.urc_per_second.max(1)),
            tokens: burst,
            at: None,
            shed: 0,
            report_at: None,
        }
    }

    /// Whether one more URC may pass now; counts it as shed if not.
    fn take(&mut self, now: Instant) -> bool {
        if let Some(at) = self.at {
            let elapsed = now.saturating_duration_since(at).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst);
        }
        self.at = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            self.shed = self.shed.saturating_add(1);
            self.report_at.get_or_insert(now + SHED_REPORT);
            false
        }
    }

    /// The shed count, when it is due to be reported.
    fn report(&mut self, now: Instant) -> Option<u64> {
        if self.report_at.is_some_and(|at| now >= at) {
            self.report_at = None;
            Some(std::mem::take(&mut self.shed))
        } else {
            None
        }
    }
}

/// What the owner of a session must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write these bytes to the tty (through the multiplexer when it runs)
    Write(Vec<u8>),
    /// Send this event to Elixir
    Emit(Event),
    /// Write these bytes to the tty as they are (multiplexer frames; `main`'s
    /// own, never a session's)
    WriteTty(Vec<u8>),
    /// Write these bytes to the data pty (`main`'s own)
    WritePty(Vec<u8>),
}

#[derive(Debug)]
struct Queued {
    id: u64,
    text: String,
    raw: bool,
    timeout: Duration,
}

#[derive(Debug)]
struct InFlight {
    id: u64,
    deadline: Instant,
    /// The command as logs may show it: secret arguments redacted here,
    /// where the bytes are (raw bytes are never shown)
    shown: String,
    timeout: Duration,
}

/// One tty's command queue. See the module documentation.
#[derive(Debug)]
pub struct Session {
    engine: Engine,
    open: bool,
    drain: Duration,
    queue: VecDeque<Queued>,
    in_flight: Option<InFlight>,
    draining_until: Option<Instant>,
    prompt_until: Option<Instant>,
    engine_events: Vec<EngineEvent>,
    max_queue: usize,
    urcs: UrcBucket,
    /// Overflow bytes not reported yet, and the end of the current report
    /// window
    overflow: u64,
    overflow_window: Option<Instant>,
}

impl Session {
    /// A closed session. The response limits of `limits` replace those of
    /// `config`.
    pub fn new(config: Config, drain: Duration, limits: Limits) -> Session {
        let config = Config {
            max_response_lines: limits.max_response_lines as usize,
            max_response_bytes: limits.max_response_bytes as usize,
            ..config
        };
        Session {
            engine: Engine::new(config),
            open: false,
            drain,
            queue: VecDeque::new(),
            in_flight: None,
            draining_until: None,
            prompt_until: None,
            engine_events: Vec::new(),
            max_queue: limits.max_queue as usize,
            urcs: UrcBucket::new(&limits),
            overflow: 0,
            overflow_window: None,
        }
    }

    /// The tty opened: start writing queued commands. With `drain_first`
    /// the modem may still owe a reply to a command nobody here sent (an
    /// earlier port program died with it in flight): it is drained like a
    /// timed-out command before the first command is written.
    pub fn opened(&mut self, drain_first: bool, now: Instant, out: &mut Vec<Action>) {
        self.open = true;
        self.engine.reset();
        if drain_first {
            self.engine.start_command("");
            self.engine.abandon();
            self.draining_until = Some(now + self.drain);
            log_debug!("draining a reply owed to an earlier port program");
        }
        self.pump(now, out);
    }

    /// The tty closed or vanished: every command in flight or queued is
    /// answered `Closed`.
    pub fn closed(&mut self, out: &mut Vec<Action>) {
        self.open = false;
        self.engine.reset();
        self.draining_until = None;
        self.prompt_until = None;
        if let Some(f) = self.in_flight.take() {
            out.push(respond(f.id, Reply::Closed));
        }
        for q in self.queue.drain(..) {
            out.push(respond(q.id, Reply::Closed));
        }
    }

    /// A command (or raw bytes) from Elixir.
    pub fn submit(
        &mut self,
        id: u64,
        text: String,
        raw: bool,
        timeout: Duration,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        if !self.open {
            log_debug!(
                "tty not open, answering closed id={id} command={}",
                redact(&text)
            );
            out.push(respond(id, Reply::Closed));
            return;
        }
        if self.queue.len() >= self.max_queue {
            log_warn!(
                "{} commands already queued, refusing id={id} command={}",
                self.queue.len(),
                redact(&text)
            );
            out.push(respond(id, Reply::QueueFull));
            return;
        }
        self.queue.push_back(Queued {
            id,
            text,
            raw,
            timeout,
        });
        self.pump(now, out);
    }

    /// Bytes read from the tty.
    pub fn on_bytes(&mut self, bytes: &[u8], now: Instant, out: &mut Vec<Action>) {
        let mut events = std::mem::take(&mut self.engine_events);
        self.engine.feed(bytes, &mut events);
        for event in events.drain(..) {
            match event {
                EngineEvent::Urc(line) => {
                    if self.urcs.take(now) {
                        out.push(Action::Emit(Event::Urc { line }));
                    }
                }
                EngineEvent::ResponseTooLarge { lines, bytes } => {
                    // The command is abandoned: drain it like a timed-out one.
                    self.draining_until = Some(now + self.drain);
                    match self.in_flight.take() {
                        Some(f) => {
                            log_warn!(
                                "the response to {} was over its limits; dropping the rest of it lines={lines} bytes={bytes}",
                                f.shown
                            );
                            out.push(respond(f.id, Reply::TooLarge));
                        }
                        None => log_warn!(
                            "response over its limits; dropping the rest of it lines={lines} bytes={bytes}"
                        ),
                    }
                }
                EngineEvent::Overflow { dropped } => match self.overflow_window {
                    Some(end) if now < end => {
                        self.overflow = self.overflow.saturating_add(dropped as u64);
                    }
                    _ => {
                        self.overflow_window = Some(now + SHED_REPORT);
                        report_overflow(dropped as u64, out);
                    }
                },
                EngineEvent::Response { result, lines } => {
                    let reply = Reply::from_final(result, lines);
                    if reply == Reply::Prompt {
                        self.prompt_until = Some(now + PROMPT_HOLD);
                    }
                    match self.in_flight.take() {
                        Some(f) => out.push(respond(f.id, reply)),
                        None => log_debug!("result with no command in flight reply={reply:?}"),
                    }
                }
                EngineEvent::Garbage { bytes } => {
                    log_debug!("dropped a line of control characters from the modem bytes={bytes}");
                }
                EngineEvent::Discarded { result, lines } => {
                    log_debug!(
                        "late reply of a timed-out command dropped result={result:?} lines={}",
                        lines.len()
                    );
                    self.draining_until = None;
                }
            }
        }
        self.engine_events = events;
        self.pump(now, out);
    }

    /// Time passed: enforce timeouts, end drains and prompt holds, report
    /// shed URCs.
    pub fn on_timer(&mut self, now: Instant, out: &mut Vec<Action>) {
        if let Some(end) = self.overflow_window {
            if now >= end && self.overflow > 0 {
                report_overflow(std::mem::take(&mut self.overflow), out);
                self.overflow_window = Some(now + SHED_REPORT);
            }
        }
        if let Some(count) = self.urcs.report(now) {
            log_warn!("URCs over the rate limit were shed count={count}");
            out.push(Action::Emit(Event::UrcsShed { count }));
        }
        if let Some(f) = self.in_flight.take_if(|f| now >= f.deadline) {
            self.engine.abandon();
            self.draining_until = Some(now + self.drain);
            log_warn!(
                "{} timed out after {} ms; draining its late reply id={}",
                f.shown,
                f.timeout.as_millis(),
                f.id
            );
            out.push(respond(f.id, Reply::Timeout));
        }
        if let Some(until) = self.draining_until {
            if now >= until {
                self.draining_until = None;
                self.engine.forget();
                log_debug!("timed-out command never answered; moving on");
            }
        }
        self.pump(now, out);
    }

    /// When [`Session::on_timer`] must run next.
    pub fn next_deadline(&self) -> Option<Instant> {
        [
            self.in_flight.as_ref().map(|f| f.deadline),
            self.draining_until,
            self.prompt_until.filter(|_| !self.queue.is_empty()),
            self.urcs.report_at,
            self.overflow_window.filter(|_| self.overflow > 0),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Writes the next command when the line is free.
    fn pump(&mut self, now: Instant, out: &mut Vec<Action>) {
        if !self.open || self.in_flight.is_some() || self.draining_until.is_some() {
            return;
        }
        if let Some(until) = self.prompt_until {
            if let Some(pos) = self.queue.iter().position(|q| q.raw) {
                self.prompt_until = None;
                if let Some(q) = self.queue.remove(pos) {
                    self.send(q, now, out);
                }
                return;
            }
            if self.queue.is_empty() || now < until {
                return;
            }
            self.prompt_until = None;
            log_debug!("no body for the prompt; cancelling it with ESC");
            out.push(Action::Write(vec![0x1b]));
            self.engine.forget();
        }
        if let Some(q) = self.queue.pop_front() {
            self.send(q, now, out);
        }
    }

    fn send(&mut self, q: Queued, now: Instant, out: &mut Vec<Action>) {
        let mut bytes = q.text.clone().into_bytes();
        if q.raw {
            log_debug!("-> raw bytes id={} bytes={}", q.id, bytes.len());
            self.engine.start_raw(&q.text);
        } else {
            log_debug!("-> {} id={}", redact(&q.text), q.id);
            self.engine.start_command(&q.text);
            bytes.push(b'\r');
        }
        let shown = if q.raw {
            format!("{} raw bytes", q.text.len())
        } else {
            redact(&q.text).into_owned()
        };
        self.in_flight = Some(InFlight {
            id: q.id,
            deadline: now + q.timeout,
            shown,
            timeout: q.timeout,
        });
        out.push(Action::Write(bytes));
    }
}

fn report_overflow(dropped: u64, out: &mut Vec<Action>) {
    log_warn!("dropped over-long lines from the modem dropped={dropped}");
    out.push(Action::Emit(Event::Overflow { dropped }));
}

fn respond(id: u64, reply: Reply) -> Action {
    Action::Emit(Event::Response { id, reply })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn open_session() -> (Session, Instant) {
        let mut s = Session::new(Config::default(), 1000 * MS, Limits::default());
        let now = Instant::now();
        let mut out = Vec::new();
        s.opened(false, now, &mut out);
        assert!(out.is_empty());
        (s, now)
    }

    fn write(text: &str) -> Action {
        Action::Write(text.as_bytes().to_vec())
    }

    fn response(id: u64, reply: Reply) -> Action {
        respond(id, reply)
    }

    fn ok(lines: &[&str]) -> Reply {
        Reply::Ok {
            lines: lines.iter().map(|l| l.to_string()).collect(),
        }
    }

    #[test]
    fn commands_run_one_at_a_time_in_order() {
        let (mut s, t) = open_session();
        let mut out = Vec::new();
        s.submit(1, "AT+CGMI".into(), false, 500 * MS, t, &mut out);
        s.submit(2, "AT+CGMM".into(), false, 500 * MS, t, &mut out);
        assert_eq!(out, vec![write("AT+CGMI\r")]);
        out.clear();
        s.on_bytes(b"AT+CGMI\r\r\nQuectel\r\n\r\nOK\r\n", t + MS, &mut out);
        assert_eq!(out, vec![response(1, ok(&["Quectel"])), write("AT+CGMM\r")]);
        out.clear();
        s.on_bytes(b"\r\nEC25\r\n\r\n+CREG: 1\r\nOK\r\n", t + 2 * MS, &mut out);
        assert_eq!(
            out,
            vec![
                Action::Emit(Event::Urc {
                    line: "+CREG: 1".into()
                }),
                response(2, ok(&["EC25"]))
            ]
        );
    }

    #[test]
    fn a_late_reply_is_never_credited_to_the_next_command() {
        let (mut s, t) = open_session();
        let mut out = Vec::new();
        s.submit(1, "AT+CGMI".into(), false, 100 * MS, t, &mut out);
        s.submit(2, "AT+CGMM".into(), false, 100 * MS, t, &mut out);
        out.clear();
        assert_eq!(s.next_deadline(), Some(t + 100 * MS));
        s.on_timer(t + 100 * MS, &mut out);
        // Command 1 timed out; command 2 waits for the drain.
        assert_eq!(out, vec![response(1, Reply::Timeout)]);
        assert_eq!(s.next_deadline(), Some(t + 1100 * MS));
        out.clear();
        // The late reply of command 1 arrives: dropped, then 2 is written.
        s.on_bytes(b"\r\nQuectel\r\n\r\nOK\r\n", t + 300 * MS, &mut out);
        assert_eq!(out, vec![write("AT+CGMM\r")]);
        out.clear();
        s.on_bytes(b"\r\nEC25\r\n\r\nOK\r\n", t + 400 * MS, &mut out);
        assert_eq!(out, vec![response(2, ok(&["EC25"]))]);
    }

    #[test]
    fn a_mute_modem_is_given_up_after_the_drain_period() {
        let (mut s, t) = open_session();
        let mut out = Vec::new();
        s.submit(1, "AT".into(), false, 100 * MS, t, &mut out);
        s.submit(2, "AT".into(), false, 100 * MS, t, &mut out);
        out.clear();
        s.on_timer(t + 100 * MS, &mut out);
        s.on_timer(t + 1099 * MS, &mut out);
        assert_eq!(out, vec![response(1, Reply::Timeout)]);
        out.clear();
        s.on_timer(t + 1100 * MS, &mut out);
        assert_eq!(out, vec![write("AT\r")]);
        out.clear();
        s.on_timer(t + 1200 * MS, &mut out);
        assert_eq!(out, vec![response(2, Reply::Timeout)]);
    }

    #[test]
    fn closing_answers_everything_closed_and_a_closed_tty_answers_at_once() {
        let (mut s, t) = open_session();
        let mut out = Vec::new();
        s.submit(1, "AT".into(), false, 100 * MS, t, &mut out);
        s.submit(2, "AT".into(), false, 100 * MS, t, &mut out);
        out.clear();
        s.closed(&mut out);
        assert_eq!(
            out,
            vec![response(1, Reply::Closed), response(2, Reply::Closed)]
        );
        out.clear();
        s.submit(3, "AT".into(), false, 100 * MS, t, &mut out);
        assert_eq!(out, vec![response(3, Reply::Closed)]);
        assert_eq!(s.next_deadline(), None);
        out.clear();
        s.opened(false, t, &mut out);
        s.submit(4, "AT".into(), false, 100 * MS, t, &mut out);
        assert_eq!(out, vec![write("AT\r")]);
    }

    #[test]
    fn a_reply_owed_to_an_earlier_program_is_drained_after_opening() {
        let mut s = Session::new(Config::default(), 1000 * MS, Limits::default());
        let t = Instant::now();
        let mut out = Vec::new();
        s.opened(true, t, &mut out);
        s.submit(1, "AT+CGMM".into(), false, 500 * MS, t, &mut out);
        assert!(out.is_empty());
        s.on_bytes(
            b"\r\n+CREG: 1\r\nQuectel\r\n\r\nOK\r\n",
            t + 100 * MS,
            &mut out,
        );
        assert_eq!(
            out,
            vec![
                Action::Emit(Event::Urc {
                    line: "+CREG: 1".into()
                }),
                write("AT+CGMM\r")
            ]
        );
        // With nothing owed, the drain period ends it.
        let mut s = Session::new(Config::default(), 1000 * MS, Limits::default());
        out.clear();
        s.opened(true, t, &mut out);
        s.submit(2, "AT".into(), false, 500 * MS, t, &mut out);
        s.on_timer(t + 999 * MS, &mut out);
        assert!(out.is_empty());
        s.on_timer(t + 1000 * MS, &mut out);
        assert_eq!(out, vec![write("AT\r")]);
    }

    #[test]
    fn the_prompt_body_goes_first_and_an_unused_prompt_is_cancelled() {
        let (mut s, t) = open_session();
        let mut out = Vec::new();
        s.submit(1, "AT+CMGS=\"+1555\"".into(), false, 500 * MS, t, &mut out);
        s.submit(2, "AT+CSQ".into(), false, 500 * MS, t, &mut out);
        out.clear();
        s.on_bytes(b"\r\n> ", t, &mut out);
        assert_eq!(out, vec![response(1, Reply::Prompt)]);
        out.clear();
        s.submit(3, "hi\x1a".into(), true, 500 * MS, t, &mut out);
        assert_eq!(out, vec![write("hi\x1a")]);
        out.clear();
        s.on_bytes(b"\r\n+CMGS: 4\r\n\r\nOK\r\n", t, &mut out);
        assert_eq!(out, vec![response(3, ok(&["+CMGS: 4"])), write("AT+CSQ\r")]);

        // A prompt nobody answers: ESC after the hold, then the queue moves.
        out.clear();
        s.on_bytes(b"\r\n+CSQ: 1,2\r\nOK\r\n", t, &mut out);
        s.submit(4, "AT+CMGS=1".into(), false, 500 * MS, t, &mut out);
        s.on_bytes(b"\r\n> ", t, &mut out);
        s.submit(5, "AT".into(), false, 500 * MS, t, &mut out);
        out.clear();
        assert_eq!(s.next_deadline(), Some(t + PROMPT_HOLD));
        s.on_timer(t + PROMPT_HOLD, &mut out);
        assert_eq!(out, vec![Action::Write(vec![0x1b]), write("AT\r")]);
    }

    fn limited(limits: Limits) -> (Session, Instant) {
        let mut s = Session::new(Config::default(), 1000 * MS, limits);
        let now = Instant::now();
        let mut out = Vec::new();
        s.opened(false, now, &mut out);
        (s, now)
    }

    #[test]
    fn a_response_over_its_limit_is_answered_at_once_and_the_flood_is_dropped() {
        let (mut s, t) = limited(Limits {
            max_response_lines: 10,
            ..Limits::default()
        });
        let mut out = Vec::new();
        s.submit(1, "AT+FLOOD".into(), false, 500 * MS, t, &mut out);
        s.submit(2, "AT+CSQ".into(), false, 500 * MS, t, &mut out);
        out.clear();
        let mut flood = Vec::new();
        for i in 0..100_000 {
            flood.extend_from_slice(format!("+FLOOD: {i:08}\r\n").as_bytes());
        }
        // Fed as the tty would deliver it, 16 KiB at a time.
        for chunk in flood.chunks(16 * 1024) {
            s.on_bytes(chunk, t + MS, &mut out);
        }
        assert_eq!(out, vec![response(1, Reply::TooLarge)]);
        out.clear();
        // A URC still passes; the final result of the flood ends the drain and
        // the next command is written and answered.
        s.on_bytes(b"\r\n+CREG: 5\r\n\r\nOK\r\n", t + 2 * MS, &mut out);
        assert_eq!(
            out,
            vec![
                Action::Emit(Event::Urc {
                    line: "+CREG: 5".into()
                }),
                write("AT+CSQ\r")
            ]
        );
        out.clear();
        s.on_bytes(b"\r\n+CSQ: 1,2\r\n\r\nOK\r\n", t + 3 * MS, &mut out);
        assert_eq!(out, vec![response(2, ok(&["+CSQ: 1,2"]))]);
    }

    #[test]
    fn a_flood_with_no_final_result_is_drained_like_a_timeout() {
        let (mut s, t) = limited(Limits {
            max_response_bytes: 100,
            ..Limits::default()
        });
        let mut out = Vec::new();
        s.submit(1, "AT+FLOOD".into(), false, 500 * MS, t, &mut out);
        s.submit(2, "AT".into(), false, 500 * MS, t, &mut out);
        out.clear();
        s.on_bytes(&b"0123456789\r\n".repeat(20), t, &mut out);
        assert_eq!(out, vec![response(1, Reply::TooLarge)]);
        out.clear();
        assert_eq!(s.next_deadline(), Some(t + 1000 * MS));
        s.on_timer(t + 1000 * MS, &mut out);
        assert_eq!(out, vec![write("AT\r")]);
    }

    #[test]
    fn commands_over_the_queue_limit_are_refused_at_once() {
        let (mut s, t) = limited(Limits {
            max_queue: 2,
            ..Limits::default()
        });
        let mut out = Vec::new();
        // One in flight, two queued, the fourth refused.
        for id in 1..=4 {
            s.submit(id, "AT".into(), false, 500 * MS, t, &mut out);
        }
        assert_eq!(out, vec![write("AT\r"), response(4, Reply::QueueFull)]);
        out.clear();
        s.on_bytes(b"\r\nOK\r\n", t, &mut out);
        assert_eq!(out, vec![response(1, ok(&[])), write("AT\r")]);
        out.clear();
        // Room again.
        s.submit(5, "AT".into(), false, 500 * MS, t, &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn urcs_over_the_rate_are_shed_counted_and_reported() {
        let (mut s, t) = limited(Limits {
            urc_burst: 5,
            urc_per_second: 10,
            ..Limits::default()
        });
        let mut out = Vec::new();
        s.on_bytes(&b"+CREG: 1\r\n".repeat(100), t, &mut out);
        assert_eq!(out.len(), 5, "{out:?}");
        out.clear();
        assert_eq!(s.next_deadline(), Some(t + SHED_REPORT));
        // 100 ms later one token is back.
        s.on_bytes(b"+CREG: 2\r\n+CREG: 3\r\n", t + 100 * MS, &mut out);
        assert_eq!(
            out,
            vec![Action::Emit(Event::Urc {
                line: "+CREG: 2".into()
            })]
        );
        out.clear();
        s.on_timer(t + SHED_REPORT, &mut out);
        assert_eq!(out, vec![Action::Emit(Event::UrcsShed { count: 96 })]);
        out.clear();
        assert_eq!(s.next_deadline(), None);
        // Once the rate is back to normal nothing is shed.
        s.on_bytes(b"+CREG: 4\r\n", t + 2 * SHED_REPORT, &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn a_storm_of_over_long_lines_is_reported_once_per_window_with_every_byte_counted() {
        let (mut s, t) = open_session();
        let mut out = Vec::new();
        // 100 KiB without a line end: 24 chunks of 4 KiB dropped so far (the
        // 25th is still the current line).
        for _ in 0..100 {
            s.on_bytes(&[b'x'; 1024], t, &mut out);
        }
        assert_eq!(out, vec![Action::Emit(Event::Overflow { dropped: 4096 })]);
        out.clear();
        assert_eq!(s.next_deadline(), Some(t + SHED_REPORT));
        s.on_timer(t + SHED_REPORT, &mut out);
        assert_eq!(
            out,
            vec![Action::Emit(Event::Overflow { dropped: 23 * 4096 })]
        );
        out.clear();
        // Nothing more pending: no deadline; a later overflow is reported at once.
        s.on_timer(t + 2 * SHED_REPORT, &mut out);
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(s.next_deadline(), None);
        s.on_bytes(&[b'y'; 5000], t + 3 * SHED_REPORT, &mut out);
        assert_eq!(out, vec![Action::Emit(Event::Overflow { dropped: 4096 })]);
    }
}
