//! The simulator binary end to end: real ptys, real processes.

#![deny(clippy::undocumented_unsafe_blocks)]

mod common;

use common::{Port, Sim, TIMEOUT};
use std::time::{Duration, Instant};

fn no_echo(port: &mut Port) {
    assert_eq!(port.command("ATE0"), "ATE0\r\r\nOK\r\n");
}

#[test]
fn ready_line_and_identity_of_every_model() {
    let cases = [
        (
            "ec25",
            "EC25",
            "Revision: EC25EFAR06A06M4G",
            "AT+QCCID",
            "+QCCID: 8901",
        ),
        ("eg95", "EG95", "Revision: EG95", "AT+QCCID", "+QCCID: 8901"),
        ("ec21", "EC21", "Revision: EC21", "AT+QNWINFO", "+QNWINFO: "),
        (
            "bg96",
            "BG96",
            "Revision: BG96MAR02A07M1G",
            "AT+QCSQ",
            "+QCSQ: ",
        ),
        (
            "sim7600",
            "SIM7600",
            "Model: SIMCOM_SIM7600G-H",
            "AT+CICCID",
            "+ICCID: 8901",
        ),
        (
            "sim7080",
            "SIM7080",
            "SIM7080 R1951.03",
            "AT+CNSMOD?",
            "+CNSMOD: 0,",
        ),
        ("a7600", "A7600", "Model: A7600E-H", "AT+CPSI?", "+CPSI: "),
        (
            "sim7672",
            "SIM7672",
            "Model: SIM7672G-MNGV",
            "AT+CICCID",
            "+ICCID: ",
        ),
        ("me910c1", "ME910C1", "ME910C1-WW", "AT#CCID", "#CCID: 89"),
        (
            "lara_r6",
            "LARA-R6",
            "Model: LARA-R6001D",
            "AT+URAT?",
            "+URAT: 4,3",
        ),
        ("e3372", "E3372", "Model: E3372", "AT^ICCID?", "^ICCID: 98"),
    ];
    for (key, name, ati_line, vendor_cmd, vendor_reply) in cases {
        let sim = Sim::start(&["--model", key, "--quiet", "--register-after-ms", "0"]);
        assert_eq!(sim.model, name);
        assert!(sim.at.starts_with("/dev/pts/") && sim.ppp.starts_with("/dev/pts/"));
        assert_ne!(sim.at, sim.ppp);
        let mut at = sim.port("at");
        no_echo(&mut at);
        let ati = at.command("ATI");
        assert!(ati.contains(ati_line), "{key}: {ati:?}");
        assert!(ati.ends_with("\r\n\r\nOK\r\n"), "{key}: {ati:?}");
        let vendor = at.command(vendor_cmd);
        assert!(
            vendor.contains(vendor_reply),
            "{key}: {vendor_cmd} -> {vendor:?}"
        );
        assert!(vendor.ends_with("OK\r\n"), "{key}: {vendor:?}");
    }
}

#[test]
fn both_ports_share_one_modem() {
    let sim = Sim::start(&["--quiet"]);
    let mut at = sim.port("at");
    let mut ppp = sim.port("ppp");
    no_echo(&mut at);
    no_echo(&mut ppp);
    assert_eq!(
        at.command("AT+CGDCONT=1,\"IP\",\"shared.apn\""),
        "\r\nOK\r\n"
    );
    let read = ppp.command("AT+CGDCONT?");
    assert!(
        read.contains("+CGDCONT: 1,\"IP\",\"shared.apn\""),
        "{read:?}"
    );
    // Echo is per port: ATE1 on one leaves the other alone.
    assert_eq!(at.command("ATE1"), "\r\nOK\r\n");
    assert_eq!(at.command("AT"), "AT\r\r\nOK\r\n");
    assert_eq!(ppp.command("AT"), "\r\nOK\r\n");
}

#[test]
fn echo_verbosity_and_cme_modes_over_a_pty() {
    let sim = Sim::start(&["--quiet", "--sim", "absent"]);
    let mut at = sim.port("at");
    assert_eq!(at.command("AT"), "AT\r\r\nOK\r\n");
    no_echo(&mut at);
    assert_eq!(at.command("AT+CPIN?"), "\r\n+CME ERROR: 10\r\n");
    assert_eq!(
        at.command("AT+CMEE=2;+CPIN?"),
        "\r\n+CME ERROR: SIM not inserted\r\n"
    );
    assert_eq!(at.command("AT+CMEE=0;+CPIN?"), "\r\nERROR\r\n");
    assert_eq!(at.command("AT+NOSUCH"), "\r\nERROR\r\n");
    // Numeric results: "0\r" for OK, "4\r" for ERROR.
    at.write(b"ATV0\r");
    assert_eq!(at.expect("0\r"), "0\r");
    at.write(b"AT+NOSUCH\r");
    assert_eq!(at.expect("4\r"), "4\r");
    at.write(b"ATV1\r");
    assert_eq!(at.expect("\r\nOK\r\n"), "\r\nOK\r\n");
}

#[test]
fn pin_counter_over_a_pty() {
    let sim = Sim::start(&[
        "--quiet",
        "--sim",
        "locked",
        "--pin",
        "2468",
        "--register-after-ms",
        "100",
    ]);
    let mut at = sim.port("at");
    no_echo(&mut at);
    assert_eq!(at.command("AT+CPIN?"), "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n");
    assert_eq!(at.command("AT+CPIN=\"1111\""), "\r\n+CME ERROR: 16\r\n");
    assert_eq!(
        at.command("AT+QPINC=\"SC\""),
        "\r\n+QPINC: \"SC\",2,10\r\n\r\nOK\r\n"
    );
    assert_eq!(at.command("AT+CREG=1"), "\r\nOK\r\n");
    assert_eq!(at.command("AT+CPIN=\"2468\""), "\r\nOK\r\n");
    // URCs: the search starts (stat 2), the SIM reports in, registration follows.
    at.read_until(TIMEOUT, |b| {
        let t = String::from_utf8_lossy(b);
        t.contains("+QIND: PB DONE\r\n") && t.contains("+CREG: 1\r\n")
    });
    let urcs = at.drain(Duration::from_millis(50));
    for line in [
        "\r\n+CREG: 2\r\n",
        "\r\n+CPIN: READY\r\n",
        "\r\n+QUSIM: 1\r\n",
        "\r\n+CREG: 1\r\n",
    ] {
        assert!(urcs.contains(line), "{line:?} missing from {urcs:?}");
    }
    assert_eq!(
        at.command("AT+QPINC=\"SC\""),
        "\r\n+QPINC: \"SC\",3,10\r\n\r\nOK\r\n"
    );
}

#[test]
fn registration_urcs_follow_control_commands() {
    let mut sim = Sim::start(&["--quiet", "--registration", "searching"]);
    let mut at = sim.port("at");
    no_echo(&mut at);
    assert_eq!(at.command("AT+CREG?"), "\r\n+CREG: 0,2\r\n\r\nOK\r\n");
    assert_eq!(at.command("AT+CREG=2;+CGREG=1;+CEREG=1"), "\r\nOK\r\n");
    sim.control("reg home");
    let urcs = at.expect("+CEREG: 1\r\n");
    assert!(urcs.contains("\r\n+CREG: 1,\""), "{urcs:?}");
    assert!(urcs.contains("\r\n+CGREG: 1\r\n"), "{urcs:?}");
    sim.control("reg denied 15");
    at.expect("\r\n+CEREG: 3\r\n");
    sim.control("reg roaming");
    at.expect("\r\n+CEREG: 5\r\n");
    assert!(at.command("AT+COPS?").contains("+COPS: 0,0,\"AT&T\",7"));
    sim.control("operator 26202 \"Vodafone.de\"");
    assert!(at
        .command("AT+COPS=3,2;+COPS?")
        .contains("+COPS: 0,2,\"26202\",7"));
    sim.control("sim remove");
    at.expect("\r\n+CEREG: 0\r\n");
    assert_eq!(at.command("AT+CPIN?"), "\r\n+CME ERROR: 10\r\n");
}

#[test]
fn pdp_read_and_write_over_a_pty() {
    let sim = Sim::start(&[
        "--quiet",
        "--model",
        "sim7600",
        "--provisioned",
        "iot.example",
    ]);
    let mut at = sim.port("at");
    no_echo(&mut at);
    assert_eq!(
        at.command("AT+CGDCONT?"),
        "\r\n+CGDCONT: 1,\"IP\",\"iot.example\",\"0.0.0.0\",0,0,0,0\r\n\r\nOK\r\n"
    );
    assert_eq!(
        at.command("AT+CGDCONT=2,\"IPV4V6\",\"second\""),
        "\r\nOK\r\n"
    );
    assert!(at
        .command("AT+CGDCONT?")
        .contains("+CGDCONT: 2,\"IPV4V6\",\"second\""));
    assert_eq!(
        at.command("AT+CGAUTH=2,1,\"secretpw\",\"alice\""),
        "\r\nOK\r\n"
    );
    let auth = at.command("AT+CGAUTH?");
    assert!(auth.contains("+CGAUTH: 2,1,\"alice\""), "{auth:?}");
    assert!(!auth.contains("secretpw"), "{auth:?}");
}

#[test]
fn cfun_reset_re_enumerates_under_new_names() {
    let mut sim = Sim::start(&["--reset-ms", "300", "--quiet"]);
    let (old_at, old_ppp) = (sim.at.clone(), sim.ppp.clone());
    let mut at = sim.port("at");
    no_echo(&mut at);
    assert_eq!(at.command("AT+CFUN=1,1"), "\r\nOK\r\n");
    sim.wait_event(|l| l == r#"{"event":"unplugged"}"#);
    // The client's end is hung up.
    at.read_until(TIMEOUT, |_| false);
    assert!(at.closed, "old port still open");
    let replugged = sim.wait_event(|l| l.contains("\"event\":\"replugged\""));
    let new_at = common::json_field(&replugged, "at").expect("at");
    let new_ppp = common::json_field(&replugged, "ppp").expect("ppp");
    for new in [&new_at, &new_ppp] {
        assert_ne!(new, &old_at);
        assert_ne!(new, &old_ppp);
    }
    let mut at = Port::open(&new_at);
    // Boot URCs like a real Quectel, then echo is back on (power-on default).
    at.expect("\r\nRDY\r\n");
    at.expect("\r\n+CPIN: READY\r\n");
    at.expect("\r\n+QIND: PB DONE\r\n");
    assert_eq!(at.command("AT"), "AT\r\r\nOK\r\n");
}

/// Runs one transcript and returns everything received, plus the number of reads.
fn transcript(fragment: &str) -> (String, usize) {
    let sim = Sim::start(&[
        "--quiet",
        "--seed",
        "42",
        "--fragment",
        fragment,
        "--register-after-ms",
        "0",
        "--imei",
        "861234567890123",
        "--exec",
        "signal auto off",
    ]);
    let mut at = sim.port("at");
    let mut all = String::new();
    for cmd in [
        "AT",
        "ATI",
        "AT+CSQ;+CREG?",
        "AT+CGDCONT?",
        "AT+CPIN?",
        "AT+NOPE",
        "AT+CGSN",
    ] {
        all.push_str(&at.command(cmd));
    }
    (all, at.reads)
}

#[test]
fn fragmentation_reassembles_to_the_same_transcript() {
    let (plain, plain_reads) = transcript("none");
    let (bytewise, byte_reads) = transcript("every-byte");
    let (random, random_reads) = transcript("random");
    assert_eq!(plain, bytewise);
    assert_eq!(plain, random);
    assert!(plain.contains("+CGSN") || plain.contains("861234567890123"));
    // The fragmentation really happened: many more reads than commands.
    assert!(
        plain_reads <= 7 * 3,
        "unfragmented output took {plain_reads} reads"
    );
    assert!(
        byte_reads > plain.len() / 2,
        "every-byte: {byte_reads} reads for {} bytes",
        plain.len()
    );
    assert!(
        random_reads > plain_reads,
        "random: {random_reads} reads vs {plain_reads}"
    );
}

#[test]
fn fragment_mode_changes_at_run_time() {
    let mut sim = Sim::start(&["--quiet"]);
    let mut at = sim.port("at");
    no_echo(&mut at);
    sim.control("fragment every-byte");
    let before = at.reads;
    assert!(at.command("ATI").ends_with("OK\r\n"));
    assert!(at.reads - before > 20, "{} reads", at.reads - before);
}

#[test]
fn mute_and_delay() {
    let mut sim = Sim::start(&["--quiet"]);
    let mut at = sim.port("at");
    no_echo(&mut at);
    sim.control("mute on");
    at.write(b"AT\r");
    assert_eq!(at.drain(Duration::from_millis(500)), "");
    sim.control("mute off");
    assert_eq!(at.command("AT"), "\r\nOK\r\n");
    sim.control("delay 400");
    let started = Instant::now();
    assert_eq!(at.command("AT"), "\r\nOK\r\n");
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    sim.control("delay 0");
}

#[test]
fn garbage_storms_and_urcs() {
    let mut sim = Sim::start(&["--quiet"]);
    let mut at = sim.port("at");
    no_echo(&mut at);
    sim.control("garbage 200");
    at.read_until(TIMEOUT, |b| b.len() >= 200);
    let garbage = std::mem::take(&mut at.buffer);
    assert_eq!(garbage.len(), 200);
    assert!(!garbage.contains(&b'\r') && !garbage.contains(&b'\n'));
    sim.control("cme_storm 6");
    at.read_until(TIMEOUT, |b| {
        String::from_utf8_lossy(b).matches("+CME ERROR: ").count() == 6
    });
    let storm = at.drain(Duration::from_millis(100));
    assert_eq!(storm.matches("\r\n+CME ERROR: ").count(), 6, "{storm:?}");
    sim.control("urc +QIND: \"act\",\"LTE\"");
    assert_eq!(
        at.expect("\r\n+QIND: \"act\",\"LTE\"\r\n"),
        "\r\n+QIND: \"act\",\"LTE\"\r\n"
    );
    // The modem still answers.
    assert_eq!(at.command("AT"), "\r\nOK\r\n");
}

#[test]
fn unplug_and_replug_by_control() {
    let mut sim = Sim::start(&["--quiet"]);
    let first = (sim.at.clone(), sim.ppp.clone());
    let mut at = sim.port("at");
    no_echo(&mut at);
    sim.control("unplug");
    assert!(sim.seen.iter().any(|l| l == r#"{"event":"unplugged"}"#));
    at.read_until(TIMEOUT, |_| false);
    assert!(at.closed);
    assert!(std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&first.0)
        .is_err());
    sim.control("replug");
    let line = sim
        .seen
        .iter()
        .rev()
        .find(|l| l.contains("replugged"))
        .cloned()
        .expect("replugged");
    let second = (
        common::json_field(&line, "at").expect("at"),
        common::json_field(&line, "ppp").expect("ppp"),
    );
    assert_ne!(second.0, first.0);
    assert_ne!(second.1, first.1);
    let mut at = Port::open(&second.0);
    at.expect("RDY\r\n");
    assert!(at.command("AT").ends_with("OK\r\n"));
    // replug_after: gone, then back by itself under yet other names.
    sim.control("replug_after 300");
    let line = sim.wait_event(|l| l.contains("replugged"));
    let third = common::json_field(&line, "at").expect("at");
    assert_ne!(third, second.0);
    let mut at = Port::open(&third);
    at.expect("RDY\r\n");
}

#[test]
fn data_call_escape_and_network_hangup() {
    let mut sim = Sim::start(&[
        "--quiet",
        "--provisioned",
        "internet",
        "--register-after-ms",
        "0",
    ]);
    let mut ppp = sim.port("ppp");
    no_echo(&mut ppp);
    assert_eq!(ppp.command("ATS12=5"), "\r\nOK\r\n");
    assert_eq!(ppp.command("ATD*99***1#"), "\r\nCONNECT 150000000\r\n");
    sim.wait_event(|l| l == r#"{"event":"connected","port":"ppp"}"#);
    // PPP-looking bytes vanish into the data call.
    ppp.write(b"\x7e\xff\x7d\x23\xc0\x21\x7d\x21\x7d\x21\x7d\x20\x7dAT\r\x7e");
    assert_eq!(ppp.drain(Duration::from_millis(300)), "");
    // Escape with the (shortened) guard time.
    ppp.write(b"+++");
    assert_eq!(ppp.expect("\r\nOK\r\n"), "\r\nOK\r\n");
    assert_eq!(ppp.command("ATO"), "\r\nCONNECT 150000000\r\n");
    sim.control("hangup");
    assert_eq!(ppp.expect("\r\nNO CARRIER\r\n"), "\r\nNO CARRIER\r\n");
    // The event comes before the control command's acknowledgement.
    assert!(
        sim.seen
            .iter()
            .any(|l| l == r#"{"event":"hangup","port":"ppp"}"#),
        "{:?}",
        sim.seen
    );
    assert_eq!(ppp.command("AT"), "\r\nOK\r\n");
}

#[test]
fn random_input_never_kills_it() {
    let sim = Sim::start(&["--quiet", "--provisioned", "x"]);
    let mut at = sim.port("at");
    let mut ppp = sim.port("ppp");
    let mut state: u64 = 0x1234_5678;
    for round in 0..200 {
        let mut chunk = Vec::new();
        for _ in 0..(round % 37) {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            chunk.push((state >> 56) as u8);
        }
        if round % 5 == 0 {
            chunk.extend_from_slice(b"AT+CGDCONT=1,\"IP\r");
        }
        if round % 2 == 0 {
            at.write(&chunk);
        } else {
            ppp.write(&chunk);
        }
    }
    at.write(b"\r");
    at.drain(Duration::from_millis(300));
    assert!(at.command("AT").ends_with("OK\r\n"));
}

#[test]
fn scenario_file_drives_time_and_quits() {
    let dir = std::env::temp_dir().join(format!("cellular_sim_scn_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let path = dir.join("s.scn");
    std::fs::write(
        &path,
        "# SIM pulled at t=5s, a URC at 2.5s, the end at 20s\n5s sim remove\n2500ms urc +TEST: 1\n20s quit\n",
    )
    .expect("write scenario");
    let started = Instant::now();
    let mut sim = Sim::start(&[
        "--quiet",
        "--scenario",
        path.to_str().expect("path"),
        "--time-scale",
        "0.1",
    ]);
    let mut at = sim.port("at");
    at.expect("\r\n+TEST: 1\r\n");
    at.expect("\r\n+CPIN: NOT READY\r\n");
    let status = sim.wait_exit(TIMEOUT).expect("quit by the scenario");
    assert!(status.success());
    // 20 s scaled by 0.1: it ended on the scenario, not on a timeout.
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stdin_eof_and_sigterm_end_it_cleanly() {
    let mut sim = Sim::start(&["--quiet"]);
    sim.close_stdin();
    let status = sim.wait_exit(TIMEOUT).expect("exit on EOF");
    assert!(status.success(), "{status:?}");

    let mut sim = Sim::start(&["--quiet"]);
    let pid = sim.pid() as i32;
    // SAFETY: sending a signal to our own child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = sim.wait_exit(TIMEOUT).expect("exit on SIGTERM");
    assert!(status.success(), "{status:?}");
}

#[test]
fn bad_control_lines_are_reported_not_fatal() {
    let mut sim = Sim::start(&["--quiet"]);
    sim.send_raw("explode now");
    let line = sim.wait_event(|l| l.contains("\"event\":\"log\""));
    assert!(line.contains("error: unknown command 'explode'"), "{line}");
    sim.control("status");
    assert!(sim.seen.iter().any(|l| l.contains("model=EC25")));
}

#[test]
fn bad_arguments_and_scenarios_exit_2_with_a_clear_message() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_cellular_sim"))
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run")
    };
    let out = run(&["--model", "nokia3310"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--model: unknown model 'nokia3310'"));
    let path = std::env::temp_dir().join(format!("cellular_sim_bad_{}.scn", std::process::id()));
    std::fs::write(&path, "1s sim remove\n2s teleport\n").expect("write");
    let out = run(&["--scenario", path.to_str().expect("path")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("scenario line 2") && err.contains("teleport"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "no ready line on a bad scenario");
    let _ = std::fs::remove_file(&path);
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("usage: cellular_sim"));
}

/// `--uart`: one serial line that switches to 27.010 basic-mode CMUX after
/// `AT+CMUX=0`; channels opened with SABM, AT on DLCI 1, dialing on DLCI 2,
/// and back to plain AT after a multiplexer close down.
#[test]
fn single_uart_speaks_cmux() {
    use cellular_core::cmux::control::{Body, Message};
    use cellular_core::cmux::{encode, Decoder, Event, Frame, Kind, MAX_INFO};
    let wire = |f: Frame| {
        let mut out = Vec::new();
        encode(&f, MAX_INFO, &mut out).unwrap();
        out
    };
    // Reads frames until `want` of them have arrived.
    let frames = |port: &mut common::Port, want: usize| -> Vec<Frame> {
        let count = |b: &[u8]| {
            let mut d = Decoder::new(MAX_INFO);
            let mut e = Vec::new();
            d.feed(b, &mut e);
            e.into_iter()
                .filter_map(|e| match e {
                    Event::Frame(f) => Some(f),
                    _ => None,
                })
                .collect::<Vec<_>>()
        };
        let found = port.read_until(TIMEOUT, |b| count(b).len() >= want);
        assert!(found, "{:02X?}", port.buffer);
        count(&std::mem::take(&mut port.buffer))
    };
    let sim = Sim::start(&[
        "--model",
        "sim7672",
        "--quiet",
        "--uart",
        "--register-after-ms",
        "0",
        "--provisioned",
        "internet",
    ]);
    let mut line = sim.port("at");
    no_echo(&mut line);
    assert_eq!(line.command("AT+CMUX=0,0,5,127"), "\r\nOK\r\n");
    for dlci in 0..=2 {
        line.write(&wire(Frame::empty(dlci, Kind::Sabm, true, true)));
    }
    let ua = frames(&mut line, 3);
    assert_eq!(
        ua,
        (0..=2)
            .map(|d| Frame::empty(d, Kind::Ua, true, true))
            .collect::<Vec<_>>()
    );
    line.write(&wire(Frame::uih(1, true, b"AT+CGMM\r".to_vec())));
    let reply = frames(&mut line, 1);
    assert_eq!(reply[0].dlci, 1);
    assert!(
        String::from_utf8_lossy(&reply[0].info).contains("SIM7672"),
        "{reply:?}"
    );
    line.write(&wire(Frame::uih(2, true, b"ATE0;D*99#\r".to_vec())));
    // The echo, then CONNECT, all on DLCI 2.
    let text_on_2 = |b: &[u8]| -> String {
        let mut d = Decoder::new(MAX_INFO);
        let mut e = Vec::new();
        d.feed(b, &mut e);
        let bytes: Vec<u8> = e
            .into_iter()
            .filter_map(|e| match e {
                Event::Frame(f) if f.dlci == 2 => Some(f.info),
                _ => None,
            })
            .flatten()
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let found = line.read_until(TIMEOUT, |b| text_on_2(b).contains("CONNECT"));
    assert!(found, "{:?}", text_on_2(&line.buffer));
    line.buffer.clear();
    line.write(&wire(Frame::uih(
        0,
        true,
        Message::command(Body::Cld).encode(),
    )));
    let cld = frames(&mut line, 1);
    assert_eq!(
        cld,
        [Frame::uih(0, false, Message::response(Body::Cld).encode())]
    );
    // Plain AT again, on the same line.
    assert_eq!(line.command("AT"), "\r\nOK\r\n");
}
