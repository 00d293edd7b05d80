//! The control language: one command per line, from stdin or (with a time in
//! front) from a scenario file.
//!
//! ```
//! use cellular_sim::control::{parse_control, parse_scenario, Control, RegTarget, SimAction};
//! use cellular_sim::profile::Composition;
//!
//! assert_eq!(parse_control("sim remove"), Ok(Control::Sim(SimAction::Remove)));
//! assert_eq!(parse_control("reg denied 15"), Ok(Control::Reg(RegTarget::Denied(15))));
//! // Store a USB composition and reset: the modem re-enumerates with it
//! // (`serial`, `rmnet`, `ecm`, `rndis`, `mbim`, as far as the model has it).
//! assert_eq!(parse_control("usbnet ecm"), Ok(Control::UsbNet(Composition::Ecm)));
//!
//! let lines = parse_scenario("# boot, then lose the SIM\n5s sim remove\n2500ms reg denied 3\n", 1.0).unwrap();
//! assert_eq!(lines, vec![
//!     (2500, Control::Reg(RegTarget::Denied(3))),
//!     (5000, Control::Sim(SimAction::Remove)),
//! ]);
//! // --time-scale multiplies scenario times.
//! assert_eq!(parse_scenario("5s quit", 0.1).unwrap(), vec![(500, Control::Quit)]);
//! assert!(parse_scenario("5s explode", 1.0).unwrap_err().contains("line 1"));
//! ```

use crate::modem::PortId;
use crate::profile::Composition;
use std::fmt;

/// SIM card events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimAction {
    /// Pull the card out.
    Remove,
    /// Put it back (locked again if its PIN is enabled).
    Insert,
    /// Enable the PIN and lock the card now.
    Lock,
    /// Unlock the card (as if the right PIN was entered).
    Ready,
}

/// Where the network lets the modem register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegTarget {
    Home,
    Roaming,
    /// Keep searching forever (`<stat>` 2).
    Searching,
    /// Registration denied (`<stat>` 3) with a reject cause (24.008 cause, e.g. 15).
    Denied(u16),
    /// Not registered and not searching (`<stat>` 0).
    None,
}

impl RegTarget {
    /// The `<stat>` of +CREG/+CGREG/+CEREG this target ends in.
    pub fn stat(self) -> u8 {
        match self {
            RegTarget::Home => 1,
            RegTarget::Roaming => 5,
            RegTarget::Searching => 2,
            RegTarget::Denied(_) => 3,
            RegTarget::None => 0,
        }
    }

    /// Parses `home`, `roaming`, `searching`, `denied`, `none`.
    pub fn parse(word: &str) -> Option<RegTarget> {
        match word {
            "home" => Some(RegTarget::Home),
            "roaming" => Some(RegTarget::Roaming),
            "searching" => Some(RegTarget::Searching),
            "denied" => Some(RegTarget::Denied(DEFAULT_REJECT_CAUSE)),
            "none" => Some(RegTarget::None),
            _ => None,
        }
    }
}

/// Reject cause used by `reg denied` without a number: 15, "no suitable cells in tracking area".
pub const DEFAULT_REJECT_CAUSE: u16 = 15;

/// How the simulator splits what it writes to a pty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FragmentMode {
    /// One write per response.
    None,
    /// Random chunks with tiny random pauses between them.
    Random,
    /// One byte per write.
    EveryByte,
}

impl FragmentMode {
    pub fn parse(word: &str) -> Option<FragmentMode> {
        match word {
            "none" => Some(FragmentMode::None),
            "random" => Some(FragmentMode::Random),
            "every-byte" => Some(FragmentMode::EveryByte),
            _ => None,
        }
    }
}

impl fmt::Display for FragmentMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FragmentMode::None => "none",
            FragmentMode::Random => "random",
            FragmentMode::EveryByte => "every-byte",
        })
    }
}

/// One control command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    Sim(SimAction),
    Reg(RegTarget),
    /// Set the signal: CSQ `<rssi>` 0..31 or 99, optional `<ber>` 0..7 or 99.
    Signal {
        rssi: u8,
        ber: Option<u8>,
    },
    /// Turn the slow random walk of the signal on or off.
    SignalAuto(bool),
    /// Change the network: PLMN (MCC+MNC) and an optional long name.
    Operator {
        plmn: String,
        name: Option<String>,
    },
    /// Stop answering anything (`true`) or answer again.
    Mute(bool),
    /// Delay every response by this many milliseconds.
    Delay(u64),
    /// Hold everything the modem writes (`true`); on `false` write what was
    /// held at once, in order (a stalled USB link that catches up).
    Stall(bool),
    /// Write this many random non-line bytes on the at port.
    Garbage(usize),
    /// Write this many unsolicited `+CME ERROR:` lines on the at port.
    CmeStorm(usize),
    /// Write this many unsolicited `+CEREG: 1,"<tac>","<ci>",7` lines on the
    /// at port, each naming another cell: a storm of cell changes.
    CellStorm(usize),
    /// Write one arbitrary line on the at port.
    Urc(String),
    /// Write this many ordinary lines (`+FLOOD: <n> xxx…`, each `bytes` long
    /// before its CR LF) on the at port, as fast as the pty takes them: a
    /// modem streaming information lines while a command is pending.
    Flood {
        lines: u64,
        bytes: usize,
    },
    /// Close both ptys.
    Unplug,
    /// Open both ptys again under new names (unplugging first if needed).
    Replug,
    /// Unplug now, replug after this many milliseconds.
    ReplugAfter(u64),
    Fragment(FragmentMode),
    /// The network drops the data call: NO CARRIER.
    Hangup,
    /// The client drops DTR on the port that carries the data call (a pty
    /// has no modem control lines, so this stands for the line). What the
    /// modem does follows that port's `AT&D`.
    DtrDrop,
    /// The tty of one port closes under its client and comes back at once
    /// under a new pty (a driver rebound to that interface): the modem is
    /// not reset, but a data call on that port ends.
    Reopen(PortId),
    /// Store this USB composition in the modem's flash, as its vendor
    /// command would (`AT+QCFG="usbnet"`, `AT+CUSBPIDSWITCH`, `AT+UUSBCONF`,
    /// `AT#USBCFG`), and reset it: it re-enumerates with the composition
    /// (`unplugged`, then `replugged` with `"composition"`). A model that
    /// cannot present it rejects the command.
    UsbNet(Composition),
    /// Print a one-line summary of the modem state as a log event.
    Status,
    Quit,
}

const MAX_BYTES: usize = 1_000_000;
/// The most lines one `flood` writes.
pub const FLOOD_MAX_LINES: u64 = 100_000_000;
/// Line lengths `flood` accepts (before CR LF), and its default.
pub const FLOOD_MIN_LINE: u64 = 16;
pub const FLOOD_MAX_LINE: u64 = 4000;
pub const FLOOD_DEFAULT_LINE: usize = 48;

/// Parses one control line (without a time).
pub fn parse_control(line: &str) -> Result<Control, String> {
    let line = line.trim();
    let (word, rest) = match line.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim()),
        None => (line, ""),
    };
    let args: Vec<&str> = rest.split_whitespace().collect();
    let arity = |n: usize| -> Result<(), String> {
        if args.len() == n {
            Ok(())
        } else {
            Err(format!(
                "'{word}' takes {n} argument{}, got {}",
                if n == 1 { "" } else { "s" },
                args.len()
            ))
        }
    };
    match word {
        "" => Err("empty command".to_string()),
        "sim" => {
            arity(1)?;
            match args[0] {
                "remove" => Ok(Control::Sim(SimAction::Remove)),
                "insert" => Ok(Control::Sim(SimAction::Insert)),
                "lock" => Ok(Control::Sim(SimAction::Lock)),
                "ready" => Ok(Control::Sim(SimAction::Ready)),
                other => Err(format!(
                    "sim: unknown action '{other}' (remove, insert, lock, ready)"
                )),
            }
        }
        "reg" => match args.as_slice() {
            ["denied", cause] => Ok(Control::Reg(RegTarget::Denied(number(cause, "reg denied cause", 0, 255)? as u16))),
            [target] => RegTarget::parse(target).map(Control::Reg).ok_or_else(|| {
                format!("reg: unknown target '{target}' (home, roaming, searching, denied [cause], none)")
            }),
            _ => Err("reg takes a target: home, roaming, searching, denied [cause], none".to_string()),
        },
        "signal" => match args.as_slice() {
            ["auto", on_off] => Ok(Control::SignalAuto(on_off_word(on_off, "signal auto")?)),
            [rssi] => Ok(Control::Signal {
                rssi: rssi_value(rssi)?,
                ber: None,
            }),
            [rssi, ber] => Ok(Control::Signal {
                rssi: rssi_value(rssi)?,
                ber: Some(ber_value(ber)?),
            }),
            _ => Err("signal takes <rssi 0..31|99> [ber 0..7|99] or auto on|off".to_string()),
        },
        "operator" => {
            let (plmn, name) = match rest.split_once(char::is_whitespace) {
                Some((p, n)) => (p, Some(unquote(n.trim())?)),
                None => (rest, None),
            };
            if !(plmn.len() == 5 || plmn.len() == 6) || !plmn.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("operator: '{plmn}' is not a 5 or 6 digit MCCMNC"));
            }
            Ok(Control::Operator {
                plmn: plmn.to_string(),
                name,
            })
        }
        "mute" => {
            arity(1)?;
            Ok(Control::Mute(on_off_word(args[0], "mute")?))
        }
        "stall" => {
            arity(1)?;
            Ok(Control::Stall(on_off_word(args[0], "stall")?))
        }
        "delay" => {
            arity(1)?;
            Ok(Control::Delay(number(args[0], "delay ms", 0, 600_000)?))
        }
        "garbage" => {
            arity(1)?;
            Ok(Control::Garbage(number(args[0], "garbage bytes", 0, MAX_BYTES as u64)? as usize))
        }
        "cme_storm" => {
            arity(1)?;
            Ok(Control::CmeStorm(number(args[0], "cme_storm count", 0, 100_000)? as usize))
        }
        "cell_storm" => {
            arity(1)?;
            Ok(Control::CellStorm(number(args[0], "cell_storm count", 0, 100_000)? as usize))
        }
        "flood" => match args.as_slice() {
            [lines] | [lines, _] => {
                let bytes = match args.get(1) {
                    Some(b) => number(b, "flood line bytes", FLOOD_MIN_LINE, FLOOD_MAX_LINE)? as usize,
                    None => FLOOD_DEFAULT_LINE,
                };
                Ok(Control::Flood {
                    lines: number(lines, "flood lines", 0, FLOOD_MAX_LINES)?,
                    bytes,
                })
            }
            _ => Err("flood takes a line count and an optional line length".to_string()),
        },
        "urc" => {
            if rest.is_empty() {
                Err("urc takes the text of a line".to_string())
            } else if rest.contains(['\r', '\n']) {
                Err("urc: the text must be one line".to_string())
            } else {
                Ok(Control::Urc(rest.to_string()))
            }
        }
        "unplug" => arity(0).map(|_| Control::Unplug),
        "replug" => arity(0).map(|_| Control::Replug),
        "replug_after" => {
            arity(1)?;
            Ok(Control::ReplugAfter(number(args[0], "replug_after ms", 0, 3_600_000)?))
        }
        "fragment" => {
            arity(1)?;
            FragmentMode::parse(args[0]).map(Control::Fragment).ok_or_else(|| {
                format!("fragment: unknown mode '{}' (none, random, every-byte)", args[0])
            })
        }
        "hangup" => arity(0).map(|_| Control::Hangup),
        "dtr" => {
            arity(1)?;
            match args[0] {
                "drop" => Ok(Control::DtrDrop),
                other => Err(format!("dtr: unknown action '{other}' (drop)")),
            }
        }
        "reopen" => {
            arity(1)?;
            match args[0] {
                "at" => Ok(Control::Reopen(PortId::At)),
                "ppp" => Ok(Control::Reopen(PortId::Ppp)),
                other => Err(format!("reopen: unknown port '{other}' (at, ppp)")),
            }
        }
        "usbnet" => {
            arity(1)?;
            Composition::parse(args[0]).map(Control::UsbNet).ok_or_else(|| {
                format!(
                    "usbnet: unknown composition '{}' (serial, rmnet, ecm, rndis, mbim)",
                    args[0]
                )
            })
        }
        "status" => arity(0).map(|_| Control::Status),
        "quit" => arity(0).map(|_| Control::Quit),
        other => Err(format!("unknown command '{other}'")),
    }
}

/// Parses a whole scenario file: `<time> <command>` lines, blank lines and
/// `#` comment lines. Times are `<n>ms`, `<n>s` (decimals allowed) or
/// `<n>m`, multiplied by `time_scale`. The result is sorted by time (stable,
/// so lines with equal times keep their order).
pub fn parse_scenario(text: &str, time_scale: f64) -> Result<Vec<(u64, Control)>, String> {
    let mut out = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |e: String| format!("scenario line {}: {e}: {line}", index + 1);
        let (time, command) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| at("expected '<time> <command>'".to_string()))?;
        let ms = parse_time(time).map_err(at)?;
        let control = parse_control(command).map_err(at)?;
        let scaled = (ms as f64 * time_scale).round();
        out.push((scaled.clamp(0.0, u64::MAX as f64) as u64, control));
    }
    out.sort_by_key(|(t, _)| *t);
    Ok(out)
}

/// Parses `250ms`, `5s`, `1.5s`, `2m` into milliseconds.
pub fn parse_time(token: &str) -> Result<u64, String> {
    let (number, factor) = if let Some(n) = token.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = token.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = token.strip_suffix('m') {
        (n, 60_000.0)
    } else {
        return Err(format!("time '{token}' needs a unit: ms, s or m"));
    };
    let valid = !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && number.bytes().filter(|b| *b == b'.').count() <= 1;
    match number.parse::<f64>() {
        Ok(v) if valid && v.is_finite() && v * factor < 1e15 => Ok((v * factor).round() as u64),
        _ => Err(format!("bad time '{token}'")),
    }
}

fn number(token: &str, what: &str, min: u64, max: u64) -> Result<u64, String> {
    match token.parse::<u64>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(format!("{what}: '{token}' is not a number in {min}..{max}")),
    }
}

fn rssi_value(token: &str) -> Result<u8, String> {
    match token.parse::<u8>() {
        Ok(v) if v <= 31 || v == 99 => Ok(v),
        _ => Err(format!("signal: rssi '{token}' must be 0..31 or 99")),
    }
}

fn ber_value(token: &str) -> Result<u8, String> {
    match token.parse::<u8>() {
        Ok(v) if v <= 7 || v == 99 => Ok(v),
        _ => Err(format!("signal: ber '{token}' must be 0..7 or 99")),
    }
}

fn on_off_word(token: &str, what: &str) -> Result<bool, String> {
    match token {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(format!("{what}: expected on or off, got '{other}'")),
    }
}

fn unquote(text: &str) -> Result<String, String> {
    if let Some(inner) = text.strip_prefix('"') {
        inner
            .strip_suffix('"')
            .filter(|s| !s.contains('"'))
            .map(str::to_string)
            .ok_or_else(|| format!("unbalanced quotes in {text}"))
    } else if text.contains('"') {
        Err(format!("unbalanced quotes in {text}"))
    } else {
        Ok(text.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_of_the_interface_parses() {
        let cases: Vec<(&str, Control)> = vec![
            ("sim remove", Control::Sim(SimAction::Remove)),
            ("sim insert", Control::Sim(SimAction::Insert)),
            ("sim lock", Control::Sim(SimAction::Lock)),
            ("sim ready", Control::Sim(SimAction::Ready)),
            ("reg home", Control::Reg(RegTarget::Home)),
            ("reg roaming", Control::Reg(RegTarget::Roaming)),
            ("reg searching", Control::Reg(RegTarget::Searching)),
            ("reg denied", Control::Reg(RegTarget::Denied(15))),
            ("reg denied 7", Control::Reg(RegTarget::Denied(7))),
            ("reg none", Control::Reg(RegTarget::None)),
            (
                "signal 17",
                Control::Signal {
                    rssi: 17,
                    ber: None,
                },
            ),
            (
                "signal 99 99",
                Control::Signal {
                    rssi: 99,
                    ber: Some(99),
                },
            ),
            ("signal auto off", Control::SignalAuto(false)),
            ("signal auto on", Control::SignalAuto(true)),
            (
                "operator 26201 \"Telekom.de\"",
                Control::Operator {
                    plmn: "26201".into(),
                    name: Some("Telekom.de".into()),
                },
            ),
            (
                "operator 310260",
                Control::Operator {
                    plmn: "310260".into(),
                    name: None,
                },
            ),
            ("mute on", Control::Mute(true)),
            ("mute off", Control::Mute(false)),
            ("delay 250", Control::Delay(250)),
            ("stall on", Control::Stall(true)),
            ("stall off", Control::Stall(false)),
            ("garbage 64", Control::Garbage(64)),
            ("cme_storm 10", Control::CmeStorm(10)),
            ("cell_storm 3", Control::CellStorm(3)),
            (
                "urc +QIND: \"act\",\"LTE\"",
                Control::Urc("+QIND: \"act\",\"LTE\"".into()),
            ),
            ("unplug", Control::Unplug),
            ("reopen at", Control::Reopen(PortId::At)),
            ("reopen ppp", Control::Reopen(PortId::Ppp)),
            ("replug", Control::Replug),
            ("replug_after 1500", Control::ReplugAfter(1500)),
            (
                "fragment every-byte",
                Control::Fragment(FragmentMode::EveryByte),
            ),
            ("fragment random", Control::Fragment(FragmentMode::Random)),
            ("fragment none", Control::Fragment(FragmentMode::None)),
            ("hangup", Control::Hangup),
            ("dtr drop", Control::DtrDrop),
            (
                "flood 1000000",
                Control::Flood {
                    lines: 1_000_000,
                    bytes: FLOOD_DEFAULT_LINE,
                },
            ),
            (
                "flood 5 100",
                Control::Flood {
                    lines: 5,
                    bytes: 100,
                },
            ),
            ("usbnet ecm", Control::UsbNet(Composition::Ecm)),
            ("usbnet rmnet", Control::UsbNet(Composition::Rmnet)),
            ("status", Control::Status),
            ("  quit  ", Control::Quit),
        ];
        for (line, expected) in cases {
            assert_eq!(parse_control(line), Ok(expected), "{line}");
        }
    }

    #[test]
    fn bad_commands_name_the_problem() {
        for (line, needle) in [
            ("", "empty"),
            ("explode", "unknown command 'explode'"),
            ("sim eject", "unknown action 'eject'"),
            ("reopen usb", "unknown port 'usb'"),
            ("signal 32", "rssi '32'"),
            ("signal 20 8", "ber '8'"),
            ("signal auto maybe", "expected on or off"),
            ("mute", "takes 1 argument"),
            ("delay -5", "delay ms"),
            ("operator 3104", "5 or 6 digit"),
            ("operator 310410 \"AT&T", "unbalanced"),
            ("fragment sometimes", "unknown mode"),
            ("reg denied x", "reg denied cause"),
            ("reg denied 1 2", "reg takes"),
            ("urc", "text of a line"),
            ("flood", "flood takes"),
            ("flood 1 8", "flood line bytes"),
            ("flood x", "flood lines"),
            ("unplug now", "takes 0 arguments"),
            ("usbnet", "takes 1 argument"),
            ("usbnet ncm", "unknown composition 'ncm'"),
        ] {
            let err = parse_control(line).unwrap_err();
            assert!(err.contains(needle), "{line:?}: {err}");
        }
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("0ms"), Ok(0));
        assert_eq!(parse_time("250ms"), Ok(250));
        assert_eq!(parse_time("5s"), Ok(5000));
        assert_eq!(parse_time("1.5s"), Ok(1500));
        assert_eq!(parse_time("2m"), Ok(120_000));
        for bad in ["5", "s", "1.2.3s", "-1s", "5h", "1e3ms", "ms", "nan s"] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scenario_sorts_and_reports_line_numbers() {
        let text = "\n# comment\n  3s quit\n1s signal 10\n1s urc hello # not a comment\n";
        let parsed = parse_scenario(text, 1.0).unwrap();
        assert_eq!(
            parsed,
            vec![
                (
                    1000,
                    Control::Signal {
                        rssi: 10,
                        ber: None
                    }
                ),
                (1000, Control::Urc("hello # not a comment".into())),
                (3000, Control::Quit),
            ]
        );
        let err = parse_scenario("1s quit\n2s\n", 1.0).unwrap_err();
        assert!(err.starts_with("scenario line 2:"), "{err}");
        let err = parse_scenario("1x quit\n", 1.0).unwrap_err();
        assert!(err.contains("line 1") && err.contains("unit"), "{err}");
    }
}
