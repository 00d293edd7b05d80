use super::*;

fn s(text: &str) -> String {
    text.to_owned()
}

fn ok(lines: &[&str]) -> Event {
    Event::Response {
        result: Final::Ok,
        lines: lines.iter().map(|l| s(l)).collect(),
    }
}

fn response(result: Final, lines: &[&str]) -> Event {
    Event::Response {
        result,
        lines: lines.iter().map(|l| s(l)).collect(),
    }
}

fn urc(line: &str) -> Event {
    Event::Urc(s(line))
}

/// Runs one command against the bytes a modem sent back.
fn run(engine: &mut Engine, command: &str, reply: &[u8]) -> Vec<Event> {
    engine.start_command(command);
    let mut events = Vec::new();
    engine.feed(reply, &mut events);
    events
}

// ---------------------------------------------------------------------------
// A transcript of an EC25 from power-on to a data call, with URCs arriving in
// between and in the middle of responses. `None` means bytes that arrive with
// no command sent. After ATE0 the modem stops echoing.
// ---------------------------------------------------------------------------

type Step = (Option<&'static str>, &'static [u8]);

const EC25_INIT: &[Step] = &[
    (
        None,
        b"\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\n+QUSIM: 1\r\n\r\n+QIND: SMS DONE\r\n",
    ),
    (Some("ATE0"), b"ATE0\r\r\nOK\r\n"),
    (Some("AT+CMEE=2"), b"\r\nOK\r\n"),
    (
        Some("ATI"),
        b"\r\nQuectel\r\nEC25\r\nRevision: EC25EFAR06A06M4G\r\n\r\nOK\r\n",
    ),
    (Some("AT+CPIN?"), b"\r\n+CPIN: READY\r\n\r\nOK\r\n"),
    (
        Some("AT+QCCID"),
        b"\r\n+QCCID: 89014103211118510720\r\n\r\n+QIND: PB DONE\r\n\r\nOK\r\n",
    ),
    (Some("AT+CREG=2;+CEREG=2"), b"\r\nOK\r\n"),
    (
        Some("AT+CSQ"),
        b"\r\n+CSQ: 17,99\r\n\r\n+CREG: 2,\"1A2B\",\"01C3D04\",7\r\n\r\nOK\r\n",
    ),
    (None, b"\r\n+CEREG: 1,\"1A2B\",\"01C3D04\",7\r\n"),
    (
        Some("AT+CREG?;+CEREG?"),
        b"\r\n+CREG: 2,1,\"1A2B\",\"01C3D04\",7\r\n\r\n+CEREG: 2,1,\"1A2B\",\"01C3D04\",7\r\n\r\nOK\r\n",
    ),
    (
        Some("AT+CGDCONT?"),
        b"\r\n+CGDCONT: 1,\"IP\",\"internet\",\"0.0.0.0\",0,0,0,0\r\n\r\n+QIND: \"csq\",20,99\r\n\r\nOK\r\n",
    ),
    (
        Some("AT+COPS?"),
        b"\r\n+COPS: 0,0,\"AT&T\",7\r\n\r\nOK\r\n",
    ),
    (Some("AT+CGACT=1,3"), b"\r\n+CME ERROR: invalid index\r\n"),
    (Some("AT+CPIN=1234"), b"\r\n+CME ERROR: 3\r\n"),
    (
        Some("ATD*99#"),
        b"\r\nCONNECT 150000000\r\n\x7e\xff\x7d\x23\xc0\x21\r\nOK\r\n\x7e\x00\x80\xff\x7e\r\nNO CARRIER\r\n",
    ),
    (Some("AT"), b"\r\nOK\r\n"),
    (None, b"\r\nRING\r\n\r\n+CMTI: \"SM\",3\r\n"),
];

fn ec25_expected() -> Vec<Event> {
    vec![
        urc("RDY"),
        urc("+CFUN: 1"),
        urc("+CPIN: READY"),
        urc("+QUSIM: 1"),
        urc("+QIND: SMS DONE"),
        ok(&[]),
        ok(&[]),
        ok(&["Quectel", "EC25", "Revision: EC25EFAR06A06M4G"]),
        ok(&["+CPIN: READY"]),
        urc("+QIND: PB DONE"),
        ok(&["+QCCID: 89014103211118510720"]),
        ok(&[]),
        urc("+CREG: 2,\"1A2B\",\"01C3D04\",7"),
        ok(&["+CSQ: 17,99"]),
        urc("+CEREG: 1,\"1A2B\",\"01C3D04\",7"),
        ok(&[
            "+CREG: 2,1,\"1A2B\",\"01C3D04\",7",
            "+CEREG: 2,1,\"1A2B\",\"01C3D04\",7",
        ]),
        urc("+QIND: \"csq\",20,99"),
        ok(&["+CGDCONT: 1,\"IP\",\"internet\",\"0.0.0.0\",0,0,0,0"]),
        ok(&["+COPS: 0,0,\"AT&T\",7"]),
        response(Final::CmeError(s("invalid index")), &[]),
        response(Final::CmeError(s("3")), &[]),
        response(Final::Connect(Some(s("150000000"))), &[]),
        urc("NO CARRIER"),
        ok(&[]),
        urc("RING"),
        urc("+CMTI: \"SM\",3"),
    ]
}

/// The engine as the Quectel profiles configure it: 3GPP's URCs plus the
/// family's own (`urc_prefixes/0`), which the engine doesn't know by itself.
fn quectel() -> Config {
    Config {
        extra_urc_prefixes: vec!["+QIND:".to_string(), "+QUSIM:".to_string()],
        ..Config::default()
    }
}

/// Feeds a transcript with every step's bytes cut wherever `cuts` says
/// (offsets into the whole transcript).
fn feed_transcript(steps: &[Step], cuts: &dyn Fn(usize, usize) -> Vec<usize>) -> Vec<Event> {
    let mut engine = Engine::new(quectel());
    let mut events = Vec::new();
    let mut offset = 0;
    for (command, bytes) in steps {
        if let Some(command) = command {
            engine.start_command(command);
        }
        let mut last = 0;
        for cut in cuts(offset, bytes.len()) {
            engine.feed(&bytes[last..cut], &mut events);
            last = cut;
        }
        engine.feed(&bytes[last..], &mut events);
        offset += bytes.len();
    }
    events
}

#[test]
fn the_ec25_transcript_in_one_piece_per_step() {
    assert_eq!(feed_transcript(EC25_INIT, &|_, _| vec![]), ec25_expected());
}

#[test]
fn every_single_byte_boundary_of_the_transcript_gives_the_same_events() {
    let expected = ec25_expected();
    let total: usize = EC25_INIT.iter().map(|(_, b)| b.len()).sum();
    for k in 0..=total {
        let events = feed_transcript(EC25_INIT, &|offset, len| {
            if k > offset && k < offset + len {
                vec![k - offset]
            } else {
                vec![]
            }
        });
        assert_eq!(events, expected, "split at byte {k}");
    }
}

#[test]
fn the_transcript_one_byte_at_a_time_gives_the_same_events() {
    let events = feed_transcript(EC25_INIT, &|_, len| (1..len).collect());
    assert_eq!(events, ec25_expected());
}

#[test]
fn random_fragmentation_gives_the_same_events() {
    let mut seed: u64 = 0x5eed;
    for _ in 0..200 {
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            seed
        };
        let mut plan = Vec::new();
        for (_, bytes) in EC25_INIT {
            let mut cuts = Vec::new();
            let mut at = 0;
            loop {
                at += 1 + (next() >> 33) as usize % 7;
                if at >= bytes.len() {
                    break;
                }
                cuts.push(at);
            }
            plan.push(cuts);
        }
        let step = std::cell::Cell::new(0);
        let events = feed_transcript(EC25_INIT, &|_, _| {
            let i = step.get();
            step.set(i + 1);
            plan[i].clone()
        });
        assert_eq!(events, ec25_expected());
        seed = next();
    }
}

// ---------------------------------------------------------------------------
// Final results
// ---------------------------------------------------------------------------

#[test]
fn every_final_result_kind() {
    let table: &[(&[u8], Final)] = &[
        (b"\r\nOK\r\n", Final::Ok),
        (b"\r\nERROR\r\n", Final::Error),
        (b"\r\nCOMMAND NOT SUPPORT\r\n", Final::Error),
        (b"\r\n+CME ERROR: 10\r\n", Final::CmeError(s("10"))),
        (
            b"\r\n+CME ERROR: SIM not inserted\r\n",
            Final::CmeError(s("SIM not inserted")),
        ),
        (b"\r\n+CME ERROR:13\r\n", Final::CmeError(s("13"))),
        (b"\r\n+CMS ERROR: 500\r\n", Final::CmsError(s("500"))),
        (
            b"\r\n+CMS ERROR: unknown error\r\n",
            Final::CmsError(s("unknown error")),
        ),
        (b"\r\nCONNECT\r\n", Final::Connect(None)),
        (
            b"\r\nCONNECT 150000000\r\n",
            Final::Connect(Some(s("150000000"))),
        ),
        (b"\r\nCONNECT115200\r\n", Final::Connect(Some(s("115200")))),
        (b"\r\nNO CARRIER\r\n", Final::NoCarrier),
        (b"\r\nBUSY\r\n", Final::Busy),
        (b"\r\nNO ANSWER\r\n", Final::NoAnswer),
        (b"\r\nNO DIALTONE\r\n", Final::NoDialtone),
        (b"\r\n> ", Final::Prompt),
    ];
    for (reply, result) in table {
        let mut engine = Engine::new(Config::default());
        let events = run(&mut engine, "AT+X", reply);
        assert_eq!(events, vec![response(result.clone(), &[])], "{reply:?}");
        assert!(!engine.is_pending());
    }
}

#[test]
fn lines_that_only_look_like_finals_are_information() {
    let mut engine = Engine::new(Config::default());
    let events = run(
        &mut engine,
        "AT+X",
        b"\r\nCONNECTED\r\nOK then\r\n0\r\nERRORS\r\n\r\nOK\r\n",
    );
    assert_eq!(events, vec![ok(&["CONNECTED", "OK then", "0", "ERRORS"])]);
}

#[test]
fn the_prompt_needs_no_terminator_and_the_body_gets_its_own_result() {
    let mut engine = Engine::new(Config::default());
    let mut events = run(
        &mut engine,
        "AT+CMGS=\"+15551234567\"",
        b"AT+CMGS=\"+15551234567\"\r\r\n>",
    );
    assert!(events.is_empty());
    engine.feed(b" ", &mut events);
    assert_eq!(events, vec![response(Final::Prompt, &[])]);

    engine.start_raw("hello\x1a");
    events.clear();
    engine.feed(b"hello\x1a\r\n+CMGS: 7\r\n\r\nOK\r\n", &mut events);
    assert_eq!(events, vec![ok(&["+CMGS: 7"])]);
}

#[test]
fn a_prompt_with_no_command_pending_is_just_text() {
    let mut engine = Engine::new(Config::default());
    let mut events = Vec::new();
    engine.feed(b"> hello\r\n", &mut events);
    assert_eq!(events, vec![urc("> hello")]);
}

// ---------------------------------------------------------------------------
// Echo
// ---------------------------------------------------------------------------

#[test]
fn echo_is_removed_also_when_split() {
    let mut engine = Engine::new(Config::default());
    engine.start_command("AT+CGMI");
    let mut events = Vec::new();
    for chunk in [
        &b"AT+"[..],
        b"CG",
        b"MI\r",
        b"\r\nQuec",
        b"tel\r\n\r\nO",
        b"K\r\n",
    ] {
        engine.feed(chunk, &mut events);
    }
    assert_eq!(events, vec![ok(&["Quectel"])]);
}

#[test]
fn echo_is_matched_case_insensitively_and_only_once() {
    let mut engine = Engine::new(Config::default());
    let events = run(&mut engine, "at", b"AT\r\r\nAT\r\n\r\nOK\r\n");
    assert_eq!(events, vec![ok(&["AT"])]);
}

#[test]
fn echo_after_a_urc_is_still_removed() {
    let mut engine = Engine::new(Config::default());
    let events = run(
        &mut engine,
        "AT+CSQ",
        b"\r\n+CEREG: 5\r\nAT+CSQ\r\r\n+CSQ: 9,99\r\n\r\nOK\r\n",
    );
    assert_eq!(events, vec![urc("+CEREG: 5"), ok(&["+CSQ: 9,99"])]);
}

#[test]
fn with_echo_off_a_line_equal_to_the_command_is_kept() {
    let mut engine = Engine::new(Config::default());
    assert_eq!(run(&mut engine, "ATE0", b"ATE0\r\r\nOK\r\n"), vec![ok(&[])]);
    assert_eq!(engine.echo(), Some(false));
    assert_eq!(
        run(&mut engine, "ATI", b"\r\nATI\r\n\r\nOK\r\n"),
        vec![ok(&["ATI"])]
    );
    // ATE1 turns it back on: its own reply is not echoed yet, the next one is.
    assert_eq!(run(&mut engine, "ATE1", b"\r\nOK\r\n"), vec![ok(&[])]);
    assert_eq!(
        run(&mut engine, "AT+CGMM", b"AT+CGMM\r\r\nEC25\r\n\r\nOK\r\n"),
        vec![ok(&["EC25"])]
    );
}

#[test]
fn echo_config_off_from_the_start() {
    let mut engine = Engine::new(Config {
        echo: Some(false),
        ..Config::default()
    });
    assert_eq!(run(&mut engine, "AT", b"AT\r\nOK\r\n"), vec![ok(&["AT"])]);
}

#[test]
fn basic_settings_track_e_v_z_and_ampersand_f() {
    let cases: &[(&str, Option<bool>, Option<bool>)] = &[
        ("ATE0", Some(false), None),
        ("ATE", Some(false), None),
        ("ATE1", Some(true), None),
        ("ATV0", None, Some(false)),
        ("ATE0V0", Some(false), Some(false)),
        ("ATQ0E0V1", Some(false), Some(true)),
        ("AT E1 V0", Some(true), Some(false)),
        ("ate0v1", Some(false), Some(true)),
        ("ATZ", Some(true), Some(true)),
        ("AT&FE0", Some(false), Some(true)),
        ("AT&D2E0", Some(false), None),
        ("AT+CMEE=2", None, None),
        ("ATS0=0E0", None, None),
        ("AT+CREG=2;E0", None, None),
    ];
    for (command, echo, verbose) in cases {
        let got = basic_settings(command).unwrap_or_default();
        assert_eq!(got.echo, *echo, "{command} echo");
        assert_eq!(got.verbose, *verbose, "{command} verbose");
    }
    assert_eq!(basic_settings("+CSQ"), None);
}

// ---------------------------------------------------------------------------
// URCs
// ---------------------------------------------------------------------------

#[test]
fn a_urc_between_information_lines_and_ok_is_separated() {
    let mut engine = Engine::new(Config::default());
    let events = run(
        &mut engine,
        "AT+CGDCONT?",
        b"\r\n+CGDCONT: 1,\"IP\",\"a\"\r\n\r\n+CREG: 1,\"00C3\",\"0000B2A1\",7\r\n+CGDCONT: 2,\"IP\",\"b\"\r\n\r\nOK\r\n",
    );
    assert_eq!(
        events,
        vec![
            urc("+CREG: 1,\"00C3\",\"0000B2A1\",7"),
            ok(&["+CGDCONT: 1,\"IP\",\"a\"", "+CGDCONT: 2,\"IP\",\"b\""]),
        ]
    );
}

#[test]
fn the_pending_commands_own_prefix_is_a_response_not_a_urc() {
    let table: &[(&str, &[u8], Vec<Event>)] = &[
        (
            "AT+CREG?",
            b"\r\n+CREG: 2,1,\"1A\",\"2B\",7\r\n\r\nOK\r\n",
            vec![ok(&["+CREG: 2,1,\"1A\",\"2B\",7"])],
        ),
        (
            "AT+CSQ",
            b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n",
            vec![ok(&["+CSQ: 20,99"])],
        ),
        (
            "AT+CPIN?",
            b"\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n",
            vec![ok(&["+CPIN: SIM PIN"])],
        ),
        (
            "AT+CPSI?",
            b"\r\n+CPSI: LTE,Online,310-410,0x1A2B,123,4,EUTRAN-BAND2,900,5,5,-10,-90,-60,15\r\n\r\nOK\r\n",
            vec![ok(&[
                "+CPSI: LTE,Online,310-410,0x1A2B,123,4,EUTRAN-BAND2,900,5,5,-10,-90,-60,15",
            ])],
        ),
        (
            "AT+CREG?",
            b"\r\n+CGREG: 1\r\n+CREG: 0,1\r\n\r\nOK\r\n",
            vec![urc("+CGREG: 1"), ok(&["+CREG: 0,1"])],
        ),
        (
            "at+qind=\"csq\",1",
            b"\r\n+QIND: \"csq\",1\r\n\r\nOK\r\n",
            vec![ok(&["+QIND: \"csq\",1"])],
        ),
    ];
    for (command, reply, expected) in table {
        let mut engine = Engine::new(Config {
            echo: Some(false),
            ..Config::default()
        });
        assert_eq!(&run(&mut engine, command, reply), expected, "{command}");
    }
}

#[test]
fn response_prefixes_of_commands() {
    let table: &[(&str, &[&str])] = &[
        ("AT+CREG?", &["+CREG:"]),
        ("AT+CSQ", &["+CSQ:"]),
        ("at+cereg=2", &["+CEREG:"]),
        (
            "AT+CREG?;+CGREG?;+CEREG?",
            &["+CREG:", "+CGREG:", "+CEREG:"],
        ),
        (
            "AT+CGDCONT=1,\"IP\",\"a;+CREG?\";+CSQ",
            &["+CGDCONT:", "+CSQ:"],
        ),
        ("AT^SYSINFO", &["^SYSINFO:"]),
        ("AT$QCPDPP?", &["$QCPDPP:"]),
        ("ATI", &[]),
        ("ATE0", &[]),
        ("+++", &[]),
        ("", &[]),
    ];
    for (command, expected) in table {
        assert_eq!(&response_prefixes(command), expected, "{command}");
    }
}

#[test]
fn with_no_command_pending_every_line_is_a_urc() {
    let mut engine = Engine::new(Config::default());
    let mut events = Vec::new();
    engine.feed(
        b"\r\n+CME ERROR: 10\r\n\r\nOK\r\nsomething\r\n\r\nPOWERED DOWN\r\n",
        &mut events,
    );
    assert_eq!(
        events,
        vec![
            urc("+CME ERROR: 10"),
            urc("OK"),
            urc("something"),
            urc("POWERED DOWN")
        ]
    );
}

#[test]
fn urc_words_and_profile_prefixes() {
    let mut engine = Engine::new(Config {
        extra_urc_prefixes: vec![s("+XYZIND:")],
        ..Config::default()
    });
    let events = run(
        &mut engine,
        "AT+COPS=?",
        b"\r\nRING\r\n+XYZIND: 1\r\nRINGING\r\nSMS DONE\r\n+COPS: (2,\"A\",\"A\",\"1\",7)\r\n\r\nOK\r\n",
    );
    assert_eq!(
        events,
        vec![
            urc("RING"),
            urc("+XYZIND: 1"),
            urc("SMS DONE"),
            ok(&["RINGING", "+COPS: (2,\"A\",\"A\",\"1\",7)"]),
        ]
    );
}

// ---------------------------------------------------------------------------
// Numeric (ATV0) mode
// ---------------------------------------------------------------------------

#[test]
fn numeric_result_codes_after_atv0() {
    let mut engine = Engine::new(Config::default());
    assert_eq!(run(&mut engine, "ATE0V0", b"ATE0V0\r0\r"), vec![ok(&[])]);
    assert!(!engine.verbose());
    assert_eq!(
        run(&mut engine, "AT+CSQ", b"+CSQ: 17,99\r\n0\r"),
        vec![ok(&["+CSQ: 17,99"])]
    );
    assert_eq!(
        run(&mut engine, "AT+FOO", b"4\r"),
        vec![response(Final::Error, &[])]
    );
    assert_eq!(
        run(&mut engine, "AT+CPIN?", b"+CME ERROR: 10\r\n"),
        vec![response(Final::CmeError(s("10")), &[])]
    );
    let table: &[(&[u8], Final)] = &[
        (b"3\r", Final::NoCarrier),
        (b"6\r", Final::NoDialtone),
        (b"7\r", Final::Busy),
        (b"8\r", Final::NoAnswer),
        (b"OK\r\n", Final::Ok),
    ];
    for (reply, result) in table {
        assert_eq!(
            run(&mut engine, "ATD123;", reply),
            vec![response(result.clone(), &[])]
        );
    }
    // RING (2) is a URC, pending command or not.
    assert_eq!(
        run(&mut engine, "AT", b"2\r0\r"),
        vec![urc("RING"), ok(&[])]
    );
    let mut events = Vec::new();
    engine.feed(b"2\r", &mut events);
    assert_eq!(events, vec![urc("RING")]);
    // CONNECT (1) enters data mode; 3 (NO CARRIER) leaves it.
    assert_eq!(
        run(&mut engine, "ATD*99#", b"1\r"),
        vec![response(Final::Connect(None), &[])]
    );
    assert!(engine.in_data_mode());
    events.clear();
    engine.feed(b"\x7e0\r\x7e\r3\r", &mut events);
    assert_eq!(events, vec![urc("NO CARRIER")]);
    // ATV1 brings the words back; digits are plain lines again.
    assert_eq!(run(&mut engine, "ATV1", b"\r\nOK\r\n"), vec![ok(&[])]);
    assert_eq!(
        run(&mut engine, "AT+X", b"\r\n0\r\n\r\nOK\r\n"),
        vec![ok(&["0"])]
    );
}

// ---------------------------------------------------------------------------
// Data mode
// ---------------------------------------------------------------------------

#[test]
fn data_mode_ignores_bytes_until_no_carrier() {
    let mut engine = Engine::new(Config::default());
    assert_eq!(
        run(
            &mut engine,
            "ATD*99#",
            b"ATD*99#\r\r\nCONNECT 150000000\r\n"
        ),
        vec![response(Final::Connect(Some(s("150000000"))), &[])]
    );
    let mut events = Vec::new();
    let mut flood = vec![0x7e_u8; 100_000];
    flood.extend_from_slice(b"\r\nOK\r\n+CREG: 1\r\nERROR\r\n");
    engine.feed(&flood, &mut events);
    assert!(events.is_empty(), "{events:?}");
    assert!(engine.in_data_mode());
    engine.feed(b"\r\nNO CARRIER\r\n+CREG: 0\r\n", &mut events);
    assert_eq!(events, vec![urc("NO CARRIER"), urc("+CREG: 0")]);
    assert!(!engine.in_data_mode());
}

#[test]
fn the_escape_command_ends_data_mode_with_its_result() {
    let mut engine = Engine::new(Config::default());
    run(&mut engine, "ATD*99#", b"\r\nCONNECT\r\n");
    engine.start_raw("+++");
    let mut events = Vec::new();
    engine.feed(b"\x7e\x7d\r\n\r\nOK\r\n", &mut events);
    assert_eq!(events, vec![ok(&[])]);
    assert!(!engine.in_data_mode());

    run(&mut engine, "ATD*99#", b"\r\nCONNECT\r\n");
    engine.end_data_mode();
    assert_eq!(run(&mut engine, "ATH", b"\r\nOK\r\n"), vec![ok(&[])]);
}

// ---------------------------------------------------------------------------
// Abandoned commands
// ---------------------------------------------------------------------------

#[test]
fn a_late_reply_of_an_abandoned_command_is_discarded_not_credited() {
    let mut engine = Engine::new(Config::default());
    engine.start_command("AT+COPS=?");
    let mut events = Vec::new();
    engine.feed(b"AT+COPS=?\r\r\n", &mut events);
    assert!(engine.abandon());
    assert!(engine.is_draining());
    engine.feed(
        b"+COPS: (1,\"A\",\"A\",\"1\",7)\r\n\r\n+CREG: 1\r\n\r\nOK\r\n",
        &mut events,
    );
    assert_eq!(
        events,
        vec![
            urc("+CREG: 1"),
            Event::Discarded {
                result: Final::Ok,
                lines: vec![s("+COPS: (1,\"A\",\"A\",\"1\",7)")]
            }
        ]
    );
    assert!(!engine.is_pending());
    assert_eq!(
        run(
            &mut engine,
            "AT+CSQ",
            b"AT+CSQ\r\r\n+CSQ: 5,99\r\n\r\nOK\r\n"
        ),
        vec![ok(&["+CSQ: 5,99"])]
    );
}

#[test]
fn forget_drops_the_pending_command() {
    let mut engine = Engine::new(Config::default());
    engine.start_command("AT");
    engine.abandon();
    engine.forget();
    assert!(!engine.is_pending());
    assert!(!engine.abandon());
    let mut events = Vec::new();
    engine.feed(b"\r\nOK\r\n", &mut events);
    assert_eq!(events, vec![urc("OK")]);
}

// ---------------------------------------------------------------------------
// Bounds and bad bytes
// ---------------------------------------------------------------------------

#[test]
fn a_flood_without_newline_is_bounded_and_counted() {
    let mut engine = Engine::new(Config {
        max_line: 4096,
        ..Config::default()
    });
    let mut events = Vec::new();
    let chunk = vec![b'A'; 1000];
    for _ in 0..1000 {
        engine.feed(&chunk, &mut events);
        assert!(engine.line.capacity() <= 4096 * 2, "the buffer grew");
    }
    engine.feed(b"\r\n+CREG: 1\r\n", &mut events);
    let dropped: usize = events
        .iter()
        .map(|e| match e {
            Event::Overflow { dropped } => *dropped,
            _ => 0,
        })
        .sum();
    assert_eq!(dropped, 1_000_000);
    assert_eq!(events.last(), Some(&urc("+CREG: 1")));
    assert!(events[..events.len() - 1]
        .iter()
        .all(|e| matches!(e, Event::Overflow { dropped } if *dropped <= 4096)));
}

#[test]
fn a_line_of_exactly_max_line_bytes_is_kept() {
    let mut engine = Engine::new(Config {
        max_line: 64,
        ..Config::default()
    });
    let mut events = Vec::new();
    let line = "x".repeat(64);
    engine.feed(line.as_bytes(), &mut events);
    engine.feed(b"\r\n", &mut events);
    assert_eq!(events, vec![urc(&line)]);
}

#[test]
fn overflow_events_do_not_depend_on_fragmentation() {
    let mut input = vec![b'Z'; 300];
    input.extend_from_slice(b"\r\nOK\r\n");
    input.extend(vec![b'Y'; 130]);
    input.extend_from_slice(b"\n");
    let config = Config {
        max_line: 64,
        ..Config::default()
    };
    let mut whole = Engine::new(config.clone());
    let mut expected = Vec::new();
    whole.feed(&input, &mut expected);
    for k in 0..input.len() {
        let mut engine = Engine::new(config.clone());
        let mut events = Vec::new();
        engine.feed(&input[..k], &mut events);
        engine.feed(&input[k..], &mut events);
        assert_eq!(events, expected, "split at {k}");
    }
    let mut engine = Engine::new(config);
    let mut events = Vec::new();
    for b in &input {
        engine.feed(std::slice::from_ref(b), &mut events);
    }
    assert_eq!(events, expected);
}

#[test]
fn invalid_utf8_is_converted_lossily() {
    let mut engine = Engine::new(Config::default());
    let events = run(
        &mut engine,
        "AT+COPS?",
        b"\r\n+COPS: 0,0,\"Caf\xe9\",7\r\n\xff\xfe\r\n\r\nOK\r\n",
    );
    assert_eq!(
        events,
        vec![ok(&["+COPS: 0,0,\"Caf\u{fffd}\",7", "\u{fffd}\u{fffd}"])]
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut engine = Engine::new(Config {
        max_line: 32,
        ..Config::default()
    });
    let mut seed: u32 = 7;
    let mut events = Vec::new();
    for round in 0..2000 {
        if round % 17 == 0 {
            engine.start_command("AT+CSQ");
        }
        if round % 31 == 0 {
            engine.abandon();
        }
        let mut bytes = Vec::new();
        for _ in 0..(round % 50) {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let b = (seed >> 16) as u8;
            bytes.push(match b % 8 {
                0 => b'\r',
                1 => b'\n',
                2 => b'>',
                3 => b' ',
                _ => b,
            });
        }
        engine.feed(&bytes, &mut events);
    }
    assert!(!events.is_empty());
}

#[test]
fn reset_forgets_everything() {
    let mut engine = Engine::new(Config::default());
    run(&mut engine, "ATE0V0", b"0\r");
    engine.start_command("AT");
    let mut events = Vec::new();
    engine.feed(b"partial", &mut events);
    engine.reset();
    assert!(!engine.is_pending());
    assert_eq!(engine.echo(), None);
    assert!(engine.verbose());
    engine.feed(b"\r\nRDY\r\n", &mut events);
    assert_eq!(events, vec![urc("RDY")]);
}

#[test]
fn find_eol_agrees_with_a_plain_scan() {
    let mut seed: u32 = 99;
    for len in 0..80 {
        for _ in 0..50 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    match (seed >> 16) % 40 {
                        0 => b'\r',
                        1 => b'\n',
                        2 => 0x8d,
                        3 => 0x0c,
                        n => n as u8 + 0x70,
                    }
                })
                .collect();
            let plain = bytes.iter().position(|&b| b == b'\r' || b == b'\n');
            assert_eq!(find_eol(&bytes), plain, "{bytes:?}");
        }
    }
}

#[test]
fn lines_with_control_characters_are_garbage() {
    let mut engine = Engine::new(Config::default());
    let mut events = Vec::new();
    engine.feed(b"\x00\x13abc\x7f\r\n+CREG: 1\r\n", &mut events);
    assert_eq!(events, vec![Event::Garbage { bytes: 6 }, urc("+CREG: 1")]);
    let events = run(
        &mut engine,
        "AT+CSQ",
        b"\r\n\x01\x02\x03\r\n+CSQ: 1,2\r\n\tOK\t\r\n",
    );
    assert_eq!(
        events,
        vec![Event::Garbage { bytes: 3 }, ok(&["+CSQ: 1,2"])]
    );
}

// ---------------------------------------------------------------------------
// Response limits
// ---------------------------------------------------------------------------

fn limited(lines: usize, bytes: usize) -> Engine {
    Engine::new(Config {
        max_response_lines: lines,
        max_response_bytes: bytes,
        ..Config::default()
    })
}

#[test]
fn a_response_at_its_limits_is_whole() {
    let mut engine = limited(3, 12);
    // Three lines of three bytes: 3 × (3 + 1) = 12 bytes, both limits met.
    let events = run(&mut engine, "AT+X", b"\r\naaa\r\nbbb\r\nccc\r\n\r\nOK\r\n");
    assert_eq!(events, vec![ok(&["aaa", "bbb", "ccc"])]);
}

#[test]
fn one_line_over_the_line_limit_ends_the_command_and_the_rest_is_dropped() {
    let mut engine = limited(3, 1 << 20);
    engine.start_command("AT+X");
    let mut events = Vec::new();
    engine.feed(b"\r\na\r\nb\r\nc\r\nd\r\n", &mut events);
    assert_eq!(events, vec![Event::ResponseTooLarge { lines: 4, bytes: 8 }]);
    assert!(engine.is_draining());
    events.clear();
    // The stream goes on: nothing more is reported, URCs still are, and the
    // final result comes out discarded, with no lines kept.
    for _ in 0..10_000 {
        engine.feed(b"+FLOOD: 0123456789\r\n", &mut events);
    }
    engine.feed(b"+CREG: 5\r\nOK\r\n", &mut events);
    assert_eq!(
        events,
        vec![
            urc("+CREG: 5"),
            Event::Discarded {
                result: Final::Ok,
                lines: vec![]
            }
        ]
    );
    // The next command works.
    let events = run(&mut engine, "AT+CSQ", b"\r\n+CSQ: 17,99\r\n\r\nOK\r\n");
    assert_eq!(events, vec![ok(&["+CSQ: 17,99"])]);
}

#[test]
fn the_byte_limit_counts_line_ends() {
    let mut engine = limited(1000, 10);
    engine.start_command("AT+X");
    let mut events = Vec::new();
    // "abcd" + end = 5, twice = 10: at the limit; one more byte is over.
    engine.feed(b"abcd\r\nabcd\r\n", &mut events);
    assert!(events.is_empty(), "{events:?}");
    engine.feed(b"e\r\n", &mut events);
    assert_eq!(
        events,
        vec![Event::ResponseTooLarge {
            lines: 3,
            bytes: 12
        }]
    );
}

#[test]
fn an_abandoned_command_keeps_no_more_than_the_limits() {
    let mut engine = limited(2, 1 << 20);
    engine.start_command("AT+X");
    assert!(engine.abandon());
    let mut events = Vec::new();
    engine.feed(b"a\r\nb\r\nc\r\nd\r\nOK\r\n", &mut events);
    // Already abandoned: no ResponseTooLarge, just the first two lines kept.
    assert_eq!(
        events,
        vec![Event::Discarded {
            result: Final::Ok,
            lines: vec![s("a"), s("b")]
        }]
    );
}

#[test]
fn the_limits_reset_with_each_command() {
    let mut engine = limited(2, 1 << 20);
    for _ in 0..3 {
        let events = run(&mut engine, "AT+X", b"a\r\nb\r\nOK\r\n");
        assert_eq!(events, vec![ok(&["a", "b"])]);
    }
}

#[test]
fn a_vendor_urc_is_a_urc_only_for_the_profile_that_names_it() {
    // Without the profile's prefixes, a +QIND: line during a command is part
    // of its response; with them, it is a URC.
    for (config, expect_urc) in [(Config::default(), false), (quectel(), true)] {
        let mut engine = Engine::new(config);
        let events = run(
            &mut engine,
            "AT+CSQ",
            b"\r\n+CSQ: 17,99\r\n+QIND: \"csq\",20,99\r\n\r\nOK\r\n",
        );
        assert_eq!(
            events.contains(&urc("+QIND: \"csq\",20,99")),
            expect_urc,
            "{events:?}"
        );
    }
}
