//! Vendor commands (Quectel `+Q...`, SIMCom `+C...`, Telit `#CCID`, Huawei
//! `^ICCID`; `#WS46`, `+URAT` and `^SYSCFGEX` are stored settings). Only reached for
//! commands the model's profile lists; the formats come from the profile's
//! radio description, so no code here asks which model it is.

use super::commands::{args, int_arg, opt_int_arg, sim_present, sim_ready, str_arg, Reply};
use super::format::cme;
use super::{Done, Fail, Modem, Outcome, PortId};
use crate::at::{Arg, Op};
use crate::profile::{CpsiUnits, UsbNet, UsbNetFamily};

pub(super) fn run(m: &mut Modem, port: PortId, name: &str, op: Op, reply: &mut Reply) -> Outcome {
    match name {
        "+QCCID" | "+CICCID" => match op {
            Op::Exec => {
                sim_present(m)?;
                let prefix = if name == "+QCCID" { "+QCCID" } else { "+ICCID" };
                reply.line(format!("{prefix}: {}", m.iccid));
            }
            Op::Test => {}
            _ => return Err(Fail::Error),
        },
        // Telit: `AT#CCID` → `#CCID: 89...`.
        "#CCID" => match op {
            Op::Exec | Op::Read => {
                sim_present(m)?;
                reply.line(format!("#CCID: {}", m.iccid));
            }
            Op::Test => {}
            Op::Set(_) => return Err(Fail::Error),
        },
        // Huawei: `AT^ICCID?` → `^ICCID: 98...`, the SIM's EF_ICCID as stored,
        // each pair of digits swapped (a 19-digit ICCID padded with F first).
        "^ICCID" => match op {
            Op::Read => {
                sim_present(m)?;
                reply.line(format!("^ICCID: {}", swapped_iccid(&m.iccid)));
            }
            Op::Test => {}
            _ => return Err(Fail::Error),
        },
        "+QGMR" => match op {
            Op::Exec => reply.line(m.profile.qgmr),
            Op::Test => {}
            _ => return Err(Fail::Error),
        },
        "+QNWINFO" => match op {
            Op::Exec => {
                let r = &m.profile.radio;
                reply.line(if m.registered() {
                    format!(
                        "+QNWINFO: \"{}\",\"{}\",\"{}\",{}",
                        r.qnwinfo_act, m.plmn, r.qnwinfo_band, r.earfcn
                    )
                } else {
                    "+QNWINFO: No Service".to_string()
                });
            }
            Op::Test => {}
            _ => return Err(Fail::Error),
        },
        "+QCSQ" => match op {
            Op::Exec => {
                reply.line(match m.radio() {
                    Some(r) => format!(
                        "+QCSQ: \"{}\",{},{},{},{}",
                        m.profile.radio.qcsq_mode,
                        r.rssi_dbm,
                        r.rsrp_dbm,
                        r.qcsq_sinr(),
                        r.rsrq_db
                    ),
                    None => "+QCSQ: \"NOSERVICE\"".to_string(),
                });
            }
            Op::Test => reply.line(format!(
                "+QCSQ: \"NOSERVICE\",\"{}\"",
                m.profile.radio.qcsq_mode
            )),
            _ => return Err(Fail::Error),
        },
        // Quectel: the last network time, `+QLTS: "yyyy/MM/dd,hh:mm:ss±zz,d"`
        // (the simulated network's time is the host's, in UTC, zone +00);
        // `+QLTS: ""` before the modem has registered once.
        "+QLTS" => match op {
            Op::Exec => {
                if m.registered() {
                    reply.line(format!("+QLTS: \"{}+00,0\"", network_time()));
                } else {
                    reply.line("+QLTS: \"\"");
                }
            }
            Op::Set(raw) => {
                int_arg(&args(&raw)?, 0, 0..=2)?;
                reply.line(format!("+QLTS: \"{}+00,0\"", network_time()));
            }
            Op::Test => reply.line("+QLTS: (0-2)"),
            Op::Read => return Err(Fail::Error),
        },
        "+QSPN" => match op {
            Op::Exec => {
                sim_ready(m)?;
                if !m.registered() {
                    return Err(Fail::Cme(cme::NO_NETWORK));
                }
                reply.line(format!(
                    "+QSPN: \"{0}\",\"{0}\",\"\",0,\"{1}\"",
                    m.operator_name, m.plmn
                ));
            }
            Op::Test => {}
            _ => return Err(Fail::Error),
        },
        "+QINDCFG" => return qindcfg(m, op, reply),
        "+QCFG" => return qcfg(m, op, reply),
        "+QPINC" => {
            let sc = format!("+QPINC: \"SC\",{},{}", m.pin_left, m.puk_left);
            let p2 = "+QPINC: \"P2\",3,10".to_string();
            match op {
                Op::Read => reply.lines(vec![sc, p2]),
                Op::Test => reply.line("+QPINC: (\"SC\",\"P2\")"),
                Op::Set(raw) => {
                    sim_present(m)?;
                    match str_arg(&args(&raw)?, 0)
                        .map(|f| f.to_ascii_uppercase())
                        .as_deref()
                    {
                        Some("SC") => reply.line(sc),
                        Some("P2") => reply.line(p2),
                        _ => return Err(Fail::Cme(cme::INCORRECT_PARAMETERS)),
                    }
                }
                Op::Exec => return Err(Fail::Error),
            }
        }
        "+QURCCFG" => {
            let Op::Set(raw) = op else {
                return if op == Op::Test {
                    reply.line("+QURCCFG: \"urcport\",(\"usbat\",\"usbmodem\",\"uart1\")");
                    Ok(Done::Ok)
                } else {
                    Err(Fail::Error)
                };
            };
            let a = args(&raw)?;
            if !str_arg(&a, 0).is_some_and(|k| k.eq_ignore_ascii_case("urcport")) {
                return Err(Fail::Cme(cme::INCORRECT_PARAMETERS));
            }
            match str_arg(&a, 1).map(|v| v.to_ascii_lowercase()).as_deref() {
                None => {
                    let name = match m.urc_port {
                        Some(PortId::At) => "usbat",
                        Some(PortId::Ppp) => "usbmodem",
                        None => "uart1",
                    };
                    reply.line(format!("+QURCCFG: \"urcport\",\"{name}\""));
                }
                Some("usbat") => m.urc_port = Some(PortId::At),
                Some("usbmodem") => m.urc_port = Some(PortId::Ppp),
                Some("uart1") => m.urc_port = None,
                Some(_) => return Err(Fail::Cme(cme::INCORRECT_PARAMETERS)),
            }
        }
        "+QSIMSTAT" => match op {
            Op::Read => reply.line(format!(
                "+QSIMSTAT: {},{}",
                u8::from(m.qsimstat),
                u8::from(m.sim != super::SimState::Absent)
            )),
            Op::Set(raw) => m.qsimstat = int_arg(&args(&raw)?, 0, 0..=1)? == 1,
            Op::Test => reply.line("+QSIMSTAT: (0,1)"),
            Op::Exec => return Err(Fail::Error),
        },
        "+QPOWD" => {
            match op {
                Op::Exec => {}
                Op::Set(raw) => {
                    int_arg(&args(&raw)?, 0, 0..=1)?;
                }
                Op::Test => return Ok(Done::Ok),
                Op::Read => return Err(Fail::Error),
            }
            m.trace("power down requested".to_string());
            m.defer_urc(100, "POWERED DOWN");
            m.unplug_due = Some(m.now + 300);
            m.replug_due = None;
        }
        "+CPSI" => match op {
            Op::Read => reply.line(cpsi(m)),
            Op::Set(raw) => {
                int_arg(&args(&raw)?, 0, 0..=255)?;
            }
            Op::Test => reply.line("+CPSI: (0-255)"),
            Op::Exec => return Err(Fail::Error),
        },
        "+CNSMOD" => match op {
            Op::Read => {
                let n = u8::from(m.ports[port.idx()].settings.cnsmod_urc);
                reply.line(format!("+CNSMOD: {n},{}", m.cnsmod()));
            }
            Op::Set(raw) => {
                m.ports[port.idx()].settings.cnsmod_urc = int_arg(&args(&raw)?, 0, 0..=1)? == 1;
            }
            Op::Test => reply.line("+CNSMOD: (0-1)"),
            Op::Exec => return Err(Fail::Error),
        },
        "+AUTOCSQ" => match op {
            Op::Read => {
                let (on, mode) = match m.ports[port.idx()].settings.autocsq {
                    Some(mode) => (1, mode),
                    None => (0, 0),
                };
                reply.line(format!("+AUTOCSQ: {on},{mode}"));
            }
            Op::Set(raw) => {
                let a = args(&raw)?;
                let on = int_arg(&a, 0, 0..=1)? == 1;
                let mode = opt_int_arg(&a, 1, 0..=1)?.unwrap_or(0) as u8;
                m.ports[port.idx()].settings.autocsq = on.then_some(mode);
                if on && mode == 0 && m.autocsq_due.is_none() {
                    m.autocsq_due = Some(m.now + super::AUTOCSQ_PERIOD_MS);
                }
            }
            Op::Test => reply.line("+AUTOCSQ: (0-1),(0-1)"),
            Op::Exec => return Err(Fail::Error),
        },
        "+CSPN" => match op {
            Op::Read => {
                sim_ready(m)?;
                reply.line(format!("+CSPN: \"{}\",0", m.operator_name));
            }
            Op::Test => {}
            _ => return Err(Fail::Error),
        },
        "+SPIC" => match op {
            Op::Exec => {
                sim_present(m)?;
                reply.line(format!("+SPIC: {},{},3,10", m.pin_left, m.puk_left));
            }
            Op::Test => {}
            _ => return Err(Fail::Error),
        },
        "+QNETDEVCTL" => return qnetdevctl(m, op, reply),
        "+CUSBPIDSWITCH" => return cusbpidswitch(m, op, reply),
        "$QCRMCALL" => return qcrmcall(m, op, reply),
        "+UUSBCONF" => return uusbconf(m, op, reply),
        "#USBCFG" => return usbcfg(m, op, reply),
        "#ECM" => return ecm(m, op, reply),
        "#ECMD" => match op {
            Op::Set(raw) => {
                int_arg(&args(&raw)?, 0, 0..=0)?;
                if let Some(cid) = m.net_call {
                    m.net_down(cid);
                }
            }
            Op::Test => reply.line("#ECMD: (0)"),
            _ => return Err(Fail::Error),
        },
        "#REBOOT" => match op {
            Op::Exec => {
                m.trace("reboot requested: the device will re-enumerate".to_string());
                m.schedule_reset();
            }
            Op::Test => {}
            _ => return Err(Fail::Error),
        },
        "+CRESET" => match op {
            Op::Exec => {
                m.trace("reset requested: the device will re-enumerate".to_string());
                m.schedule_reset();
            }
            Op::Test => {}
            _ => return Err(Fail::Error),
        },
        // Stored model settings (+CNMP, +CMNB) are listed as vendor commands
        // by the profile and kept in the settings table.
        _ => return super::commands::stored_setting(m, name, op, reply),
    }
    Ok(Done::Ok)
}

/// An ICCID as a SIM stores it in EF_ICCID: padded with `F` to an even
/// length, then the two digits of each byte swapped.
///
/// ```text
/// 89014103211118510720 -> 98101430121181157002
/// 8988228000001234567  -> 988822080000214365F7
/// ```
fn swapped_iccid(iccid: &str) -> String {
    let mut digits: Vec<char> = iccid.chars().collect();
    if digits.len() % 2 == 1 {
        digits.push('F');
    }
    digits.chunks(2).flat_map(|p| p.iter().rev()).collect()
}

/// `AT+QINDCFG="<type>"[,<enable>[,<save>]]`: only "csq" has an effect.
fn qindcfg(m: &mut Modem, op: Op, reply: &mut Reply) -> Outcome {
    const TYPES: [&str; 7] = [
        "all",
        "csq",
        "smsincoming",
        "act",
        "ring",
        "smsfull",
        "service",
    ];
    match op {
        Op::Test => reply.line(
            "+QINDCFG: (\"all\",\"csq\",\"smsincoming\",\"act\",\"ring\",\"smsfull\",\"service\"),(0,1),(0,1)",
        ),
        Op::Set(raw) => {
            let a = args(&raw)?;
            let kind = str_arg(&a, 0)
                .map(|k| k.to_ascii_lowercase())
                .filter(|k| TYPES.contains(&k.as_str()))
                .ok_or(Fail::Cme(cme::INCORRECT_PARAMETERS))?;
            match opt_int_arg(&a, 1, 0..=1)? {
                None => {
                    let on = match kind.as_str() {
                        "csq" => m.qind_csq,
                        "all" => true,
                        _ => false,
                    };
                    reply.line(format!("+QINDCFG: \"{kind}\",{}", u8::from(on)));
                }
                Some(v) => {
                    opt_int_arg(&a, 2, 0..=1)?;
                    if kind == "csq" || kind == "all" {
                        m.qind_csq = v == 1;
                    }
                }
            }
        }
        _ => return Err(Fail::Error),
    }
    Ok(Done::Ok)
}

/// The model's composition switch if it belongs to `family`.
fn usbnet_of(m: &Modem, family: UsbNetFamily) -> Option<UsbNet> {
    m.profile.usbnet.filter(|u| u.family == family)
}

/// `AT+QCFG="<key>"[,<values>]`: reads or stores one of the profile's keys
/// (`"usbnet"` on the models that can switch their composition).
fn qcfg(m: &mut Modem, op: Op, reply: &mut Reply) -> Outcome {
    let usbnet = usbnet_of(m, UsbNetFamily::Quectel);
    match op {
        Op::Test => {
            let mut lines: Vec<String> = m
                .qcfg
                .iter()
                .map(|(k, _)| format!("+QCFG: \"{k}\""))
                .collect();
            if usbnet.is_some() {
                lines.push("+QCFG: \"usbnet\",(0-3)".to_string());
            }
            reply.lines(lines);
        }
        Op::Set(raw) => {
            let a = args(&raw)?;
            let key = str_arg(&a, 0)
                .map(|k| k.to_ascii_lowercase())
                .ok_or(Fail::Cme(cme::INCORRECT_PARAMETERS))?;
            if let (Some(u), "usbnet") = (usbnet, key.as_str()) {
                // The stored setting: it takes effect at the next reset.
                match opt_int_arg(&a, 1, 0..=u16::MAX.into())? {
                    None => {
                        let code = u.by_composition(m.usbnet).map_or(0, |mode| mode.code);
                        reply.line(format!("+QCFG: \"usbnet\",{code}"));
                    }
                    Some(code) => {
                        let mode = u
                            .by_code(code as u16)
                            .ok_or(Fail::Cme(cme::INCORRECT_PARAMETERS))?;
                        m.store_usbnet(mode.composition);
                    }
                }
                return Ok(Done::Ok);
            }
            let Some(slot) = m.qcfg.iter_mut().find(|(k, _)| *k == key) else {
                return Err(Fail::Cme(cme::INCORRECT_PARAMETERS));
            };
            let values: Vec<String> = a[1..]
                .iter()
                .map(|arg| match arg {
                    crate::at::Arg::Str(s) => format!("\"{s}\""),
                    other => other.text().unwrap_or_default(),
                })
                .collect();
            if values.is_empty() {
                reply.line(format!("+QCFG: \"{}\",{}", slot.0, slot.1));
            } else {
                // The last value of the nwscanmode/roamservice forms is the
                // "take effect immediately" flag, not part of the setting.
                let keep = if values.len() > 1 {
                    values.len() - 1
                } else {
                    1
                };
                slot.1 = values[..keep].join(",");
            }
        }
        _ => return Err(Fail::Error),
    }
    Ok(Done::Ok)
}

/// `+CPSI:` in the model's system-mode naming and units.
fn cpsi(m: &Modem) -> String {
    if m.cfun != 1 {
        return "+CPSI: NO SERVICE,Low Power Mode".to_string();
    }
    let Some(r) = m.radio() else {
        return "+CPSI: NO SERVICE,Online".to_string();
    };
    let radio = &m.profile.radio;
    let (mcc, mnc) = m.plmn.split_at(3.min(m.plmn.len()));
    let (rsrq, rsrp, rssi) = match radio.cpsi_units {
        CpsiUnits::Tenths => (r.rsrq_db * 10, r.rsrp_dbm * 10, r.rssi_dbm * 10),
        CpsiUnits::Whole => (r.rsrq_db, r.rsrp_dbm, r.rssi_dbm),
    };
    format!(
        "+CPSI: {},Online,{mcc}-{mnc},0x{:04X},{},{},{},{},{},{},{rsrq},{rsrp},{rssi},{}",
        radio.cpsi_mode,
        m.lac,
        m.cell_id,
        m.pci,
        radio.cpsi_band,
        radio.earfcn,
        radio.cpsi_bw,
        radio.cpsi_bw,
        r.sinr_db
    )
}

/// The host's UTC time as `yyyy/MM/dd,hh:mm:ss` (no time zone suffix).
fn network_time() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, mo, d) = civil_from_days(days);
    format!(
        "{y:04}/{mo:02}/{d:02},{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shifted so that the year starts in March (the leap day comes last).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

/// Quectel `AT+QNETDEVCTL=<op>,<cid>,<urc_en>`: the data call on the ECM,
/// RNDIS or MBIM interface; `AT+QNETDEVCTL?` →
/// `+QNETDEVCTL: <op>,<cid>,<urc_en>,<state>`.
fn qnetdevctl(m: &mut Modem, op: Op, reply: &mut Reply) -> Outcome {
    if usbnet_of(m, UsbNetFamily::Quectel).is_none() {
        return Err(Fail::Error);
    }
    match op {
        Op::Read => {
            let (o, cid, urc) = m.qnetdevctl;
            let state = u8::from(m.net_call_up() == Some(cid));
            reply.line(format!("+QNETDEVCTL: {o},{cid},{urc},{state}"));
        }
        Op::Test => reply.line("+QNETDEVCTL: (0-3),(1-15),(0,1)"),
        Op::Set(raw) => {
            let a = args(&raw)?;
            let o = int_arg(&a, 0, 0..=3)? as u8;
            let cid = int_arg(&a, 1, 1..=15)? as u8;
            let urc = opt_int_arg(&a, 2, 0..=1)?.unwrap_or(0) as u8;
            // 1 and 3 connect (3: and reconnect), 0 and 2 disconnect.
            if o % 2 == 1 {
                reply.pause_ms = 200;
                m.net_up(cid)?;
            } else {
                m.net_down(cid);
            }
            m.qnetdevctl = (o, cid, urc);
        }
        Op::Exec => return Err(Fail::Error),
    }
    Ok(Done::Ok)
}

/// SIMCom `AT+CUSBPIDSWITCH=<pid>,<save>,<reset>`: the product id names the
/// composition; with `<reset>` 1 the modem resets by itself after OK.
fn cusbpidswitch(m: &mut Modem, op: Op, reply: &mut Reply) -> Outcome {
    let Some(u) = usbnet_of(m, UsbNetFamily::SimcomPid) else {
        return Err(Fail::Error);
    };
    match op {
        Op::Read => {
            let pid = m.profile.pid(m.composition);
            reply.line(format!("+CUSBPIDSWITCH: {pid:04X}"));
        }
        Op::Test => {
            let pids: Vec<String> = u
                .modes
                .iter()
                .map(|mode| format!("{:04X}", mode.code))
                .collect();
            reply.line(format!("+CUSBPIDSWITCH: ({}),(0,1),(0,1)", pids.join(",")));
        }
        Op::Set(raw) => {
            let a = args(&raw)?;
            let pid = a
                .first()
                .and_then(Arg::text)
                .and_then(|t| u16::from_str_radix(t.trim_matches('"'), 16).ok())
                .and_then(|pid| u.by_code(pid))
                .ok_or(Fail::Cme(cme::INCORRECT_PARAMETERS))?;
            opt_int_arg(&a, 1, 0..=1)?;
            let reset = opt_int_arg(&a, 2, 0..=1)?.unwrap_or(0) == 1;
            m.store_usbnet(pid.composition);
            if reset {
                m.trace("PID switch: the device will re-enumerate".to_string());
                m.schedule_reset();
            }
        }
        Op::Exec => return Err(Fail::Error),
    }
    Ok(Done::Ok)
}

/// SIMCom `AT$QCRMCALL=<action>,<cid>[,<type>]`: the data call on the
/// network interface; `$QCRMCALL: 1,V4` while it is up.
fn qcrmcall(m: &mut Modem, op: Op, reply: &mut Reply) -> Outcome {
    match op {
        Op::Read => {
            if m.net_call_up().is_some() {
                reply.line("$QCRMCALL: 1,V4");
            }
        }
        Op::Test => reply.line("$QCRMCALL: (0,1),(1-15),(1-3)"),
        Op::Set(raw) => {
            let a = args(&raw)?;
            let up = int_arg(&a, 0, 0..=1)? == 1;
            let cid = opt_int_arg(&a, 1, 1..=15)?.unwrap_or(1) as u8;
            opt_int_arg(&a, 2, 1..=3)?;
            if up {
                reply.pause_ms = 200;
                m.net_up(cid)?;
                reply.line("$QCRMCALL: 1,V4");
            } else {
                m.net_down(cid);
            }
        }
        Op::Exec => return Err(Fail::Error),
    }
    Ok(Done::Ok)
}

/// u-blox `AT+UUSBCONF=<id>[,"<name>"]`: stored, active after the next reset;
/// `AT+UUSBCONF?` → `+UUSBCONF: <id>,"<name>",,"0x<pid>"`.
fn uusbconf(m: &mut Modem, op: Op, reply: &mut Reply) -> Outcome {
    let Some(u) = usbnet_of(m, UsbNetFamily::Ublox) else {
        return Err(Fail::Error);
    };
    match op {
        Op::Read => {
            let mode = u
                .by_composition(m.usbnet)
                .ok_or(Fail::Cme(cme::PHONE_FAILURE))?;
            let pid = m.profile.pid(mode.composition);
            reply.line(format!(
                "+UUSBCONF: {},\"{}\",,\"0x{pid:04X}\"",
                mode.code, mode.label
            ));
        }
        Op::Test => {
            let ids: Vec<String> = u.modes.iter().map(|mode| mode.code.to_string()).collect();
            reply.line(format!("+UUSBCONF: ({}),,", ids.join(",")));
        }
        Op::Set(raw) => {
            let a = args(&raw)?;
            let mode = u
                .by_code(int_arg(&a, 0, 0..=u16::MAX.into())? as u16)
                .ok_or(Fail::Cme(cme::INCORRECT_PARAMETERS))?;
            if let Some(name) = str_arg(&a, 1) {
                if !name.eq_ignore_ascii_case(mode.label) {
                    return Err(Fail::Cme(cme::INCORRECT_PARAMETERS));
                }
            }
            m.store_usbnet(mode.composition);
        }
        Op::Exec => return Err(Fail::Error),
    }
    Ok(Done::Ok)
}

/// Telit `AT#USBCFG=<mode>`: stored, active after `AT#REBOOT`.
fn usbcfg(m: &mut Modem, op: Op, reply: &mut Reply) -> Outcome {
    let Some(u) = usbnet_of(m, UsbNetFamily::Telit) else {
        return Err(Fail::Error);
    };
    match op {
        Op::Read => {
            let code = u.by_composition(m.usbnet).map_or(0, |mode| mode.code);
            reply.line(format!("#USBCFG: {code}"));
        }
        Op::Test => {
            let codes: Vec<String> = u.modes.iter().map(|mode| mode.code.to_string()).collect();
            reply.line(format!("#USBCFG: ({})", codes.join(",")));
        }
        Op::Set(raw) => {
            let mode = u
                .by_code(int_arg(&args(&raw)?, 0, 0..=u16::MAX.into())? as u16)
                .ok_or(Fail::Cme(cme::INCORRECT_PARAMETERS))?;
            m.store_usbnet(mode.composition);
        }
        Op::Exec => return Err(Fail::Error),
    }
    Ok(Done::Ok)
}

/// Telit `AT#ECM=<ctx>,<mode>`: the data call on the ECM/RNDIS/MBIM
/// interface over context 1 (`<ctx>` is the Telit socket profile, 1..5);
/// `AT#ECM?` → `#ECM: 0,<1 up|0 down>`.
fn ecm(m: &mut Modem, op: Op, reply: &mut Reply) -> Outcome {
    if usbnet_of(m, UsbNetFamily::Telit).is_none() {
        return Err(Fail::Error);
    }
    match op {
        Op::Read => {
            let up = u8::from(m.net_call_up().is_some());
            reply.line(format!("#ECM: 0,{up}"));
        }
        Op::Test => reply.line("#ECM: (1-5),(0),,,"),
        Op::Set(raw) => {
            let a = args(&raw)?;
            int_arg(&a, 0, 1..=5)?;
            opt_int_arg(&a, 1, 0..=0)?;
            reply.pause_ms = 200;
            m.net_up(1)?;
        }
        Op::Exec => return Err(Fail::Error),
    }
    Ok(Done::Ok)
}

#[cfg(test)]
mod time_tests {
    use super::civil_from_days;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_789), (2026, 12, 2));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }
}
