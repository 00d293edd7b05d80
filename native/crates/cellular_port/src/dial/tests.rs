//! The dialer fed with modem answers as they come over a PPP tty.

use super::*;

/// Feeds `bytes` in pieces of `chunk` bytes and returns what was written and
/// how it ended (`None`: still waiting).
fn drive(cid: u8, probe: &[u8], dial: &[u8], chunk: usize) -> (Vec<Vec<u8>>, Option<Progress>) {
    let (mut dialer, first) = Dialer::new(cid);
    let mut written = vec![first];
    let mut input = probe.to_vec();
    let mut dial_sent = false;
    loop {
        let mut outcome = None;
        let mut offset = 0;
        while offset < input.len() {
            let end = (offset + chunk).min(input.len());
            match dialer.feed(&input[offset..end]) {
                Progress::Wait => {}
                Progress::Write(bytes) => {
                    written.push(bytes);
                    outcome = Some(Progress::Wait);
                    break;
                }
                done => return (written, Some(done)),
            }
            offset = end;
        }
        if outcome.is_some() && !dial_sent {
            dial_sent = true;
            input = dial.to_vec();
            continue;
        }
        return (written, None);
    }
}

/// (what, answer to AT, answer to ATD, outcome)
type Case<'a> = (&'a str, &'a [u8], &'a [u8], Option<Progress>);

#[test]
fn real_answers() {
    use Final::*;
    let connected = |rate: Option<&str>| Some(Progress::Connected(rate.map(String::from)));
    let refused = |step, result| Some(Progress::Failed(Failure::Refused { step, result }));
    let table: Vec<Case> = vec![
        (
            "Quectel EC25, echo on",
            b"AT\r\r\nOK\r\n",
            b"ATD*99***1#\r\r\nCONNECT 150000000\r\n",
            connected(Some("150000000")),
        ),
        (
            "SIMCom SIM7600, echo off",
            b"\r\nOK\r\n",
            b"\r\nCONNECT 115200\r\n",
            connected(Some("115200")),
        ),
        (
            "Huawei ME909, plain CONNECT",
            b"AT\r\r\nOK\r\n",
            b"ATD*99***1#\r\r\nCONNECT\r\n",
            connected(None),
        ),
        (
            "URCs around the answers",
            b"\r\n+CEREG: 5\r\nRDY\r\nAT\r\r\nOK\r\n",
            b"\r\n+CGEV: ME PDN ACT 1\r\n\r\nCONNECT 100000000\r\n",
            connected(Some("100000000")),
        ),
        (
            "line noise before OK",
            b"\x00\x7f\x1b[\r\nAT\r\r\nOK\r\n",
            b"CONNECT\r\n",
            connected(None),
        ),
        (
            "LF only",
            b"AT\nOK\n",
            b"CONNECT 9600\n",
            connected(Some("9600")),
        ),
        (
            "no service",
            b"AT\r\r\nOK\r\n",
            b"ATD*99***1#\r\r\nNO CARRIER\r\n",
            refused(Step::Dial, NoCarrier),
        ),
        (
            "context refused",
            b"AT\r\r\nOK\r\n",
            b"\r\n+CME ERROR: 30\r\n",
            refused(Step::Dial, CmeError("30".into())),
        ),
        (
            "dial ERROR",
            b"OK\r\n",
            b"ERROR\r\n",
            refused(Step::Dial, Error),
        ),
        ("busy", b"OK\r\n", b"BUSY\r\n", refused(Step::Dial, Busy)),
        (
            "no dial tone (two spellings)",
            b"OK\r\n",
            b"NO DIAL TONE\r\n",
            refused(Step::Dial, NoDialtone),
        ),
        (
            "no answer",
            b"OK\r\n",
            b"NO ANSWER\r\n",
            refused(Step::Dial, NoAnswer),
        ),
        (
            "ATD answered OK (a voice dial)",
            b"OK\r\n",
            b"OK\r\n",
            refused(Step::Dial, Ok),
        ),
        (
            "AT refused",
            b"AT\r\r\nERROR\r\n",
            b"",
            refused(Step::Probe, Error),
        ),
        (
            "CONNECT to AT (port already in data mode)",
            b"CONNECT\r\n",
            b"",
            refused(Step::Probe, Connect(None)),
        ),
        (
            "PPP frames instead of OK",
            b"~\xff}#\xc0!}!}!} }4}\"}&} }*} } ~",
            b"",
            None,
        ),
        ("nothing", b"", b"", None),
    ];
    for chunk in [1, 3, 64] {
        for (what, probe, dial, want) in &table {
            let (written, got) = drive(1, probe, dial, chunk);
            assert_eq!(&got, want, "{what} (chunks of {chunk})");
            assert_eq!(written[0], b"AT\r", "{what}");
            if written.len() > 1 {
                assert_eq!(written[1], b"ATD*99***1#\r", "{what}");
            }
        }
    }
}

#[test]
fn dials_the_given_context() {
    let (mut dialer, _) = Dialer::new(7);
    assert_eq!(
        dialer.feed(b"OK\r\n"),
        Progress::Write(b"ATD*99***7#\r".to_vec())
    );
    assert_eq!(dialer.step(), Step::Dial);
}

#[test]
fn connect_before_the_dial_is_not_success() {
    let (mut dialer, _) = Dialer::new(1);
    assert!(matches!(dialer.feed(b"CONNECT\r\n"), Progress::Failed(_)));
    assert_eq!(
        dialer.feed(b"OK\r\nCONNECT\r\n"),
        Progress::Wait,
        "done stays done"
    );
}

#[test]
fn timeouts_name_the_step() {
    let (mut dialer, _) = Dialer::new(1);
    assert_eq!(dialer.timed_out(), Failure::Timeout { step: Step::Probe });
    let (mut dialer, _) = Dialer::new(1);
    let _ = dialer.feed(b"OK\r\n");
    let failure = dialer.timed_out();
    assert_eq!(failure, Failure::Timeout { step: Step::Dial });
    assert_eq!(failure.exit_status(), EXIT_TIMEOUT);
    assert_eq!(failure.to_string(), "no CONNECT in time");
}

#[test]
fn input_is_bounded() {
    let (mut dialer, _) = Dialer::new(1);
    let _ = dialer.feed(b"OK\r\n");
    let flood = vec![b'x'; 1000];
    let mut outcome = Progress::Wait;
    for _ in 0..100 {
        outcome = dialer.feed(&flood);
        if outcome != Progress::Wait {
            break;
        }
    }
    assert_eq!(outcome, Progress::Failed(Failure::TooMuchInput));

    // Many short lines of a response: the engine's limit ends it first.
    let (mut dialer, _) = Dialer::new(1);
    let lines = b"+CGDCONT: 1,\"IP\",\"x\"\r\n".repeat(40);
    assert_eq!(dialer.feed(&lines), Progress::Failed(Failure::TooMuchInput));
}

#[test]
fn failure_messages_and_statuses() {
    let refused = Failure::Refused {
        step: Step::Dial,
        result: Final::NoCarrier,
    };
    assert_eq!(refused.to_string(), "the dial failed: NO CARRIER");
    assert_eq!(refused.exit_status(), EXIT_REFUSED);
    let probe = Failure::Timeout { step: Step::Probe };
    assert!(probe.to_string().contains("no OK to AT"), "{probe}");
    assert_eq!(Failure::Io("x".into()).exit_status(), EXIT_IO);
}

#[test]
fn arguments() {
    let args = |list: &[&str]| parse_args(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert_eq!(
        args(&["3"]),
        Ok(Args {
            cid: 3,
            probe_timeout: DEFAULT_PROBE_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT
        })
    );
    let custom = args(&["--timeout", "2", "12", "--connect-timeout", "5"]).unwrap();
    assert_eq!(custom.cid, 12);
    assert_eq!(custom.probe_timeout, Duration::from_secs(2));
    assert_eq!(custom.connect_timeout, Duration::from_secs(5));
    for bad in [
        &[][..],
        &["0"],
        &["100"],
        &["internet"],
        &["1", "2"],
        &["1", "--timeout"],
        &["1", "--timeout", "0"],
        &["1", "--connect-timeout", "999"],
    ] {
        assert!(args(bad).is_err(), "{bad:?}");
    }
}

/// The I/O loop over a socket pair standing in for the tty.
#[test]
fn run_over_a_socket_pair() {
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    let (ours, mut modem) = UnixStream::pair().unwrap();
    let args = Args {
        cid: 2,
        probe_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(5),
    };
    let fake = std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        while !got.ends_with(b"AT\r") {
            let n = modem.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        modem.write_all(b"AT\r\r\nOK\r\n").unwrap();
        while !got.ends_with(b"#\r") {
            let n = modem.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        // The first PPP frame follows CONNECT at once: it must stay unread.
        modem
            .write_all(b"\r\nCONNECT 150000000\r\n~\xff}#")
            .unwrap();
        (got, modem)
    });
    let fd = ours.as_raw_fd();
    let result = run(&args, fd, fd);
    let (got, _modem) = fake.join().unwrap();
    assert_eq!(result, Ok(Some("150000000".into())));
    assert_eq!(got, b"AT\rATD*99***2#\r");
    // The CR ends CONNECT's line; its LF and the frame stay for pppd (which
    // skips anything before a frame's 0x7e flag).
    let mut rest = [0u8; 8];
    let n = (&ours).read(&mut rest).unwrap();
    assert_eq!(
        &rest[..n],
        b"\n~\xff}#",
        "bytes after CONNECT are left for pppd"
    );

    // Silence: the probe times out.
    let (ours, _modem) = UnixStream::pair().unwrap();
    let quick = Args {
        probe_timeout: Duration::from_millis(100),
        ..args
    };
    let started = Instant::now();
    let fd = ours.as_raw_fd();
    assert_eq!(
        run(&quick, fd, fd),
        Err(Failure::Timeout { step: Step::Probe })
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}
