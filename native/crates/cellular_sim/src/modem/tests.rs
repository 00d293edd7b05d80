//! Unit tests of the modem core: transcripts fed straight into the state
//! machine with an explicit clock, no ptys involved.

use super::*;
use crate::config::{parse_args, Cli};

fn modem(args: &[&str]) -> Modem {
    match parse_args(args.iter().copied()) {
        Ok(Cli::Run(cfg)) => Modem::new(&cfg, 0),
        other => panic!("{args:?}: {other:?}"),
    }
}

/// Sends one command line on the at port at time `t` and returns what came back.
fn at(m: &mut Modem, t: u64, line: &str) -> String {
    on(m, PortId::At, t, line)
}

fn on(m: &mut Modem, port: PortId, t: u64, line: &str) -> String {
    m.input(port, format!("{line}\r").as_bytes(), t);
    m.take_output(port)
}

/// A modem with echo off on the at port, registered (search time 0).
fn quiet_modem(args: &[&str]) -> Modem {
    let mut all = vec!["--register-after-ms", "0", "--imei", "861234567890123"];
    all.extend_from_slice(args);
    let mut m = modem(&all);
    m.tick(0);
    assert_eq!(at(&mut m, 0, "ATE0"), "ATE0\r\r\nOK\r\n");
    m
}

fn events(m: &mut Modem) -> Vec<Effect> {
    m.take_effects()
        .into_iter()
        .filter(|e| !matches!(e, Effect::Trace(_)))
        .collect()
}

#[test]
fn identity_transcripts_per_model() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "ec25",
            &[
                ("ATI", "\r\nQuectel\r\nEC25\r\nRevision: EC25EFAR06A06M4G\r\n\r\nOK\r\n"),
                ("AT+CGMI", "\r\nQuectel\r\n\r\nOK\r\n"),
                ("AT+CGMM", "\r\nEC25\r\n\r\nOK\r\n"),
                ("AT+CGMR", "\r\nEC25EFAR06A06M4G\r\n\r\nOK\r\n"),
                ("AT+GSN", "\r\n861234567890123\r\n\r\nOK\r\n"),
                ("AT+QGMR", "\r\nEC25EFAR06A06M4G_01.001.01.001\r\n\r\nOK\r\n"),
            ],
        ),
        (
            "bg96",
            &[
                ("ATI", "\r\nQuectel\r\nBG96\r\nRevision: BG96MAR02A07M1G\r\n\r\nOK\r\n"),
                ("AT+GMM", "\r\nBG96\r\n\r\nOK\r\n"),
            ],
        ),
        (
            "sim7600",
            &[
                (
                    "ATI",
                    "\r\nManufacturer: SIMCOM INCORPORATED\r\nModel: SIMCOM_SIM7600G-H\r\nRevision: SIM7600M22_V2.0\r\nIMEI: 861234567890123\r\n+GCAP: +CGSM\r\n\r\nOK\r\n",
                ),
                ("AT+CGMI", "\r\nSIMCOM INCORPORATED\r\n\r\nOK\r\n"),
                ("AT+CGMR", "\r\n+CGMR: LE20B04SIM7600M22\r\n\r\nOK\r\n"),
                ("AT+CGSN", "\r\n861234567890123\r\n\r\nOK\r\n"),
            ],
        ),
        (
            "sim7080",
            &[
                ("ATI", "\r\nSIM7080 R1951.03\r\n\r\nOK\r\n"),
                ("AT+CGMM", "\r\nSIMCOM_SIM7080G\r\n\r\nOK\r\n"),
                ("AT+CGMR", "\r\nRevision:1951B04SIM7080\r\n\r\nOK\r\n"),
            ],
        ),
        (
            "a7600",
            &[
                ("AT+CGMM", "\r\nA7600E-H\r\n\r\nOK\r\n"),
                ("AT+CGMR", "\r\n+CGMR: A011B07A7600M7\r\n\r\nOK\r\n"),
            ],
        ),
        ("eg95", &[("AT+CGMM", "\r\nEG95\r\n\r\nOK\r\n")]),
        ("ec21", &[("AT+CGMM", "\r\nEC21\r\n\r\nOK\r\n")]),
        ("sim7672", &[("AT+CGMM", "\r\nSIM7672G-MNGV\r\n\r\nOK\r\n")]),
    ];
    for (model, transcript) in cases {
        let mut m = quiet_modem(&["--model", model]);
        for (cmd, expected) in *transcript {
            assert_eq!(at(&mut m, 0, cmd), *expected, "{model} {cmd}");
        }
    }
}

#[test]
fn generated_identities_are_valid_and_seeded() {
    let a = modem(&["--seed", "5"]);
    let b = modem(&["--seed", "5"]);
    let c = modem(&["--seed", "6"]);
    assert_eq!(a.identity(), b.identity());
    assert_ne!(a.identity(), c.identity());
    let (imei, iccid, imsi) = a.identity();
    assert_eq!(imei.len(), 15);
    assert!(imei.starts_with(a.profile().imei_tac));
    assert_eq!(
        format::luhn_digit(&imei[..14]),
        imei.chars().last().unwrap()
    );
    assert_eq!(iccid.len(), 20);
    assert!(iccid.starts_with("8901410"), "{iccid}");
    assert_eq!(
        format::luhn_digit(&iccid[..19]),
        iccid.chars().last().unwrap()
    );
    assert_eq!(imsi.len(), 15);
    assert!(imsi.starts_with("310410"));
    let de = modem(&["--operator", "26201"]);
    assert!(de.identity().1.starts_with("894901"), "{}", de.identity().1);
    assert!(de.identity().2.starts_with("26201"));
}

#[test]
fn quectel_vendor_commands() {
    let mut m = quiet_modem(&["--iccid", "89014103211118510720", "--seed", "2"]);
    assert_eq!(
        at(&mut m, 0, "AT+QCCID"),
        "\r\n+QCCID: 89014103211118510720\r\n\r\nOK\r\n"
    );
    assert_eq!(
        at(&mut m, 0, "AT+CCID"),
        "\r\n+CCID: 89014103211118510720\r\n\r\nOK\r\n"
    );
    assert_eq!(
        at(&mut m, 0, "AT+QNWINFO"),
        "\r\n+QNWINFO: \"FDD LTE\",\"310410\",\"LTE BAND 2\",900\r\n\r\nOK\r\n"
    );
    assert_eq!(
        at(&mut m, 0, "AT+QSPN"),
        "\r\n+QSPN: \"AT&T\",\"AT&T\",\"\",0,\"310410\"\r\n\r\nOK\r\n"
    );
    m.control(
        Control::Signal {
            rssi: 20,
            ber: Some(99),
        },
        0,
    );
    m.take_effects();
    assert_eq!(
        at(&mut m, 0, "AT+QCSQ"),
        "\r\n+QCSQ: \"LTE\",-73,-98,160,-10\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+CSQ"), "\r\n+CSQ: 20,99\r\n\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+CESQ"),
        "\r\n+CESQ: 99,99,255,255,20,43\r\n\r\nOK\r\n"
    );
    // Stored configuration.
    assert_eq!(
        at(&mut m, 0, "AT+QCFG=\"roamservice\""),
        "\r\n+QCFG: \"roamservice\",255\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+QCFG=\"roamservice\",2,1"), "\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+QCFG=\"roamservice\""),
        "\r\n+QCFG: \"roamservice\",2\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+QCFG=\"nwscanmode\",3,1"), "\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+QCFG=\"nwscanmode\""),
        "\r\n+QCFG: \"nwscanmode\",3\r\n\r\nOK\r\n"
    );
    assert_eq!(
        at(&mut m, 0, "AT+QCFG=\"nosuchkey\""),
        "\r\n+CME ERROR: 50\r\n"
    );
    // CSQ URCs once enabled, and only then.
    m.control(
        Control::Signal {
            rssi: 21,
            ber: None,
        },
        0,
    );
    assert_eq!(m.take_output(PortId::At), "");
    assert_eq!(at(&mut m, 0, "AT+QINDCFG=\"csq\",1"), "\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+QINDCFG=\"csq\""),
        "\r\n+QINDCFG: \"csq\",1\r\n\r\nOK\r\n"
    );
    m.control(
        Control::Signal {
            rssi: 9,
            ber: Some(2),
        },
        0,
    );
    assert_eq!(m.take_output(PortId::At), "\r\n+QIND: \"csq\",9,2\r\n");
    // SIMCom commands do not exist here.
    assert_eq!(at(&mut m, 0, "AT+CICCID"), "\r\nERROR\r\n");
    assert_eq!(at(&mut m, 0, "AT+CPSI?"), "\r\nERROR\r\n");
}

#[test]
fn simcom_vendor_commands() {
    let mut m = quiet_modem(&["--model", "sim7600", "--iccid", "89014103211118510720"]);
    assert_eq!(
        at(&mut m, 0, "AT+CICCID"),
        "\r\n+ICCID: 89014103211118510720\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+CCID"), "\r\nERROR\r\n");
    assert_eq!(at(&mut m, 0, "AT+QCCID"), "\r\nERROR\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+CNSMOD?"),
        "\r\n+CNSMOD: 0,8\r\n\r\nOK\r\n"
    );
    m.control(
        Control::Signal {
            rssi: 20,
            ber: Some(99),
        },
        0,
    );
    let cpsi = at(&mut m, 0, "AT+CPSI?");
    assert!(
        cpsi.starts_with("\r\n+CPSI: LTE,Online,310-410,0x"),
        "{cpsi}"
    );
    assert!(
        cpsi.contains(",EUTRAN-BAND2,900,5,5,-100,-980,-730,12\r\n"),
        "{cpsi}"
    );
    assert_eq!(at(&mut m, 0, "AT+CNMP?"), "\r\n+CNMP: 2\r\n\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "AT+CNMP=38"), "\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "AT+CNMP?"), "\r\n+CNMP: 38\r\n\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+CSPN?"),
        "\r\n+CSPN: \"AT&T\",0\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+AUTOCSQ=1,1"), "\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+AUTOCSQ?"),
        "\r\n+AUTOCSQ: 1,1\r\n\r\nOK\r\n"
    );
    m.control(
        Control::Signal {
            rssi: 12,
            ber: None,
        },
        0,
    );
    assert_eq!(m.take_output(PortId::At), "\r\n+CSQ: 12,99\r\n");
    // Registration loss shows in CNSMOD URCs when enabled.
    assert_eq!(at(&mut m, 0, "AT+CNSMOD=1"), "\r\nOK\r\n");
    m.control(Control::Reg(RegTarget::Searching), 0);
    assert_eq!(m.take_output(PortId::At), "\r\n+CNSMOD: 0\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+CPSI?"),
        "\r\n+CPSI: NO SERVICE,Online\r\n\r\nOK\r\n"
    );

    let mut m = quiet_modem(&["--model", "sim7080", "--iccid", "89014103211118510720"]);
    assert_eq!(
        at(&mut m, 0, "AT+CCID"),
        "\r\n89014103211118510720\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+CICCID"), "\r\nERROR\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+CNSMOD?"),
        "\r\n+CNSMOD: 0,7\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+CMNB?"), "\r\n+CMNB: 1\r\n\r\nOK\r\n");
    m.control(
        Control::Signal {
            rssi: 20,
            ber: Some(99),
        },
        0,
    );
    assert!(at(&mut m, 0, "AT+CPSI?").contains("+CPSI: LTE CAT-M1,Online,310-410,"));
}

#[test]
fn echo_verbosity_and_quiet() {
    let mut m = modem(&[]);
    assert_eq!(at(&mut m, 0, "AT"), "AT\r\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "ATE0"), "ATE0\r\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "AT"), "\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "ATV0"), "0\r");
    assert_eq!(at(&mut m, 0, "AT+NOPE"), "4\r");
    assert_eq!(at(&mut m, 0, "AT+CGMM"), "EC25\r\n0\r");
    assert_eq!(at(&mut m, 0, "ATD*99#"), "3\r");
    assert_eq!(at(&mut m, 0, "ATQ1"), "");
    assert_eq!(at(&mut m, 0, "AT+CGMM"), "EC25\r\n");
    // Echo was off when this line arrived.
    assert_eq!(at(&mut m, 0, "ATQ0V1E1"), "\r\nOK\r\n");
    // Settings are per port.
    assert_eq!(on(&mut m, PortId::Ppp, 0, "AT"), "AT\r\r\nOK\r\n");
    // ATZ restores the defaults.
    assert_eq!(at(&mut m, 0, "ATE0V0"), "ATE0V0\r0\r");
    assert_eq!(at(&mut m, 0, "ATZ"), "\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "AT"), "AT\r\r\nOK\r\n");
}

#[test]
fn cmee_modes_and_defaults() {
    let mut m = quiet_modem(&["--sim", "absent"]);
    assert_eq!(at(&mut m, 0, "AT+CMEE?"), "\r\n+CMEE: 1\r\n\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "AT+CPIN?"), "\r\n+CME ERROR: 10\r\n");
    assert_eq!(at(&mut m, 0, "AT+CMEE=2"), "\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+CPIN?"),
        "\r\n+CME ERROR: SIM not inserted\r\n"
    );
    assert_eq!(
        at(&mut m, 0, "AT+CIMI"),
        "\r\n+CME ERROR: SIM not inserted\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+CMEE=0"), "\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "AT+CPIN?"), "\r\nERROR\r\n");
    assert_eq!(at(&mut m, 0, "AT+CMEE=3"), "\r\nERROR\r\n");
    assert_eq!(at(&mut m, 0, "ATV0;+CMEE=1"), "0\r");
    assert_eq!(at(&mut m, 0, "AT+CPIN?"), "+CME ERROR: 10\r\n");
    let mut s = quiet_modem(&["--model", "sim7600", "--sim", "absent"]);
    assert_eq!(
        at(&mut s, 0, "AT+CPIN?"),
        "\r\n+CME ERROR: SIM not inserted\r\n"
    );
    let mut s = quiet_modem(&["--model", "sim7080", "--sim", "absent"]);
    assert_eq!(at(&mut s, 0, "AT+CPIN?"), "\r\nERROR\r\n");
}

#[test]
fn pin_counter_then_puk() {
    let mut m = quiet_modem(&["--sim", "locked", "--pin", "4321"]);
    assert_eq!(
        at(&mut m, 0, "AT+CPIN?"),
        "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+CIMI"), "\r\n+CME ERROR: 11\r\n");
    assert_eq!(at(&mut m, 0, "AT+CREG?"), "\r\n+CREG: 0,0\r\n\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+QPINC=\"SC\""),
        "\r\n+QPINC: \"SC\",3,10\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+CPIN=\"0000\""), "\r\n+CME ERROR: 16\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+QPINC=\"SC\""),
        "\r\n+QPINC: \"SC\",2,10\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+CPIN=1111"), "\r\n+CME ERROR: 16\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+CPIN?"),
        "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+CPIN=\"2222\""), "\r\n+CME ERROR: 16\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+CPIN?"),
        "\r\n+CPIN: SIM PUK\r\n\r\nOK\r\n"
    );
    // Now the right PIN is not enough.
    assert_eq!(at(&mut m, 0, "AT+CPIN=\"4321\""), "\r\n+CME ERROR: 12\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+CPIN=\"00000000\",\"1111\""),
        "\r\n+CME ERROR: 16\r\n"
    );
    assert_eq!(
        at(&mut m, 0, "AT+QPINC=\"SC\""),
        "\r\n+QPINC: \"SC\",0,9\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+CPIN=\"12345678\",\"1111\""), "\r\nOK\r\n");
    m.tick(1000);
    let urcs = m.take_output(PortId::At);
    assert_eq!(
        urcs,
        "\r\n+CPIN: READY\r\n\r\n+QUSIM: 1\r\n\r\n+QIND: SMS DONE\r\n\r\n+QIND: PB DONE\r\n"
    );
    assert_eq!(
        at(&mut m, 1000, "AT+CPIN?"),
        "\r\n+CPIN: READY\r\n\r\nOK\r\n"
    );
    assert_eq!(
        at(&mut m, 1000, "AT+CPIN=\"1111\""),
        "\r\n+CME ERROR: 3\r\n"
    );
    assert!(at(&mut m, 1000, "AT+CIMI").starts_with("\r\n310410"));
    // The new PIN is the PIN from now on.
    assert_eq!(
        at(&mut m, 1000, "AT+CLCK=\"SC\",2"),
        "\r\n+CLCK: 1\r\n\r\nOK\r\n"
    );
    assert_eq!(
        at(&mut m, 1000, "AT+CLCK=\"SC\",0,\"4321\""),
        "\r\n+CME ERROR: 16\r\n"
    );
    assert_eq!(at(&mut m, 1000, "AT+CLCK=\"SC\",0,\"1111\""), "\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 1000, "AT+CLCK=\"SC\",2"),
        "\r\n+CLCK: 0\r\n\r\nOK\r\n"
    );
}

#[test]
fn registration_progression_with_urcs() {
    let mut m = modem(&["--register-after-ms", "2000"]);
    m.tick(0);
    assert_eq!(at(&mut m, 0, "ATE0"), "ATE0\r\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "AT+CREG?"), "\r\n+CREG: 0,2\r\n\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "AT+CREG=2;+CEREG=1"), "\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "AT+COPS?"), "\r\n+COPS: 0\r\n\r\nOK\r\n");
    m.tick(1999);
    assert_eq!(m.take_output(PortId::At), "");
    m.tick(2000);
    let urcs = m.take_output(PortId::At);
    let lac = format!("{:04X}", m.lac);
    let ci = format!("{:08X}", m.cell_id);
    assert_eq!(
        urcs,
        format!("\r\n+CREG: 1,\"{lac}\",\"{ci}\",7\r\n\r\n+CEREG: 1\r\n")
    );
    assert_eq!(
        at(&mut m, 2000, "AT+CREG?"),
        format!("\r\n+CREG: 2,1,\"{lac}\",\"{ci}\",7\r\n\r\nOK\r\n")
    );
    assert_eq!(
        at(&mut m, 2000, "AT+CGREG?"),
        "\r\n+CGREG: 0,1\r\n\r\nOK\r\n"
    );
    assert_eq!(
        at(&mut m, 2000, "AT+COPS?"),
        "\r\n+COPS: 0,0,\"AT&T\",7\r\n\r\nOK\r\n"
    );
    assert_eq!(
        at(&mut m, 2000, "AT+COPS=3,2;+COPS?"),
        "\r\n+COPS: 0,2,\"310410\",7\r\n\r\nOK\r\n"
    );
    // Airplane mode and back.
    assert_eq!(
        at(&mut m, 2000, "AT+CFUN=4"),
        "\r\nOK\r\n\r\n+CREG: 0\r\n\r\n+CEREG: 0\r\n"
    );
    assert_eq!(at(&mut m, 2000, "AT+CSQ"), "\r\n+CSQ: 99,99\r\n\r\nOK\r\n");
    assert_eq!(at(&mut m, 2000, "AT+CFUN?"), "\r\n+CFUN: 4\r\n\r\nOK\r\n");
    m.input(PortId::At, b"AT+CFUN=1\r", 2000);
    assert_eq!(
        m.take_output(PortId::At),
        "\r\nOK\r\n\r\n+CREG: 2\r\n\r\n+CEREG: 2\r\n"
    );
    m.tick(4000);
    assert_eq!(
        m.take_output(PortId::At),
        format!("\r\n+CREG: 1,\"{lac}\",\"{ci}\",7\r\n\r\n+CEREG: 1\r\n")
    );
    // Denied with a cause, visible with n=3.
    assert_eq!(at(&mut m, 4000, "AT+CREG=0;+CEREG=3"), "\r\nOK\r\n");
    m.control(Control::Reg(RegTarget::Denied(11)), 4000);
    assert_eq!(m.take_output(PortId::At), "\r\n+CEREG: 3,,,,0,11\r\n");
    assert_eq!(
        at(&mut m, 4000, "AT+CEREG?"),
        "\r\n+CEREG: 3,3,,,,0,11\r\n\r\nOK\r\n"
    );
    m.control(Control::Reg(RegTarget::Roaming), 4000);
    assert_eq!(
        m.take_output(PortId::At),
        format!("\r\n+CEREG: 5,\"{lac}\",\"{ci}\",7\r\n")
    );
}

#[test]
fn cfun4_drops_registration_with_urcs() {
    let mut m = quiet_modem(&[]);
    assert_eq!(at(&mut m, 0, "AT+CREG=1"), "\r\nOK\r\n");
    // The URC follows the OK of the command that caused it.
    assert_eq!(at(&mut m, 0, "AT+CFUN=4"), "\r\nOK\r\n\r\n+CREG: 0\r\n");
}

#[test]
fn registration_needs_sim_and_roaming_flag() {
    let mut m = quiet_modem(&["--sim", "absent", "--roaming", "--register-after-ms", "500"]);
    assert_eq!(at(&mut m, 0, "AT+CREG=1"), "\r\nOK\r\n");
    m.tick(10_000);
    assert_eq!(m.take_output(PortId::At), "");
    m.control(Control::Sim(SimAction::Insert), 10_000);
    m.tick(10_500);
    let out = m.take_output(PortId::At);
    assert!(out.starts_with("\r\n+CREG: 2\r\n"), "{out:?}");
    assert!(out.contains("\r\n+CPIN: READY\r\n"), "{out:?}");
    assert!(
        out.ends_with("\r\n+CREG: 5\r\n") || out.contains("\r\n+CREG: 5\r\n"),
        "{out:?}"
    );
    m.control(Control::Sim(SimAction::Remove), 11_000);
    assert_eq!(
        m.take_output(PortId::At),
        "\r\n+CPIN: NOT READY\r\n\r\n+CREG: 0\r\n"
    );
}

#[test]
fn cops_deregister_and_manual_selection() {
    let mut m = quiet_modem(&[]);
    assert_eq!(at(&mut m, 0, "AT+COPS=2"), "\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "AT+CREG?"), "\r\n+CREG: 0,0\r\n\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "AT+COPS?"), "\r\n+COPS: 2\r\n\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+COPS=1,2,\"26201\""),
        "\r\n+CME ERROR: 30\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+COPS=1,2,\"310410\""), "\r\nOK\r\n");
    m.tick(0);
    assert_eq!(
        at(&mut m, 0, "AT+COPS?"),
        "\r\n+COPS: 1,2,\"310410\",7\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+COPS=0"), "\r\nOK\r\n");
    m.control(
        Control::Operator {
            plmn: "26201".into(),
            name: None,
        },
        0,
    );
    assert_eq!(
        at(&mut m, 0, "AT+COPS=3,0;+COPS?"),
        "\r\n+COPS: 0,0,\"Telekom\",7\r\n\r\nOK\r\n"
    );
}

#[test]
fn pdp_contexts_and_auth() {
    let mut m = quiet_modem(&[]);
    assert_eq!(
        at(&mut m, 0, "AT+CGDCONT?"),
        "\r\n+CGDCONT: 1,\"IPV4V6\",\"\",\"0.0.0.0\",0,0,0,0\r\n\r\nOK\r\n"
    );
    assert_eq!(
        at(&mut m, 0, "AT+CGDCONT=1,\"IP\",\"hologram\""),
        "\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+CGDCONT=3,\"IPV6\",\"ims\""), "\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+CGDCONT?"),
        "\r\n+CGDCONT: 1,\"IP\",\"hologram\",\"0.0.0.0\",0,0,0,0\r\n+CGDCONT: 3,\"IPV6\",\"ims\",\"0.0.0.0\",0,0,0,0\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+CGDCONT=3"), "\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+CGDCONT=2,\"X25\",\"a\""),
        "\r\n+CME ERROR: 50\r\n"
    );
    assert_eq!(
        at(&mut m, 0, "AT+CGDCONT=16,\"IP\",\"a\""),
        "\r\n+CME ERROR: 50\r\n"
    );
    assert_eq!(
        at(&mut m, 0, "AT+CGDCONT=1,\"IP\",\"unterminated"),
        "\r\nERROR\r\n"
    );
    assert_eq!(
        at(&mut m, 0, "AT+CGAUTH=1,1,\"user\",\"s3cret\""),
        "\r\nOK\r\n"
    );
    let read = at(&mut m, 0, "AT+CGAUTH?");
    assert_eq!(read, "\r\n+CGAUTH: 1,1,\"user\"\r\n\r\nOK\r\n");
    assert!(!read.contains("s3cret"));
    assert_eq!(m.auth.get(&1).map(|a| a.password.as_str()), Some("s3cret"));
    assert_eq!(at(&mut m, 0, "AT+CGACT?"), "\r\n+CGACT: 1,0\r\n\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "AT+CGACT=1,1"), "\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "AT+CGACT?"), "\r\n+CGACT: 1,1\r\n\r\nOK\r\n");
    assert!(at(&mut m, 0, "AT+CGPADDR=1").starts_with("\r\n+CGPADDR: 1,\"10."));
    assert_eq!(
        at(&mut m, 0, "AT+CGDCONT=1,\"IP\",\"other\""),
        "\r\n+CME ERROR: 3\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+CGACT=0,1"), "\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+CGPADDR=1"),
        "\r\n+CGPADDR: 1,\"0.0.0.0\"\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+CGAUTH=1,0"), "\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+CGAUTH?"),
        "\r\n+CGAUTH: 1,0,\"\"\r\n\r\nOK\r\n"
    );

    // SIMCom takes the password first.
    let mut s = quiet_modem(&["--model", "sim7600"]);
    assert_eq!(at(&mut s, 0, "AT+CGAUTH=1,2,\"pw\",\"me\""), "\r\nOK\r\n");
    assert_eq!(
        at(&mut s, 0, "AT+CGAUTH?"),
        "\r\n+CGAUTH: 1,2,\"me\"\r\n\r\nOK\r\n"
    );
    assert_eq!(s.auth.get(&1).map(|a| a.password.as_str()), Some("pw"));
}

#[test]
fn cgact_needs_network_and_apn() {
    let mut m = quiet_modem(&["--registration", "searching"]);
    assert_eq!(
        at(&mut m, 0, "AT+CGDCONT=1,\"IP\",\"internet\""),
        "\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+CGACT=1,1"), "\r\n+CME ERROR: 30\r\n");
    m.control(Control::Reg(RegTarget::Home), 0);
    assert_eq!(at(&mut m, 0, "AT+CGDCONT=2,\"IP\",\"\""), "\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "AT+CGACT=1,2"), "\r\n+CME ERROR: 148\r\n");
    assert_eq!(at(&mut m, 0, "AT+CGACT=1,9"), "\r\n+CME ERROR: 50\r\n");
}

fn dial_ready(args: &[&str]) -> Modem {
    let mut all = vec!["--provisioned", "internet"];
    all.extend_from_slice(args);
    let mut m = quiet_modem(&all);
    assert_eq!(on(&mut m, PortId::Ppp, 0, "ATE0"), "ATE0\r\r\nOK\r\n");
    m
}

#[test]
fn dial_connect_data_mode_and_escape() {
    let mut m = dial_ready(&[]);
    m.input(PortId::Ppp, b"ATD*99***1#\r", 100);
    let fx = events(&mut m);
    assert_eq!(
        fx,
        vec![
            Effect::Write(PortId::Ppp, Out::Pause(150)),
            Effect::Write(
                PortId::Ppp,
                Out::Bytes(b"\r\nCONNECT 150000000\r\n".to_vec())
            ),
            Effect::Event(Event::Connected(PortId::Ppp)),
        ]
    );
    // Data is swallowed, even text that looks like a command.
    m.input(PortId::Ppp, b"\x7e\xff\x7d\x23AT\r", 200);
    assert_eq!(m.take_output(PortId::Ppp), "");
    // The at port still works meanwhile, and sees the context active.
    assert_eq!(
        at(&mut m, 250, "AT+CGACT?"),
        "\r\n+CGACT: 1,1\r\n\r\nOK\r\n"
    );
    // "+++" without the leading guard time is data.
    m.input(PortId::Ppp, b"+++", 300);
    m.tick(2000);
    assert_eq!(m.take_output(PortId::Ppp), "");
    // Guard time (S12=50, 1 s) before and after: escape.
    m.input(PortId::Ppp, b"+", 3100);
    m.input(PortId::Ppp, b"++", 3150);
    m.tick(4149);
    assert_eq!(m.take_output(PortId::Ppp), "");
    m.tick(4150);
    assert_eq!(m.take_output(PortId::Ppp), "\r\nOK\r\n");
    // Online command mode: commands work, ATO goes back to data.
    assert!(on(&mut m, PortId::Ppp, 4200, "AT+CSQ").contains("+CSQ:"));
    assert_eq!(
        on(&mut m, PortId::Ppp, 4300, "ATO"),
        "\r\nCONNECT 150000000\r\n"
    );
    assert_eq!(on(&mut m, PortId::Ppp, 4400, "AT"), "");
    // A shorter guard time via S12 (escape), then ATH ends the call with OK.
    m.input(PortId::Ppp, b"+++", 6000);
    m.tick(7000);
    assert_eq!(m.take_output(PortId::Ppp), "\r\nOK\r\n");
    m.input(PortId::Ppp, b"ATH\r", 7100);
    let fx = events(&mut m);
    assert_eq!(
        fx,
        vec![
            Effect::Write(PortId::Ppp, Out::Bytes(b"\r\nOK\r\n".to_vec())),
            Effect::Event(Event::Hangup(PortId::Ppp)),
        ]
    );
    assert_eq!(on(&mut m, PortId::Ppp, 7200, "ATO"), "\r\nNO CARRIER\r\n");
    assert_eq!(
        at(&mut m, 7300, "AT+CGACT?"),
        "\r\n+CGACT: 1,0\r\n\r\nOK\r\n"
    );
}

#[test]
fn guard_time_follows_s12() {
    let mut m = dial_ready(&[]);
    assert_eq!(
        on(&mut m, PortId::Ppp, 0, "ATS12?"),
        "\r\n050\r\n\r\nOK\r\n"
    );
    assert_eq!(on(&mut m, PortId::Ppp, 0, "ATS12=5"), "\r\nOK\r\n");
    m.input(PortId::Ppp, b"ATD*99#\r", 0);
    assert!(m.take_output(PortId::Ppp).contains("CONNECT"));
    m.input(PortId::Ppp, b"+++", 100);
    m.tick(199);
    assert_eq!(m.take_output(PortId::Ppp), "");
    m.tick(200);
    assert_eq!(m.take_output(PortId::Ppp), "\r\nOK\r\n");
}

#[test]
fn dial_failures() {
    // No APN in context 1.
    let mut m = quiet_modem(&[]);
    assert_eq!(
        on(&mut m, PortId::Ppp, 0, "ATD*99***1#"),
        "ATD*99***1#\r\r\nNO CARRIER\r\n"
    );
    // Undefined context.
    assert_eq!(at(&mut m, 0, "ATD*99***5#"), "\r\nERROR\r\n");
    assert_eq!(at(&mut m, 0, "ATD*99***x#"), "\r\nERROR\r\n");
    // Not registered.
    let mut m = quiet_modem(&["--provisioned", "internet", "--registration", "denied"]);
    assert_eq!(at(&mut m, 0, "ATD*99#"), "\r\nNO CARRIER\r\n");
    // SIM absent.
    let mut m = quiet_modem(&["--provisioned", "internet", "--sim", "absent"]);
    assert_eq!(at(&mut m, 0, "ATD*99#"), "\r\nNO CARRIER\r\n");
    // Voice calls are not answered.
    let mut m = quiet_modem(&["--provisioned", "internet"]);
    assert_eq!(at(&mut m, 0, "ATD5551234;"), "\r\nNO CARRIER\r\n");
    // Other contexts, ATDT prefix, L2P field.
    assert_eq!(at(&mut m, 0, "AT+CGDCONT=2,\"IP\",\"two\""), "\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 0, "ATDT*99*,*PPP*2#"),
        "\r\nCONNECT 150000000\r\n"
    );
    // One call at a time.
    assert_eq!(
        on(&mut m, PortId::Ppp, 0, "ATE0;D*99#"),
        "ATE0;D*99#\r\r\nERROR\r\n"
    );
}

#[test]
fn network_drops_the_call() {
    for drop in [
        Control::Hangup,
        Control::Reg(RegTarget::Searching),
        Control::Sim(SimAction::Remove),
    ] {
        let mut m = dial_ready(&[]);
        m.input(PortId::Ppp, b"ATD*99#\r", 0);
        m.take_effects();
        m.control(drop.clone(), 10);
        let fx = events(&mut m);
        assert!(
            fx.contains(&Effect::Write(
                PortId::Ppp,
                Out::Bytes(b"\r\nNO CARRIER\r\n".to_vec())
            )),
            "{drop:?}: {fx:?}"
        );
        assert!(
            fx.contains(&Effect::Event(Event::Hangup(PortId::Ppp))),
            "{drop:?}"
        );
        // Back in command mode.
        assert_eq!(on(&mut m, PortId::Ppp, 20, "AT"), "\r\nOK\r\n");
    }
}

#[test]
fn dtr_drop_follows_amp_d() {
    // &D2 (default): the call ends, no result code, back in command mode.
    let mut m = dial_ready(&[]);
    m.input(PortId::Ppp, b"ATD*99#\r", 0);
    m.take_effects();
    m.control(Control::DtrDrop, 10);
    let fx = events(&mut m);
    assert!(
        fx.contains(&Effect::Event(Event::Hangup(PortId::Ppp))),
        "{fx:?}"
    );
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Write(PortId::Ppp, Out::Bytes(_)))),
        "{fx:?}"
    );
    assert_eq!(on(&mut m, PortId::Ppp, 20, "AT"), "\r\nOK\r\n");

    // &D1: online command mode with OK; the call stays up.
    let mut m = dial_ready(&[]);
    assert_eq!(on(&mut m, PortId::Ppp, 0, "AT&D1"), "\r\nOK\r\n");
    m.input(PortId::Ppp, b"ATD*99#\r", 0);
    m.take_effects();
    m.control(Control::DtrDrop, 10);
    assert_eq!(m.take_output(PortId::Ppp), "\r\nOK\r\n");
    assert!(
        m.status().contains("call=ppp:cid1:command"),
        "{}",
        m.status()
    );

    // &D0: ignored, still in data mode (AT is swallowed).
    let mut m = dial_ready(&[]);
    assert_eq!(on(&mut m, PortId::Ppp, 0, "AT&D0"), "\r\nOK\r\n");
    m.input(PortId::Ppp, b"ATD*99#\r", 0);
    m.take_effects();
    m.control(Control::DtrDrop, 10);
    assert_eq!(on(&mut m, PortId::Ppp, 20, "AT"), "");
    assert!(m.status().contains("call=ppp:cid1:data"), "{}", m.status());
}

#[test]
fn several_commands_per_line_stop_at_the_first_error() {
    let mut m = quiet_modem(&[]);
    m.control(
        Control::Signal {
            rssi: 17,
            ber: Some(99),
        },
        0,
    );
    assert_eq!(
        at(&mut m, 0, "AT+CSQ;+CREG?"),
        "\r\n+CSQ: 17,99\r\n\r\n+CREG: 0,1\r\n\r\nOK\r\n"
    );
    assert_eq!(
        at(&mut m, 0, "AT+CSQ;+BOGUS;+CREG?"),
        "\r\n+CSQ: 17,99\r\n\r\nERROR\r\n"
    );
    assert_eq!(at(&mut m, 0, "at+csq"), "\r\n+CSQ: 17,99\r\n\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+CSQ=?"),
        "\r\n+CSQ: (0-31,99),(0-7,99)\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT&F"), "\r\nOK\r\n");
}

#[test]
fn line_assembly_is_byte_exact() {
    // One byte per write (as chat did) gives exactly what one write gives.
    let mut whole = modem(&["--seed", "3"]);
    let mut bytes = modem(&["--seed", "3"]);
    let input = b"AT\rATI\r\nAT+CSQ;+CREG?\nAT+CGDCONT?\r";
    whole.input(PortId::At, input, 0);
    for b in input {
        bytes.input(PortId::At, &[*b], 0);
    }
    let a = whole.take_output(PortId::At);
    assert_eq!(a, bytes.take_output(PortId::At));
    assert_eq!(a.matches("OK").count(), 4);

    let mut m = quiet_modem(&[]);
    // Backspace editing, noise before AT, lines without AT ignored.
    assert_eq!(at(&mut m, 0, "AT+CGMX\x08M"), "\r\nEC25\r\n\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "\x00\x7e!!AT"), "\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "hello"), "");
    assert_eq!(at(&mut m, 0, ""), "");
    // A/ repeats the last line without CR.
    assert_eq!(at(&mut m, 0, "AT+CGMM"), "\r\nEC25\r\n\r\nOK\r\n");
    m.input(PortId::At, b"A/", 0);
    assert_eq!(m.take_output(PortId::At), "\r\nEC25\r\n\r\nOK\r\n");
    // Overlong lines are an error, not a crash.
    let long = format!("AT{}", "X".repeat(5000));
    assert_eq!(at(&mut m, 0, &long), "\r\nERROR\r\n");
    assert_eq!(at(&mut m, 0, "AT"), "\r\nOK\r\n");
}

#[test]
fn random_garbage_never_panics() {
    let mut rng = Rng::new(99);
    for model in crate::profile::PROFILES {
        let mut m = modem(&[
            "--model",
            model.key,
            "--provisioned",
            "x",
            "--register-after-ms",
            "0",
        ]);
        let mut t = 0;
        for _ in 0..300 {
            t += rng.range(0, 50);
            let len = rng.range(0, 40) as usize;
            let mut chunk: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
            // Mix in real command fragments so the interpreter is exercised too.
            let words: [&[u8]; 12] = [
                b"AT",
                b"+CGDCONT=",
                b"\"",
                b",",
                b"\r",
                b"?",
                b"=?",
                b";",
                b"D*99#",
                b"+CPIN=",
                b"+++",
                b"S12=",
            ];
            chunk.extend_from_slice(words[rng.below(12) as usize]);
            let port = if rng.below(2) == 0 {
                PortId::At
            } else {
                PortId::Ppp
            };
            m.input(port, &chunk, t);
            m.tick(t);
            m.take_effects();
        }
    }
}

#[test]
fn signal_walk_is_deterministic_under_a_seed() {
    let walk = |seed: &str| -> Vec<u8> {
        let mut m = modem(&["--seed", seed]);
        (0..40)
            .map(|i| {
                m.tick(i * 4000);
                m.take_effects();
                m.csq().0
            })
            .collect()
    };
    let a = walk("7");
    assert_eq!(a, walk("7"));
    assert_ne!(a, walk("8"));
    assert!(
        a.windows(2).any(|w| w[0] != w[1]),
        "the signal moves: {a:?}"
    );
    assert!(a
        .windows(2)
        .all(|w| (i32::from(w[0]) - i32::from(w[1])).abs() <= 1));
    // And stays put when auto is off.
    let mut m = modem(&[]);
    m.control(Control::SignalAuto(false), 0);
    let before = m.csq();
    m.tick(100_000);
    assert_eq!(m.csq(), before);
}

#[test]
fn autocsq_periodic_reports() {
    let mut m = quiet_modem(&["--model", "a7600"]);
    m.control(Control::SignalAuto(false), 0);
    m.control(
        Control::Signal {
            rssi: 18,
            ber: Some(99),
        },
        0,
    );
    assert_eq!(at(&mut m, 0, "AT+AUTOCSQ=1,0"), "\r\nOK\r\n");
    m.tick(5000);
    assert_eq!(m.take_output(PortId::At), "\r\n+CSQ: 18,99\r\n");
    m.tick(10_000);
    assert_eq!(m.take_output(PortId::At), "\r\n+CSQ: 18,99\r\n");
    assert_eq!(at(&mut m, 10_000, "AT+AUTOCSQ=0"), "\r\nOK\r\n");
    m.tick(30_000);
    assert_eq!(m.take_output(PortId::At), "");
}

#[test]
fn reset_re_enumerates_and_boots() {
    let mut m = quiet_modem(&["--reset-ms", "1000", "--provisioned", "internet"]);
    assert_eq!(at(&mut m, 0, "AT+CFUN=1,1"), "\r\nOK\r\n");
    m.tick(199);
    assert!(events(&mut m).is_empty());
    m.tick(200);
    assert_eq!(events(&mut m), vec![Effect::Unplug]);
    assert!(!m.plugged());
    m.input(PortId::At, b"AT\r", 500);
    assert!(events(&mut m).is_empty());
    m.tick(1200);
    let fx = events(&mut m);
    assert!(matches!(fx[0], Effect::Replug(_)));
    let text: String = fx[1..]
        .iter()
        .filter_map(|e| match e {
            Effect::Write(PortId::At, Out::Bytes(b)) => {
                Some(String::from_utf8_lossy(b).into_owned())
            }
            _ => None,
        })
        .collect();
    assert_eq!(text, "\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n");
    m.tick(1500);
    assert_eq!(
        m.take_output(PortId::At),
        "\r\n+QUSIM: 1\r\n\r\n+QIND: SMS DONE\r\n\r\n+QIND: PB DONE\r\n"
    );
    // Power-on defaults again (echo on), stored contexts kept.
    assert_eq!(
        at(&mut m, 1500, "AT+CGDCONT?"),
        "AT+CGDCONT?\r\r\n+CGDCONT: 1,\"IP\",\"internet\",\"0.0.0.0\",0,0,0,0\r\n\r\nOK\r\n"
    );

    // SIMCom: AT+CRESET, and its own boot lines; a locked SIM stays locked.
    let mut s = quiet_modem(&["--model", "sim7600", "--reset-ms", "0", "--sim", "locked"]);
    assert_eq!(at(&mut s, 0, "AT+CRESET"), "\r\nOK\r\n");
    s.tick(200);
    let fx = events(&mut s);
    assert_eq!(fx[0], Effect::Unplug);
    assert!(matches!(fx[1], Effect::Replug(_)));
    assert_eq!(s.take_output(PortId::At), "");
    let text: String = fx[2..]
        .iter()
        .filter_map(|e| match e {
            Effect::Write(PortId::At, Out::Bytes(b)) => {
                Some(String::from_utf8_lossy(b).into_owned())
            }
            _ => None,
        })
        .collect();
    assert_eq!(text, "\r\nRDY\r\n\r\n+CPIN: SIM PIN\r\n");
}

#[test]
fn control_commands() {
    let mut m = quiet_modem(&[]);
    // mute: nothing at all comes back, then normal service.
    assert_eq!(at(&mut m, 0, "AT+CREG=1"), "\r\nOK\r\n");
    m.control(Control::Mute(true), 0);
    assert_eq!(at(&mut m, 0, "AT"), "");
    m.control(Control::Reg(RegTarget::Searching), 0);
    assert_eq!(m.take_output(PortId::At), "", "no URCs from a hung modem");
    m.control(Control::Urc("+INJECTED".into()), 0);
    assert_eq!(m.take_output(PortId::At), "\r\n+INJECTED\r\n");
    m.control(Control::Reg(RegTarget::Home), 0);
    m.control(Control::Mute(false), 0);
    assert_eq!(at(&mut m, 0, "AT"), "\r\nOK\r\n");
    // delay: a pause before every response.
    m.control(Control::Delay(300), 0);
    m.input(PortId::At, b"AT\r", 0);
    assert_eq!(
        events(&mut m),
        vec![
            Effect::Write(PortId::At, Out::Pause(300)),
            Effect::Write(PortId::At, Out::Bytes(b"\r\nOK\r\n".to_vec()))
        ]
    );
    m.control(Control::Delay(0), 0);
    // garbage: n bytes without line ends.
    m.control(Control::Garbage(500), 0);
    let fx = events(&mut m);
    let [Effect::Write(PortId::At, Out::Bytes(g))] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert_eq!(g.len(), 500);
    assert!(!g.contains(&b'\r') && !g.contains(&b'\n'));
    // cme_storm and urc.
    m.control(Control::CmeStorm(5), 0);
    let storm = m.take_output(PortId::At);
    assert_eq!(storm.matches("\r\n+CME ERROR: ").count(), 5, "{storm:?}");
    m.control(Control::Urc("+QIND: \"act\",\"LTE\"".into()), 0);
    assert_eq!(m.take_output(PortId::At), "\r\n+QIND: \"act\",\"LTE\"\r\n");
    // cell_storm: every line another cell.
    m.control(Control::CellStorm(3), 0);
    assert_eq!(
        m.take_output(PortId::At),
        "\r\n+CEREG: 1,\"1A00\",\"01C3D000\",7\r\n\r\n+CEREG: 1,\"1A01\",\"01C3D001\",7\r\n\r\n+CEREG: 1,\"1A02\",\"01C3D002\",7\r\n"
    );
    // fragment is the I/O layer's business.
    m.control(Control::Fragment(FragmentMode::EveryByte), 0);
    assert_eq!(
        events(&mut m),
        vec![Effect::Fragment(FragmentMode::EveryByte)]
    );
    // unplug / replug / replug_after.
    m.control(Control::Unplug, 0);
    assert_eq!(events(&mut m), vec![Effect::Unplug]);
    m.control(Control::Unplug, 0);
    assert!(events(&mut m).is_empty());
    m.control(Control::Replug, 10);
    let fx = events(&mut m);
    assert!(matches!(fx[0], Effect::Replug(_)));
    m.control(Control::ReplugAfter(500), 20);
    assert_eq!(events(&mut m), vec![Effect::Unplug]);
    m.tick(519);
    assert!(events(&mut m).is_empty());
    m.tick(520);
    assert!(matches!(events(&mut m)[0], Effect::Replug(_)));
    // status and quit.
    m.control(Control::Status, 600);
    let fx = events(&mut m);
    assert!(
        matches!(&fx[..], [Effect::Event(Event::Log(s))] if s.contains("model=EC25")),
        "{fx:?}"
    );
    m.control(Control::Quit, 600);
    assert_eq!(events(&mut m), vec![Effect::Quit]);
}

#[test]
fn scenario_lines_fire_on_time() {
    let mut m = quiet_modem(&[]);
    m.schedule(crate::control::parse_scenario("5s sim remove\n2500ms urc hello\n", 1.0).unwrap());
    assert_eq!(m.next_deadline().map(|d| d <= 2500), Some(true));
    m.tick(2499);
    assert_eq!(m.take_output(PortId::At), "");
    m.tick(2500);
    assert_eq!(m.take_output(PortId::At), "\r\nhello\r\n");
    m.tick(4999);
    assert_eq!(
        at(&mut m, 4999, "AT+CPIN?"),
        "\r\n+CPIN: READY\r\n\r\nOK\r\n"
    );
    m.tick(5000);
    assert_eq!(m.take_output(PortId::At), "\r\n+CPIN: NOT READY\r\n");
    assert_eq!(at(&mut m, 5000, "AT+CPIN?"), "\r\n+CME ERROR: 10\r\n");
}

#[test]
fn urc_port_can_move_to_the_modem_interface() {
    let mut m = quiet_modem(&["--sim", "locked"]);
    assert_eq!(
        at(&mut m, 0, "AT+QURCCFG=\"urcport\""),
        "\r\n+QURCCFG: \"urcport\",\"usbat\"\r\n\r\nOK\r\n"
    );
    assert_eq!(
        at(&mut m, 0, "AT+QURCCFG=\"urcport\",\"usbmodem\""),
        "\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+CPIN=1234"), "\r\nOK\r\n");
    m.tick(1000);
    let fx = m.take_effects();
    let ppp: Vec<u8> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Write(PortId::Ppp, Out::Bytes(b)) => Some(b.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    let ppp = String::from_utf8_lossy(&ppp);
    assert!(ppp.starts_with("\r\n+CPIN: READY\r\n"), "{ppp:?}");
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Write(PortId::At, _))),
        "{fx:?}"
    );
    // "uart1" sends URCs to a UART this USB modem does not expose: nowhere.
    assert_eq!(
        at(&mut m, 1000, "AT+QURCCFG=\"urcport\",\"uart1\""),
        "\r\nOK\r\n"
    );
    m.control(Control::Sim(SimAction::Remove), 1000);
    assert!(!m
        .take_effects()
        .iter()
        .any(|e| matches!(e, Effect::Write(..))));
}

#[test]
fn qsimstat_and_sim_hot_swap() {
    let mut m = quiet_modem(&[]);
    assert_eq!(at(&mut m, 0, "AT+QSIMSTAT=1"), "\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+QSIMSTAT?"),
        "\r\n+QSIMSTAT: 1,1\r\n\r\nOK\r\n"
    );
    m.control(Control::Sim(SimAction::Remove), 0);
    assert_eq!(
        m.take_output(PortId::At),
        "\r\n+CPIN: NOT READY\r\n\r\n+QSIMSTAT: 1,0\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+QCCID"), "\r\n+CME ERROR: 10\r\n");
    m.control(Control::Sim(SimAction::Lock), 0);
    m.control(Control::Sim(SimAction::Insert), 0);
    m.tick(100);
    assert_eq!(
        m.take_output(PortId::At),
        "\r\n+QSIMSTAT: 1,1\r\n\r\n+CPIN: SIM PIN\r\n"
    );
    m.control(Control::Sim(SimAction::Ready), 100);
    m.tick(1000);
    assert!(m
        .take_output(PortId::At)
        .starts_with("\r\n+CPIN: READY\r\n"));
}

#[test]
fn power_down_unplugs_for_good() {
    let mut m = quiet_modem(&[]);
    assert_eq!(at(&mut m, 0, "AT+QPOWD"), "\r\nOK\r\n");
    m.tick(100);
    assert_eq!(m.take_output(PortId::At), "\r\nPOWERED DOWN\r\n");
    m.tick(300);
    assert_eq!(events(&mut m), vec![Effect::Unplug]);
    m.tick(100_000);
    assert!(!m.plugged());
}

#[test]
fn flood_writes_exactly_the_lines_asked_for_in_bounded_chunks() {
    let mut m = modem(&[]);
    m.control(
        Control::Flood {
            lines: 10_000,
            bytes: 48,
        },
        0,
    );
    let fx = events(&mut m);
    let mut total = Vec::new();
    for effect in &fx {
        let Effect::Write(PortId::At, Out::Bytes(chunk)) = effect else {
            panic!("{effect:?}")
        };
        assert!(chunk.len() <= 64 * 1024, "{}", chunk.len());
        assert!(chunk.ends_with(b"\r\n"));
        total.extend_from_slice(chunk);
    }
    assert!(fx.len() > 1);
    let text = String::from_utf8(total).unwrap();
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), 10_000);
    assert!(lines
        .iter()
        .all(|l| l.len() == 48 && l.starts_with("+FLOOD: ")));
    assert_eq!(lines[9_999], format!("+FLOOD: 00009999 {}", "x".repeat(31)));
    // Short lines are cut to length, never longer.
    let one: Vec<u8> = super::flood_chunks(1, 16, 1024).flatten().collect();
    assert_eq!(one, b"+FLOOD: 00000000\r\n");
}

#[test]
fn cpinr_counts_down_from_pin_attempts() {
    let mut m = quiet_modem(&["--sim", "locked", "--pin", "4321", "--pin-attempts", "2"]);
    assert_eq!(
        at(&mut m, 0, "AT+CPINR=\"SIM PIN\""),
        "\r\n+CPINR: \"SIM PIN\",2,3\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+CPIN=\"0000\""), "\r\n+CME ERROR: 16\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+CPINR=\"SIM*\""),
        "\r\n+CPINR: \"SIM PIN\",1,3\r\n+CPINR: \"SIM PUK\",10,10\r\n\
         +CPINR: \"SIM PIN2\",3,3\r\n+CPINR: \"SIM PUK2\",10,10\r\n\r\nOK\r\n"
    );
    assert_eq!(
        at(&mut m, 0, "AT+CPINR=\"PH-NET PIN\""),
        "\r\n+CME ERROR: 50\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+CPIN=\"4321\""), "\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+CPINR=\"SIM PIN\""),
        "\r\n+CPINR: \"SIM PIN\",3,3\r\n\r\nOK\r\n"
    );
}

#[test]
fn telit_vendor_commands() {
    let mut m = quiet_modem(&["--model", "me910c1", "--iccid", "89014103211118510720"]);
    assert_eq!(
        at(&mut m, 0, "AT#CCID"),
        "\r\n#CCID: 89014103211118510720\r\n\r\nOK\r\n"
    );
    // The simulated firmware has no AT+CCID: only the profile's command works.
    assert_eq!(at(&mut m, 0, "AT+CCID"), "\r\nERROR\r\n");
    assert_eq!(at(&mut m, 0, "AT#WS46?"), "\r\n#WS46: 2\r\n\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "AT#WS46=0"), "\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "AT#WS46?"), "\r\n#WS46: 0\r\n\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "AT+WS46?"), "\r\n+WS46: 25\r\n\r\nOK\r\n");
    // Nobody else's vendor commands.
    assert_eq!(at(&mut m, 0, "AT^ICCID?"), "\r\nERROR\r\n");
    assert_eq!(at(&mut m, 0, "AT+QCCID"), "\r\nERROR\r\n");
}

#[test]
fn ublox_vendor_commands() {
    let mut m = quiet_modem(&["--model", "lara_r6", "--iccid", "89014103211118510720"]);
    assert_eq!(
        at(&mut m, 0, "AT+CCID"),
        "\r\n+CCID: 89014103211118510720\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+URAT?"), "\r\n+URAT: 4,3\r\n\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "AT+URAT=3"), "\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "AT+URAT?"), "\r\n+URAT: 3\r\n\r\nOK\r\n");
    assert_eq!(at(&mut m, 0, "AT#WS46?"), "\r\nERROR\r\n");
}

#[test]
fn huawei_vendor_commands() {
    let mut m = quiet_modem(&["--model", "e3372", "--iccid", "89014103211118510720"]);
    // EF_ICCID as stored: each pair of digits swapped.
    assert_eq!(
        at(&mut m, 0, "AT^ICCID?"),
        "\r\n^ICCID: 98101430121181157002\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+CCID"), "\r\nERROR\r\n");
    assert_eq!(
        at(&mut m, 0, "AT^SYSCFGEX?"),
        "\r\n^SYSCFGEX: \"00\",3FFFFFFF,1,2,7FFFFFFFFFFFFFFF,,\r\n\r\nOK\r\n"
    );
    assert_eq!(
        at(
            &mut m,
            0,
            "AT^SYSCFGEX=\"0302\",3FFFFFFF,2,4,7FFFFFFFFFFFFFFF,,"
        ),
        "\r\nOK\r\n"
    );
    assert_eq!(
        at(&mut m, 0, "AT^SYSCFGEX?"),
        "\r\n^SYSCFGEX: \"0302\",3FFFFFFF,2,4,7FFFFFFFFFFFFFFF,,\r\n\r\nOK\r\n"
    );

    // A 19-digit ICCID is padded with F before the swap.
    let mut m = quiet_modem(&["--model", "e3372", "--iccid", "8988228000001234567"]);
    assert_eq!(
        at(&mut m, 0, "AT^ICCID?"),
        "\r\n^ICCID: 988822080000214365F7\r\n\r\nOK\r\n"
    );
}

/// The USB composition a reset brought the modem back in, from the effects
/// of the tick that re-enumerated it (`None` if it did not).
fn replugged_as(fx: &[Effect]) -> Option<(&'static str, u16)> {
    fx.iter().find_map(|e| match e {
        Effect::Replug(usb) => Some((usb.composition, usb.pid)),
        _ => None,
    })
}

/// Lets a scheduled reset (`--reset-ms 0`) happen at `t` and returns the
/// composition the modem came back in; echo is turned off again after it.
fn reset_done(m: &mut Modem, t: u64) -> Option<(&'static str, u16)> {
    m.tick(t);
    let fx = events(m);
    assert!(fx.contains(&Effect::Unplug), "{fx:?}");
    let usb = replugged_as(&fx);
    assert_eq!(at(m, t, "ATE0"), "ATE0\r\r\nOK\r\n");
    usb
}

#[test]
fn quectel_usbnet_is_stored_and_taken_at_the_next_reset() {
    let mut m = quiet_modem(&["--reset-ms", "0", "--provisioned", "internet"]);
    assert_eq!(
        m.usb(),
        Usb {
            composition: "rmnet",
            pid: 0x0125
        }
    );
    assert_eq!(
        at(&mut m, 0, "AT+QCFG=\"usbnet\""),
        "\r\n+QCFG: \"usbnet\",0\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 0, "AT+QCFG=\"usbnet\",1"), "\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 0, "AT+QCFG=\"usbnet\""),
        "\r\n+QCFG: \"usbnet\",1\r\n\r\nOK\r\n"
    );
    assert_eq!(
        at(&mut m, 0, "AT+QCFG=\"usbnet\",4"),
        "\r\n+CME ERROR: 50\r\n"
    );
    assert!(at(&mut m, 0, "AT+QCFG=?").contains("+QCFG: \"usbnet\",(0-3)\r\n"));
    // Stored, not active: still the factory composition until the reset.
    assert_eq!(m.usb().composition, "rmnet");
    assert!(events(&mut m).is_empty());
    assert_eq!(at(&mut m, 0, "AT+CFUN=1,1"), "\r\nOK\r\n");
    assert_eq!(reset_done(&mut m, 200), Some(("ecm", 0x0125)));
    assert_eq!(m.usb().composition, "ecm");
    assert!(m.status().contains("usb=ecm usbnet=ecm net_call=none"));
    // The setting is in flash: it survives the reset.
    assert_eq!(
        at(&mut m, 200, "AT+QCFG=\"usbnet\""),
        "\r\n+QCFG: \"usbnet\",1\r\n\r\nOK\r\n"
    );

    // The data call on the ECM interface.
    m.tick(2000);
    m.take_effects();
    assert_eq!(
        at(&mut m, 2000, "AT+QNETDEVCTL?"),
        "\r\n+QNETDEVCTL: 0,1,0,0\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut m, 2000, "AT+QNETDEVCTL=1,1,1"), "\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 2000, "AT+QNETDEVCTL?"),
        "\r\n+QNETDEVCTL: 1,1,1,1\r\n\r\nOK\r\n"
    );
    assert!(at(&mut m, 2000, "AT+CGACT?").contains("+CGACT: 1,1\r\n"));
    assert!(m.status().contains("net_call=cid1:up"));
    assert_eq!(at(&mut m, 2000, "AT+QNETDEVCTL=0,1,1"), "\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 2000, "AT+QNETDEVCTL?"),
        "\r\n+QNETDEVCTL: 0,1,1,0\r\n\r\nOK\r\n"
    );
    // An undefined context, a context without APN, no network.
    assert_eq!(
        at(&mut m, 2000, "AT+QNETDEVCTL=1,3,1"),
        "\r\n+CME ERROR: 50\r\n"
    );
    assert_eq!(at(&mut m, 2000, "AT+CGDCONT=2,\"IP\",\"\""), "\r\nOK\r\n");
    assert_eq!(
        at(&mut m, 2000, "AT+QNETDEVCTL=1,2,1"),
        "\r\n+CME ERROR: 148\r\n"
    );
    m.control(Control::Reg(RegTarget::None), 2000);
    m.take_effects();
    assert_eq!(
        at(&mut m, 2000, "AT+QNETDEVCTL=1,1,1"),
        "\r\n+CME ERROR: 30\r\n"
    );

    // Back to RmNet the same way; the call state does not survive the reset.
    m.control(Control::Reg(RegTarget::Home), 2000);
    assert_eq!(at(&mut m, 2000, "AT+QNETDEVCTL=1,1,1"), "\r\nOK\r\n");
    assert_eq!(at(&mut m, 2000, "AT+QCFG=\"usbnet\",0"), "\r\nOK\r\n");
    assert_eq!(at(&mut m, 2000, "AT+CFUN=1,1"), "\r\nOK\r\n");
    assert_eq!(reset_done(&mut m, 2200), Some(("rmnet", 0x0125)));
    assert_eq!(
        at(&mut m, 2200, "AT+QNETDEVCTL?"),
        "\r\n+QNETDEVCTL: 0,1,0,0\r\n\r\nOK\r\n"
    );

    // `--usbnet` sets the composition of the first power-on.
    let m = quiet_modem(&["--model", "eg95", "--usbnet", "rndis"]);
    assert_eq!(
        m.usb(),
        Usb {
            composition: "rndis",
            pid: 0x0195
        }
    );

    // BG96 has no USB network function to switch.
    let mut b = quiet_modem(&["--model", "bg96"]);
    assert_eq!(
        b.usb(),
        Usb {
            composition: "serial",
            pid: 0x0296
        }
    );
    assert_eq!(
        at(&mut b, 0, "AT+QCFG=\"usbnet\""),
        "\r\n+CME ERROR: 50\r\n"
    );
    assert_eq!(
        at(&mut b, 0, "AT+QCFG=\"usbnet\",1"),
        "\r\n+CME ERROR: 50\r\n"
    );
    assert_eq!(at(&mut b, 0, "AT+QNETDEVCTL?"), "\r\nERROR\r\n");
    assert_eq!(at(&mut b, 0, "AT+QNETDEVCTL=1,1,1"), "\r\nERROR\r\n");
}

#[test]
fn simcom_pid_switch_resets_by_itself() {
    let mut s = quiet_modem(&[
        "--model",
        "sim7600",
        "--reset-ms",
        "0",
        "--provisioned",
        "internet",
    ]);
    assert_eq!(
        s.usb(),
        Usb {
            composition: "rmnet",
            pid: 0x9001
        }
    );
    assert_eq!(
        at(&mut s, 0, "AT+CUSBPIDSWITCH?"),
        "\r\n+CUSBPIDSWITCH: 9001\r\n\r\nOK\r\n"
    );
    assert_eq!(
        at(&mut s, 0, "AT+CUSBPIDSWITCH=9999,1,1"),
        "\r\n+CME ERROR: incorrect parameters\r\n"
    );
    assert!(events(&mut s).is_empty());
    assert_eq!(at(&mut s, 0, "AT+CUSBPIDSWITCH=9011,1,1"), "\r\nOK\r\n");
    assert_eq!(s.usb().composition, "rmnet");
    assert_eq!(reset_done(&mut s, 200), Some(("rndis", 0x9011)));
    assert_eq!(
        at(&mut s, 200, "AT+CUSBPIDSWITCH?"),
        "\r\n+CUSBPIDSWITCH: 9011\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut s, 200, "AT+CUSBPIDSWITCH=9018,1,1"), "\r\nOK\r\n");
    assert_eq!(reset_done(&mut s, 400), Some(("ecm", 0x9018)));

    // The data call on the network interface.
    s.tick(3000);
    s.take_effects();
    assert_eq!(at(&mut s, 3000, "AT$QCRMCALL?"), "\r\nOK\r\n");
    assert_eq!(
        at(&mut s, 3000, "AT$QCRMCALL=1,1"),
        "\r\n$QCRMCALL: 1,V4\r\n\r\nOK\r\n"
    );
    assert_eq!(
        at(&mut s, 3000, "AT$QCRMCALL?"),
        "\r\n$QCRMCALL: 1,V4\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut s, 3000, "AT$QCRMCALL=0,1"), "\r\nOK\r\n");
    assert_eq!(at(&mut s, 3000, "AT$QCRMCALL?"), "\r\nOK\r\n");

    // A7600/SIM7672: RNDIS from the factory, the data call through +CGACT,
    // and no PID switch.
    for model in ["a7600", "sim7672"] {
        let mut a = quiet_modem(&["--model", model, "--provisioned", "internet"]);
        assert_eq!(
            a.usb(),
            Usb {
                composition: "rndis",
                pid: 0x9011
            }
        );
        assert_eq!(at(&mut a, 0, "AT+CUSBPIDSWITCH?"), "\r\nERROR\r\n");
        assert_eq!(at(&mut a, 0, "AT$QCRMCALL=1,1"), "\r\nERROR\r\n");
        assert_eq!(at(&mut a, 0, "AT+CGACT=1,1"), "\r\nOK\r\n");
        assert_eq!(at(&mut a, 0, "AT+CGACT?"), "\r\n+CGACT: 1,1\r\n\r\nOK\r\n");
    }
}

#[test]
fn ublox_uusbconf_takes_effect_at_cfun_16() {
    let mut u = quiet_modem(&[
        "--model",
        "lara_r6",
        "--reset-ms",
        "0",
        "--provisioned",
        "internet",
    ]);
    assert_eq!(
        u.usb(),
        Usb {
            composition: "serial",
            pid: 0x1141
        }
    );
    assert_eq!(
        at(&mut u, 0, "AT+UUSBCONF?"),
        "\r\n+UUSBCONF: 0,\"\",,\"0x1141\"\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut u, 0, "AT+UUSBCONF=2,\"ECM\""), "\r\nOK\r\n");
    assert_eq!(
        at(&mut u, 0, "AT+UUSBCONF?"),
        "\r\n+UUSBCONF: 2,\"ECM\",,\"0x1143\"\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut u, 0, "AT+UUSBCONF=2,\"RNDIS\""), "\r\nERROR\r\n");
    assert_eq!(at(&mut u, 0, "AT+UUSBCONF=7"), "\r\nERROR\r\n");
    assert_eq!(u.usb().composition, "serial");
    assert!(events(&mut u).is_empty());
    assert_eq!(at(&mut u, 0, "AT+CFUN=16"), "\r\nOK\r\n");
    assert_eq!(reset_done(&mut u, 200), Some(("ecm", 0x1143)));
    assert_eq!(at(&mut u, 200, "AT+UUSBCONF=3,\"RNDIS\""), "\r\nOK\r\n");
    assert_eq!(
        at(&mut u, 200, "AT+UUSBCONF?"),
        "\r\n+UUSBCONF: 3,\"RNDIS\",,\"0x1146\"\r\n\r\nOK\r\n"
    );
    assert_eq!(at(&mut u, 200, "AT+CFUN=16"), "\r\nOK\r\n");
    assert_eq!(reset_done(&mut u, 400), Some(("rndis", 0x1146)));
    assert_eq!(at(&mut u, 400, "AT+UUSBCONF=0"), "\r\nOK\r\n");
    assert_eq!(at(&mut u, 400, "AT+CFUN=16"), "\r\nOK\r\n");
    assert_eq!(reset_done(&mut u, 600), Some(("serial", 0x1141)));
    // The data call is +CGACT.
    u.tick(3000);
    u.take_effects();
    assert_eq!(at(&mut u, 3000, "AT+CGACT=1,1"), "\r\nOK\r\n");
    assert_eq!(
        at(&mut u, 3000, "AT+CGACT?"),
        "\r\n+CGACT: 1,1\r\n\r\nOK\r\n"
    );
    // CFUN=16 is not a reset on the others.
    let mut q = quiet_modem(&[]);
    assert_eq!(at(&mut q, 0, "AT+CFUN=16"), "\r\n+CME ERROR: 50\r\n");
    assert_eq!(at(&mut q, 0, "AT+UUSBCONF?"), "\r\nERROR\r\n");
}

#[test]
fn telit_usbcfg_takes_effect_at_reboot() {
    let mut t = quiet_modem(&[
        "--model",
        "le910c1",
        "--reset-ms",
        "0",
        "--provisioned",
        "internet",
    ]);
    assert_eq!(
        t.usb(),
        Usb {
            composition: "rmnet",
            pid: 0x1201
        }
    );
    assert_eq!(at(&mut t, 0, "AT#USBCFG?"), "\r\n#USBCFG: 0\r\n\r\nOK\r\n");
    assert_eq!(at(&mut t, 0, "AT#USBCFG=3"), "\r\nOK\r\n");
    assert_eq!(at(&mut t, 0, "AT#USBCFG?"), "\r\n#USBCFG: 3\r\n\r\nOK\r\n");
    assert_eq!(at(&mut t, 0, "AT#USBCFG=9"), "\r\nERROR\r\n");
    assert_eq!(t.usb().composition, "rmnet");
    assert!(events(&mut t).is_empty());
    assert_eq!(at(&mut t, 0, "AT#REBOOT"), "\r\nOK\r\n");
    assert_eq!(reset_done(&mut t, 200), Some(("ecm", 0x1206)));
    assert_eq!(
        at(&mut t, 200, "AT#USBCFG?"),
        "\r\n#USBCFG: 3\r\n\r\nOK\r\n"
    );
    for (mode, usb) in [
        (1, ("rndis", 0x1203)),
        (2, ("mbim", 0x1204)),
        (3, ("ecm", 0x1206)),
    ] {
        assert_eq!(at(&mut t, 200, &format!("AT#USBCFG={mode}")), "\r\nOK\r\n");
        assert_eq!(at(&mut t, 200, "AT+CFUN=1,1"), "\r\nOK\r\n");
        t.take_effects();
        assert_eq!(reset_done(&mut t, 400 + 200 * mode), Some(usb));
        t.take_effects();
    }

    // The ECM data call needs the network.
    t.control(Control::Reg(RegTarget::None), 1500);
    t.take_effects();
    assert_eq!(at(&mut t, 1500, "AT#ECM=1,0"), "\r\nERROR\r\n");
    t.control(Control::Reg(RegTarget::Home), 1500);
    t.tick(3000);
    t.take_effects();
    assert_eq!(at(&mut t, 3000, "AT#ECM?"), "\r\n#ECM: 0,0\r\n\r\nOK\r\n");
    assert_eq!(at(&mut t, 3000, "AT#ECM=1,0"), "\r\nOK\r\n");
    assert_eq!(at(&mut t, 3000, "AT#ECM?"), "\r\n#ECM: 0,1\r\n\r\nOK\r\n");
    assert_eq!(at(&mut t, 3000, "AT#ECMD=0"), "\r\nOK\r\n");
    assert_eq!(at(&mut t, 3000, "AT#ECM?"), "\r\n#ECM: 0,0\r\n\r\nOK\r\n");

    // The ME910C1 has none of it.
    let mut me = quiet_modem(&["--model", "me910c1"]);
    assert_eq!(
        me.usb(),
        Usb {
            composition: "serial",
            pid: 0x1101
        }
    );
    assert_eq!(at(&mut me, 0, "AT#USBCFG?"), "\r\nERROR\r\n");
    assert_eq!(at(&mut me, 0, "AT#ECM=1,0"), "\r\nERROR\r\n");
}

#[test]
fn usbnet_control_stores_and_re_enumerates() {
    let mut m = quiet_modem(&["--reset-ms", "0"]);
    assert_eq!(m.accepts(&Control::UsbNet(Composition::Ecm)), Ok(()));
    m.control(Control::UsbNet(Composition::Ecm), 0);
    assert_eq!(
        at(&mut m, 0, "AT+QCFG=\"usbnet\""),
        "\r\n+QCFG: \"usbnet\",1\r\n\r\nOK\r\n"
    );
    assert_eq!(reset_done(&mut m, 200), Some(("ecm", 0x0125)));
    // "The modem came back serial-only": back to the default composition.
    m.control(Control::UsbNet(Composition::Rmnet), 300);
    assert_eq!(reset_done(&mut m, 500), Some(("rmnet", 0x0125)));
    // SIMCom: the product id follows.
    let mut s = quiet_modem(&["--model", "sim7600", "--reset-ms", "0"]);
    s.control(Control::UsbNet(Composition::Rndis), 0);
    assert_eq!(reset_done(&mut s, 200), Some(("rndis", 0x9011)));
    // A composition the model cannot present is refused, and changes nothing.
    let mut b = quiet_modem(&["--model", "bg96", "--reset-ms", "0"]);
    assert_eq!(
        b.accepts(&Control::UsbNet(Composition::Ecm)),
        Err("usbnet: BG96 has no ecm composition".to_string())
    );
    b.control(Control::UsbNet(Composition::Ecm), 0);
    b.tick(1000);
    assert!(events(&mut b).is_empty());
    assert_eq!(b.usb().composition, "serial");
    // A plain replug is a power cycle too: it takes the stored setting.
    let mut e = quiet_modem(&[]);
    assert_eq!(at(&mut e, 0, "AT+QCFG=\"usbnet\",3"), "\r\nOK\r\n");
    e.control(Control::Replug, 10);
    assert_eq!(replugged_as(&events(&mut e)), Some(("rndis", 0x0125)));
}
