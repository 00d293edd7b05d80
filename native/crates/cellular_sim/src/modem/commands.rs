//! The command interpreter: basic V.250 commands and the 3GPP TS 27.007
//! extended commands every model shares. Vendor commands are in `vendor.rs`.

use super::format::cme;
use super::{CallEnd, Context, Domain, Done, Fail, Modem, Outcome, PortId, PortSettings, SimState};
use crate::at::{find_at, parse_line, split_args, Arg, Cmd, Op};
use crate::profile::{CcidStyle, CgauthOrder};

/// The replies of one command line: one block of information lines per command.
#[derive(Debug, Default)]
pub(super) struct Reply {
    pub blocks: Vec<Vec<String>>,
    pub pause_ms: u64,
}

impl Reply {
    pub fn line(&mut self, text: impl Into<String>) {
        self.blocks.push(vec![text.into()]);
    }

    pub fn lines(&mut self, lines: Vec<String>) {
        self.blocks.push(lines);
    }
}

/// Runs one command line (the bytes before CR) received on `port`.
pub(super) fn execute(m: &mut Modem, port: PortId, line: &[u8]) {
    let Some(body) = find_at(line) else {
        m.trace(format!("{}: no AT prefix, ignored", port.name()));
        return;
    };
    let cmds = match parse_line(body) {
        Ok(cmds) => cmds,
        Err(e) => {
            m.trace(format!(
                "{}: syntax error at byte {}: {}",
                port.name(),
                e.offset,
                e.message
            ));
            m.respond(port, Vec::new(), 0, Err(Fail::Error));
            return;
        }
    };
    let mut reply = Reply::default();
    let mut outcome = Ok(Done::Ok);
    // What the commands set off (URCs, hang-ups) goes out after their response.
    let mark = m.effects.len();
    for cmd in cmds {
        outcome = run(m, port, cmd, &mut reply);
        if outcome != Ok(Done::Ok) {
            break;
        }
    }
    let consequences = m.effects.split_off(mark);
    m.respond(port, reply.blocks, reply.pause_ms, outcome);
    m.effects.extend(consequences);
}

fn run(m: &mut Modem, port: PortId, cmd: Cmd, reply: &mut Reply) -> Outcome {
    match cmd {
        Cmd::Basic { name, value } => basic(m, port, &name, value, reply),
        Cmd::SReg { reg, set } => sreg(m, port, reg, set, reply),
        Cmd::Dial(dial) => dial_cmd(m, port, &dial, reply),
        Cmd::Ext { name, op } => extended(m, port, &name, op, reply),
    }
}

pub(super) fn args(raw: &str) -> Result<Vec<Arg>, Fail> {
    split_args(raw).map_err(|_| Fail::Error)
}

/// The `i`-th argument as an integer in `range`, or the CME "incorrect parameters" error.
pub(super) fn int_arg(
    args: &[Arg],
    i: usize,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, Fail> {
    match args.get(i).and_then(Arg::int) {
        Some(v) if range.contains(&v) => Ok(v),
        _ => Err(Fail::Cme(cme::INCORRECT_PARAMETERS)),
    }
}

/// Like [`int_arg`] but `None` when the argument is omitted.
pub(super) fn opt_int_arg(
    args: &[Arg],
    i: usize,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Option<i64>, Fail> {
    match args.get(i) {
        None | Some(Arg::Empty) => Ok(None),
        Some(_) => int_arg(args, i, range).map(Some),
    }
}

pub(super) fn str_arg(args: &[Arg], i: usize) -> Option<String> {
    args.get(i).and_then(Arg::text)
}

fn settings(m: &mut Modem, port: PortId) -> &mut PortSettings {
    &mut m.ports[port.idx()].settings
}

fn basic(
    m: &mut Modem,
    port: PortId,
    name: &str,
    value: Option<u32>,
    reply: &mut Reply,
) -> Outcome {
    let v = value.unwrap_or(0);
    let flag = |max: u32| if v <= max { Ok(v) } else { Err(Fail::Error) };
    match name {
        "E" => settings(m, port).echo = flag(1)? == 1,
        "V" => settings(m, port).verbose = flag(1)? == 1,
        "Q" => settings(m, port).quiet = flag(1)? == 1,
        "X" => {
            flag(4)?;
        }
        "L" | "M" => {
            flag(3)?;
        }
        "P" | "T" => {}
        "Z" | "&F" => {
            flag(0)?;
            let defaults = PortSettings::defaults(m.profile);
            *settings(m, port) = defaults;
        }
        "&W" => {
            flag(1)?;
        }
        "&C" => settings(m, port).amp_c = flag(1)?,
        "&D" => settings(m, port).amp_d = flag(2)?,
        "&V" => {
            let s = settings(m, port).clone();
            reply.lines(vec![
                format!(
                    "&C: {}; &D: {}; E: {}; Q: {}; V: {}; X: 4",
                    s.amp_c, s.amp_d, s.echo as u8, s.quiet as u8, s.verbose as u8
                ),
                format!(
                    "S0: {}; S3: {}; S4: {}; S5: {}; S6: {}; S7: {}; S8: {}; S10: {}; S12: {}",
                    s.sreg(0),
                    s.sreg(3),
                    s.sreg(4),
                    s.sreg(5),
                    s.sreg(6),
                    s.sreg(7),
                    s.sreg(8),
                    s.sreg(10),
                    s.sreg(12)
                ),
            ]);
        }
        "I" => {
            if v != 0 {
                return Err(Fail::Error);
            }
            let imei = m.imei.clone();
            reply.lines(
                m.profile
                    .ati
                    .iter()
                    .map(|l| l.replace("{imei}", &imei))
                    .collect(),
            );
        }
        "H" => {
            flag(0)?;
            if m.call.as_ref().is_some_and(|c| c.port == port) {
                m.end_call(CallEnd::Local);
            }
        }
        "O" => {
            flag(0)?;
            return match &m.call {
                Some(c) if c.port == port && !c.online => Ok(Done::Online),
                _ => Err(Fail::NoCarrier),
            };
        }
        "A" => return Err(Fail::NoCarrier),
        _ => return Err(Fail::Error),
    }
    Ok(Done::Ok)
}

const KNOWN_SREGS: [u32; 9] = [0, 3, 4, 5, 6, 7, 8, 10, 12];

fn sreg(m: &mut Modem, port: PortId, reg: u32, set: Option<u32>, reply: &mut Reply) -> Outcome {
    if !KNOWN_SREGS.contains(&reg) {
        return Err(Fail::Error);
    }
    let s = settings(m, port);
    match set {
        None => {
            let v = s.sreg(reg);
            reply.line(format!("{v:03}"));
        }
        Some(v) if v <= 255 && (!(3..=5).contains(&reg) || v <= 127) => {
            s.sregs.insert(reg, v);
        }
        Some(_) => return Err(Fail::Error),
    }
    Ok(Done::Ok)
}

/// `D*99[*[<address>][*[<L2P>][*[<cid>]]]]#`: a packet data call.
fn dial_cmd(m: &mut Modem, port: PortId, dial: &str, reply: &mut Reply) -> Outcome {
    let s: String = dial
        .trim_start_matches(|c: char| c.eq_ignore_ascii_case(&'T') || c.eq_ignore_ascii_case(&'P'))
        .chars()
        .filter(|c| *c != ' ')
        .collect();
    let Some(rest) = s.strip_prefix("*99").and_then(|r| r.strip_suffix('#')) else {
        // Voice or circuit-switched data: nothing answers.
        reply.pause_ms = 300;
        return Err(Fail::NoCarrier);
    };
    let cid = if rest.is_empty() {
        1
    } else {
        let Some(fields) = rest.strip_prefix('*') else {
            return Err(Fail::Error);
        };
        let parts: Vec<&str> = fields.split('*').collect();
        if parts.len() > 3 {
            return Err(Fail::Error);
        }
        if let Some(l2p) = parts.get(1) {
            if !(l2p.is_empty() || l2p.eq_ignore_ascii_case("PPP") || *l2p == "1") {
                return Err(Fail::Error);
            }
        }
        match parts.get(2) {
            None | Some(&"") => 1,
            Some(c) => match c.parse::<u8>() {
                Ok(v) => v,
                Err(_) => return Err(Fail::Error),
            },
        }
    };
    if m.call.is_some() {
        return Err(Fail::Error);
    }
    let Some(ctx) = m.contexts.get(&cid) else {
        return Err(Fail::Error);
    };
    let apn_missing = ctx.apn.is_empty();
    if !m.can_register() || !m.registered() || m.ps_detached || apn_missing {
        m.trace(format!(
            "{}: dial on cid {cid} fails: sim={:?} cfun={} stat={} apn={}",
            port.name(),
            m.sim,
            m.cfun,
            m.stat,
            if apn_missing { "none" } else { "set" }
        ));
        reply.pause_ms = 500;
        return Err(Fail::NoCarrier);
    }
    reply.pause_ms = 150;
    Ok(Done::Connect { cid })
}

/// Extended commands shared by all models, then vendor commands, then stored settings.
fn extended(m: &mut Modem, port: PortId, name: &str, op: Op, reply: &mut Reply) -> Outcome {
    match name {
        "+CMEE" => match op {
            Op::Exec => settings(m, port).cmee = 0,
            Op::Set(raw) => settings(m, port).cmee = int_arg(&args(&raw)?, 0, 0..=2)? as u8,
            Op::Read => {
                let v = settings(m, port).cmee;
                reply.line(format!("+CMEE: {v}"));
            }
            Op::Test => reply.line("+CMEE: (0-2)"),
        },
        "+CGMI" | "+GMI" => identity(op, m.profile.manufacturer, reply)?,
        "+CGMM" | "+GMM" => identity(op, m.profile.model, reply)?,
        "+CGMR" | "+GMR" => identity(op, m.profile.cgmr, reply)?,
        "+GCAP" => identity(op, "+GCAP: +CGSM", reply)?,
        "+CGSN" | "+GSN" => match op {
            Op::Exec => reply.line(m.imei.clone()),
            Op::Set(raw) if name == "+CGSN" => match int_arg(&args(&raw)?, 0, 0..=1)? {
                0 => reply.line(m.imei.clone()),
                _ => reply.line(format!("+CGSN: \"{}\"", m.imei)),
            },
            Op::Test => {}
            _ => return Err(Fail::Error),
        },
        "+CPIN" => return cpin(m, op, reply),
        "+CPINR" => return cpinr(m, op, reply),
        "+CLCK" => return clck(m, op, reply),
        "+CPWD" => return cpwd(m, op),
        "+CCID" => match (m.profile.ccid, op) {
            (CcidStyle::Unsupported, _) => return Err(Fail::Error),
            (_, Op::Test) => {}
            (style, Op::Exec | Op::Read) => {
                sim_present(m)?;
                let iccid = m.iccid.clone();
                reply.line(match style {
                    CcidStyle::Prefixed => format!("+CCID: {iccid}"),
                    _ => iccid,
                });
            }
            _ => return Err(Fail::Error),
        },
        "+CIMI" => match op {
            Op::Exec => {
                sim_ready(m)?;
                reply.line(m.imsi.clone());
            }
            Op::Test => {}
            _ => return Err(Fail::Error),
        },
        "+CNUM" => match op {
            Op::Exec => sim_ready(m)?,
            Op::Test => {}
            _ => return Err(Fail::Error),
        },
        "+CPAS" => match op {
            Op::Exec => reply.line("+CPAS: 0"),
            Op::Test => reply.line("+CPAS: (0-5)"),
            _ => return Err(Fail::Error),
        },
        "+CSQ" => match op {
            Op::Exec => {
                let (r, b) = m.csq();
                reply.line(format!("+CSQ: {r},{b}"));
            }
            Op::Test => reply.line("+CSQ: (0-31,99),(0-7,99)"),
            _ => return Err(Fail::Error),
        },
        "+CESQ" => match op {
            Op::Exec => {
                let line = match super::format::Radio::from_csq(m.csq().0) {
                    Some(r) if m.cfun == 1 => {
                        format!("+CESQ: 99,99,255,255,{},{}", r.cesq_rsrq(), r.cesq_rsrp())
                    }
                    _ => "+CESQ: 99,99,255,255,255,255".to_string(),
                };
                reply.line(line);
            }
            Op::Test => {
                reply.line("+CESQ: (0-63,99),(0-7,99),(0-96,255),(0-49,255),(0-34,255),(0-97,255)")
            }
            _ => return Err(Fail::Error),
        },
        "+CREG" => return creg(m, port, Domain::Cs, op, reply),
        "+CGREG" => return creg(m, port, Domain::Gprs, op, reply),
        "+CEREG" => return creg(m, port, Domain::Eps, op, reply),
        "+COPS" => return cops(m, port, op, reply),
        "+CFUN" => return cfun(m, op, reply),
        "+CMUX" => return cmux(m, port, op, reply),
        "+CGDCONT" => return cgdcont(m, op, reply),
        "+CGAUTH" => return cgauth(m, op, reply),
        "+CGACT" => return cgact(m, op, reply),
        "+CGATT" => match op {
            Op::Read => reply.line(format!(
                "+CGATT: {}",
                u8::from(m.registered() && !m.ps_detached)
            )),
            Op::Set(raw) => {
                let attach = int_arg(&args(&raw)?, 0, 0..=1)? == 1;
                if attach && !m.registered() {
                    reply.pause_ms = 300;
                    return Err(Fail::Cme(cme::NO_NETWORK));
                }
                m.set_ps_detached(!attach);
            }
            Op::Test => reply.line("+CGATT: (0,1)"),
            Op::Exec => return Err(Fail::Error),
        },
        "+CGPADDR" => {
            let cids: Vec<u8> = match op {
                Op::Exec => m.contexts.keys().copied().collect(),
                Op::Set(raw) => {
                    let a = args(&raw)?;
                    let mut cids = Vec::new();
                    for i in 0..a.len() {
                        cids.push(int_arg(&a, i, 1..=15)? as u8);
                    }
                    cids
                }
                Op::Test => {
                    let list: Vec<String> = m.contexts.keys().map(u8::to_string).collect();
                    reply.line(format!("+CGPADDR: ({})", list.join(",")));
                    return Ok(Done::Ok);
                }
                Op::Read => return Err(Fail::Error),
            };
            let lines: Vec<String> = cids
                .iter()
                .filter_map(|cid| m.contexts.get(cid).map(|c| (cid, c)))
                .map(|(cid, c)| {
                    let addr = if c.active {
                        c.address.as_str()
                    } else {
                        "0.0.0.0"
                    };
                    format!("+CGPADDR: {cid},\"{addr}\"")
                })
                .collect();
            if !lines.is_empty() {
                reply.lines(lines);
            }
        }
        _ if m.profile.supports(name) => return super::vendor::run(m, port, name, op, reply),
        _ => return stored_setting(m, name, op, reply),
    }
    Ok(Done::Ok)
}

fn identity(op: Op, text: &str, reply: &mut Reply) -> Result<(), Fail> {
    match op {
        Op::Exec => reply.line(text),
        Op::Test => {}
        _ => return Err(Fail::Error),
    }
    Ok(())
}

/// `AT+IPR`, `AT+CSCS`, ... and the model's own simple settings.
pub(super) fn stored_setting(m: &mut Modem, name: &str, op: Op, reply: &mut Reply) -> Outcome {
    let Some(slot) = m.settings.iter_mut().find(|(k, _)| k == name) else {
        return Err(Fail::Error);
    };
    match op {
        Op::Read => reply.line(format!("{}: {}", slot.0, slot.1)),
        Op::Set(raw) => {
            let a = args(&raw)?;
            if a.is_empty() {
                return Err(Fail::Cme(cme::INCORRECT_PARAMETERS));
            }
            slot.1 = a
                .iter()
                .map(|arg| match arg {
                    Arg::Str(s) => format!("\"{s}\""),
                    other => other.text().unwrap_or_default(),
                })
                .collect::<Vec<_>>()
                .join(",");
        }
        Op::Test | Op::Exec => {}
    }
    Ok(Done::Ok)
}

pub(super) fn sim_present(m: &Modem) -> Result<(), Fail> {
    match m.sim {
        SimState::Absent => Err(Fail::Cme(cme::SIM_NOT_INSERTED)),
        _ => Ok(()),
    }
}

pub(super) fn sim_ready(m: &Modem) -> Result<(), Fail> {
    match m.sim {
        SimState::Absent => Err(Fail::Cme(cme::SIM_NOT_INSERTED)),
        SimState::Locked => Err(Fail::Cme(cme::SIM_PIN_REQUIRED)),
        SimState::Puk => Err(Fail::Cme(cme::SIM_PUK_REQUIRED)),
        SimState::Blocked => Err(Fail::Cme(cme::SIM_FAILURE)),
        SimState::Ready => Ok(()),
    }
}

fn cpin(m: &mut Modem, op: Op, reply: &mut Reply) -> Outcome {
    match op {
        Op::Read => {
            if matches!(m.sim, SimState::Absent) {
                return Err(Fail::Cme(cme::SIM_NOT_INSERTED));
            }
            if matches!(m.sim, SimState::Blocked) {
                return Err(Fail::Cme(cme::SIM_FAILURE));
            }
            reply.line(m.cpin_line());
        }
        Op::Test => {}
        Op::Exec => return Err(Fail::Error),
        Op::Set(raw) => {
            let a = args(&raw)?;
            let code = str_arg(&a, 0).ok_or(Fail::Cme(cme::INCORRECT_PARAMETERS))?;
            let new_pin = str_arg(&a, 1);
            match m.sim {
                SimState::Absent => return Err(Fail::Cme(cme::SIM_NOT_INSERTED)),
                SimState::Blocked => return Err(Fail::Cme(cme::SIM_FAILURE)),
                SimState::Ready => return Err(Fail::Cme(cme::NOT_ALLOWED)),
                SimState::Locked => {
                    if code == m.pin {
                        m.sim = SimState::Ready;
                        m.pin_left = 3;
                        reply.pause_ms = 100;
                        m.sim_became_ready();
                    } else {
                        m.pin_left = m.pin_left.saturating_sub(1);
                        m.trace(format!("wrong PIN, {} attempts left", m.pin_left));
                        if m.pin_left == 0 {
                            m.sim = SimState::Puk;
                        }
                        return Err(Fail::Cme(cme::INCORRECT_PASSWORD));
                    }
                }
                SimState::Puk => {
                    let Some(new_pin) = new_pin.filter(|p| valid_pin(p)) else {
                        return Err(Fail::Cme(cme::SIM_PUK_REQUIRED));
                    };
                    if code == m.puk {
                        m.pin = new_pin;
                        m.sim = SimState::Ready;
                        m.pin_left = 3;
                        m.puk_left = 10;
                        m.sim_became_ready();
                    } else {
                        m.puk_left = m.puk_left.saturating_sub(1);
                        m.trace(format!("wrong PUK, {} attempts left", m.puk_left));
                        if m.puk_left == 0 {
                            m.sim = SimState::Blocked;
                        }
                        return Err(Fail::Cme(cme::INCORRECT_PASSWORD));
                    }
                }
            }
        }
    }
    Ok(Done::Ok)
}

/// 27.007 `+CPINR`: the attempts left of each SIM code, all of them for
/// `AT+CPINR`, those matching the (`*` wildcard) argument for `AT+CPINR=`.
fn cpinr(m: &mut Modem, op: Op, reply: &mut Reply) -> Outcome {
    let codes = [
        ("SIM PIN", m.pin_left, 3),
        ("SIM PUK", m.puk_left, 10),
        ("SIM PIN2", 3, 3),
        ("SIM PUK2", 10, 10),
    ];
    let wanted = match op {
        Op::Test => return Ok(Done::Ok),
        Op::Read => return Err(Fail::Error),
        Op::Exec => String::new(),
        Op::Set(raw) => str_arg(&args(&raw)?, 0)
            .unwrap_or_default()
            .to_ascii_uppercase(),
    };
    sim_present(m)?;
    let matches = |code: &str| match wanted.strip_suffix('*') {
        _ if wanted.is_empty() => true,
        Some(prefix) => code.starts_with(prefix),
        None => code == wanted,
    };
    let lines: Vec<String> = codes
        .iter()
        .filter(|(code, _, _)| matches(code))
        .map(|(code, left, default)| format!("+CPINR: \"{code}\",{left},{default}"))
        .collect();
    if lines.is_empty() {
        return Err(Fail::Cme(cme::INCORRECT_PARAMETERS));
    }
    reply.lines(lines);
    Ok(Done::Ok)
}

fn valid_pin(pin: &str) -> bool {
    (4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// Checks a PIN given to CLCK/CPWD, counting failures like CPIN does.
fn check_pin(m: &mut Modem, given: Option<String>) -> Result<(), Fail> {
    if given.as_deref() == Some(m.pin.as_str()) {
        m.pin_left = 3;
        return Ok(());
    }
    m.pin_left = m.pin_left.saturating_sub(1);
    if m.pin_left == 0 {
        m.sim = SimState::Puk;
        m.refresh_registration();
    }
    Err(Fail::Cme(cme::INCORRECT_PASSWORD))
}

fn clck(m: &mut Modem, op: Op, reply: &mut Reply) -> Outcome {
    match op {
        Op::Test => reply.line("+CLCK: (\"SC\")"),
        Op::Set(raw) => {
            let a = args(&raw)?;
            let facility = str_arg(&a, 0).unwrap_or_default().to_ascii_uppercase();
            if facility != "SC" {
                return Err(Fail::Cme(cme::NOT_SUPPORTED));
            }
            sim_ready(m)?;
            match int_arg(&a, 1, 0..=2)? {
                2 => reply.line(format!("+CLCK: {}", u8::from(m.pin_enabled))),
                mode => {
                    check_pin(m, str_arg(&a, 2))?;
                    m.pin_enabled = mode == 1;
                }
            }
        }
        _ => return Err(Fail::Error),
    }
    Ok(Done::Ok)
}

fn cpwd(m: &mut Modem, op: Op) -> Outcome {
    let Op::Set(raw) = op else {
        return if op == Op::Test {
            Ok(Done::Ok)
        } else {
            Err(Fail::Error)
        };
    };
    let a = args(&raw)?;
    if !str_arg(&a, 0)
        .unwrap_or_default()
        .eq_ignore_ascii_case("SC")
    {
        return Err(Fail::Cme(cme::NOT_SUPPORTED));
    }
    sim_ready(m)?;
    let new_pin = str_arg(&a, 2)
        .filter(|p| valid_pin(p))
        .ok_or(Fail::Cme(cme::INCORRECT_PARAMETERS))?;
    check_pin(m, str_arg(&a, 1))?;
    m.pin = new_pin;
    Ok(Done::Ok)
}

fn creg(m: &mut Modem, port: PortId, d: Domain, op: Op, reply: &mut Reply) -> Outcome {
    match op {
        Op::Exec => settings(m, port).reg_n[d.idx()] = 0,
        Op::Set(raw) => settings(m, port).reg_n[d.idx()] = int_arg(&args(&raw)?, 0, 0..=3)? as u8,
        Op::Read => {
            let n = settings(m, port).reg_n[d.idx()];
            reply.line(format!("{}: {n},{}", d.prefix(), m.reg_fields(d, n)));
        }
        Op::Test => reply.line(format!("{}: (0-3)", d.prefix())),
    }
    Ok(Done::Ok)
}

fn cops(m: &mut Modem, port: PortId, op: Op, reply: &mut Reply) -> Outcome {
    match op {
        Op::Read => {
            let format = settings(m, port).cops_format;
            if m.registered() {
                let oper = match format {
                    2 => m.plmn.clone(),
                    _ => m.operator_name.clone(),
                };
                reply.line(format!(
                    "+COPS: {},{format},\"{oper}\",{}",
                    m.cops_mode, m.profile.radio.act
                ));
            } else {
                reply.line(format!("+COPS: {}", m.cops_mode));
            }
        }
        Op::Test => {
            if m.cfun != 1 || !m.plugged {
                return Err(Fail::Cme(cme::NOT_ALLOWED));
            }
            reply.pause_ms = 1500;
            let status = if m.registered() { 2 } else { 1 };
            reply.line(format!(
                "+COPS: ({status},\"{0}\",\"{0}\",\"{1}\",{2}),,(0-4),(0-2)",
                m.operator_name, m.plmn, m.profile.radio.act
            ));
        }
        Op::Exec => return Err(Fail::Error),
        Op::Set(raw) => {
            let a = args(&raw)?;
            let mode = int_arg(&a, 0, 0..=4)? as u8;
            let format = opt_int_arg(&a, 1, 0..=2)?;
            match mode {
                3 => {
                    settings(m, port).cops_format =
                        format.ok_or(Fail::Cme(cme::INCORRECT_PARAMETERS))? as u8;
                }
                0 => {
                    if let Some(f) = format {
                        settings(m, port).cops_format = f as u8;
                    }
                    m.cops_mode = 0;
                    if m.stat == 3 || m.stat == 0 {
                        m.set_stat(0);
                    }
                    m.refresh_registration();
                }
                2 => {
                    m.cops_mode = 2;
                    m.refresh_registration();
                }
                _ => {
                    let oper = str_arg(&a, 2).ok_or(Fail::Cme(cme::INCORRECT_PARAMETERS))?;
                    let matches = oper == m.plmn || oper.eq_ignore_ascii_case(&m.operator_name);
                    if !matches {
                        reply.pause_ms = 1000;
                        if mode == 1 {
                            return Err(Fail::Cme(cme::NO_NETWORK));
                        }
                    }
                    if let Some(f) = format {
                        settings(m, port).cops_format = f as u8;
                    }
                    m.cops_mode = if mode == 4 { 0 } else { mode };
                    m.refresh_registration();
                }
            }
        }
    }
    Ok(Done::Ok)
}

fn cfun(m: &mut Modem, op: Op, reply: &mut Reply) -> Outcome {
    match op {
        Op::Read => reply.line(format!("+CFUN: {}", m.cfun)),
        Op::Test => reply.line("+CFUN: (0,1,4),(0,1)"),
        Op::Exec => return Err(Fail::Error),
        Op::Set(raw) => {
            let a = args(&raw)?;
            let fun = int_arg(&a, 0, 0..=255)? as u8;
            let reset_fun = m.profile.reset_fun == Some(fun);
            if !reset_fun && !matches!(fun, 0 | 1 | 4) {
                return Err(Fail::Cme(cme::INCORRECT_PARAMETERS));
            }
            let reset = reset_fun || opt_int_arg(&a, 1, 0..=1)?.unwrap_or(0) == 1;
            if reset {
                m.trace("reset requested: the device will re-enumerate".to_string());
                m.schedule_reset();
                return Ok(Done::Ok);
            }
            if fun != m.cfun {
                m.cfun = fun;
                reply.pause_ms = 100;
                m.refresh_registration();
            }
        }
    }
    Ok(Done::Ok)
}

const PDP_TYPES: [&str; 5] = ["IP", "IPV6", "IPV4V6", "PPP", "NON-IP"];

fn cgdcont(m: &mut Modem, op: Op, reply: &mut Reply) -> Outcome {
    match op {
        Op::Read => {
            let tail = m.profile.cgdcont_tail;
            let lines: Vec<String> = m
                .contexts
                .iter()
                .map(|(cid, c)| format!("+CGDCONT: {cid},\"{}\",\"{}\"{tail}", c.pdp_type, c.apn))
                .collect();
            if !lines.is_empty() {
                reply.lines(lines);
            }
        }
        Op::Test => reply.lines(
            ["IP", "PPP", "IPV6", "IPV4V6"]
                .iter()
                .map(|t| format!("+CGDCONT: (1-15),\"{t}\",,,(0-2),(0-4),(0,1),(0,1)"))
                .collect(),
        ),
        Op::Exec => return Err(Fail::Error),
        Op::Set(raw) => {
            let a = args(&raw)?;
            let cid = int_arg(&a, 0, 1..=15)? as u8;
            if m.contexts.get(&cid).is_some_and(|c| c.active) {
                return Err(Fail::Cme(cme::NOT_ALLOWED));
            }
            if a.len() == 1 {
                m.contexts.remove(&cid);
                return Ok(Done::Ok);
            }
            let pdp_type = str_arg(&a, 1)
                .map(|t| t.to_ascii_uppercase())
                .filter(|t| PDP_TYPES.contains(&t.as_str()))
                .ok_or(Fail::Cme(cme::INCORRECT_PARAMETERS))?;
            let apn = str_arg(&a, 2).unwrap_or_default();
            if apn.len() > 99 {
                return Err(Fail::Cme(cme::INCORRECT_PARAMETERS));
            }
            m.contexts.insert(
                cid,
                Context {
                    pdp_type,
                    apn,
                    active: false,
                    address: String::new(),
                },
            );
        }
    }
    Ok(Done::Ok)
}

/// `AT+CGAUTH`. The read form lists `<cid>,<auth_prot>,"<user>"` as 3GPP TS
/// 27.007 specifies: the password is never echoed back.
fn cgauth(m: &mut Modem, op: Op, reply: &mut Reply) -> Outcome {
    match op {
        Op::Read => {
            let lines: Vec<String> = m
                .contexts
                .keys()
                .map(|cid| {
                    let auth = m.auth.get(cid).cloned().unwrap_or_default();
                    format!("+CGAUTH: {cid},{},\"{}\"", auth.protocol, auth.user)
                })
                .collect();
            if !lines.is_empty() {
                reply.lines(lines);
            }
        }
        Op::Test => reply.line("+CGAUTH: (1-15),(0-3),(64),(64)"),
        Op::Exec => return Err(Fail::Error),
        Op::Set(raw) => {
            let a = args(&raw)?;
            let cid = int_arg(&a, 0, 1..=15)? as u8;
            let protocol = opt_int_arg(&a, 1, 0..=3)?.unwrap_or(0) as u8;
            let (first, second) = (
                str_arg(&a, 2).unwrap_or_default(),
                str_arg(&a, 3).unwrap_or_default(),
            );
            let (user, password) = match m.profile.cgauth_order {
                CgauthOrder::UserPass => (first, second),
                CgauthOrder::PassUser => (second, first),
            };
            if user.len() > 64 || password.len() > 64 {
                return Err(Fail::Cme(cme::INCORRECT_PARAMETERS));
            }
            let auth = if protocol == 0 {
                super::Auth::default()
            } else {
                super::Auth {
                    protocol,
                    user,
                    password,
                }
            };
            m.auth.insert(cid, auth);
        }
    }
    Ok(Done::Ok)
}

fn cgact(m: &mut Modem, op: Op, reply: &mut Reply) -> Outcome {
    match op {
        Op::Read => {
            let lines: Vec<String> = m
                .contexts
                .iter()
                .map(|(cid, c)| format!("+CGACT: {cid},{}", u8::from(c.active)))
                .collect();
            if !lines.is_empty() {
                reply.lines(lines);
            }
        }
        Op::Test => reply.line("+CGACT: (0,1)"),
        Op::Exec => return Err(Fail::Error),
        Op::Set(raw) => {
            let a = args(&raw)?;
            let state = int_arg(&a, 0, 0..=1)? == 1;
            let mut cids = Vec::new();
            for i in 1..a.len() {
                cids.push(int_arg(&a, i, 1..=15)? as u8);
            }
            if cids.is_empty() {
                cids = m.contexts.keys().copied().collect();
            }
            for cid in cids {
                let in_call = m.call.as_ref().is_some_and(|c| c.cid == cid);
                let Some(ctx) = m.contexts.get(&cid) else {
                    return Err(Fail::Cme(cme::INCORRECT_PARAMETERS));
                };
                if state {
                    if ctx.active {
                        continue;
                    }
                    if !m.registered() || m.ps_detached {
                        reply.pause_ms = 500;
                        return Err(Fail::Cme(cme::NO_NETWORK));
                    }
                    if ctx.apn.is_empty() {
                        reply.pause_ms = 500;
                        return Err(Fail::Cme(cme::GPRS_UNSPECIFIED));
                    }
                    m.activate_context(cid);
                    reply.pause_ms = 200;
                } else if in_call {
                    m.end_call(CallEnd::NoCarrier);
                } else if let Some(ctx) = m.contexts.get_mut(&cid) {
                    ctx.active = false;
                    ctx.address.clear();
                }
            }
        }
    }
    Ok(Done::Ok)
}

/// AT+CMUX (3GPP TS 27.007): `AT+CMUX=0[,<subset>[,<port_speed>[,<N1>...]]]`
/// answers OK, then the port speaks 27.010 basic mode (the I/O layer's
/// [`crate::mux::Uart`] does the framing). Only the basic option (mode 0)
/// and UIH frames (subset 0) are offered; N1 defaults to 31, the standard's
/// basic-mode default. The parameters after N1 are checked for range only.
/// Only a modem on one serial line (`--uart`) has it, on its primary port.
fn cmux(m: &mut Modem, port: PortId, op: Op, reply: &mut Reply) -> Outcome {
    if !m.uart || port != PortId::At {
        return Err(Fail::Error);
    }
    match op {
        Op::Set(raw) => {
            let a = args(&raw)?;
            int_arg(&a, 0, 0..=0)?;
            opt_int_arg(&a, 1, 0..=0)?;
            opt_int_arg(&a, 2, 1..=7)?;
            let n1 = opt_int_arg(&a, 3, 1..=32768)?.unwrap_or(31) as usize;
            opt_int_arg(&a, 4, 1..=255)?;
            opt_int_arg(&a, 5, 0..=100)?;
            opt_int_arg(&a, 6, 2..=255)?;
            opt_int_arg(&a, 7, 1..=255)?;
            opt_int_arg(&a, 8, 1..=7)?;
            m.cmux_n1 = Some(n1);
            m.trace(format!(
                "{}: entering CMUX basic mode, N1 {n1}",
                port.name()
            ));
            // A consequence: after the OK, which still goes out unframed.
            m.effects.push(super::Effect::Mux { port, max_info: n1 });
        }
        Op::Read => match m.cmux_n1 {
            Some(n1) => reply.line(format!("+CMUX: 0,0,5,{n1},10,3,30,10,2")),
            None => return Err(Fail::Error),
        },
        Op::Test => {
            reply.line("+CMUX: (0),(0),(1-7),(1-32768),(1-255),(0-100),(2-255),(1-255),(1-7)")
        }
        Op::Exec => return Err(Fail::Error),
    }
    Ok(Done::Ok)
}
