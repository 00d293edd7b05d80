//! Vendor commands (Quectel `+Q...`, SIMCom `+C...`, Telit `#CCID`, Huawei
//! `^ICCID`; `#WS46`, `+URAT` and `^SYSCFGEX` are stored settings). Only reached for
//! commands the model's profile lists; the formats come from the profile's
//! radio description, so no code here asks which model it is.

use super::commands::{args, int_arg, opt_int_arg, sim_present, sim_ready, str_arg, Reply};
use super::format::cme;
use super::{Done, Fail, Modem, Outcome, PortId};
use crate::at::Op;
use crate::profile::CpsiUnits;

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

/// `AT+QCFG="<key>"[,<values>]`: reads or stores one of the profile's keys.
fn qcfg(m: &mut Modem, op: Op, reply: &mut Reply) -> Outcome {
    match op {
        Op::Test => {
            let lines = m
                .qcfg
                .iter()
                .map(|(k, _)| format!("+QCFG: \"{k}\""))
                .collect();
            reply.lines(lines);
        }
        Op::Set(raw) => {
            let a = args(&raw)?;
            let key = str_arg(&a, 0)
                .map(|k| k.to_ascii_lowercase())
                .ok_or(Fail::Cme(cme::INCORRECT_PARAMETERS))?;
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
