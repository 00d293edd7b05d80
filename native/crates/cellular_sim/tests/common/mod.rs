//! Shared helpers of the integration tests: start the real binary, follow its
//! JSON events, open its ptys and talk AT over them.
#![allow(dead_code)]

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A running simulator.
pub struct Sim {
    child: Child,
    stdin: Option<ChildStdin>,
    events: Receiver<String>,
    /// Every event line seen so far.
    pub seen: Vec<String>,
    pub at: String,
    pub ppp: String,
    pub model: String,
}

impl Sim {
    /// Starts `cellular_sim` with these arguments and waits for its ready line.
    pub fn start(args: &[&str]) -> Sim {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cellular_sim"));
        cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped());
        if std::env::var_os("VNC_SIM_TRACE").is_some() {
            cmd.stderr(Stdio::inherit());
        } else {
            cmd.stderr(Stdio::null());
        }
        let mut child = cmd.spawn().expect("spawn cellular_sim");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        let mut sim = Sim {
            child,
            stdin,
            events: rx,
            seen: Vec::new(),
            at: String::new(),
            ppp: String::new(),
            model: String::new(),
        };
        let ready = sim.wait_event(|l| l.contains("\"event\":\"ready\""));
        sim.at = json_field(&ready, "at").expect("at port");
        sim.ppp = json_field(&ready, "ppp").expect("ppp port");
        sim.model = json_field(&ready, "model").expect("model");
        sim
    }

    /// Waits for an event line matching `pred` (within [`TIMEOUT`]).
    pub fn wait_event(&mut self, pred: impl Fn(&str) -> bool) -> String {
        self.try_wait_event(pred, TIMEOUT)
            .unwrap_or_else(|| panic!("event not seen; seen so far: {:#?}", self.seen))
    }

    pub fn try_wait_event(
        &mut self,
        pred: impl Fn(&str) -> bool,
        timeout: Duration,
    ) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return Some(line);
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    return None
                }
            }
        }
    }

    /// Sends a control command and waits until the simulator has applied it.
    pub fn control(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write control");
        stdin.flush().expect("flush control");
        let ack = format!(
            "\"message\":\"control: {}\"",
            line.replace('\\', "\\\\").replace('"', "\\\"")
        );
        let err = "\"message\":\"error: ";
        let got = self.wait_event(|l| l.contains(&ack) || l.contains(err));
        assert!(got.contains(&ack), "control {line:?} refused: {got}");
    }

    /// Sends a raw line on stdin without waiting.
    pub fn send_raw(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        writeln!(stdin, "{line}").expect("write control");
        stdin.flush().expect("flush control");
    }

    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for the process to end.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn port(&self, which: &str) -> Port {
        Port::open(if which == "ppp" { &self.ppp } else { &self.at })
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.stdin = None;
        if self.wait_exit(Duration::from_secs(3)).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The value of a string field anywhere in a flat JSON event line.
pub fn json_field(line: &str, key: &str) -> Option<String> {
    let pat = format!("\"{key}\":\"");
    let start = line.find(&pat)? + pat.len();
    let end = line[start..].find('"')? + start;
    Some(line[start..end].to_string())
}

/// One client of a pty, with a reader thread collecting what arrives.
pub struct Port {
    pub path: String,
    file: File,
    chunks: Receiver<Vec<u8>>,
    /// Bytes received and not yet consumed by an expectation.
    pub buffer: Vec<u8>,
    /// Number of reads that returned data (to observe fragmentation).
    pub reads: usize,
    pub closed: bool,
}

impl Port {
    pub fn open(path: &str) -> Port {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open(path)
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
        let mut reader = file.try_clone().expect("clone pty");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            use std::io::Read;
            let mut buf = [0u8; 4096];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.send(buf[..n].to_vec()).is_err() {
                            break;
                        }
                    }
                }
            }
        });
        Port {
            path: path.to_string(),
            file,
            chunks: rx,
            buffer: Vec::new(),
            reads: 0,
            closed: false,
        }
    }

    pub fn write(&mut self, bytes: &[u8]) {
        self.file.write_all(bytes).expect("write pty");
    }

    /// Reads for up to `timeout`, returning early once `done` holds for the buffer.
    pub fn read_until(&mut self, timeout: Duration, done: impl Fn(&[u8]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if done(&self.buffer) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => {
                    self.reads += 1;
                    self.buffer.extend(chunk);
                }
                Err(RecvTimeoutError::Timeout) => return done(&self.buffer),
                Err(RecvTimeoutError::Disconnected) => {
                    self.closed = true;
                    return done(&self.buffer);
                }
            }
        }
    }

    /// Waits for `text` and returns (and consumes) everything up to and including it.
    pub fn expect(&mut self, text: &str) -> String {
        let needle = text.as_bytes().to_vec();
        let found = self.read_until(TIMEOUT, |b| find(b, &needle).is_some());
        assert!(
            found,
            "{}: {text:?} not received; got {:?}",
            self.path,
            String::from_utf8_lossy(&self.buffer)
        );
        let end = find(&self.buffer, &needle).unwrap_or(0) + needle.len();
        let taken: Vec<u8> = self.buffer.drain(..end).collect();
        String::from_utf8_lossy(&taken).into_owned()
    }

    /// Sends a command line and returns the response up to its final result code.
    pub fn command(&mut self, line: &str) -> String {
        self.write(format!("{line}\r").as_bytes());
        let found = self.read_until(TIMEOUT, |b| final_end(b).is_some());
        assert!(
            found,
            "{}: no final result for {line:?}; got {:?}",
            self.path,
            String::from_utf8_lossy(&self.buffer)
        );
        let end = final_end(&self.buffer).unwrap_or(0);
        let taken: Vec<u8> = self.buffer.drain(..end).collect();
        String::from_utf8_lossy(&taken).into_owned()
    }

    /// Everything that arrives within `timeout`.
    pub fn drain(&mut self, timeout: Duration) -> String {
        self.read_until(timeout, |_| false);
        let taken: Vec<u8> = std::mem::take(&mut self.buffer);
        String::from_utf8_lossy(&taken).into_owned()
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// End offset of the first complete final result line (verbose results).
fn final_end(b: &[u8]) -> Option<usize> {
    let mut start = 0;
    while let Some(pos) = find(&b[start..], b"\r\n") {
        let end = start + pos + 2;
        let line = String::from_utf8_lossy(&b[start..start + pos]);
        let l = line.trim();
        if l == "OK"
            || l == "ERROR"
            || l == "NO CARRIER"
            || l.starts_with("CONNECT")
            || l.starts_with("+CME ERROR:")
        {
            return Some(end);
        }
        start = end;
    }
    None
}
