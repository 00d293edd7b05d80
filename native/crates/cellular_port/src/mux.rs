//! The 3GPP TS 27.010 multiplexer (CMUX, basic mode) of one tty, without
//! I/O: tty bytes, AT-channel bytes, data-channel bytes and time in; tty
//! bytes, AT-channel payload, data-channel payload and `Up`/`Down` out.
//! Time is passed in, like `session`, so every rule below is tested without
//! sleeping.
//!
//! The frames themselves (flags, address, control, length, FCS; control
//! channel messages) are `cellular_core::cmux`'s business; this module only
//! decides what to send and when.
//!
//! # Channels
//!
//! * DLCI 0: the control channel (close-down, keepalive tests, flow control);
//! * DLCI 1: AT commands, fed to and from the port's `Session`;
//! * DLCI 2: data, for pppd (through a pty in `main`).
//!
//! # States
//!
//! `Off` → [`Mux::start`] → `Starting`: SABM on DLCI 0, then 1, then 2, each
//! awaiting its UA for [`T1`], sent at most [`SABM_TRIES`] times; a DM or no
//! answer ends it (`Down`). Then `Up` ([`Out::Up`]); an MSC command with
//! RTC, RTR and DV set is sent on DLCI 1 and 2 (some modems keep a channel
//! silent until its "DTR" is on).
//!
//! `Up` → [`Mux::stop`] → `Closing`: DISC 2, DISC 1 (each awaiting UA or DM
//! for [`T1`], at most [`DISC_TRIES`] times, then given up), then CLD on
//! DLCI 0, awaiting its response for [`T1`]; then `Off` and
//! `Down { reason: "stopped" }`. [`Mux::stop`] while `Off` writes a blind
//! close-down (CLD then DISC 0), harmless to a modem in AT mode, for a modem
//! an earlier program left multiplexing.
//!
//! # Failures (each ends in `Down { reason }` and a blind close-down)
//!
//! * bad frames: [`BAD_FRAME_BURST`] frames with a bad FCS (or over N1)
//!   within [`BAD_FRAME_WINDOW`] (wrong speed, noise);
//! * a flood of bytes outside frames: more than [`GARBAGE_LIMIT`] bytes since
//!   the last good frame (the modem left mux mode and talks plain AT, or
//!   noise);
//! * the modem went quiet: after [`KEEPALIVE_IDLE`] without a frame from the
//!   modem, a TEST command goes out on DLCI 0; any frame from the modem
//!   within [`KEEPALIVE_TIMEOUT`] will do as an answer (a modem that does not
//!   know TEST answers NSC). After a miss the probe is an MSC on DLCI 1 (every
//!   implementation must answer it). Two misses in a row: down (the modem
//!   reset and left mux mode);
//! * a DM or DISC from the modem for an open channel, or a CLD command.
//!
//! # Bounds
//!
//! AT bytes waiting for DLCI 1 (while starting, or flow control off) are
//! held up to [`AT_QUEUE_MAX`]; data bytes waiting for DLCI 2 up to
//! [`DATA_QUEUE_MAX`]; the surplus is dropped and counted
//! ([`Mux::dropped`]). The decoder bounds its own buffer (a frame of N1). The
//! bad-frame window holds at most [`BAD_FRAME_BURST`] instants. AT bytes
//! still waiting when the multiplexer goes off are written to the plain tty.

use cellular_core::cmux::{
    self,
    control::{Body, Message, Msc},
    Frame, Kind,
};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long an SABM, DISC or CLD waits for its answer.
pub const T1: Duration = Duration::from_secs(1);
/// How many times an SABM is sent before starting fails.
pub const SABM_TRIES: u8 = 3;
/// How many times a DISC is sent before the channel is given up as closed.
pub const DISC_TRIES: u8 = 2;
/// Frames with a bad FCS (or over N1) within [`BAD_FRAME_WINDOW`] that end
/// the multiplexer.
pub const BAD_FRAME_BURST: usize = 10;
/// See [`BAD_FRAME_BURST`].
pub const BAD_FRAME_WINDOW: Duration = Duration::from_secs(5);
/// Bytes outside frames since the last good frame that end the multiplexer.
pub const GARBAGE_LIMIT: usize = 16 * 1024;
/// How long the modem may be silent before a TEST goes out.
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(5);
/// How long a TEST waits for an answer (any frame).
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(3);
/// TESTs in a row without an answer that end the multiplexer.
pub const KEEPALIVE_MISSES: u8 = 2;
/// AT bytes held for DLCI 1 at most.
pub const AT_QUEUE_MAX: usize = 16 * 1024;
/// Data bytes held for DLCI 2 at most.
pub const DATA_QUEUE_MAX: usize = 64 * 1024;

/// The smallest N1 used (a smaller one asked for is raised to it): the
/// control messages sent must fit one frame.
pub const MIN_N1: usize = 8;

/// The reason of `Down` when the keepalive fails.
pub const STOPPED_ANSWERING: &str = "the modem stopped answering on the multiplexer (reset?)";

/// The DLCI of AT commands.
pub const AT_DLCI: u8 = 1;
/// The DLCI of the data channel.
pub const DATA_DLCI: u8 = 2;

/// The V.24 signals of our MSC for DLCI 1 and 2: ready, and data valid.
const SIGNALS_ON: u8 = Msc::RTC | Msc::RTR | Msc::DV;

/// What the multiplexer asks of its caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    /// Bytes to write to the tty
    Tty(Vec<u8>),
    /// Payload of DLCI 1, for the AT session
    At(Vec<u8>),
    /// Payload of DLCI 2, for the data pty
    Data(Vec<u8>),
    /// All three channels are open
    Up,
    /// The multiplexer is off again (the modem in plain AT mode, as far as
    /// can be told)
    Down { reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Open(u8),
    Close(u8),
    Cld,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    step: Step,
    deadline: Instant,
    tries: u8,
}

/// The multiplexer's state (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Off,
    Starting,
    Up,
    Closing,
}

/// The multiplexer of one tty.
#[derive(Debug)]
pub struct Mux {
    decoder: cmux::Decoder,
    n1: usize,
    state: State,
    open: [bool; 3],
    pending: Option<Pending>,
    at_queue: Vec<u8>,
    data_queue: Vec<u8>,
    /// FCoff from the modem: nothing but DLCI 0 may be sent
    flow_off_all: bool,
    /// The FC signal of the modem's MSC for DLCI 1 and 2
    flow_off: [bool; 3],
    bad_frames: VecDeque<Instant>,
    garbage: usize,
    last_rx: Instant,
    /// When the TEST in flight must have been answered
    test_deadline: Option<Instant>,
    misses: u8,
    test_seq: u32,
    dropped: u64,
    scratch: Vec<cmux::Event>,
}

impl Mux {
    /// An idle multiplexer.
    pub fn new(now: Instant) -> Mux {
        Mux {
            decoder: cmux::Decoder::new(cmux::DEFAULT_MAX_INFO),
            n1: cmux::DEFAULT_MAX_INFO,
            state: State::Off,
            open: [false; 3],
            pending: None,
            at_queue: Vec::new(),
            data_queue: Vec::new(),
            flow_off_all: false,
            flow_off: [false; 3],
            bad_frames: VecDeque::new(),
            garbage: 0,
            last_rx: now,
            test_deadline: None,
            misses: 0,
            test_seq: 0,
            dropped: 0,
            scratch: Vec::new(),
        }
    }

    /// The current state.
    #[cfg(test)]
    pub fn state(&self) -> State {
        self.state
    }

    /// Whether the tty carries frames (AT bytes then go through
    /// [`Mux::send_at`], tty bytes through [`Mux::on_tty`]).
    pub fn active(&self) -> bool {
        self.state != State::Off
    }

    /// Whether data bytes would be sent now (so the caller should read its
    /// pty): up, and the modem's flow control on.
    pub fn accepts_data(&self) -> bool {
        self.state == State::Up && !self.data_blocked()
    }

    /// Bytes dropped over the queue bounds so far.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Starts the multiplexer with frames of up to `n1` information bytes;
    /// ignored unless off.
    pub fn start(&mut self, n1: u32, now: Instant, out: &mut Vec<Out>) {
        if self.state != State::Off {
            return;
        }
        // Control messages (MSC: 4 octets, TEST: 6) must fit.
        self.n1 = usize::try_from(n1)
            .unwrap_or(usize::MAX)
            .clamp(MIN_N1, cmux::MAX_INFO);
        self.decoder.reset();
        self.decoder.set_max_info(self.n1);
        self.open = [false; 3];
        self.flow_off_all = false;
        self.flow_off = [false; 3];
        self.bad_frames.clear();
        self.garbage = 0;
        self.last_rx = now;
        self.test_deadline = None;
        self.misses = 0;
        self.state = State::Starting;
        self.begin(Step::Open(0), now, out);
    }

    /// Closes the multiplexer down in order (see the module documentation);
    /// while off, writes a blind close-down and reports `Down`.
    pub fn stop(&mut self, now: Instant, out: &mut Vec<Out>) {
        match self.state {
            State::Off => {
                out.push(Out::Tty(self.close_down_bytes()));
                out.push(Out::Down {
                    reason: "not running; a close-down was written blind".into(),
                });
            }
            State::Closing => {}
            State::Starting | State::Up => {
                self.state = State::Closing;
                self.test_deadline = None;
                self.close_from(DATA_DLCI, now, out);
            }
        }
    }

    /// Leaves mux mode at once (the program is ending): DISC of the open
    /// channels and CLD, without waiting for answers. Then off, without a
    /// `Down` (nobody is listening).
    pub fn close_now(&mut self) -> Vec<u8> {
        if self.state == State::Off {
            return Vec::new();
        }
        let mut bytes = Vec::new();
        for dlci in [DATA_DLCI, AT_DLCI] {
            if self.open[usize::from(dlci)] {
                self.encode(&command(dlci, Kind::Disc), &mut bytes);
            }
        }
        bytes.extend(self.close_down_bytes());
        self.reset();
        bytes
    }

    /// The tty closed or vanished: off at once, nothing written.
    pub fn tty_lost(&mut self, reason: &str, out: &mut Vec<Out>) {
        if self.state == State::Off {
            return;
        }
        self.reset();
        out.push(Out::Down {
            reason: format!("the tty closed ({reason})"),
        });
    }

    /// AT bytes from the session, for DLCI 1.
    pub fn send_at(&mut self, bytes: &[u8], out: &mut Vec<Out>) {
        if self.state == State::Off {
            out.push(Out::Tty(bytes.to_vec()));
            return;
        }
        push_bounded(&mut self.at_queue, bytes, AT_QUEUE_MAX, &mut self.dropped);
        self.flush(out);
    }

    /// Data bytes from the pty, for DLCI 2; dropped unless up.
    pub fn send_data(&mut self, bytes: &[u8], out: &mut Vec<Out>) {
        if self.state != State::Up {
            self.dropped += bytes.len() as u64;
            return;
        }
        push_bounded(
            &mut self.data_queue,
            bytes,
            DATA_QUEUE_MAX,
            &mut self.dropped,
        );
        self.flush(out);
    }

    /// Bytes read from the tty.
    pub fn on_tty(&mut self, bytes: &[u8], now: Instant, out: &mut Vec<Out>) {
        if self.state == State::Off {
            return;
        }
        let mut decoded = std::mem::take(&mut self.scratch);
        decoded.clear();
        self.decoder.feed(bytes, &mut decoded);
        for item in decoded.drain(..) {
            if self.state == State::Off {
                // A failure earlier in this read: the rest is not ours.
                break;
            }
            match item {
                cmux::Event::Frame(frame) => self.on_frame(frame, now, out),
                cmux::Event::BadFcs { .. } | cmux::Event::Oversize { .. } => {
                    self.on_bad_frame(now, out)
                }
                cmux::Event::Garbage { bytes: n } => {
                    self.garbage = self.garbage.saturating_add(n);
                    if self.garbage > GARBAGE_LIMIT {
                        let reason = format!(
                            "{} bytes without a multiplexer frame (the modem left mux mode, \
                             or noise)",
                            self.garbage
                        );
                        self.fail(reason, out);
                    }
                }
            }
        }
        self.scratch = decoded;
    }

    /// The next instant [`Mux::on_timer`] has work.
    pub fn next_deadline(&self) -> Option<Instant> {
        let pending = self.pending.map(|p| p.deadline);
        let keepalive = match (self.state, self.test_deadline) {
            (State::Up, Some(at)) => Some(at),
            (State::Up, None) => Some(self.last_rx + KEEPALIVE_IDLE),
            _ => None,
        };
        [pending, keepalive].into_iter().flatten().min()
    }

    /// Time passed: answer timeouts, keepalive.
    pub fn on_timer(&mut self, now: Instant, out: &mut Vec<Out>) {
        if let Some(pending) = self.pending {
            if now >= pending.deadline {
                self.on_step_timeout(pending, now, out);
            }
        }
        if self.state != State::Up {
            return;
        }
        match self.test_deadline {
            Some(at) if now >= at => {
                self.misses += 1;
                if self.misses >= KEEPALIVE_MISSES {
                    self.fail(STOPPED_ANSWERING.into(), out);
                } else {
                    // The next probe is an MSC, which 27.010 makes every
                    // implementation answer, in case this modem ignores TEST
                    // instead of answering NSC.
                    let msc = Body::Msc(Msc {
                        dlci: AT_DLCI,
                        signals: SIGNALS_ON,
                        brk: None,
                    });
                    self.send_control(true, msc, out);
                    self.test_deadline = Some(now + KEEPALIVE_TIMEOUT);
                }
            }
            None if now >= self.last_rx + KEEPALIVE_IDLE => self.send_test(now, out),
            _ => {}
        }
    }

    fn send_test(&mut self, now: Instant, out: &mut Vec<Out>) {
        // A short pattern (6 octets with the message header), so that it fits
        // the smallest N1 in use.
        self.test_seq = self.test_seq.wrapping_add(1);
        let pattern = self.test_seq.to_be_bytes().to_vec();
        self.send_control(true, Body::Test(pattern), out);
        self.test_deadline = Some(now + KEEPALIVE_TIMEOUT);
    }

    fn on_bad_frame(&mut self, now: Instant, out: &mut Vec<Out>) {
        while self
            .bad_frames
            .front()
            .is_some_and(|&at| now.saturating_duration_since(at) > BAD_FRAME_WINDOW)
        {
            self.bad_frames.pop_front();
        }
        self.bad_frames.push_back(now);
        if self.bad_frames.len() >= BAD_FRAME_BURST {
            let reason = format!(
                "{BAD_FRAME_BURST} bad multiplexer frames within {} s (wrong speed or noise)",
                BAD_FRAME_WINDOW.as_secs()
            );
            self.fail(reason, out);
        }
    }

    fn on_frame(&mut self, frame: Frame, now: Instant, out: &mut Vec<Out>) {
        // Any good frame shows the modem is there and multiplexing.
        self.garbage = 0;
        self.last_rx = now;
        self.test_deadline = None;
        self.misses = 0;
        let dlci = frame.dlci;
        let is_open = self.is_open(dlci);
        match frame.kind {
            Kind::Ua => match self.pending.map(|p| p.step) {
                Some(Step::Open(d)) if d == dlci => {
                    self.set_open(dlci, true);
                    self.pending = None;
                    self.opened(dlci, now, out);
                }
                Some(Step::Close(d)) if d == dlci => {
                    self.set_open(dlci, false);
                    self.pending = None;
                    self.close_from(dlci.saturating_sub(1), now, out);
                }
                _ => {}
            },
            Kind::Dm => match self.pending.map(|p| p.step) {
                Some(Step::Open(d)) if d == dlci => {
                    self.fail(format!("the modem refused to open DLCI {dlci} (DM)"), out);
                }
                Some(Step::Close(d)) if d == dlci => {
                    self.set_open(dlci, false);
                    self.pending = None;
                    self.close_from(dlci.saturating_sub(1), now, out);
                }
                _ if is_open && self.state != State::Closing => {
                    self.fail(format!("the modem dropped DLCI {dlci} (DM)"), out);
                }
                _ => {}
            },
            Kind::Disc => {
                self.respond(dlci, Kind::Ua, out);
                if (dlci == 0 || is_open) && self.state != State::Closing {
                    self.fail(format!("the modem closed DLCI {dlci} (DISC)"), out);
                }
            }
            Kind::Sabm => self.respond(dlci, Kind::Dm, out),
            Kind::Uih | Kind::Ui => match dlci {
                0 => self.on_control(&frame.info, out),
                AT_DLCI if is_open && !frame.info.is_empty() => out.push(Out::At(frame.info)),
                DATA_DLCI if is_open && !frame.info.is_empty() => out.push(Out::Data(frame.info)),
                _ => {}
            },
        }
    }

    fn on_control(&mut self, info: &[u8], out: &mut Vec<Out>) {
        // A malformed message (and what follows it in the frame) is dropped.
        let Ok(messages) = Message::decode_all(info) else {
            return;
        };
        for message in messages {
            if self.state == State::Off {
                break;
            }
            self.on_message(message, out);
        }
    }

    fn on_message(&mut self, message: Message, out: &mut Vec<Out>) {
        let closing_down = self.pending.map(|p| p.step) == Some(Step::Cld);
        if !message.command {
            match message.body {
                Body::Cld if closing_down => self.finish("stopped".into(), out),
                // Some modems state their side's signals in responses too.
                Body::Msc(msc) => self.set_flow(msc.dlci, msc.signals, out),
                _ => {}
            }
            return;
        }
        match message.body {
            Body::Cld => {
                self.send_control(false, Body::Cld, out);
                if closing_down {
                    self.finish("stopped".into(), out);
                } else {
                    self.reset();
                    out.extend(self.plain_at());
                    out.push(Out::Down {
                        reason: "the modem closed the multiplexer down (CLD)".into(),
                    });
                }
            }
            Body::Msc(msc) => {
                self.send_control(false, Body::Msc(msc), out);
                self.set_flow(msc.dlci, msc.signals, out);
            }
            Body::FcOn => {
                self.send_control(false, Body::FcOn, out);
                self.flow_off_all = false;
                self.flush(out);
            }
            Body::FcOff => {
                self.send_control(false, Body::FcOff, out);
                self.flow_off_all = true;
            }
            // TEST is echoed; PN parameters are accepted as they are.
            body @ (Body::Test(_) | Body::Pn(_)) => self.send_control(false, body, out),
            Body::Nsc(_) => {}
            Body::Other { kind, .. } => self.send_control(false, Body::Nsc(kind), out),
        }
    }

    fn set_flow(&mut self, dlci: u8, signals: u8, out: &mut Vec<Out>) {
        if let Some(flag) = self.flow_off.get_mut(usize::from(dlci)) {
            *flag = signals & Msc::FC != 0;
            self.flush(out);
        }
    }

    fn opened(&mut self, dlci: u8, now: Instant, out: &mut Vec<Out>) {
        if dlci != 0 {
            let msc = Msc {
                dlci,
                signals: SIGNALS_ON,
                brk: None,
            };
            self.send_control(true, Body::Msc(msc), out);
            // AT bytes written while starting go as soon as DLCI 1 is open.
            self.flush(out);
        }
        if dlci < DATA_DLCI {
            self.begin(Step::Open(dlci + 1), now, out);
        } else {
            self.state = State::Up;
            self.last_rx = now;
            out.push(Out::Up);
            self.flush(out);
        }
    }

    /// Closing: DISC the highest open channel at or below `dlci` (not 0), or
    /// CLD when none is left.
    fn close_from(&mut self, dlci: u8, now: Instant, out: &mut Vec<Out>) {
        let mut d = dlci;
        while d > 0 {
            if self.is_open(d) {
                self.begin(Step::Close(d), now, out);
                return;
            }
            d -= 1;
        }
        if self.is_open(0) {
            self.begin(Step::Cld, now, out);
        } else {
            self.finish("stopped".into(), out);
        }
    }

    fn begin(&mut self, step: Step, now: Instant, out: &mut Vec<Out>) {
        self.pending = Some(Pending {
            step,
            deadline: now + T1,
            tries: 1,
        });
        self.send_step(step, out);
    }

    fn send_step(&mut self, step: Step, out: &mut Vec<Out>) {
        match step {
            Step::Open(dlci) => self.send_frame(&command(dlci, Kind::Sabm), out),
            Step::Close(dlci) => self.send_frame(&command(dlci, Kind::Disc), out),
            Step::Cld => self.send_control(true, Body::Cld, out),
        }
    }

    fn on_step_timeout(&mut self, pending: Pending, now: Instant, out: &mut Vec<Out>) {
        let max = match pending.step {
            Step::Open(_) => SABM_TRIES,
            Step::Close(_) | Step::Cld => DISC_TRIES,
        };
        if pending.tries < max {
            self.pending = Some(Pending {
                step: pending.step,
                deadline: now + T1,
                tries: pending.tries + 1,
            });
            self.send_step(pending.step, out);
            return;
        }
        self.pending = None;
        match pending.step {
            Step::Open(dlci) => self.fail(
                format!("the modem did not answer SABM on DLCI {dlci} (is it in CMUX mode?)"),
                out,
            ),
            Step::Close(dlci) => {
                self.set_open(dlci, false);
                self.close_from(dlci.saturating_sub(1), now, out);
            }
            Step::Cld => {
                // DISC 0 as a last resort, then off.
                self.send_frame(&command(0, Kind::Disc), out);
                self.finish(
                    "stopped (the modem did not confirm the close-down)".into(),
                    out,
                );
            }
        }
    }

    /// A failure: a blind close-down, then off and `Down`.
    fn fail(&mut self, reason: String, out: &mut Vec<Out>) {
        out.push(Out::Tty(self.close_down_bytes()));
        self.finish(reason, out);
    }

    fn finish(&mut self, reason: String, out: &mut Vec<Out>) {
        self.reset();
        out.extend(self.plain_at());
        out.push(Out::Down { reason });
    }

    /// AT bytes still queued go to the plain tty.
    fn plain_at(&mut self) -> Option<Out> {
        if self.at_queue.is_empty() {
            return None;
        }
        Some(Out::Tty(self.at_queue.drain(..).collect()))
    }

    fn reset(&mut self) {
        self.state = State::Off;
        self.pending = None;
        self.open = [false; 3];
        self.test_deadline = None;
        self.misses = 0;
        self.data_queue.clear();
        self.flow_off_all = false;
        self.flow_off = [false; 3];
        self.decoder.reset();
    }

    /// CLD on DLCI 0, then DISC 0.
    fn close_down_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        let cld = Message::command(Body::Cld).encode();
        self.encode(&uih(0, cld), &mut bytes);
        self.encode(&command(0, Kind::Disc), &mut bytes);
        bytes
    }

    fn data_blocked(&self) -> bool {
        self.flow_off_all || self.flow_off[usize::from(DATA_DLCI)]
    }

    /// Sends what the queues hold, as far as the channels are open and flow
    /// control allows.
    fn flush(&mut self, out: &mut Vec<Out>) {
        if self.flow_off_all {
            return;
        }
        if self.is_open(AT_DLCI) && !self.flow_off[usize::from(AT_DLCI)] {
            let mut queue = std::mem::take(&mut self.at_queue);
            self.send_chunks(AT_DLCI, &queue, out);
            queue.clear();
            self.at_queue = queue;
        }
        if self.state == State::Up && !self.data_blocked() {
            let mut queue = std::mem::take(&mut self.data_queue);
            self.send_chunks(DATA_DLCI, &queue, out);
            queue.clear();
            self.data_queue = queue;
        }
    }

    /// `bytes` in UIH frames of at most N1 on `dlci`.
    fn send_chunks(&mut self, dlci: u8, bytes: &[u8], out: &mut Vec<Out>) {
        for chunk in bytes.chunks(self.n1.max(1)) {
            self.send_frame(&uih(dlci, chunk.to_vec()), out);
        }
    }

    fn send_control(&mut self, command: bool, body: Body, out: &mut Vec<Out>) {
        let info = Message { command, body }.encode();
        self.send_frame(&uih(0, info), out);
    }

    /// A response frame (UA, DM) to the modem's command on `dlci`.
    fn respond(&mut self, dlci: u8, kind: Kind, out: &mut Vec<Out>) {
        let frame = Frame {
            dlci,
            kind,
            pf: true,
            cr: false,
            info: Vec::new(),
        };
        self.send_frame(&frame, out);
    }

    fn send_frame(&mut self, frame: &Frame, out: &mut Vec<Out>) {
        let mut bytes = Vec::new();
        self.encode(frame, &mut bytes);
        // Frames of one turn go out in one write.
        match out.last_mut() {
            Some(Out::Tty(pending)) => pending.extend(bytes),
            _ => out.push(Out::Tty(bytes)),
        }
    }

    /// Appends `frame`'s bytes. Payloads are cut to N1 before; a control
    /// message over it (a peer's long TEST pattern echoed) is not sent.
    fn encode(&self, frame: &Frame, out: &mut Vec<u8>) {
        let _ = cmux::encode(frame, self.n1, out);
    }

    fn is_open(&self, dlci: u8) -> bool {
        self.open.get(usize::from(dlci)).copied().unwrap_or(false)
    }

    fn set_open(&mut self, dlci: u8, open: bool) {
        if let Some(flag) = self.open.get_mut(usize::from(dlci)) {
            *flag = open;
        }
    }
}

/// A command frame of ours (SABM, DISC): P set, C/R set (we are the
/// initiator).
fn command(dlci: u8, kind: Kind) -> Frame {
    Frame {
        dlci,
        kind,
        pf: true,
        cr: true,
        info: Vec::new(),
    }
}

fn uih(dlci: u8, info: Vec<u8>) -> Frame {
    Frame {
        dlci,
        kind: Kind::Uih,
        pf: false,
        cr: true,
        info,
    }
}

fn push_bounded(queue: &mut Vec<u8>, bytes: &[u8], max: usize, dropped: &mut u64) {
    let room = max.saturating_sub(queue.len());
    let take = bytes.len().min(room);
    queue.extend_from_slice(&bytes[..take]);
    *dropped += (bytes.len() - take) as u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The modem's side, from `cellular_core::cmux`: decodes what the mux
    /// wrote, encodes answers.
    struct Modem {
        decoder: cmux::Decoder,
    }

    impl Modem {
        fn new() -> Modem {
            Modem {
                decoder: cmux::Decoder::new(cmux::MAX_INFO),
            }
        }

        /// The frames in the mux's output.
        fn frames(&mut self, out: &[Out]) -> Vec<Frame> {
            let mut events = Vec::new();
            for o in out {
                if let Out::Tty(bytes) = o {
                    self.decoder.feed(bytes, &mut events);
                }
            }
            events
                .into_iter()
                .filter_map(|e| match e {
                    cmux::Event::Frame(f) => Some(f),
                    _ => None,
                })
                .collect()
        }

        /// The (first) control message of a DLCI 0 frame.
        fn control(&self, frame: &Frame) -> Option<Message> {
            if frame.dlci != 0 || frame.kind != Kind::Uih {
                return None;
            }
            Message::decode_all(&frame.info).ok()?.into_iter().next()
        }

        fn frame(&self, dlci: u8, kind: Kind, info: &[u8]) -> Vec<u8> {
            let mut out = Vec::new();
            let frame = Frame {
                dlci,
                kind,
                pf: kind != Kind::Uih,
                // The responder: C/R set on responses, clear on commands.
                cr: matches!(kind, Kind::Ua | Kind::Dm),
                info: info.to_vec(),
            };
            cmux::encode(&frame, cmux::MAX_INFO, &mut out).unwrap();
            out
        }

        fn control_frame(&self, command: bool, body: Body) -> Vec<u8> {
            self.frame(0, Kind::Uih, &Message { command, body }.encode())
        }

        /// A UIH frame on DLCI 1 whose FCS is wrong.
        fn bad_fcs_frame(&self) -> Vec<u8> {
            let mut bytes = self.frame(1, Kind::Uih, b"x");
            let fcs = bytes.len() - 2;
            bytes[fcs] ^= 0xFF;
            bytes
        }
    }

    fn tty(out: &[Out]) -> usize {
        out.iter().filter(|o| matches!(o, Out::Tty(_))).count()
    }

    fn down(out: &[Out]) -> Option<String> {
        out.iter().find_map(|o| match o {
            Out::Down { reason } => Some(reason.clone()),
            _ => None,
        })
    }

    fn msc(dlci: u8, signals: u8) -> Body {
        Body::Msc(Msc {
            dlci,
            signals,
            brk: None,
        })
    }

    /// A mux (N1 64) brought up through the whole start sequence.
    fn up() -> (Mux, Modem, Instant) {
        let t = Instant::now();
        let mut mux = Mux::new(t);
        let mut modem = Modem::new();
        let mut out = Vec::new();
        mux.start(64, t, &mut out);
        for dlci in 0..3 {
            let frames = modem.frames(&out);
            assert!(
                frames.contains(&command(dlci, Kind::Sabm)),
                "SABM {dlci} in {frames:?}"
            );
            out.clear();
            mux.on_tty(&modem.frame(dlci, Kind::Ua, &[]), t, &mut out);
        }
        assert!(out.contains(&Out::Up), "{out:?}");
        assert_eq!(mux.state(), State::Up);
        (mux, modem, t)
    }

    #[test]
    fn start_opens_the_three_channels_in_order_and_signals_msc() {
        let t = Instant::now();
        let mut mux = Mux::new(t);
        let mut modem = Modem::new();
        let mut out = Vec::new();
        mux.start(64, t, &mut out);
        assert_eq!(modem.frames(&out), vec![command(0, Kind::Sabm)]);
        let mut all = Vec::new();
        for dlci in 0..3 {
            out.clear();
            mux.on_tty(&modem.frame(dlci, Kind::Ua, &[]), t, &mut out);
            all.extend(modem.frames(&out));
        }
        let sent: Vec<_> = all.iter().filter_map(|f| modem.control(f)).collect();
        let on = Msc::RTC | Msc::RTR | Msc::DV;
        assert_eq!(
            sent,
            vec![
                Message {
                    command: true,
                    body: msc(1, on)
                },
                Message {
                    command: true,
                    body: msc(2, on)
                }
            ]
        );
        assert!(all.contains(&command(1, Kind::Sabm)));
        assert!(all.contains(&command(2, Kind::Sabm)));
        assert_eq!(out.last(), Some(&Out::Up));
    }

    #[test]
    fn sabm_is_retried_then_starting_fails() {
        let t = Instant::now();
        let mut mux = Mux::new(t);
        let mut modem = Modem::new();
        let mut out = Vec::new();
        mux.start(64, t, &mut out);
        let mut now = t;
        for _ in 1..SABM_TRIES {
            out.clear();
            now += T1;
            assert_eq!(mux.next_deadline(), Some(now));
            mux.on_timer(now, &mut out);
            assert_eq!(modem.frames(&out), vec![command(0, Kind::Sabm)]);
        }
        out.clear();
        now += T1;
        mux.on_timer(now, &mut out);
        let reason = down(&out).expect("down");
        assert!(reason.contains("did not answer SABM on DLCI 0"), "{reason}");
        assert_eq!(mux.state(), State::Off);
        assert_eq!(mux.next_deadline(), None);
    }

    #[test]
    fn dm_to_sabm_fails_the_start() {
        let t = Instant::now();
        let mut mux = Mux::new(t);
        let modem = Modem::new();
        let mut out = Vec::new();
        mux.start(64, t, &mut out);
        mux.on_tty(&modem.frame(0, Kind::Ua, &[]), t, &mut out);
        out.clear();
        mux.on_tty(&modem.frame(1, Kind::Dm, &[]), t, &mut out);
        assert!(down(&out).unwrap().contains("refused to open DLCI 1"));
        assert!(!mux.active());
    }

    #[test]
    fn at_and_data_travel_on_their_channels_cut_to_n1() {
        let (mut mux, mut modem, t) = up();
        let mut out = Vec::new();
        mux.send_at(b"AT+CSQ\r", &mut out);
        assert_eq!(modem.frames(&out), vec![uih(1, b"AT+CSQ\r".to_vec())]);
        out.clear();
        mux.send_data(&[7u8; 100], &mut out);
        assert_eq!(
            modem.frames(&out),
            vec![uih(2, vec![7; 64]), uih(2, vec![7; 36])]
        );
        out.clear();
        let mut bytes = modem.frame(1, Kind::Uih, b"\r\n+CSQ: 17,99\r\n");
        bytes.extend(modem.frame(2, Kind::Uih, b"~ppp~"));
        bytes.extend(modem.frame(3, Kind::Uih, b"nobody"));
        for piece in bytes.chunks(3) {
            mux.on_tty(piece, t, &mut out);
        }
        assert_eq!(
            out,
            vec![
                Out::At(b"\r\n+CSQ: 17,99\r\n".to_vec()),
                Out::Data(b"~ppp~".to_vec())
            ]
        );
    }

    #[test]
    fn at_bytes_written_while_starting_wait_for_dlci_1() {
        let t = Instant::now();
        let mut mux = Mux::new(t);
        let mut modem = Modem::new();
        let mut out = Vec::new();
        mux.start(64, t, &mut out);
        mux.send_at(b"AT\r", &mut out);
        assert_eq!(modem.frames(&out), vec![command(0, Kind::Sabm)]);
        out.clear();
        mux.on_tty(&modem.frame(0, Kind::Ua, &[]), t, &mut out);
        mux.on_tty(&modem.frame(1, Kind::Ua, &[]), t, &mut out);
        assert!(modem.frames(&out).contains(&uih(1, b"AT\r".to_vec())));
        // Data is dropped until up.
        mux.send_data(b"x", &mut out);
        assert_eq!(mux.dropped(), 1);
        assert!(!mux.accepts_data());
    }

    #[test]
    fn stop_closes_the_channels_then_the_multiplexer() {
        let (mut mux, mut modem, t) = up();
        let mut out = Vec::new();
        mux.stop(t, &mut out);
        assert_eq!(mux.state(), State::Closing);
        assert_eq!(modem.frames(&out), vec![command(2, Kind::Disc)]);
        out.clear();
        mux.on_tty(&modem.frame(2, Kind::Ua, &[]), t, &mut out);
        assert_eq!(modem.frames(&out), vec![command(1, Kind::Disc)]);
        out.clear();
        // A DM also does as an answer to DISC.
        mux.on_tty(&modem.frame(1, Kind::Dm, &[]), t, &mut out);
        let frames = modem.frames(&out);
        assert_eq!(
            modem.control(&frames[0]),
            Some(Message {
                command: true,
                body: Body::Cld
            })
        );
        out.clear();
        mux.on_tty(&modem.control_frame(false, Body::Cld), t, &mut out);
        assert_eq!(
            out,
            vec![Out::Down {
                reason: "stopped".into()
            }]
        );
        assert!(!mux.active());
        // AT goes to the plain tty again.
        out.clear();
        mux.send_at(b"AT\r", &mut out);
        assert_eq!(out, vec![Out::Tty(b"AT\r".to_vec())]);
    }

    #[test]
    fn a_silent_modem_does_not_hold_the_close_down_forever() {
        let (mut mux, mut modem, t) = up();
        let mut out = Vec::new();
        mux.stop(t, &mut out);
        let mut now = t;
        let mut frames = Vec::new();
        for _ in 0..20 {
            let Some(at) = mux.next_deadline() else { break };
            now = at;
            mux.on_timer(now, &mut out);
        }
        frames.extend(modem.frames(&out));
        assert_eq!(
            down(&out).unwrap(),
            "stopped (the modem did not confirm the close-down)"
        );
        assert!(now <= t + T1 * 7);
        assert_eq!(
            frames
                .iter()
                .filter(|f| **f == command(2, Kind::Disc))
                .count(),
            usize::from(DISC_TRIES)
        );
        assert!(frames.contains(&command(0, Kind::Disc)));
        assert_eq!(mux.next_deadline(), None);
    }

    #[test]
    fn stop_while_off_writes_a_blind_close_down() {
        let t = Instant::now();
        let mut mux = Mux::new(t);
        let mut modem = Modem::new();
        let mut out = Vec::new();
        mux.stop(t, &mut out);
        let frames = modem.frames(&out);
        assert_eq!(frames.len(), 2);
        assert_eq!(modem.control(&frames[0]).unwrap().body, Body::Cld);
        assert_eq!(frames[1], command(0, Kind::Disc));
        assert!(down(&out).unwrap().contains("blind"));
        assert!(!mux.active());
    }

    #[test]
    fn a_burst_of_bad_frames_ends_the_multiplexer() {
        let (mut mux, modem, t) = up();
        let mut out = Vec::new();
        // Spread out, they are tolerated.
        for i in 0..(BAD_FRAME_BURST as u32 * 3) {
            mux.on_tty(
                &modem.bad_fcs_frame(),
                t + BAD_FRAME_WINDOW * i / 4,
                &mut out,
            );
        }
        assert_eq!(down(&out), None);
        assert!(mux.active());
        let later = t + BAD_FRAME_WINDOW * 100;
        // Frames over N1 (64) count as bad frames too.
        let long = modem.frame(1, Kind::Uih, &[b'x'; 100]);
        for _ in 0..BAD_FRAME_BURST {
            mux.on_tty(&long, later, &mut out);
        }
        assert!(down(&out).unwrap().contains("bad multiplexer frames"));
        assert!(!mux.active());
        assert!(mux.bad_frames.len() <= BAD_FRAME_BURST);
    }

    #[test]
    fn a_flood_of_bytes_outside_frames_ends_the_multiplexer() {
        let (mut mux, modem, t) = up();
        let mut out = Vec::new();
        // Some stray bytes, then a good frame: forgiven.
        mux.on_tty(&[b'x'; 1000], t, &mut out);
        mux.on_tty(&modem.frame(1, Kind::Uih, b"a"), t, &mut out);
        assert_eq!(mux.garbage, 0);
        for _ in 0..(GARBAGE_LIMIT / 4096 + 1) {
            mux.on_tty(&[b'O'; 4096], t, &mut out);
        }
        assert!(down(&out).unwrap().contains("without a multiplexer frame"));
        // Written: a blind close-down before going off.
        assert!(tty(&out) >= 1);
        assert!(!mux.active());
    }

    #[test]
    fn the_keepalive_notices_a_modem_that_left_mux_mode() {
        let (mut mux, mut modem, t) = up();
        let mut out = Vec::new();
        // Idle: a TEST goes out; the modem answers; no failure.
        let at = mux.next_deadline().unwrap();
        assert_eq!(at, t + KEEPALIVE_IDLE);
        mux.on_timer(at, &mut out);
        let frames = modem.frames(&out);
        let Some(Message {
            command: true,
            body: Body::Test(pattern),
        }) = modem.control(&frames[0])
        else {
            panic!("{frames:?}")
        };
        out.clear();
        mux.on_tty(
            &modem.control_frame(false, Body::Test(pattern)),
            at,
            &mut out,
        );
        assert_eq!(mux.next_deadline(), Some(at + KEEPALIVE_IDLE));
        // Then silence: a TEST, then an MSC, unanswered.
        let mut now = at;
        let mut probes = Vec::new();
        for _ in 0..5 {
            out.clear();
            now = mux.next_deadline().unwrap();
            mux.on_timer(now, &mut out);
            if !mux.active() {
                break;
            }
            let frames = modem.frames(&out);
            probes.extend(frames.iter().filter_map(|f| modem.control(f)));
        }
        assert!(
            matches!(
                probes.as_slice(),
                [
                    Message {
                        command: true,
                        body: Body::Test(_)
                    },
                    Message {
                        command: true,
                        body: Body::Msc(Msc { dlci: 1, .. })
                    }
                ]
            ),
            "{probes:?}"
        );
        assert_eq!(down(&out).unwrap(), STOPPED_ANSWERING);
        assert_eq!(
            now,
            at + KEEPALIVE_IDLE + KEEPALIVE_TIMEOUT * u32::from(KEEPALIVE_MISSES)
        );
    }

    #[test]
    fn a_dm_or_disc_for_an_open_channel_ends_the_multiplexer() {
        let (mut mux, modem, t) = up();
        let mut out = Vec::new();
        mux.on_tty(&modem.frame(2, Kind::Dm, &[]), t, &mut out);
        assert!(down(&out).unwrap().contains("dropped DLCI 2"));
        let (mut mux, mut modem, t) = up();
        let mut out = Vec::new();
        mux.on_tty(&modem.frame(1, Kind::Disc, &[]), t, &mut out);
        let frames = modem.frames(&out);
        assert_eq!(frames[0].kind, Kind::Ua);
        assert!(down(&out).unwrap().contains("closed DLCI 1"));
    }

    #[test]
    fn a_cld_from_the_modem_is_answered_and_ends_it() {
        let (mut mux, mut modem, t) = up();
        let mut out = Vec::new();
        mux.on_tty(&modem.control_frame(true, Body::Cld), t, &mut out);
        let frames = modem.frames(&out);
        assert_eq!(
            modem.control(&frames[0]),
            Some(Message {
                command: false,
                body: Body::Cld
            })
        );
        assert!(down(&out).unwrap().contains("CLD"));
    }

    #[test]
    fn control_commands_are_answered_and_flow_control_holds_data() {
        let (mut mux, mut modem, t) = up();
        let mut out = Vec::new();
        mux.on_tty(
            &modem.control_frame(true, Body::Test(b"hi".to_vec())),
            t,
            &mut out,
        );
        mux.on_tty(
            &modem.control_frame(
                true,
                Body::Other {
                    kind: 0x31,
                    value: vec![1],
                },
            ),
            t,
            &mut out,
        );
        let answers: Vec<_> = modem
            .frames(&out)
            .iter()
            .filter_map(|f| modem.control(f))
            .collect();
        assert_eq!(
            answers,
            vec![
                Message {
                    command: false,
                    body: Body::Test(b"hi".to_vec())
                },
                Message {
                    command: false,
                    body: Body::Nsc(0x31)
                }
            ]
        );
        // FCoff: nothing is sent (bounded), FCon: it goes.
        out.clear();
        mux.on_tty(&modem.control_frame(true, Body::FcOff), t, &mut out);
        assert!(!mux.accepts_data());
        out.clear();
        mux.send_data(&vec![1; DATA_QUEUE_MAX + 10], &mut out);
        mux.send_at(b"AT\r", &mut out);
        assert_eq!(out, vec![]);
        assert_eq!(mux.dropped(), 10);
        mux.on_tty(&modem.control_frame(true, Body::FcOn), t, &mut out);
        assert!(mux.accepts_data());
        let frames = modem.frames(&out);
        assert!(frames.contains(&uih(1, b"AT\r".to_vec())));
        let data: usize = frames
            .iter()
            .filter(|f| f.dlci == 2)
            .map(|f| f.info.len())
            .sum();
        assert_eq!(data, DATA_QUEUE_MAX);
        // MSC with FC for DLCI 2 holds data only.
        out.clear();
        mux.on_tty(&modem.control_frame(true, msc(2, Msc::FC)), t, &mut out);
        assert!(!mux.accepts_data());
        mux.send_at(b"AT\r", &mut out);
        let frames = modem.frames(&out);
        assert!(frames.contains(&uih(1, b"AT\r".to_vec())));
    }

    #[test]
    fn close_now_and_tty_lost_leave_it_off() {
        let (mut mux, mut modem, _t) = up();
        let bytes = mux.close_now();
        let frames = modem.frames(&[Out::Tty(bytes)]);
        assert_eq!(frames[0], command(2, Kind::Disc));
        assert_eq!(frames[1], command(1, Kind::Disc));
        assert_eq!(modem.control(&frames[2]).unwrap().body, Body::Cld);
        assert!(!mux.active());
        assert!(mux.close_now().is_empty());
        let (mut mux, _modem, _t) = up();
        let mut out = Vec::new();
        mux.tty_lost("EIO", &mut out);
        assert_eq!(tty(&out), 0);
        assert!(down(&out).unwrap().contains("EIO"));
    }

    #[test]
    fn the_frames_are_27_010() {
        let t = Instant::now();
        let mut mux = Mux::new(t);
        let mut out = Vec::new();
        mux.start(127, t, &mut out);
        // SABM on DLCI 0 with P set, as 27.010 shows it.
        assert_eq!(
            out,
            vec![Out::Tty(vec![0xF9, 0x03, 0x3F, 0x01, 0x1C, 0xF9])]
        );
        let ua = |dlci: u8| {
            let mut bytes = Vec::new();
            cmux::encode(
                &cmux::Frame::empty(dlci, cmux::Kind::Ua, true, true),
                127,
                &mut bytes,
            )
            .unwrap();
            bytes
        };
        for dlci in 0..3 {
            out.clear();
            mux.on_tty(&ua(dlci), t, &mut out);
        }
        assert_eq!(out.last(), Some(&Out::Up));
        // What the modem sees of an AT write, decoded by the codec.
        out.clear();
        mux.send_at(b"AT\r", &mut out);
        let Some(Out::Tty(bytes)) = out.first() else {
            panic!("{out:?}")
        };
        let mut decoder = cmux::Decoder::new(127);
        let mut events = Vec::new();
        decoder.feed(bytes, &mut events);
        assert_eq!(
            events,
            vec![cmux::Event::Frame(cmux::Frame::uih(
                1,
                true,
                b"AT\r".to_vec()
            ))]
        );
        // A modem's UIH on DLCI 1 comes out as AT bytes.
        let mut reply = Vec::new();
        cmux::encode(
            &cmux::Frame::uih(1, false, b"\r\nOK\r\n".to_vec()),
            127,
            &mut reply,
        )
        .unwrap();
        out.clear();
        mux.on_tty(&reply, t, &mut out);
        assert_eq!(out, vec![Out::At(b"\r\nOK\r\n".to_vec())]);
    }

    #[test]
    fn random_tty_input_never_panics_and_stays_bounded() {
        // xorshift: the same bytes every run.
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..50 {
            let t = Instant::now();
            let mut mux = Mux::new(t);
            let mut out = Vec::new();
            mux.start(1 + (next() % 300) as u32, t, &mut out);
            let mut now = t;
            for _ in 0..200 {
                let n = (next() % 64) as usize;
                let mut bytes: Vec<u8> = (0..n).map(|_| next() as u8).collect();
                // Real frames now and then, so that the states are reached.
                if next() % 3 == 0 {
                    let kind = cmux::Kind::ALL[(next() % 6) as usize];
                    let dlci = (next() % 4) as u8;
                    let info = if kind == cmux::Kind::Uih && dlci == 0 {
                        let msgs = [
                            Body::Cld,
                            Body::Test(vec![1, 2]),
                            Body::FcOff,
                            Body::FcOn,
                            Body::Msc(cmux::control::Msc {
                                dlci: 2,
                                signals: next() as u8,
                                brk: None,
                            }),
                        ];
                        Message {
                            command: next() % 2 == 0,
                            body: msgs[(next() % 5) as usize].clone(),
                        }
                        .encode()
                    } else {
                        bytes.clone()
                    };
                    let frame = cmux::Frame {
                        dlci,
                        kind,
                        pf: true,
                        cr: true,
                        info,
                    };
                    let _ = cmux::encode(&frame, 300, &mut bytes);
                }
                mux.on_tty(&bytes, now, &mut out);
                mux.send_at(&bytes, &mut out);
                mux.send_data(&bytes, &mut out);
                now += Duration::from_millis(next() % 2000);
                mux.on_timer(now, &mut out);
                if next() % 50 == 0 {
                    mux.stop(now, &mut out);
                }
                if !mux.active() && next() % 4 == 0 {
                    mux.start(127, now, &mut out);
                }
                assert!(mux.at_queue.len() <= AT_QUEUE_MAX);
                assert!(mux.data_queue.len() <= DATA_QUEUE_MAX);
                assert!(mux.bad_frames.len() <= BAD_FRAME_BURST);
                out.clear();
            }
            let _ = round;
        }
    }

    #[test]
    fn at_bytes_held_over_the_bound_are_dropped_and_the_rest_go_plain_when_down() {
        let (mut mux, mut modem, t) = up();
        let mut out = Vec::new();
        mux.on_tty(&modem.control_frame(true, Body::FcOff), t, &mut out);
        out.clear();
        mux.send_at(&vec![b'A'; AT_QUEUE_MAX + 5], &mut out);
        assert_eq!(out, vec![]);
        assert_eq!(mux.dropped(), 5);
        mux.on_tty(&modem.frame(1, Kind::Dm, &[]), t, &mut out);
        let plain: usize = out
            .iter()
            .filter_map(|o| match o {
                Out::Tty(b) if b.iter().all(|&c| c == b'A') => Some(b.len()),
                _ => None,
            })
            .sum();
        assert_eq!(plain, AT_QUEUE_MAX);
        assert!(down(&out).is_some());
        let _ = modem.frames(&out);
    }
}
