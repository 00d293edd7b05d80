//! The command line.
//!
//! ```
//! use cellular_sim::config::{parse_args, Cli, SimStart};
//!
//! let Ok(Cli::Run(cfg)) = parse_args(["--model", "bg96", "--sim=locked", "--pin", "0000"]) else {
//!     panic!("should parse")
//! };
//! assert_eq!(cfg.profile.name, "BG96");
//! assert_eq!(cfg.sim, SimStart::Locked);
//! assert_eq!(cfg.pin, "0000");
//!
//! let err = parse_args(["--iccid", "8901x"]).err().unwrap();
//! assert!(err.contains("--iccid") && err.contains("'x'"));
//! ```

use crate::control::{parse_control, Control, FragmentMode, RegTarget};
use crate::profile::{self, Profile};
use std::path::PathBuf;

/// How the SIM starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimStart {
    Ready,
    Absent,
    Locked,
}

/// Everything the command line sets.
#[derive(Debug, Clone)]
pub struct Config {
    pub profile: &'static Profile,
    pub scenario: Option<PathBuf>,
    pub seed: u64,
    pub fragment: FragmentMode,
    pub iccid: Option<String>,
    pub imsi: Option<String>,
    pub imei: Option<String>,
    pub pin: String,
    /// SIM PIN attempts left at power-on (1..=3).
    pub pin_attempts: u8,
    pub sim: SimStart,
    /// The network's PLMN (MCC+MNC).
    pub operator: String,
    pub registration: RegTarget,
    pub register_after_ms: u64,
    /// APN already stored in context 1 at power-on.
    pub provisioned: Option<String>,
    pub time_scale: f64,
    /// How long `AT+CFUN=1,1` keeps the modem off USB (extension).
    pub reset_ms: u64,
    /// No human trace on stderr (extension).
    pub quiet: bool,
    /// One serial line (extension): the `at` pty is the modem's only port,
    /// in plain AT until `AT+CMUX=0` and then in 27.010 basic mode (see
    /// [`crate::mux`]); the `ppp` pty stays silent.
    pub uart: bool,
    /// Control commands given with `--exec` (extension), applied at start.
    pub exec: Vec<Control>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            profile: &profile::PROFILES[0],
            scenario: None,
            seed: 1,
            fragment: FragmentMode::None,
            iccid: None,
            imsi: None,
            imei: None,
            pin: "1234".to_string(),
            pin_attempts: 3,
            sim: SimStart::Ready,
            operator: "310410".to_string(),
            registration: RegTarget::Home,
            register_after_ms: 1500,
            provisioned: None,
            time_scale: 1.0,
            reset_ms: 2000,
            quiet: false,
            uart: false,
            exec: Vec::new(),
        }
    }
}

/// What the command line asks for.
#[derive(Debug, Clone)]
pub enum Cli {
    Run(Box<Config>),
    Help,
}

/// The usage text.
pub fn usage() -> String {
    format!(
        "usage: cellular_sim [--model {}] [--scenario FILE] [--seed N]\n\
         \x20                   [--fragment none|random|every-byte] [--iccid DIGITS] [--imsi DIGITS] [--imei DIGITS]\n\
         \x20                   [--pin 1234] [--pin-attempts 1..3] [--sim ready|absent|locked] [--operator MCCMNC] [--roaming]\n\
         \x20                   [--registration home|roaming|searching|denied] [--register-after-ms N]\n\
         \x20                   [--provisioned APN] [--time-scale F] [--reset-ms N] [--exec COMMAND] [--quiet] [--uart]\n\
         Control commands are read from stdin, one per line; the simulator exits when stdin closes.\n\
         See native/crates/cellular_sim/README.md.",
        profile::keys().join("|")
    )
}

/// Parses the arguments (without the program name).
pub fn parse_args<I, S>(args: I) -> Result<Cli, String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut cfg = Config::default();
    let mut args = args.into_iter().map(Into::into);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Cli::Help),
            "--roaming" => {
                cfg.registration = RegTarget::Roaming;
                continue;
            }
            "--quiet" => {
                cfg.quiet = true;
                continue;
            }
            "--uart" => {
                cfg.uart = true;
                continue;
            }
            _ => {}
        }
        let mut value = || -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => args.next().ok_or_else(|| format!("{flag} needs a value")),
            }
        };
        match flag.as_str() {
            "--model" => {
                let v = value()?;
                cfg.profile = profile::by_key(&v).ok_or_else(|| {
                    format!(
                        "--model: unknown model '{v}' (one of {})",
                        profile::keys().join(", ")
                    )
                })?;
            }
            "--scenario" => cfg.scenario = Some(PathBuf::from(value()?)),
            "--seed" => cfg.seed = unsigned(&flag, &value()?)?,
            "--fragment" => {
                let v = value()?;
                cfg.fragment = FragmentMode::parse(&v).ok_or_else(|| {
                    format!("--fragment: unknown mode '{v}' (none, random, every-byte)")
                })?;
            }
            "--iccid" => cfg.iccid = Some(digits(&flag, &value()?, 18, 22)?),
            "--imsi" => cfg.imsi = Some(digits(&flag, &value()?, 6, 15)?),
            "--imei" => cfg.imei = Some(digits(&flag, &value()?, 14, 16)?),
            "--pin" => cfg.pin = digits(&flag, &value()?, 4, 8)?,
            "--pin-attempts" => {
                let v = value()?;
                cfg.pin_attempts = match v.as_str() {
                    "1" => 1,
                    "2" => 2,
                    "3" => 3,
                    _ => return Err(format!("--pin-attempts: '{v}' is not 1, 2 or 3")),
                };
            }
            "--sim" => {
                cfg.sim = match value()?.as_str() {
                    "ready" => SimStart::Ready,
                    "absent" => SimStart::Absent,
                    "locked" => SimStart::Locked,
                    other => {
                        return Err(format!(
                            "--sim: unknown state '{other}' (ready, absent, locked)"
                        ))
                    }
                }
            }
            "--operator" => cfg.operator = digits(&flag, &value()?, 5, 6)?,
            "--registration" => {
                let v = value()?;
                cfg.registration = match RegTarget::parse(&v) {
                    Some(RegTarget::None) | None => {
                        return Err(format!(
                            "--registration: unknown value '{v}' (home, roaming, searching, denied)"
                        ))
                    }
                    Some(t) => t,
                };
            }
            "--register-after-ms" => cfg.register_after_ms = unsigned(&flag, &value()?)?,
            "--provisioned" => {
                let v = value()?;
                if v.is_empty() || v.contains(['"', '\r', '\n']) {
                    return Err(format!("--provisioned: '{v}' is not a usable APN"));
                }
                cfg.provisioned = Some(v);
            }
            "--time-scale" => {
                let v = value()?;
                cfg.time_scale = match v.parse::<f64>() {
                    Ok(f) if f.is_finite() && f > 0.0 => f,
                    _ => return Err(format!("--time-scale: '{v}' is not a positive number")),
                };
            }
            "--reset-ms" => cfg.reset_ms = unsigned(&flag, &value()?)?,
            "--exec" => {
                let v = value()?;
                cfg.exec
                    .push(parse_control(&v).map_err(|e| format!("--exec: {e}"))?);
            }
            other => return Err(format!("unknown argument '{other}'\n{}", usage())),
        }
    }
    Ok(Cli::Run(Box::new(cfg)))
}

fn unsigned(flag: &str, v: &str) -> Result<u64, String> {
    v.parse::<u64>()
        .map_err(|_| format!("{flag}: '{v}' is not a non-negative integer"))
}

fn digits(flag: &str, v: &str, min: usize, max: usize) -> Result<String, String> {
    if let Some((pos, c)) = v.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(format!(
            "{flag}: invalid character '{}' at position {pos} of '{v}' (digits only)",
            c.escape_default()
        ));
    }
    if !(min..=max).contains(&v.len()) {
        return Err(format!(
            "{flag}: '{v}' has {} digits, expected {min} to {max}",
            v.len()
        ));
    }
    Ok(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Config {
        match parse_args(args.iter().copied()) {
            Ok(Cli::Run(cfg)) => *cfg,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn defaults_match_the_interface() {
        let cfg = run(&[]);
        assert_eq!(cfg.profile.key, "ec25");
        assert_eq!(cfg.sim, SimStart::Ready);
        assert_eq!(cfg.registration, RegTarget::Home);
        assert_eq!(cfg.fragment, FragmentMode::None);
        assert_eq!(cfg.pin, "1234");
        assert!(cfg.register_after_ms > 0);
    }

    #[test]
    fn every_flag() {
        let cfg = run(&[
            "--model",
            "SIM7080",
            "--scenario",
            "/tmp/s",
            "--seed",
            "42",
            "--fragment",
            "every-byte",
            "--iccid",
            "89014103211118510720",
            "--imsi",
            "310410123456789",
            "--imei",
            "861015050000000",
            "--pin",
            "4321",
            "--sim",
            "absent",
            "--operator",
            "26201",
            "--registration",
            "denied",
            "--register-after-ms",
            "0",
            "--provisioned",
            "internet",
            "--time-scale",
            "0.05",
            "--reset-ms",
            "100",
            "--quiet",
            "--uart",
            "--exec",
            "signal 5",
        ]);
        assert_eq!(cfg.profile.key, "sim7080");
        assert_eq!(cfg.scenario, Some(PathBuf::from("/tmp/s")));
        assert_eq!(cfg.seed, 42);
        assert_eq!(cfg.fragment, FragmentMode::EveryByte);
        assert_eq!(cfg.iccid.as_deref(), Some("89014103211118510720"));
        assert_eq!(cfg.imsi.as_deref(), Some("310410123456789"));
        assert_eq!(cfg.imei.as_deref(), Some("861015050000000"));
        assert_eq!(cfg.pin, "4321");
        assert_eq!(cfg.sim, SimStart::Absent);
        assert_eq!(cfg.operator, "26201");
        assert_eq!(cfg.registration, RegTarget::Denied(15));
        assert_eq!(cfg.register_after_ms, 0);
        assert_eq!(cfg.provisioned.as_deref(), Some("internet"));
        assert_eq!(cfg.time_scale, 0.05);
        assert_eq!(cfg.reset_ms, 100);
        assert!(cfg.uart);
        assert!(cfg.quiet);
        assert_eq!(cfg.exec, vec![Control::Signal { rssi: 5, ber: None }]);
        assert_eq!(run(&["--roaming"]).registration, RegTarget::Roaming);
        assert_eq!(
            run(&["--registration=searching"]).registration,
            RegTarget::Searching
        );
    }

    #[test]
    fn errors_name_the_flag_and_the_byte() {
        for (args, needle) in [
            (&["--model", "x9"][..], "--model: unknown model 'x9'"),
            (&["--seed"], "--seed needs a value"),
            (&["--seed", "-1"], "--seed: '-1'"),
            (&["--imei", "12345678901234a"], "'a' at position 14"),
            (&["--pin", "12"], "--pin: '12' has 2 digits"),
            (&["--sim", "maybe"], "--sim: unknown state"),
            (&["--operator", "3104"], "--operator"),
            (&["--registration", "none"], "--registration"),
            (&["--time-scale", "0"], "--time-scale"),
            (&["--time-scale", "NaN"], "--time-scale"),
            (&["--fragment", "lots"], "--fragment"),
            (&["--provisioned", "a\"b"], "--provisioned"),
            (&["--exec", "explode"], "--exec: unknown command"),
            (&["--frobnicate"], "unknown argument '--frobnicate'"),
        ] {
            let err = parse_args(args.iter().copied()).err().unwrap_or_default();
            assert!(err.contains(needle), "{args:?}: {err}");
        }
        assert!(matches!(parse_args(["--help"]), Ok(Cli::Help)));
    }
}
