//! The modem itself: a pure state machine with no I/O.
//!
//! Bytes from a port go in through [`Modem::input`], control commands through
//! [`Modem::control`], and the passing of time through [`Modem::tick`]. Each
//! call leaves [`Effect`]s to collect with [`Modem::take_effects`]: bytes to
//! write to a port (and pauses between them), JSON events, trace lines, and
//! requests to the I/O layer (unplug, replug, change fragmentation, quit).
//! Time is a plain millisecond count chosen by the caller, which makes the
//! whole thing deterministic and testable.
//!
//! ```
//! use cellular_sim::config::Config;
//! use cellular_sim::modem::{Modem, PortId};
//!
//! let mut modem = Modem::new(&Config::default(), 0);
//! modem.input(PortId::At, b"ATE0\r", 0);
//! modem.input(PortId::At, b"AT+CGMM\r", 0);
//! let out = modem.take_output(PortId::At);
//! assert_eq!(out, "ATE0\r\r\nOK\r\n\r\nEC25\r\n\r\nOK\r\n");
//! ```

mod commands;
pub mod format;
mod vendor;

use crate::at::redact;
use crate::config::{Config, SimStart};
use crate::control::{Control, FragmentMode, RegTarget, SimAction};
use crate::json::{Event, Usb};
use crate::profile::{Composition, Profile};
use crate::rng::Rng;
use format::Radio;
use std::collections::BTreeMap;

/// The two AT interfaces of the modem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PortId {
    /// Primary AT port (URCs go here by default).
    At,
    /// Secondary AT port, the one pppd dials on.
    Ppp,
}

impl PortId {
    pub const ALL: [PortId; 2] = [PortId::At, PortId::Ppp];

    /// The name used in JSON events ("at", "ppp").
    pub fn name(self) -> &'static str {
        match self {
            PortId::At => "at",
            PortId::Ppp => "ppp",
        }
    }

    pub(crate) fn idx(self) -> usize {
        match self {
            PortId::At => 0,
            PortId::Ppp => 1,
        }
    }
}

/// One item of a port's output queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    Bytes(Vec<u8>),
    /// Wait this long before writing what follows (a busy modem).
    Pause(u64),
}

/// What the I/O layer must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Queue output on a port, in order.
    Write(PortId, Out),
    /// Print an event line on stdout.
    Event(Event),
    /// A human-readable trace line for stderr.
    Trace(String),
    /// Close both ptys (and print the unplugged event).
    Unplug,
    /// Open two new ptys (and print the replugged event, with the USB
    /// composition the modem booted in) before any later write.
    Replug(Usb),
    /// Close this port's pty and open a new one in its place (and print the
    /// reopened event) before any later write.
    Reopen(PortId),
    /// Split output this way from now on.
    Fragment(FragmentMode),
    /// `AT+CMUX=0` was answered on this port: from the next byte on, the
    /// port speaks 27.010 basic mode with this maximum information size
    /// (N1). The I/O layer's [`crate::mux::Uart`] acts on it; elsewhere it
    /// is only traced.
    Mux { port: PortId, max_info: usize },
    /// Exit.
    Quit,
}

/// The SIM card as the modem sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimState {
    Absent,
    /// Waiting for the PIN.
    Locked,
    /// Three wrong PINs: waiting for the PUK and a new PIN.
    Puk,
    /// Ten wrong PUKs: the card is dead.
    Blocked,
    Ready,
}

/// Registration domains: circuit switched, GPRS, EPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Domain {
    Cs,
    Gprs,
    Eps,
}

impl Domain {
    const ALL: [Domain; 3] = [Domain::Cs, Domain::Gprs, Domain::Eps];

    fn prefix(self) -> &'static str {
        match self {
            Domain::Cs => "+CREG",
            Domain::Gprs => "+CGREG",
            Domain::Eps => "+CEREG",
        }
    }

    fn idx(self) -> usize {
        match self {
            Domain::Cs => 0,
            Domain::Gprs => 1,
            Domain::Eps => 2,
        }
    }
}

/// Settings a port keeps until ATZ/AT&F or power-off.
#[derive(Debug, Clone)]
struct PortSettings {
    echo: bool,
    verbose: bool,
    quiet: bool,
    cmee: u8,
    /// `<n>` of +CREG, +CGREG, +CEREG.
    reg_n: [u8; 3],
    cops_format: u8,
    sregs: BTreeMap<u32, u32>,
    amp_c: u32,
    amp_d: u32,
    /// SIMCom AT+AUTOCSQ: `Some(mode)` when on (0 = every 5 s, 1 = on change).
    autocsq: Option<u8>,
    /// SIMCom AT+CNSMOD=1.
    cnsmod_urc: bool,
}

impl PortSettings {
    fn defaults(profile: &Profile) -> Self {
        let sregs = [
            (0, 0),
            (3, 13),
            (4, 10),
            (5, 8),
            (6, 2),
            (7, 0),
            (8, 2),
            (10, 15),
            (12, 50),
        ]
        .into_iter()
        .collect();
        PortSettings {
            echo: true,
            verbose: true,
            quiet: false,
            cmee: profile.cmee_default,
            reg_n: [0; 3],
            cops_format: 0,
            sregs,
            amp_c: 1,
            amp_d: 2,
            autocsq: None,
            cnsmod_urc: false,
        }
    }

    fn sreg(&self, reg: u32) -> u32 {
        self.sregs.get(&reg).copied().unwrap_or(0)
    }

    fn cr(&self) -> u8 {
        self.sreg(3).min(127) as u8
    }

    fn lf(&self) -> u8 {
        self.sreg(4).min(127) as u8
    }

    /// The `+++` guard time (S12, fiftieths of a second).
    fn guard_ms(&self) -> u64 {
        u64::from(self.sreg(12)) * 20
    }
}

#[derive(Debug, Clone)]
struct PortState {
    settings: PortSettings,
    line: Vec<u8>,
    overflow: bool,
    prev_cr: bool,
    last_line: Vec<u8>,
}

const MAX_LINE: usize = 1024;

/// A packet data call.
#[derive(Debug, Clone)]
struct Call {
    port: PortId,
    cid: u8,
    /// In data mode (`true`) or online command mode after `+++` (`false`).
    online: bool,
    plus: u8,
    last_rx: u64,
    escape_due: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CallEnd {
    /// ATH: the response is OK, no NO CARRIER.
    Local,
    /// The network dropped it: NO CARRIER on the port.
    NoCarrier,
    /// The port vanished (unplug).
    Silent,
}

/// A PDP context (AT+CGDCONT).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Context {
    pdp_type: String,
    apn: String,
    active: bool,
    address: String,
}

/// AT+CGAUTH values of one context.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Auth {
    protocol: u8,
    user: String,
    password: String,
}

/// Basic modem-wide settings read with `AT+X?` and written with `AT+X=...`.
const STANDARD_SETTINGS: &[(&str, &str)] = &[
    ("+IPR", "115200"),
    ("+IFC", "0,0"),
    ("+ICF", "3,3"),
    ("+CSCS", "\"IRA\""),
    ("+CMGF", "0"),
    ("+CTZR", "0"),
    ("+CGEREP", "0,0"),
    ("+CSCLK", "0"),
];

/// The simulated modem.
#[derive(Debug)]
pub struct Modem {
    profile: &'static Profile,
    now: u64,
    rng: Rng,
    plugged: bool,
    ports: [PortState; 2],

    iccid: String,
    imsi: String,
    imei: String,

    sim: SimState,
    pin: String,
    puk: String,
    pin_enabled: bool,
    pin_left: u8,
    puk_left: u8,
    qsimstat: bool,

    target: RegTarget,
    stat: u8,
    search_due: Option<u64>,
    register_after_ms: u64,
    plmn: String,
    operator_name: String,
    lac: u16,
    cell_id: u32,
    pci: u16,
    cfun: u8,
    cops_mode: u8,
    ps_detached: bool,

    rssi: u8,
    ber: u8,
    base_rssi: u8,
    signal_auto: bool,
    signal_due: Option<u64>,
    autocsq_due: Option<u64>,
    qind_csq: bool,

    contexts: BTreeMap<u8, Context>,
    auth: BTreeMap<u8, Auth>,
    call: Option<Call>,

    /// The USB composition stored in flash (survives resets).
    usbnet: Composition,
    /// The composition of this power-on: `usbnet` as it was at boot.
    composition: Composition,
    /// The context of the data call on the composition's network interface
    /// (`AT+QNETDEVCTL`, `AT$QCRMCALL`, `AT#ECM`), while it is up.
    net_call: Option<u8>,
    /// The last `AT+QNETDEVCTL=<op>,<cid>,<urc_en>`, for its read form.
    qnetdevctl: (u8, u8, u8),

    muted: bool,
    delay_ms: u64,
    /// While true, output is held in `held` (the `stall` control).
    stalled: bool,
    held: Vec<(PortId, Vec<u8>)>,
    urc_port: Option<PortId>,
    qcfg: Vec<(String, String)>,
    settings: Vec<(String, String)>,
    reset_ms: u64,
    /// On one serial line (`--uart`): `AT+CMUX` is offered.
    uart: bool,
    /// N1 of the last `AT+CMUX=0`, until a reset (for `AT+CMUX?`).
    cmux_n1: Option<usize>,
    unplug_due: Option<u64>,
    replug_due: Option<u64>,
    deferred: Vec<(u64, PortId, String)>,
    scheduled: Vec<(u64, Control)>,

    effects: Vec<Effect>,
}

/// Signal random-walk period.
const SIGNAL_STEP_MS: u64 = 4000;
/// AT+AUTOCSQ=1,0 reporting period.
const AUTOCSQ_PERIOD_MS: u64 = 5000;
/// Time between `AT+CFUN=1,1` answering OK and the USB device vanishing.
const RESET_UNPLUG_MS: u64 = 200;

impl Modem {
    /// A modem configured by the command line, already powered on and on USB
    /// at time `now`. It starts searching for the network right away.
    pub fn new(cfg: &Config, now: u64) -> Modem {
        let profile = cfg.profile;
        let mut rng = Rng::new(cfg.seed);
        let plmn = cfg.operator.clone();
        let (mcc, mnc) = plmn.split_at(3.min(plmn.len()));
        let imei = cfg.imei.clone().unwrap_or_else(|| {
            let body = format!("{}{}", profile.imei_tac, rng.digits(6));
            let check = format::luhn_digit(&body);
            format!("{body}{check}")
        });
        let iccid = cfg.iccid.clone().unwrap_or_else(|| {
            let prefix = format!("89{}{}", format::iccid_country(mcc), mnc);
            let fill = 19usize.saturating_sub(prefix.len());
            let body = format!("{prefix}{}", rng.digits(fill));
            let check = format::luhn_digit(&body);
            format!("{body}{check}")
        });
        let imsi = cfg
            .imsi
            .clone()
            .unwrap_or_else(|| format!("{plmn}{}", rng.digits(15usize.saturating_sub(plmn.len()))));
        let lac = rng.range(0x1000, 0xFFFE) as u16;
        let cell_id = rng.range(0x10_0000, 0xFFF_FFFF) as u32;
        let pci = rng.range(0, 503) as u16;
        let rssi = rng.range(14, 26) as u8;
        let mut contexts = BTreeMap::new();
        contexts.insert(
            1,
            Context {
                pdp_type: if cfg.provisioned.is_some() {
                    "IP"
                } else {
                    "IPV4V6"
                }
                .to_string(),
                apn: cfg.provisioned.clone().unwrap_or_default(),
                active: false,
                address: String::new(),
            },
        );
        let sim = match cfg.sim {
            SimStart::Ready => SimState::Ready,
            SimStart::Absent => SimState::Absent,
            SimStart::Locked => SimState::Locked,
        };
        let port = PortState {
            settings: PortSettings::defaults(profile),
            line: Vec::new(),
            overflow: false,
            prev_cr: false,
            last_line: Vec::new(),
        };
        let usbnet = cfg.usbnet.unwrap_or(profile.composition);
        let mut modem = Modem {
            profile,
            now,
            rng,
            plugged: true,
            ports: [port.clone(), port],
            iccid,
            imsi,
            imei,
            sim,
            pin: cfg.pin.clone(),
            puk: "12345678".to_string(),
            pin_enabled: cfg.sim == SimStart::Locked,
            pin_left: cfg.pin_attempts,
            puk_left: 10,
            qsimstat: false,
            target: cfg.registration,
            stat: 0,
            search_due: None,
            register_after_ms: cfg.register_after_ms,
            operator_name: operator_name(&plmn),
            plmn,
            lac,
            cell_id,
            pci,
            cfun: 1,
            cops_mode: 0,
            ps_detached: false,
            rssi,
            ber: 99,
            base_rssi: rssi,
            signal_auto: true,
            signal_due: Some(now + SIGNAL_STEP_MS),
            autocsq_due: None,
            qind_csq: false,
            contexts,
            auth: BTreeMap::new(),
            call: None,
            usbnet,
            composition: usbnet,
            net_call: None,
            qnetdevctl: (0, 1, 0),
            muted: false,
            delay_ms: 0,
            stalled: false,
            held: Vec::new(),
            urc_port: Some(PortId::At),
            qcfg: profile
                .qcfg
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            settings: STANDARD_SETTINGS
                .iter()
                .chain(profile.settings.iter())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            reset_ms: cfg.reset_ms,
            uart: cfg.uart,
            cmux_n1: None,
            unplug_due: None,
            replug_due: None,
            deferred: Vec::new(),
            scheduled: Vec::new(),
            effects: Vec::new(),
        };
        modem.refresh_registration();
        modem.trace(format!(
            "{} powered on: IMEI {}, ICCID {}, IMSI {}, network {} ({}), USB {} ({:04x})",
            profile.name,
            modem.imei,
            modem.iccid,
            modem.imsi,
            modem.plmn,
            modem.operator_name,
            usbnet.name(),
            profile.pid(usbnet)
        ));
        modem
    }

    /// The model's profile.
    pub fn profile(&self) -> &'static Profile {
        self.profile
    }

    /// Identity: (IMEI, ICCID, IMSI).
    pub fn identity(&self) -> (&str, &str, &str) {
        (&self.imei, &self.iccid, &self.imsi)
    }

    /// The USB composition of this power-on and its product id.
    pub fn usb(&self) -> Usb {
        Usb {
            composition: self.composition.name(),
            pid: self.profile.pid(self.composition),
        }
    }

    /// Can this control command be applied to this model? (Only `usbnet`
    /// depends on the model: it must offer the composition.)
    pub fn accepts(&self, control: &Control) -> Result<(), String> {
        match control {
            Control::UsbNet(c) if !self.profile.offers(*c) => Err(format!(
                "usbnet: {} has no {} composition",
                self.profile.name,
                c.name()
            )),
            _ => Ok(()),
        }
    }

    /// Is the modem on USB (are its ptys open)?
    pub fn plugged(&self) -> bool {
        self.plugged
    }

    /// Adds scenario lines; times are milliseconds on the caller's clock.
    pub fn schedule(&mut self, lines: impl IntoIterator<Item = (u64, Control)>) {
        self.scheduled.extend(lines);
        self.scheduled.sort_by_key(|(t, _)| *t);
    }

    /// Everything produced since the last call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// Test helper: drains the effects and returns the bytes written to one
    /// port as text (pauses skipped, other effects dropped).
    pub fn take_output(&mut self, port: PortId) -> String {
        let bytes: Vec<u8> = self
            .take_effects()
            .into_iter()
            .filter_map(|e| match e {
                Effect::Write(p, Out::Bytes(b)) if p == port => Some(b),
                _ => None,
            })
            .flatten()
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// When [`Modem::tick`] next has something to do.
    pub fn next_deadline(&self) -> Option<u64> {
        self.timers().into_iter().flatten().min()
    }

    fn timers(&self) -> [Option<u64>; 8] {
        [
            self.deferred.iter().map(|(t, _, _)| *t).min(),
            self.call.as_ref().and_then(|c| c.escape_due),
            self.search_due,
            self.signal_due.filter(|_| self.signal_auto),
            self.autocsq_due,
            self.unplug_due,
            self.replug_due,
            self.scheduled.first().map(|(t, _)| *t),
        ]
    }

    /// Runs every timer due at or before `now`, in time order.
    pub fn tick(&mut self, now: u64) {
        loop {
            let timers = self.timers();
            let Some((which, due)) = timers
                .iter()
                .enumerate()
                .filter_map(|(i, t)| t.map(|t| (i, t)))
                .min_by_key(|(_, t)| *t)
            else {
                break;
            };
            if due > now {
                break;
            }
            self.now = self.now.max(due);
            match which {
                0 => self.fire_deferred(due),
                1 => self.escape(),
                2 => {
                    self.search_due = None;
                    self.search_finished();
                }
                3 => {
                    self.signal_due = Some(due + SIGNAL_STEP_MS);
                    self.signal_step();
                }
                4 => {
                    self.autocsq_due = Some(due + AUTOCSQ_PERIOD_MS);
                    self.autocsq_periodic();
                }
                5 => {
                    self.unplug_due = None;
                    self.unplug();
                }
                6 => {
                    self.replug_due = None;
                    if !self.plugged {
                        self.boot();
                    }
                }
                _ => {
                    let (_, control) = self.scheduled.remove(0);
                    self.trace(format!("scenario: {control:?}"));
                    self.control(control, due);
                }
            }
        }
        self.now = self.now.max(now);
    }

    fn fire_deferred(&mut self, due: u64) {
        let mut ready = Vec::new();
        self.deferred.retain(|(t, port, text)| {
            if *t <= due {
                ready.push((*port, text.clone()));
                false
            } else {
                true
            }
        });
        for (port, text) in ready {
            self.urc(port, &text);
        }
    }

    // ----- input ---------------------------------------------------------

    /// Bytes a client wrote to `port` at time `now`.
    pub fn input(&mut self, port: PortId, bytes: &[u8], now: u64) {
        self.tick(now);
        if !self.plugged || self.muted {
            return;
        }
        let mut echo = Vec::new();
        for &b in bytes {
            if self.in_data_mode(port) {
                self.data_byte(port, b);
                continue;
            }
            let p = &mut self.ports[port.idx()];
            if p.settings.echo {
                echo.push(b);
            }
            let cr = p.settings.cr();
            if b == cr || b == b'\n' {
                let lf_after_cr = b == b'\n' && p.prev_cr;
                p.prev_cr = b == cr;
                if lf_after_cr {
                    continue;
                }
                let line = std::mem::take(&mut p.line);
                let overflow = std::mem::take(&mut p.overflow);
                self.write(port, std::mem::take(&mut echo));
                if overflow {
                    self.trace(format!(
                        "{}: line longer than {MAX_LINE} bytes",
                        port.name()
                    ));
                    self.respond(port, Vec::new(), 0, Err(Fail::Error));
                } else if line.iter().any(|b| !b.is_ascii_whitespace()) {
                    self.execute_line(port, line);
                }
                continue;
            }
            p.prev_cr = false;
            if u32::from(b) == p.settings.sreg(5) || b == 0x7f {
                p.line.pop();
                continue;
            }
            if p.line.len() >= MAX_LINE {
                p.overflow = true;
                continue;
            }
            p.line.push(b);
            if p.line.len() == 2 && p.line.eq_ignore_ascii_case(b"A/") {
                p.line.clear();
                let last = p.last_line.clone();
                self.write(port, std::mem::take(&mut echo));
                if !last.is_empty() {
                    self.execute_line(port, last);
                }
            }
        }
        self.write(port, echo);
    }

    fn in_data_mode(&self, port: PortId) -> bool {
        self.call
            .as_ref()
            .is_some_and(|c| c.port == port && c.online)
    }

    /// A byte in data mode: swallowed, but watched for the `+++` escape
    /// (guard time of silence, three '+', guard time of silence).
    fn data_byte(&mut self, port: PortId, b: u8) {
        let guard = self.ports[port.idx()].settings.guard_ms();
        let now = self.now;
        let Some(call) = self.call.as_mut() else {
            return;
        };
        if b == b'+'
            && call.plus < 3
            && (call.plus > 0 || now.saturating_sub(call.last_rx) >= guard)
        {
            call.plus += 1;
            if call.plus == 3 {
                call.escape_due = Some(now + guard);
            }
        } else {
            call.plus = 0;
            call.escape_due = None;
        }
        call.last_rx = now;
    }

    fn escape(&mut self) {
        let Some(call) = self.call.as_mut() else {
            return;
        };
        call.escape_due = None;
        call.plus = 0;
        call.online = false;
        let port = call.port;
        self.trace(format!("{}: +++ escape, online command mode", port.name()));
        self.respond(port, Vec::new(), 0, Ok(Done::Ok));
    }

    /// DTR went from on to off on the port of the data call (V.250 `&D`):
    /// `&D0` ignores it, `&D1` goes to online command mode with OK (the call
    /// stays up), `&D2` ends the call and goes back to command mode, without
    /// a result code. Without a call it changes nothing.
    /// The tty of `port` closes under its client: a data call on it ends
    /// (nobody is left to read NO CARRIER), the port's settings and input
    /// start over, and a new pty takes its place. The modem is not reset.
    fn reopen(&mut self, port: PortId) {
        if !self.plugged {
            self.trace(format!("{}: reopen ignored, unplugged", port.name()));
            return;
        }
        if self.call.as_ref().is_some_and(|c| c.port == port) {
            self.end_call(CallEnd::Silent);
        }
        let p = &mut self.ports[port.idx()];
        p.settings = PortSettings::defaults(self.profile);
        p.line.clear();
        p.overflow = false;
        p.prev_cr = false;
        self.trace(format!(
            "{}: tty closed under its client, reopening",
            port.name()
        ));
        self.effects.push(Effect::Reopen(port));
    }

    fn dtr_drop(&mut self) {
        let Some(port) = self.call.as_ref().map(|c| c.port) else {
            self.trace("DTR drop: no data call".to_string());
            return;
        };
        match self.ports[port.idx()].settings.amp_d {
            0 => self.trace(format!("{}: DTR drop ignored (&D0)", port.name())),
            1 => {
                let was_online = self.call.as_ref().is_some_and(|c| c.online);
                if let Some(call) = self.call.as_mut() {
                    call.online = false;
                    call.plus = 0;
                    call.escape_due = None;
                }
                self.trace(format!(
                    "{}: DTR drop, online command mode (&D1)",
                    port.name()
                ));
                if was_online {
                    self.respond(port, Vec::new(), 0, Ok(Done::Ok));
                }
            }
            _ => {
                self.trace(format!("{}: DTR drop, hanging up (&D2)", port.name()));
                self.end_call(CallEnd::Local);
            }
        }
    }

    // ----- output --------------------------------------------------------

    fn write(&mut self, port: PortId, bytes: Vec<u8>) {
        if self.plugged && !bytes.is_empty() {
            if self.stalled {
                self.held.push((port, bytes));
            } else {
                self.effects.push(Effect::Write(port, Out::Bytes(bytes)));
            }
        }
    }

    /// Ends a stall: what each port held goes out in one write.
    fn release_held(&mut self) {
        self.stalled = false;
        let held = std::mem::take(&mut self.held);
        for port in [PortId::At, PortId::Ppp] {
            let bytes: Vec<u8> = held
                .iter()
                .filter(|(p, _)| *p == port)
                .flat_map(|(_, b)| b.iter().copied())
                .collect();
            self.write(port, bytes);
        }
    }

    fn trace(&mut self, line: String) {
        self.effects.push(Effect::Trace(line));
    }

    fn event(&mut self, event: Event) {
        self.effects.push(Effect::Event(event));
    }

    /// A URC line on one port, framed by that port's settings; dropped while
    /// the port is in data mode.
    fn urc(&mut self, port: PortId, text: &str) {
        if !self.plugged || self.muted || self.in_data_mode(port) {
            return;
        }
        let out = self.frame_line(port, text);
        self.trace(format!("{} -> {text}", port.name()));
        self.write(port, out);
    }

    /// A line framed like a URC for this port (`\r\nTEXT\r\n`, or `TEXT\r\n` with ATV0).
    fn frame_line(&self, port: PortId, text: &str) -> Vec<u8> {
        let s = &self.ports[port.idx()].settings;
        let mut out = Vec::with_capacity(text.len() + 4);
        if s.verbose {
            out.extend([s.cr(), s.lf()]);
        }
        out.extend_from_slice(text.as_bytes());
        out.extend([s.cr(), s.lf()]);
        out
    }

    /// A URC on the port that carries unsolicited output (`AT+QURCCFG`).
    fn global_urc(&mut self, text: &str) {
        if let Some(port) = self.urc_port {
            self.urc(port, text);
        }
    }

    fn defer_urc(&mut self, after_ms: u64, text: &str) {
        if let Some(port) = self.urc_port {
            self.deferred
                .push((self.now + after_ms, port, text.to_string()));
        }
    }

    /// Frames a command's information text and final result and queues them.
    fn respond(&mut self, port: PortId, blocks: Vec<Vec<String>>, pause_ms: u64, outcome: Outcome) {
        let s = self.ports[port.idx()].settings.clone();
        let (cr, lf) = (s.cr(), s.lf());
        let mut out = Vec::new();
        for block in blocks.iter().filter(|b| !b.is_empty()) {
            if s.verbose {
                out.extend([cr, lf]);
            }
            for (i, line) in block.iter().enumerate() {
                if i > 0 {
                    out.extend([cr, lf]);
                }
                out.extend_from_slice(line.as_bytes());
            }
            out.extend([cr, lf]);
        }
        let code = match &outcome {
            Ok(Done::Ok) => ResultCode::Ok,
            Ok(Done::Connect { .. }) | Ok(Done::Online) => ResultCode::Connect,
            Err(Fail::Error) => ResultCode::Error,
            Err(Fail::Cme(c)) => ResultCode::Cme(*c),
            Err(Fail::NoCarrier) => ResultCode::NoCarrier,
        };
        let text = self.result_text(&s, code);
        if !s.quiet {
            out.extend(self.frame_result(&s, code, &text));
        }
        let pause = self.delay_ms + pause_ms;
        if pause > 0 && self.plugged {
            self.effects.push(Effect::Write(port, Out::Pause(pause)));
        }
        self.trace(format!("{} -> {}", port.name(), text));
        self.write(port, out);
        match outcome {
            Ok(Done::Connect { cid }) => self.start_call(port, cid),
            Ok(Done::Online) => {
                if let Some(call) = self.call.as_mut() {
                    call.online = true;
                    call.plus = 0;
                    call.last_rx = self.now;
                }
            }
            _ => {}
        }
    }

    fn result_text(&self, s: &PortSettings, code: ResultCode) -> String {
        match code {
            ResultCode::Ok => "OK".to_string(),
            ResultCode::Connect => self.profile.connect.to_string(),
            ResultCode::NoCarrier => "NO CARRIER".to_string(),
            ResultCode::Error => "ERROR".to_string(),
            ResultCode::Cme(c) => match s.cmee {
                0 => "ERROR".to_string(),
                1 => format!("+CME ERROR: {c}"),
                _ => format!("+CME ERROR: {}", format::cme_text(c)),
            },
        }
    }

    /// V1: `<cr><lf>TEXT<cr><lf>`; V0: the numeric code and `<cr>` (CME
    /// errors, which have no number, as `TEXT<cr><lf>`).
    fn frame_result(&self, s: &PortSettings, code: ResultCode, text: &str) -> Vec<u8> {
        let (cr, lf) = (s.cr(), s.lf());
        if s.verbose {
            let mut v = vec![cr, lf];
            v.extend_from_slice(text.as_bytes());
            v.extend([cr, lf]);
            return v;
        }
        let numeric = match code {
            ResultCode::Ok => Some(0),
            ResultCode::Connect => Some(1),
            ResultCode::NoCarrier => Some(3),
            ResultCode::Error => Some(4),
            ResultCode::Cme(_) if s.cmee == 0 => Some(4),
            ResultCode::Cme(_) => None,
        };
        match numeric {
            Some(n) => vec![b'0' + n, cr],
            None => {
                let mut v = text.as_bytes().to_vec();
                v.extend([cr, lf]);
                v
            }
        }
    }

    // ----- calls -------------------------------------------------------------

    /// Whether the `mute` control is on (the modem answers nothing).
    pub fn is_muted(&self) -> bool {
        self.muted
    }

    /// Activates context `cid` (if defined) with a new random 10.x.y.z address.
    pub(crate) fn activate_context(&mut self, cid: u8) {
        let address = format!(
            "10.{}.{}.{}",
            self.rng.range(0, 255),
            self.rng.range(0, 255),
            self.rng.range(2, 254)
        );
        if let Some(ctx) = self.contexts.get_mut(&cid) {
            ctx.active = true;
            ctx.address = address;
        }
    }

    fn start_call(&mut self, port: PortId, cid: u8) {
        self.activate_context(cid);
        self.call = Some(Call {
            port,
            cid,
            online: true,
            plus: 0,
            last_rx: self.now,
            escape_due: None,
        });
        self.trace(format!("{}: data call up on cid {cid}", port.name()));
        self.event(Event::Connected(port));
    }

    fn end_call(&mut self, how: CallEnd) {
        let Some(call) = self.call.take() else {
            return;
        };
        if let Some(ctx) = self.contexts.get_mut(&call.cid) {
            ctx.active = false;
            ctx.address.clear();
        }
        if how == CallEnd::NoCarrier {
            self.respond(call.port, Vec::new(), 0, Err(Fail::NoCarrier));
        }
        self.trace(format!("{}: data call down ({how:?})", call.port.name()));
        self.event(Event::Hangup(call.port));
    }

    // ----- registration ------------------------------------------------

    fn can_register(&self) -> bool {
        self.plugged && self.cfun == 1 && self.sim == SimState::Ready && self.cops_mode != 2
    }

    fn registered(&self) -> bool {
        matches!(self.stat, 1 | 5)
    }

    fn domain_stat(&self, d: Domain) -> u8 {
        match d {
            Domain::Cs => self.stat,
            Domain::Gprs | Domain::Eps if self.ps_detached => 0,
            _ => self.stat,
        }
    }

    fn domain_stats(&self) -> [u8; 3] {
        Domain::ALL.map(|d| self.domain_stat(d))
    }

    /// Re-evaluates registration after SIM, CFUN, COPS or USB changes.
    fn refresh_registration(&mut self) {
        if !self.can_register() {
            self.search_due = None;
            self.set_stat(0);
            return;
        }
        if self.stat == 0 && self.search_due.is_none() && self.target != RegTarget::None {
            self.set_stat(2);
            if self.target != RegTarget::Searching {
                self.search_due = Some(self.now + self.register_after_ms);
            }
        }
    }

    fn search_finished(&mut self) {
        if self.can_register() {
            self.set_stat(self.target.stat());
        }
    }

    fn set_target(&mut self, target: RegTarget) {
        self.target = target;
        if self.can_register() {
            self.search_due = None;
            self.set_stat(target.stat());
        }
    }

    fn set_stat(&mut self, stat: u8) {
        let before = self.domain_stats();
        let cnsmod_before = self.cnsmod();
        self.stat = stat;
        self.registration_changed(before, cnsmod_before);
    }

    fn set_ps_detached(&mut self, detached: bool) {
        let before = self.domain_stats();
        let cnsmod_before = self.cnsmod();
        self.ps_detached = detached;
        self.registration_changed(before, cnsmod_before);
    }

    fn registration_changed(&mut self, before: [u8; 3], cnsmod_before: u8) {
        let after = self.domain_stats();
        if before != after {
            self.trace(format!(
                "registration CREG/CGREG/CEREG {before:?} -> {after:?}"
            ));
        }
        for d in Domain::ALL {
            if before[d.idx()] == after[d.idx()] {
                continue;
            }
            for port in PortId::ALL {
                let n = self.ports[port.idx()].settings.reg_n[d.idx()];
                if n > 0 {
                    let text = format!("{}: {}", d.prefix(), self.reg_fields(d, n));
                    self.urc(port, &text);
                }
            }
        }
        let cnsmod = self.cnsmod();
        if cnsmod != cnsmod_before {
            for port in PortId::ALL {
                if self.ports[port.idx()].settings.cnsmod_urc {
                    self.urc(port, &format!("+CNSMOD: {cnsmod}"));
                }
            }
        }
        let ps_up = !self.ps_detached && self.registered();
        if !ps_up {
            self.end_call(CallEnd::NoCarrier);
            for ctx in self.contexts.values_mut() {
                ctx.active = false;
                ctx.address.clear();
            }
        }
    }

    /// `<stat>[,<lac>,<ci>,<act>][,<cause_type>,<reject_cause>]` for `<n>`.
    fn reg_fields(&self, d: Domain, n: u8) -> String {
        let stat = self.domain_stat(d);
        let mut s = stat.to_string();
        if n >= 2 && matches!(stat, 1 | 5) {
            s.push_str(&format!(
                ",\"{:04X}\",\"{:08X}\",{}",
                self.lac, self.cell_id, self.profile.radio.act
            ));
        }
        if n == 3 && stat == 3 {
            if let RegTarget::Denied(cause) = self.target {
                s.push_str(&format!(",,,,0,{cause}"));
            }
        }
        s
    }

    fn cnsmod(&self) -> u8 {
        if self.registered() {
            self.profile.radio.cnsmod
        } else {
            0
        }
    }

    // ----- signal ----------------------------------------------------------

    /// `(rssi, ber)` as AT+CSQ reports them.
    fn csq(&self) -> (u8, u8) {
        if !self.plugged || self.cfun != 1 {
            (99, 99)
        } else {
            (self.rssi, self.ber)
        }
    }

    /// Figures for the extended signal commands; `None` without service.
    fn radio(&self) -> Option<Radio> {
        if self.registered() {
            Radio::from_csq(self.csq().0)
        } else {
            None
        }
    }

    fn signal_step(&mut self) {
        if self.rssi > 31 {
            return;
        }
        let mut step = self.rng.range(0, 2) as i32 - 1;
        let delta = i32::from(self.rssi) - i32::from(self.base_rssi);
        if delta.abs() >= 5 {
            step = -delta.signum();
        }
        let next = (i32::from(self.rssi) + step).clamp(1, 31) as u8;
        self.set_signal(next, self.ber);
    }

    fn set_signal(&mut self, rssi: u8, ber: u8) {
        let before = self.csq();
        self.rssi = rssi;
        self.ber = ber;
        let after = self.csq();
        if before == after {
            return;
        }
        let (r, b) = after;
        if self.qind_csq {
            self.global_urc(&format!("+QIND: \"csq\",{r},{b}"));
        }
        for port in PortId::ALL {
            if self.ports[port.idx()].settings.autocsq == Some(1) {
                self.urc(port, &format!("+CSQ: {r},{b}"));
            }
        }
    }

    fn autocsq_periodic(&mut self) {
        let (r, b) = self.csq();
        let mut any = false;
        for port in PortId::ALL {
            if self.ports[port.idx()].settings.autocsq == Some(0) {
                any = true;
                self.urc(port, &format!("+CSQ: {r},{b}"));
            }
        }
        if !any {
            self.autocsq_due = None;
        }
    }

    // ----- SIM -------------------------------------------------------------

    fn cpin_line(&self) -> &'static str {
        match self.sim {
            SimState::Ready => "+CPIN: READY",
            SimState::Locked => "+CPIN: SIM PIN",
            SimState::Puk => "+CPIN: SIM PUK",
            SimState::Absent | SimState::Blocked => "+CPIN: NOT INSERTED",
        }
    }

    /// The SIM became ready: the status URC, then the vendor's "SMS/phonebook
    /// done" lines a moment later.
    fn sim_became_ready(&mut self) {
        self.defer_urc(50, "+CPIN: READY");
        for (i, line) in self.profile.sim_ready_urcs.iter().enumerate() {
            self.defer_urc(150 + 100 * i as u64, line);
        }
        self.refresh_registration();
    }

    fn sim_action(&mut self, action: SimAction) {
        match action {
            SimAction::Remove => {
                if self.sim == SimState::Absent {
                    return;
                }
                self.sim = SimState::Absent;
                for line in self.profile.sim_removed_urcs {
                    self.global_urc(line);
                }
                if self.qsimstat {
                    self.global_urc("+QSIMSTAT: 1,0");
                }
                self.refresh_registration();
            }
            SimAction::Insert => {
                if self.sim != SimState::Absent {
                    return;
                }
                if self.qsimstat {
                    self.global_urc("+QSIMSTAT: 1,1");
                }
                if self.pin_enabled {
                    self.sim = SimState::Locked;
                    self.defer_urc(50, "+CPIN: SIM PIN");
                } else {
                    self.sim = SimState::Ready;
                    self.sim_became_ready();
                }
            }
            SimAction::Lock => {
                self.pin_enabled = true;
                if self.sim != SimState::Absent {
                    self.sim = SimState::Locked;
                    self.global_urc("+CPIN: SIM PIN");
                    self.refresh_registration();
                }
            }
            SimAction::Ready => {
                if self.sim == SimState::Absent || self.sim == SimState::Ready {
                    return;
                }
                self.sim = SimState::Ready;
                self.pin_left = 3;
                self.puk_left = 10;
                self.sim_became_ready();
            }
        }
    }

    // ----- USB -------------------------------------------------------------

    fn unplug(&mut self) {
        if !self.plugged {
            return;
        }
        self.end_call(CallEnd::Silent);
        self.net_call = None;
        // The ports are gone: no URCs for the registration loss.
        for p in &mut self.ports {
            p.settings.reg_n = [0; 3];
            p.settings.cnsmod_urc = false;
            p.settings.autocsq = None;
        }
        self.qind_csq = false;
        self.cmux_n1 = None;
        self.plugged = false;
        self.search_due = None;
        self.set_stat(0);
        self.deferred.clear();
        self.stalled = false;
        self.held.clear();
        self.trace("USB device gone".to_string());
        self.effects.push(Effect::Unplug);
    }

    /// Power-on after (re)plugging: fresh ports, boot URCs, new search.
    fn boot(&mut self) {
        self.plugged = true;
        self.cfun = 1;
        self.cops_mode = 0;
        self.ps_detached = false;
        self.muted = false;
        for p in &mut self.ports {
            p.settings = PortSettings::defaults(self.profile);
            p.line.clear();
            p.overflow = false;
            p.prev_cr = false;
        }
        self.qind_csq = false;
        self.autocsq_due = None;
        if matches!(self.sim, SimState::Ready | SimState::Locked) {
            self.sim = if self.pin_enabled {
                SimState::Locked
            } else {
                SimState::Ready
            };
        }
        // The flash setting takes effect now; the interface call state is RAM.
        self.composition = self.usbnet;
        self.qnetdevctl = (0, 1, 0);
        let usb = self.usb();
        self.trace(format!(
            "USB device back as {} ({:04x}), booting",
            usb.composition, usb.pid
        ));
        self.effects.push(Effect::Replug(usb));
        for line in self.profile.boot_urcs {
            self.global_urc(line);
        }
        let cpin = self.cpin_line();
        self.global_urc(cpin);
        if self.sim == SimState::Ready {
            for (i, line) in self.profile.sim_ready_urcs.iter().enumerate() {
                self.defer_urc(100 + 100 * i as u64, line);
            }
        }
        self.refresh_registration();
    }

    /// Stores a composition in flash; it takes effect at the next boot.
    fn store_usbnet(&mut self, composition: Composition) {
        if composition != self.usbnet {
            self.trace(format!(
                "USB composition set to {} (now {}; active after the next reset)",
                composition.name(),
                self.composition.name()
            ));
        }
        self.usbnet = composition;
    }

    /// The context of the network-interface data call, if it is up (it goes
    /// down with its context when the network drops).
    fn net_call_up(&self) -> Option<u8> {
        self.net_call
            .filter(|cid| self.contexts.get(cid).is_some_and(|c| c.active))
    }

    /// Starts the data call on the composition's network interface: the
    /// context must exist, have an APN and the modem be attached.
    fn net_up(&mut self, cid: u8) -> Result<(), Fail> {
        if !self.composition.has_netdev() {
            return Err(Fail::Cme(format::cme::NOT_ALLOWED));
        }
        let Some(ctx) = self.contexts.get(&cid) else {
            return Err(Fail::Cme(format::cme::INCORRECT_PARAMETERS));
        };
        if !self.registered() || self.ps_detached {
            return Err(Fail::Cme(format::cme::NO_NETWORK));
        }
        if ctx.apn.is_empty() {
            return Err(Fail::Cme(format::cme::GPRS_UNSPECIFIED));
        }
        if self.net_call_up().is_some_and(|up| up != cid) {
            return Err(Fail::Cme(format::cme::NOT_ALLOWED));
        }
        if !ctx.active {
            self.activate_context(cid);
        }
        self.net_call = Some(cid);
        let address = self
            .contexts
            .get(&cid)
            .map(|c| c.address.clone())
            .unwrap_or_default();
        self.trace(format!(
            "data call up on the {} interface: cid {cid}, {address}",
            self.composition.name()
        ));
        Ok(())
    }

    /// Ends the network-interface data call on this context (if it is the one).
    fn net_down(&mut self, cid: u8) {
        if self.net_call != Some(cid) {
            return;
        }
        self.net_call = None;
        if let Some(ctx) = self.contexts.get_mut(&cid) {
            ctx.active = false;
            ctx.address.clear();
        }
        self.trace(format!(
            "data call down on the {} interface: cid {cid}",
            self.composition.name()
        ));
    }

    /// Schedules a reset: the device vanishes shortly and returns after the
    /// configured reset time (AT+CFUN=1,1, AT+CRESET).
    fn schedule_reset(&mut self) {
        self.unplug_due = Some(self.now + RESET_UNPLUG_MS);
        self.replug_due = Some(self.now + RESET_UNPLUG_MS + self.reset_ms);
    }

    // ----- control -----------------------------------------------------------

    /// Applies one control command at time `now`.
    pub fn control(&mut self, control: Control, now: u64) {
        if now > self.now {
            self.tick(now);
        }
        match control {
            Control::Sim(action) => self.sim_action(action),
            Control::Reg(target) => self.set_target(target),
            Control::Signal { rssi, ber } => {
                self.base_rssi = if rssi > 31 { self.base_rssi } else { rssi };
                let ber = ber.unwrap_or(self.ber);
                self.set_signal(rssi, ber);
            }
            Control::SignalAuto(on) => {
                self.signal_auto = on;
                if on {
                    self.signal_due = Some(self.now + SIGNAL_STEP_MS);
                }
            }
            Control::Operator { plmn, name } => {
                self.operator_name = name.unwrap_or_else(|| operator_name(&plmn));
                self.plmn = plmn;
            }
            Control::Mute(on) => {
                self.muted = on;
                for p in &mut self.ports {
                    p.line.clear();
                    p.overflow = false;
                }
            }
            Control::Delay(ms) => self.delay_ms = ms,
            Control::Stall(true) => self.stalled = true,
            Control::Stall(false) => self.release_held(),
            Control::Garbage(n) => {
                let bytes: Vec<u8> = (0..n)
                    .map(|_| match self.rng.below(256) as u8 {
                        b'\r' | b'\n' => b'~',
                        b => b,
                    })
                    .collect();
                self.write(PortId::At, bytes);
            }
            Control::CmeStorm(count) => {
                const CODES: [u16; 7] = [3, 4, 10, 13, 14, 30, 100];
                let s = self.ports[PortId::At.idx()].settings.clone();
                let mut out = Vec::new();
                for _ in 0..count {
                    let code = CODES[self.rng.below(CODES.len() as u64) as usize];
                    let text = if s.cmee == 2 {
                        format!("+CME ERROR: {}", format::cme_text(code))
                    } else {
                        format!("+CME ERROR: {code}")
                    };
                    out.extend([s.cr(), s.lf()]);
                    out.extend_from_slice(text.as_bytes());
                    out.extend([s.cr(), s.lf()]);
                }
                self.write(PortId::At, out);
            }
            Control::CellStorm(count) => {
                let s = &self.ports[PortId::At.idx()].settings;
                let mut out = Vec::new();
                for i in 0..count {
                    let tac = 0x1A00 + (i % 16) as u32;
                    let ci = 0x01C3_D000 + i as u32;
                    out.extend([s.cr(), s.lf()]);
                    out.extend_from_slice(
                        format!("+CEREG: 1,\"{tac:04X}\",\"{ci:08X}\",7").as_bytes(),
                    );
                    out.extend([s.cr(), s.lf()]);
                }
                self.write(PortId::At, out);
            }
            // Written even while muted, in chunks of about 64 KiB.
            Control::Flood { lines, bytes } => {
                for chunk in flood_chunks(lines, bytes, 64 * 1024) {
                    self.write(PortId::At, chunk);
                }
            }
            // Injected output is written even while muted or in data mode.
            Control::Urc(text) => {
                let out = self.frame_line(PortId::At, &text);
                self.write(PortId::At, out);
            }
            Control::Unplug => {
                self.replug_due = None;
                self.unplug_due = None;
                self.unplug();
            }
            Control::Replug => {
                self.replug_due = None;
                self.unplug_due = None;
                self.unplug();
                self.boot();
            }
            Control::ReplugAfter(ms) => {
                self.unplug_due = None;
                self.unplug();
                self.replug_due = Some(self.now + ms);
            }
            Control::Fragment(mode) => self.effects.push(Effect::Fragment(mode)),
            Control::Hangup => self.end_call(CallEnd::NoCarrier),
            Control::DtrDrop => self.dtr_drop(),
            Control::Reopen(port) => self.reopen(port),
            Control::UsbNet(composition) => {
                if let Err(e) = self.accepts(&Control::UsbNet(composition)) {
                    self.trace(e);
                    return;
                }
                self.store_usbnet(composition);
                self.trace("usbnet control: the device will re-enumerate".to_string());
                self.schedule_reset();
            }
            Control::Status => {
                let summary = self.status();
                self.event(Event::Log(summary));
            }
            Control::Quit => self.effects.push(Effect::Quit),
        }
    }

    /// A one-line summary of the state.
    pub fn status(&self) -> String {
        format!(
            "model={} plugged={} cfun={} sim={:?} stat={} operator={} csq={:?} call={} usb={} usbnet={} net_call={} muted={} delay_ms={}",
            self.profile.name,
            self.plugged,
            self.cfun,
            self.sim,
            self.stat,
            self.plmn,
            self.csq(),
            match &self.call {
                Some(c) => format!("{}:cid{}:{}", c.port.name(), c.cid, if c.online { "data" } else { "command" }),
                None => "none".to_string(),
            },
            self.composition.name(),
            self.usbnet.name(),
            match self.net_call_up() {
                Some(cid) => format!("cid{cid}:up"),
                None => "none".to_string(),
            },
            self.muted,
            self.delay_ms
        )
    }

    fn execute_line(&mut self, port: PortId, line: Vec<u8>) {
        let shown = redact(&String::from_utf8_lossy(&line));
        self.trace(format!("{} <- {}", port.name(), shown.escape_debug()));
        self.ports[port.idx()].last_line = line.clone();
        commands::execute(self, port, &line);
    }
}

fn operator_name(plmn: &str) -> String {
    cellular_core::operators::lookup_plmn(plmn)
        .and_then(|op| op.provider_name())
        .map(str::to_string)
        .unwrap_or_else(|| plmn.to_string())
}

/// A successful end of a command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Done {
    Ok,
    /// CONNECT and data mode on this context.
    Connect {
        cid: u8,
    },
    /// ATO: CONNECT and back to data mode.
    Online,
}

/// An unsuccessful end of a command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fail {
    Error,
    Cme(u16),
    NoCarrier,
}

type Outcome = Result<Done, Fail>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResultCode {
    Ok,
    Connect,
    NoCarrier,
    Error,
    Cme(u16),
}

#[cfg(test)]
mod tests;

/// The output of `flood`: `lines` lines of `+FLOOD: <n> xxx…`, each `bytes`
/// long before its CR LF, in chunks of whole lines of about `chunk` bytes.
pub fn flood_chunks(lines: u64, bytes: usize, chunk: usize) -> impl Iterator<Item = Vec<u8>> {
    let per_chunk = (chunk / (bytes + 2)).max(1) as u64;
    let mut n = 0u64;
    std::iter::from_fn(move || {
        if n >= lines {
            return None;
        }
        let end = (n + per_chunk).min(lines);
        let mut out = Vec::with_capacity((end - n) as usize * (bytes + 2));
        while n < end {
            let start = out.len();
            out.extend_from_slice(format!("+FLOOD: {n:08} ").as_bytes());
            out.resize(start + bytes.max(out.len() - start), b'x');
            out.truncate(start + bytes);
            out.extend_from_slice(b"\r\n");
            n += 1;
        }
        Some(out)
    })
}
