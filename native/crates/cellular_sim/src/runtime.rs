//! The I/O shell around [`Modem`]: ptys, stdin, stdout, the clock and signals.
//! Everything that decides *what* happens lives in the modem; this only moves
//! bytes and time in and effects out.

use crate::config::Config;
use crate::control::{parse_control, parse_scenario, FragmentMode};
use crate::fragment;
use crate::json::{Event, Ports};
use crate::modem::{Effect, Modem, Out, PortId};
use crate::mux::Uart;
use crate::pty::Pty;
use crate::rng::Rng;
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Writes that cannot get into the pty within this time are dropped (nobody reads).
const WRITE_TIMEOUT: Duration = Duration::from_secs(2);

enum Msg {
    Input {
        generation: u64,
        port: PortId,
        bytes: Vec<u8>,
    },
    Control(String),
    StdinClosed,
}

struct PortIo {
    name: String,
    tx: mpsc::UnboundedSender<Out>,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
}

struct Plugged {
    generation: u64,
    ports: [PortIo; 2],
}

struct Shell {
    start: Instant,
    quiet: bool,
    seed: u64,
    fragment: Arc<AtomicU8>,
    msg_tx: mpsc::UnboundedSender<Msg>,
    plugged: Option<Plugged>,
    generation: u64,
    previous_names: Vec<String>,
}

fn fragment_code(mode: FragmentMode) -> u8 {
    match mode {
        FragmentMode::None => 0,
        FragmentMode::Random => 1,
        FragmentMode::EveryByte => 2,
    }
}

fn fragment_mode(code: u8) -> FragmentMode {
    match code {
        1 => FragmentMode::Random,
        2 => FragmentMode::EveryByte,
        _ => FragmentMode::None,
    }
}

/// Runs the simulator until quit, stdin EOF or SIGTERM/SIGINT. Returns the
/// process exit code.
pub fn run(cfg: Config) -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cellular_sim: cannot start the runtime: {e}");
            return 1;
        }
    };
    runtime.block_on(main_loop(cfg))
}

async fn main_loop(cfg: Config) -> i32 {
    let scenario = match &cfg.scenario {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => match parse_scenario(&text, cfg.time_scale) {
                Ok(lines) => lines,
                Err(e) => {
                    eprintln!("cellular_sim: {}: {e}", path.display());
                    return 2;
                }
            },
            Err(e) => {
                eprintln!("cellular_sim: cannot read scenario {}: {e}", path.display());
                return 2;
            }
        },
        None => Vec::new(),
    };

    let (msg_tx, mut msg_rx) = mpsc::unbounded_channel();
    let mut shell = Shell {
        start: Instant::now(),
        quiet: cfg.quiet,
        seed: cfg.seed,
        fragment: Arc::new(AtomicU8::new(fragment_code(cfg.fragment))),
        msg_tx: msg_tx.clone(),
        plugged: None,
        generation: 0,
        previous_names: Vec::new(),
    };
    let mut modem = Modem::new(&cfg, 0);
    // --uart: one serial line (the at pty), which may switch to CMUX.
    let mut uart = cfg.uart.then(Uart::new);
    modem.schedule(scenario);
    for control in cfg.exec.iter().cloned() {
        modem.control(control, 0);
    }

    // Handlers first, so a SIGTERM right after the ready line is handled.
    let mut sigterm = signal(tokio::signal::unix::SignalKind::terminate());
    let mut sigint = signal(tokio::signal::unix::SignalKind::interrupt());
    let ports = match shell.plug() {
        Ok(ports) => ports,
        Err(e) => {
            eprintln!("cellular_sim: cannot open ptys: {e}");
            return 1;
        }
    };
    if !shell.emit(&Event::Ready {
        model: modem.profile().name.to_string(),
        ports,
    }) {
        return 0;
    }

    spawn_stdin_reader(msg_tx);

    loop {
        if !shell.apply(take_effects(&mut modem, &mut uart)).await {
            break;
        }
        let deadline_ms = modem.next_deadline();
        let deadline = deadline_ms.map(|ms| shell.start + Duration::from_millis(ms));
        let timer = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            msg = msg_rx.recv() => match msg {
                Some(Msg::Input { generation, port, bytes }) => {
                    if shell.plugged.as_ref().is_some_and(|p| p.generation == generation) {
                        let now = shell.now_ms();
                        match (&mut uart, port) {
                            (Some(uart), PortId::At) => uart.input(&mut modem, &bytes, now),
                            // The ppp pty is not wired to anything on a single line.
                            (Some(_), PortId::Ppp) => {}
                            (None, _) => modem.input(port, &bytes, now),
                        }
                    }
                }
                Some(Msg::Control(line)) => {
                    let line = line.trim();
                    if line.is_empty() || line.starts_with('#') {
                        continue;
                    }
                    match parse_control(line) {
                        Ok(control) => {
                            modem.control(control, shell.now_ms());
                            shell.trace(&format!("control: {line}"));
                            if !shell.apply(take_effects(&mut modem, &mut uart)).await {
                                break;
                            }
                            // Applied: tell the driver (tests wait for this line).
                            if !shell.emit(&Event::Log(format!("control: {line}"))) {
                                break;
                            }
                        }
                        Err(e) => {
                            shell.trace(&format!("control error: {e}"));
                            if !shell.emit(&Event::Log(format!("error: {e}: {line}"))) {
                                break;
                            }
                        }
                    }
                }
                Some(Msg::StdinClosed) | None => {
                    shell.trace("stdin closed, exiting");
                    break;
                }
            },
            _ = timer => modem.tick(shell.now_ms().max(deadline_ms.unwrap_or(0))),
            _ = recv_signal(&mut sigterm) => {
                shell.trace("SIGTERM, exiting");
                break;
            }
            _ = recv_signal(&mut sigint) => {
                shell.trace("SIGINT, exiting");
                break;
            }
        }
    }
    shell.unplug().await;
    0
}

/// The modem's effects, through the single serial line when there is one.
fn take_effects(modem: &mut Modem, uart: &mut Option<Uart>) -> Vec<Effect> {
    match uart {
        Some(uart) => uart.take_effects(modem),
        None => modem.take_effects(),
    }
}

fn signal(kind: tokio::signal::unix::SignalKind) -> Option<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(kind).ok()
}

async fn recv_signal(sig: &mut Option<tokio::signal::unix::Signal>) {
    match sig {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

fn spawn_stdin_reader(tx: mpsc::UnboundedSender<Msg>) {
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut line = Vec::new();
        let mut lock = stdin.lock();
        loop {
            line.clear();
            match lock.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&line).into_owned();
                    if tx.send(Msg::Control(text)).is_err() {
                        return;
                    }
                }
            }
        }
        let _ = tx.send(Msg::StdinClosed);
    });
}

impl Shell {
    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn trace(&self, line: &str) {
        if !self.quiet {
            let t = self.start.elapsed().as_secs_f64();
            let _ = writeln!(std::io::stderr(), "[{t:9.3}s] {line}");
        }
    }

    /// Prints one event line; `false` when stdout is gone (our parent died).
    fn emit(&self, event: &Event) -> bool {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", event.to_json())
            .and_then(|_| out.flush())
            .is_ok()
    }

    fn send(&self, port: PortId, out: Out) {
        if let Some(p) = &self.plugged {
            let io = match port {
                PortId::At => &p.ports[0],
                PortId::Ppp => &p.ports[1],
            };
            let _ = io.tx.send(out);
        }
    }

    /// Carries out effects in order. `false` means quit.
    async fn apply(&mut self, effects: Vec<Effect>) -> bool {
        for effect in effects {
            match effect {
                Effect::Write(port, out) => self.send(port, out),
                Effect::Event(event) => {
                    if !self.emit(&event) {
                        return false;
                    }
                }
                Effect::Trace(line) => self.trace(&line),
                Effect::Fragment(mode) => {
                    self.fragment.store(fragment_code(mode), Ordering::Relaxed)
                }
                Effect::Unplug => {
                    self.unplug().await;
                    if !self.emit(&Event::Unplugged) {
                        return false;
                    }
                }
                Effect::Reopen(port) => match self.reopen(port).await {
                    Ok(ports) => {
                        if !self.emit(&Event::Reopened { ports }) {
                            return false;
                        }
                    }
                    Err(e) => {
                        self.trace(&format!("cannot reopen {}: {e}", port.name()));
                        let _ = self.emit(&Event::Log(format!(
                            "error: cannot reopen {}: {e}",
                            port.name()
                        )));
                    }
                },
                Effect::Replug => match self.plug() {
                    Ok(ports) => {
                        if !self.emit(&Event::Replugged { ports }) {
                            return false;
                        }
                    }
                    Err(e) => {
                        self.trace(&format!("cannot open ptys: {e}"));
                        let _ = self.emit(&Event::Log(format!("error: cannot open ptys: {e}")));
                        return false;
                    }
                },
                // The modem offers AT+CMUX only with --uart, whose Uart
                // takes these in.
                Effect::Mux { port, .. } => {
                    self.trace(&format!("{}: CMUX without --uart ignored", port.name()))
                }
                Effect::Quit => return false,
            }
        }
        true
    }

    /// Opens a new pair of ptys whose names differ from the previous pair's.
    fn plug(&mut self) -> std::io::Result<Ports> {
        let mut held = Vec::new();
        let mut fresh = Vec::new();
        while fresh.len() < 2 {
            let pty = Pty::open()?;
            if self.previous_names.iter().any(|n| n == pty.name()) && held.len() < 16 {
                // The kernel reuses the lowest free number: keep this one busy
                // until we have two new ones.
                held.push(pty);
            } else {
                fresh.push(pty);
            }
        }
        drop(held);
        self.generation += 1;
        let generation = self.generation;
        let mut ios = Vec::new();
        for (pty, port) in fresh.into_iter().zip(PortId::ALL) {
            ios.push(self.spawn_port(pty, port, generation));
        }
        let ppp = ios.pop();
        let at = ios.pop();
        let (Some(at), Some(ppp)) = (at, ppp) else {
            return Err(std::io::Error::other("pty setup failed"));
        };
        let ports = Ports {
            at: at.name.clone(),
            ppp: ppp.name.clone(),
        };
        self.previous_names = vec![ports.at.clone(), ports.ppp.clone()];
        self.trace(&format!("ports: at={} ppp={}", ports.at, ports.ppp));
        self.plugged = Some(Plugged {
            generation,
            ports: [at, ppp],
        });
        Ok(ports)
    }

    /// Replaces one port's pty with a new one (a number neither port had),
    /// then closes the old one. The other port is left alone.
    async fn reopen(&mut self, port: PortId) -> std::io::Result<Ports> {
        let Some(generation) = self.plugged.as_ref().map(|p| p.generation) else {
            return Err(std::io::Error::other("unplugged"));
        };
        let mut held = Vec::new();
        let pty = loop {
            let pty = Pty::open()?;
            if self.previous_names.iter().any(|n| n == pty.name()) && held.len() < 16 {
                held.push(pty);
            } else {
                break pty;
            }
        };
        drop(held);
        let io = self.spawn_port(pty, port, generation);
        let Some(plugged) = self.plugged.as_mut() else {
            return Err(std::io::Error::other("unplugged"));
        };
        let old = std::mem::replace(&mut plugged.ports[port.idx()], io);
        let [at, ppp] = &plugged.ports;
        let ports = Ports {
            at: at.name.clone(),
            ppp: ppp.name.clone(),
        };
        old.reader.abort();
        old.writer.abort();
        drop(old.tx);
        let _ = old.reader.await;
        let _ = old.writer.await;
        self.previous_names = vec![ports.at.clone(), ports.ppp.clone()];
        self.trace(&format!("ports: at={} ppp={}", ports.at, ports.ppp));
        Ok(ports)
    }

    fn spawn_port(&self, pty: Pty, port: PortId, generation: u64) -> PortIo {
        let name = pty.name().to_string();
        let pty = Arc::new(pty);
        let reader = {
            let pty = Arc::clone(&pty);
            let tx = self.msg_tx.clone();
            let quiet = self.quiet;
            let start = self.start;
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                loop {
                    match pty.read(&mut buf).await {
                        Ok(n) => {
                            let msg = Msg::Input {
                                generation,
                                port,
                                bytes: buf[..n].to_vec(),
                            };
                            if tx.send(msg).is_err() {
                                return;
                            }
                        }
                        Err(e) => {
                            if !quiet {
                                let t = start.elapsed().as_secs_f64();
                                let _ = writeln!(
                                    std::io::stderr(),
                                    "[{t:9.3}s] {}: read error: {e}",
                                    port.name()
                                );
                            }
                        }
                    }
                }
            })
        };
        let (tx, mut rx) = mpsc::unbounded_channel::<Out>();
        let writer = {
            let fragment = Arc::clone(&self.fragment);
            let mut rng = Rng::derive(self.seed, generation * 2 + port as u64);
            let quiet = self.quiet;
            let start = self.start;
            tokio::spawn(async move {
                while let Some(item) = rx.recv().await {
                    match item {
                        Out::Pause(ms) => tokio::time::sleep(Duration::from_millis(ms)).await,
                        Out::Bytes(bytes) => {
                            let mode = fragment_mode(fragment.load(Ordering::Relaxed));
                            let plan = fragment::plan(mode, bytes.len(), &mut rng);
                            let mut offset = 0;
                            for (len, pause) in plan {
                                let chunk = &bytes[offset..offset + len];
                                offset += len;
                                let written =
                                    tokio::time::timeout(WRITE_TIMEOUT, pty.write_all(chunk)).await;
                                if !matches!(written, Ok(Ok(()))) {
                                    if !quiet {
                                        let t = start.elapsed().as_secs_f64();
                                        let _ = writeln!(
                                            std::io::stderr(),
                                            "[{t:9.3}s] {}: output dropped (nobody reading)",
                                            port.name()
                                        );
                                    }
                                    break;
                                }
                                if pause > 0 {
                                    tokio::time::sleep(Duration::from_millis(pause)).await;
                                } else if len < bytes.len() {
                                    tokio::task::yield_now().await;
                                }
                            }
                        }
                    }
                }
            })
        };
        PortIo {
            name,
            tx,
            reader,
            writer,
        }
    }

    /// Closes both ptys and waits until their fds are really closed.
    async fn unplug(&mut self) {
        if let Some(plugged) = self.plugged.take() {
            for io in plugged.ports {
                io.reader.abort();
                io.writer.abort();
                drop(io.tx);
                let _ = io.reader.await;
                let _ = io.writer.await;
            }
        }
    }
}
