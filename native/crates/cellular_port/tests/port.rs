//! The port program end to end: the real binary on its stdin/stdout, a pty
//! pair (`TTYPort::pair`) playing the modem.

#![deny(clippy::undocumented_unsafe_blocks)]

use cellular_core::cmux::{
    self,
    control::{Body, Message},
};
use cellular_core::protocol::{
    frame, Event, FlowControl, FrameReader, Level, Limits, Reply, Request, ATOMS,
};
use cellular_core::{at, etf, Value};
use serialport::{SerialPort, TTYPort};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(5);

struct Harness {
    child: Child,
    stdin: Option<ChildStdin>,
    events: Receiver<Event>,
    logs: Vec<(Level, String)>,
    /// Every event frame body, as it came
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Harness {
    fn start() -> Harness {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cellular_port"))
            .env("CELLULAR_PORT_LOG", "debug")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn cellular_port");
        let mut stdout = child.stdout.take().unwrap();
        let stdin = child.stdin.take();
        let (tx, rx) = channel();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&bodies);
        std::thread::spawn(move || {
            let mut reader = FrameReader::new(1 << 20);
            let mut buf = [0u8; 4096];
            loop {
                match stdout.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        reader.push(&buf[..n]);
                        while let Ok(Some(body)) = reader.next_frame() {
                            let event = Event::decode(&body).expect("event frame");
                            keep.lock().unwrap().push(body);
                            // A burst of URCs comes as one frame; the tests
                            // look at them one by one, in order.
                            let events = match event {
                                Event::Urcs { lines } => {
                                    lines.into_iter().map(|line| Event::Urc { line }).collect()
                                }
                                other => vec![other],
                            };
                            if events.into_iter().any(|e| tx.send(e).is_err()) {
                                return;
                            }
                        }
                    }
                }
            }
        });
        Harness {
            child,
            stdin,
            events: rx,
            logs: Vec::new(),
            bodies,
        }
    }

    fn send(&mut self, request: Request) {
        let body = request.encode().unwrap();
        self.send_bytes(&frame(&body));
    }

    fn send_bytes(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(bytes).unwrap();
        stdin.flush().unwrap();
    }

    fn open(&mut self, path: &str) {
        self.send(Request::Open {
            path: path.into(),
            speed: 115_200,
            flow_control: FlowControl::None,
            drain_ms: 1000,
            urc_prefixes: vec!["+XYZ:".into()],
            limits: Limits::default(),
            drain_first: false,
        });
    }

    fn command(&mut self, id: u64, text: &str, timeout_ms: u32) {
        self.send(Request::Command {
            id,
            text: text.into(),
            timeout_ms,
        });
    }

    /// The next event that is not a log line.
    fn next(&mut self) -> Event {
        self.next_within(WAIT).expect("an event in time")
    }

    fn next_within(&mut self, wait: Duration) -> Option<Event> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(Event::Log { level, message, .. }) => self.logs.push((level, message)),
                Ok(event) => return Some(event),
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    fn drain_logs(&mut self) {
        while let Ok(event) = self.events.recv_timeout(Duration::from_millis(50)) {
            if let Event::Log { level, message, .. } = event {
                self.logs.push((level, message));
            }
        }
    }

    fn close_stdin_and_wait(mut self) -> std::process::ExitStatus {
        self.stdin.take();
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "cellular_port did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fake modem: the master side of a pty pair.
struct Modem {
    master: TTYPort,
    _slave: TTYPort,
    path: String,
}

impl Modem {
    fn new() -> Modem {
        let (mut master, slave) = TTYPort::pair().expect("pty pair");
        // pair() leaves the fds inheritable; a cellular_port spawned by a test
        // running in parallel must not keep this "modem" alive.
        for fd in [master.as_raw_fd(), slave.as_raw_fd()] {
            // SAFETY: fcntl with integer arguments on fds we own.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        master.set_timeout(Duration::from_millis(50)).unwrap();
        let path = slave.name().expect("slave name");
        Modem {
            master,
            _slave: slave,
            path,
        }
    }

    /// Reads until a CR (one command line), or panics after `WAIT`.
    fn expect_command(&mut self, expected: &str) {
        let line = self.read_line(WAIT).expect("a command from the port");
        assert_eq!(line, expected);
    }

    fn read_line(&mut self, wait: Duration) -> Option<String> {
        let deadline = Instant::now() + wait;
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while Instant::now() < deadline {
            match self.master.read(&mut byte) {
                Ok(1) if byte[0] == b'\r' => return Some(String::from_utf8_lossy(&line).into()),
                Ok(1) => line.push(byte[0]),
                _ => {}
            }
        }
        None
    }

    fn reply(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).unwrap();
        self.master.flush().unwrap();
    }
}

fn response(id: u64, reply: Reply) -> Event {
    Event::Response { id, reply }
}

fn ok(lines: &[&str]) -> Reply {
    Reply::Ok {
        lines: lines.iter().map(|l| l.to_string()).collect(),
    }
}

#[test]
fn opens_the_tty_and_exchanges_commands_with_urcs_between() {
    let mut modem = Modem::new();
    let mut port = Harness::start();
    port.open(&modem.path);
    assert_eq!(
        port.next(),
        Event::Opened {
            path: modem.path.clone()
        }
    );
    port.command(1, "AT+CSQ", 2000);
    port.command(2, "AT+CGMM", 2000);
    modem.expect_command("AT+CSQ");
    modem.reply(b"AT+CSQ\r\r\n+CSQ: 17,99\r\n\r\n+CREG: 5\r\n+XYZ: 1\r\n\r\nOK\r\n");
    assert_eq!(
        port.next(),
        Event::Urc {
            line: "+CREG: 5".into()
        }
    );
    assert_eq!(
        port.next(),
        Event::Urc {
            line: "+XYZ: 1".into()
        }
    );
    assert_eq!(port.next(), response(1, ok(&["+CSQ: 17,99"])));
    modem.expect_command("AT+CGMM");
    // One byte per write, as a slow modem would.
    for b in b"\r\nEC25\r\n\r\n+CME ERROR: 10\r\n" {
        modem.reply(std::slice::from_ref(b));
    }
    assert_eq!(
        port.next(),
        response(2, Reply::CmeError { text: "10".into() })
    );
    modem.reply(b"\r\nRING\r\n");
    assert_eq!(
        port.next(),
        Event::Urc {
            line: "RING".into()
        }
    );
    // On the wire, each URC and response line went out parsed beside its
    // raw text, in terms the BEAM reads with binary_to_term(_, [:safe]).
    let terms: Vec<Value> = port
        .bodies
        .lock()
        .unwrap()
        .iter()
        .map(|b| etf::decode(b, ATOMS).expect("a term of known atoms"))
        .collect();
    let urc = |line: &str| {
        Value::Tuple(vec![
            Value::Atom("urc"),
            line.into(),
            at::parse_term(line.as_bytes()),
        ])
    };
    // The two URCs read at once went as one {:urcs, [{line, parsed}, ...]}
    // frame; the lone RING as {:urc, line, parsed}.
    let pair = |line: &str| Value::Tuple(vec![line.into(), at::parse_term(line.as_bytes())]);
    assert!(
        terms.contains(&Value::Tuple(vec![
            Value::Atom("urcs"),
            Value::List(vec![pair("+CREG: 5"), pair("+XYZ: 1")]),
        ])),
        "{terms:?}"
    );
    assert!(terms.contains(&urc("RING")), "{terms:?}");
    assert!(terms.contains(&Value::Tuple(vec![
        Value::Atom("response"),
        Value::Int(1),
        ok(&["+CSQ: 17,99"]).to_value(),
        Value::List(vec![at::parse_term(b"+CSQ: 17,99")]),
    ])));
    assert!(port.close_stdin_and_wait().success());
}

#[test]
fn atoms_prints_the_protocol_atom_table() {
    let out = Command::new(env!("CARGO_BIN_EXE_cellular_port"))
        .arg("--atoms")
        .output()
        .expect("run cellular_port --atoms");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().collect::<Vec<_>>(), ATOMS);
}

#[test]
fn a_late_reply_goes_to_nobody_and_the_next_command_waits_for_it() {
    let mut modem = Modem::new();
    let mut port = Harness::start();
    port.open(&modem.path);
    assert!(matches!(port.next(), Event::Opened { .. }));
    port.command(1, "AT+CGMI", 300);
    port.command(2, "AT+CGMR", 3000);
    modem.expect_command("AT+CGMI");
    assert_eq!(port.next(), response(1, Reply::Timeout));
    // Command 2 is held back while command 1 drains.
    assert_eq!(modem.read_line(Duration::from_millis(300)), None);
    modem.reply(b"\r\nQuectel\r\n\r\nOK\r\n");
    modem.expect_command("AT+CGMR");
    modem.reply(b"\r\nEC25EFAR06A06M4G\r\n\r\nOK\r\n");
    assert_eq!(port.next(), response(2, ok(&["EC25EFAR06A06M4G"])));
}

#[test]
fn a_command_never_answered_is_followed_after_the_drain_period() {
    let mut modem = Modem::new();
    let mut port = Harness::start();
    port.open(&modem.path);
    assert!(matches!(port.next(), Event::Opened { .. }));
    let start = Instant::now();
    port.command(1, "AT", 200);
    port.command(2, "ATI", 3000);
    modem.expect_command("AT");
    assert_eq!(port.next(), response(1, Reply::Timeout));
    modem.expect_command("ATI");
    // 200 ms timeout + 1000 ms drain.
    assert!(
        start.elapsed() >= Duration::from_millis(1150),
        "{:?}",
        start.elapsed()
    );
    modem.reply(b"\r\nOK\r\n");
    assert_eq!(port.next(), response(2, ok(&[])));
}

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("cellular_port_test_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn point(link: &Path, target: &str) {
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[test]
fn a_missing_tty_is_retried_with_backoff_until_it_appears() {
    let dir = temp_dir("missing");
    let link = dir.join("ttyUSB2");
    let mut port = Harness::start();
    port.open(link.to_str().unwrap());
    let mut delays = Vec::new();
    for _ in 0..3 {
        match port.next() {
            Event::Retrying { in_ms, reason } => {
                assert!(reason.contains("No such file"), "{reason}");
                delays.push(in_ms);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(delays, vec![100, 200, 400]);
    // Commands while the tty is missing are answered at once.
    port.command(7, "AT", 1000);
    assert_eq!(port.next(), response(7, Reply::Closed));

    let mut modem = Modem::new();
    point(&link, &modem.path);
    loop {
        match port.next() {
            Event::Retrying { .. } => continue,
            Event::Opened { path } => {
                assert_eq!(path, link.to_str().unwrap());
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    port.command(8, "AT", 1000);
    modem.expect_command("AT");
    modem.reply(b"\r\nOK\r\n");
    assert_eq!(port.next(), response(8, ok(&[])));
    port.drain_logs();
    assert!(
        port.logs.iter().any(|(l, m)| *l == Level::Warning
            && m.contains("cannot open")
            && m.contains("retrying in 100 ms")),
        "{:?}",
        port.logs
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_vanished_tty_fails_pending_commands_and_comes_back() {
    let dir = temp_dir("vanish");
    let link = dir.join("ttyUSB2");
    let modem = Modem::new();
    point(&link, &modem.path);
    let mut port = Harness::start();
    port.open(link.to_str().unwrap());
    assert!(matches!(port.next(), Event::Opened { .. }));
    port.command(1, "AT+COPS=?", 60_000);
    port.command(2, "AT", 60_000);
    std::thread::sleep(Duration::from_millis(100));
    drop(modem); // unplug: master and slave closed, the pty disappears
    match port.next() {
        Event::Closed { reason } => assert!(!reason.is_empty()),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(port.next(), response(1, Reply::Closed));
    assert_eq!(port.next(), response(2, Reply::Closed));

    // Replug under another pty name; the link is re-pointed.
    let mut modem = Modem::new();
    point(&link, &modem.path);
    loop {
        match port.next() {
            Event::Retrying { .. } => continue,
            Event::Opened { .. } => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    port.command(3, "AT", 1000);
    modem.expect_command("AT");
    modem.reply(b"AT\r\r\nOK\r\n");
    assert_eq!(port.next(), response(3, ok(&[])));
    port.drain_logs();
    assert!(
        port.logs
            .iter()
            .any(|(l, m)| *l == Level::Warning && m.contains("vanished")),
        "{:?}",
        port.logs
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn secrets_never_reach_the_logs() {
    let mut modem = Modem::new();
    let mut port = Harness::start();
    port.open(&modem.path);
    assert!(matches!(port.next(), Event::Opened { .. }));
    port.command(1, "AT+CPIN=8642", 1000);
    modem.expect_command("AT+CPIN=8642");
    modem.reply(b"AT+CPIN=8642\r\r\nOK\r\n");
    assert_eq!(port.next(), response(1, ok(&[])));
    port.command(2, "AT+CGAUTH=1,1,\"user\",\"hunter2\"", 200);
    modem.expect_command("AT+CGAUTH=1,1,\"user\",\"hunter2\"");
    assert_eq!(port.next(), response(2, Reply::Timeout));
    port.drain_logs();
    assert!(
        port.logs
            .iter()
            .any(|(_, m)| m.contains("AT+CPIN=<redacted>")),
        "{:?}",
        port.logs
    );
    // The timeout warning names the command, redacted in the port program.
    assert!(
        port.logs.iter().any(|(level, m)| *level == Level::Warning
            && m.contains("AT+CGAUTH=<redacted> timed out after 200 ms")),
        "{:?}",
        port.logs
    );
    assert!(port
        .logs
        .iter()
        .all(|(_, m)| !m.contains("8642") && !m.contains("hunter2")));
}

#[test]
fn exits_when_stdin_closes_even_with_work_pending() {
    let modem = Modem::new();
    let mut port = Harness::start();
    port.open(&modem.path);
    assert!(matches!(port.next(), Event::Opened { .. }));
    port.command(1, "AT", 60_000);
    let start = Instant::now();
    assert!(port.close_stdin_and_wait().success());
    assert!(start.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_bad_frame_is_logged_and_an_oversized_one_ends_the_program() {
    let mut port = Harness::start();
    port.send_bytes(&frame(&[0xc1, 0xc1]));
    port.command(1, "AT", 100);
    // Not opened: answered closed, and the bad frame was reported.
    assert_eq!(port.next(), response(1, Reply::Closed));
    port.drain_logs();
    assert!(
        port.logs
            .iter()
            .any(|(l, m)| *l == Level::Error && m.contains("bad request frame")),
        "{:?}",
        port.logs
    );
    port.send_bytes(&[0xff, 0xff, 0xff, 0xff]);
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = port.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(status.code(), Some(2));
}

#[test]
fn a_line_flood_during_a_command_ends_it_too_large_and_nothing_else_is_lost() {
    let mut modem = Modem::new();
    let mut port = Harness::start();
    port.open(&modem.path);
    assert!(matches!(port.next(), Event::Opened { .. }));
    port.command(1, "AT+FLOOD", 30_000);
    port.command(2, "AT+CSQ", 5_000);
    modem.expect_command("AT+FLOOD");
    // 5 MB of ordinary information lines (100,000 of 50 bytes), then OK.
    let line = format!("+FLOOD: {}\r\n", "x".repeat(40));
    let chunk = line.repeat(1000);
    for _ in 0..100 {
        modem.reply(chunk.as_bytes());
    }
    modem.reply(b"\r\n+CREG: 5\r\n\r\nOK\r\n");
    assert_eq!(port.next(), response(1, Reply::TooLarge));
    assert_eq!(
        port.next(),
        Event::Urc {
            line: "+CREG: 5".into()
        }
    );
    modem.expect_command("AT+CSQ");
    modem.reply(b"\r\n+CSQ: 17,99\r\n\r\nOK\r\n");
    assert_eq!(port.next(), response(2, ok(&["+CSQ: 17,99"])));
}

/// The modem's side of the multiplexer over the fake modem's pty, from
/// `cellular_core::cmux`: opens channels it is asked to, answers control
/// commands, and hands the UIH payloads of DLCI 1 and 2 to the test.
struct MuxModem {
    decoder: cmux::Decoder,
    /// (dlci, payload) of UIH frames on DLCI 1 and 2, in order
    payloads: Vec<(u8, Vec<u8>)>,
    /// Every frame the port sent
    frames: Vec<cmux::Frame>,
}

impl MuxModem {
    fn new() -> MuxModem {
        MuxModem {
            decoder: cmux::Decoder::new(127),
            payloads: Vec::new(),
            frames: Vec::new(),
        }
    }

    fn send(&self, modem: &mut Modem, frame: cmux::Frame) {
        let mut bytes = Vec::new();
        cmux::encode(&frame, 127, &mut bytes).unwrap();
        modem.reply(&bytes);
    }

    /// Reads and answers for `wait`.
    fn pump(&mut self, modem: &mut Modem, wait: Duration) {
        let deadline = Instant::now() + wait;
        let mut buf = [0u8; 1024];
        while Instant::now() < deadline {
            let n = match modem.master.read(&mut buf) {
                Ok(n) => n,
                Err(_) => continue,
            };
            let mut events = Vec::new();
            self.decoder.feed(&buf[..n], &mut events);
            for event in events {
                let cmux::Event::Frame(frame) = event else {
                    panic!("the port sent a bad frame: {event:?}");
                };
                self.frames.push(frame.clone());
                match frame.kind {
                    cmux::Kind::Sabm | cmux::Kind::Disc => self.send(
                        modem,
                        cmux::Frame::empty(frame.dlci, cmux::Kind::Ua, true, true),
                    ),
                    cmux::Kind::Uih if frame.dlci == 0 => {
                        for msg in Message::decode_all(&frame.info).unwrap() {
                            if msg.command {
                                let answer = Message::response(msg.body).encode();
                                self.send(modem, cmux::Frame::uih(0, true, answer));
                            }
                        }
                    }
                    cmux::Kind::Uih => self.payloads.push((frame.dlci, frame.info)),
                    _ => {}
                }
            }
        }
    }

    /// Pumps until the payloads of `dlci` add up to `expected`.
    fn expect(&mut self, modem: &mut Modem, dlci: u8, expected: &[u8]) {
        let deadline = Instant::now() + WAIT;
        loop {
            let got: Vec<u8> = self
                .payloads
                .iter()
                .filter(|(d, _)| *d == dlci)
                .flat_map(|(_, p)| p.clone())
                .collect();
            if got == expected {
                self.payloads.retain(|(d, _)| *d != dlci);
                return;
            }
            assert!(
                Instant::now() < deadline && expected.starts_with(&got),
                "DLCI {dlci}: got {:?}",
                String::from_utf8_lossy(&got)
            );
            self.pump(modem, Duration::from_millis(50));
        }
    }
}

#[test]
fn the_multiplexer_carries_at_on_dlci_1_and_data_through_a_pty_then_closes_down() {
    let mut modem = Modem::new();
    let mut port = Harness::start();
    port.open(&modem.path);
    assert!(matches!(port.next(), Event::Opened { .. }));
    port.command(1, "AT+CMUX=0,0,5,127", 2000);
    modem.expect_command("AT+CMUX=0,0,5,127");
    modem.reply(b"\r\nOK\r\n");
    assert_eq!(port.next(), response(1, ok(&[])));

    port.send(Request::MuxStart { n1: 127 });
    let mut mux = MuxModem::new();
    let data_tty = loop {
        mux.pump(&mut modem, Duration::from_millis(50));
        match port.next_within(Duration::from_millis(10)) {
            Some(Event::MuxUp { data_tty }) => break data_tty,
            Some(other) => panic!("{other:?}"),
            None => {}
        }
    };
    let opened: Vec<u8> = mux
        .frames
        .iter()
        .filter(|f| f.kind == cmux::Kind::Sabm)
        .map(|f| f.dlci)
        .collect();
    assert_eq!(opened, vec![0, 1, 2]);

    // AT on DLCI 1.
    port.command(2, "AT+CSQ", 2000);
    mux.expect(&mut modem, 1, b"AT+CSQ\r");
    mux.send(
        &mut modem,
        cmux::Frame::uih(1, false, b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n".to_vec()),
    );
    assert_eq!(port.next(), response(2, ok(&["+CSQ: 20,99"])));

    // Data through the pty, both ways.
    let mut ppp = serialport::new(&data_tty, 115_200)
        .timeout(Duration::from_millis(50))
        .open_native()
        .expect("the data pty opens");
    ppp.write_all(b"~LCP request~").unwrap();
    mux.expect(&mut modem, 2, b"~LCP request~");
    mux.send(
        &mut modem,
        cmux::Frame::uih(2, false, b"~LCP ack~".to_vec()),
    );
    let mut got = Vec::new();
    let deadline = Instant::now() + WAIT;
    while got.len() < 9 && Instant::now() < deadline {
        let mut buf = [0u8; 64];
        if let Ok(n) = ppp.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
    }
    assert_eq!(got, b"~LCP ack~");

    // The close-down, in order, then plain AT again.
    port.send(Request::MuxStop);
    let reason = loop {
        mux.pump(&mut modem, Duration::from_millis(50));
        match port.next_within(Duration::from_millis(10)) {
            Some(Event::MuxDown { reason }) => break reason,
            Some(other) => panic!("{other:?}"),
            None => {}
        }
    };
    assert_eq!(reason, "stopped");
    let closing: Vec<String> = mux
        .frames
        .iter()
        .filter_map(|f| match f.kind {
            cmux::Kind::Disc => Some(format!("DISC {}", f.dlci)),
            cmux::Kind::Uih if f.dlci == 0 => match Message::decode_all(&f.info).ok()?.first() {
                Some(Message {
                    body: Body::Cld, ..
                }) => Some("CLD".to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(closing, vec!["DISC 2", "DISC 1", "CLD"]);
    port.command(3, "AT", 2000);
    modem.expect_command("AT");
    modem.reply(b"\r\nOK\r\n");
    assert_eq!(port.next(), response(3, ok(&[])));
    assert!(port.close_stdin_and_wait().success());
}

/// A port program with the multiplexer up (N1 64).
/// What the port program wrote while leaving mux mode, in order: DISC on the
/// data and AT channels, the CLD message (a UIH on DLCI 0), DISC on DLCI 0.
fn assert_closed_down(mux: &mut MuxModem, modem: &mut Modem) {
    mux.pump(modem, Duration::from_millis(200));
    let kinds: Vec<(cmux::Kind, u8)> = mux.frames.iter().map(|f| (f.kind, f.dlci)).collect();
    assert_eq!(
        kinds,
        vec![
            (cmux::Kind::Disc, 2),
            (cmux::Kind::Disc, 1),
            (cmux::Kind::Uih, 0),
            (cmux::Kind::Disc, 0)
        ]
    );
}

fn mux_up() -> (Modem, Harness, MuxModem) {
    let mut modem = Modem::new();
    let mut port = Harness::start();
    port.open(&modem.path);
    assert!(matches!(port.next(), Event::Opened { .. }));
    port.send(Request::MuxStart { n1: 64 });
    let mut mux = MuxModem::new();
    loop {
        mux.pump(&mut modem, Duration::from_millis(50));
        if let Some(event) = port.next_within(Duration::from_millis(10)) {
            assert!(matches!(event, Event::MuxUp { .. }), "{event:?}");
            break;
        }
    }
    mux.frames.clear();
    (modem, port, mux)
}

#[test]
fn sigterm_leaves_the_modem_out_of_mux_mode() {
    let (mut modem, mut port, mut mux) = mux_up();
    let pid = port.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = port.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "cellular_port did not exit");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "{status:?}");
    assert_closed_down(&mut mux, &mut modem);
}

#[test]
fn the_end_of_stdin_leaves_the_modem_out_of_mux_mode() {
    let (mut modem, port, mut mux) = mux_up();
    assert!(port.close_stdin_and_wait().success());
    assert_closed_down(&mut mux, &mut modem);
}

#[test]
fn mux_stop_while_off_writes_a_close_down_blind() {
    let mut modem = Modem::new();
    let mut port = Harness::start();
    port.open(&modem.path);
    assert!(matches!(port.next(), Event::Opened { .. }));
    port.send(Request::MuxStop);
    assert!(matches!(port.next(), Event::MuxDown { .. }));
    let mut mux = MuxModem::new();
    mux.pump(&mut modem, Duration::from_millis(200));
    assert_eq!(mux.frames.len(), 2, "{:?}", mux.frames);
    assert_eq!(
        Message::decode_all(&mux.frames[0].info).unwrap()[0].body,
        Body::Cld
    );
    assert_eq!(mux.frames[1].kind, cmux::Kind::Disc);
}

#[test]
fn a_dm_for_the_data_channel_takes_the_multiplexer_down_and_hangs_up_the_pty() {
    let (mut modem, mut port, mut mux) = mux_up();
    let data_tty = port
        .bodies
        .lock()
        .unwrap()
        .iter()
        .find_map(|b| match Event::decode(b) {
            Ok(Event::MuxUp { data_tty }) => Some(data_tty),
            _ => None,
        })
        .expect("MuxUp");
    let mut ppp = serialport::new(&data_tty, 115_200)
        .timeout(Duration::from_millis(50))
        .open_native()
        .expect("the data pty opens");
    mux.send(
        &mut modem,
        cmux::Frame::empty(2, cmux::Kind::Dm, true, true),
    );
    match port.next() {
        Event::MuxDown { reason } => assert!(reason.contains("DLCI 2"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // The master is gone: pppd's side reads end of file or EIO.
    let mut buf = [0u8; 16];
    let deadline = Instant::now() + WAIT;
    loop {
        match ppp.read(&mut buf) {
            Ok(0) => break,
            Err(e) if e.kind() != std::io::ErrorKind::TimedOut => break,
            _ => assert!(Instant::now() < deadline, "the pty is still up"),
        }
    }
    // A blind close-down went out, and AT is plain again.
    mux.pump(&mut modem, Duration::from_millis(100));
    assert!(mux
        .frames
        .iter()
        .any(|f| f.kind == cmux::Kind::Disc && f.dlci == 0));
    port.command(1, "AT", 2000);
    modem.expect_command("AT");
}

#[test]
fn close_while_multiplexing_writes_the_close_down_first() {
    let (mut modem, mut port, mut mux) = mux_up();
    port.send(Request::Close);
    assert_eq!(
        port.next(),
        Event::MuxDown {
            reason: "closed on request".into()
        }
    );
    assert!(matches!(port.next(), Event::Closed { .. }));
    assert_closed_down(&mut mux, &mut modem);
}
