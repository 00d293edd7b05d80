//! The single serial line in plain AT and in CMUX mode: frames fed straight
//! into a [`Uart`] in front of the modem, with an explicit clock.

use super::*;
use crate::config::{parse_args, Cli};
use crate::control::{Control, RegTarget};
use cellular_core::cmux::control::{Msc, Pn};
use cellular_core::cmux::{Event as MuxEvent, MAX_INFO};

fn modem(model: &str, extra: &[&str]) -> Modem {
    let mut args = vec![
        "--uart",
        "--model",
        model,
        "--register-after-ms",
        "0",
        "--provisioned",
        "internet",
    ];
    args.extend_from_slice(extra);
    let mut m = match parse_args(args.iter().copied()) {
        Ok(Cli::Run(cfg)) => Modem::new(&cfg, 0),
        other => panic!("{args:?}: {other:?}"),
    };
    m.tick(0);
    m.take_effects();
    m
}

fn wire(frame: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    encode(frame, MAX_INFO, &mut out).expect("test frame encodes");
    out
}

fn sabm(dlci: u8) -> Vec<u8> {
    wire(&Frame::empty(dlci, Kind::Sabm, true, true))
}

fn uih(dlci: u8, data: &[u8]) -> Vec<u8> {
    wire(&Frame::uih(dlci, true, data.to_vec()))
}

fn control(message: Message) -> Vec<u8> {
    uih(0, &message.encode())
}

/// The frames on the line since the last call (and any garbage, which a
/// test would see as an error).
fn frames(u: &mut Uart, m: &mut Modem) -> Vec<Frame> {
    let bytes = u.take_bytes(m);
    let mut decoder = Decoder::new(MAX_INFO);
    let mut events = Vec::new();
    decoder.feed(&bytes, &mut events);
    events
        .into_iter()
        .map(|e| match e {
            MuxEvent::Frame(f) => f,
            other => panic!("{other:?} in {bytes:02X?}"),
        })
        .collect()
}

/// The text of the UIH frames on one DLCI since the last call.
fn text_on(u: &mut Uart, m: &mut Modem, dlci: u8) -> String {
    let bytes: Vec<u8> = frames(u, m)
        .into_iter()
        .filter(|f| f.dlci == dlci && f.kind == Kind::Uih)
        .flat_map(|f| f.info)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Switches to CMUX with `AT+CMUX=0` and opens DLCIs 0, 1 and 2, with echo
/// off on both interpreters.
fn muxed(model: &str) -> (Uart, Modem) {
    let mut m = modem(model, &[]);
    let mut u = Uart::new();
    u.input(&mut m, b"ATE0\r", 0);
    assert_eq!(u.take_bytes(&mut m), b"ATE0\r\r\nOK\r\n");
    u.input(&mut m, b"AT+CMUX=0\r", 0);
    assert_eq!(u.take_bytes(&mut m), b"\r\nOK\r\n");
    assert!(u.muxed());
    for dlci in 0..=2 {
        u.input(&mut m, &sabm(dlci), 0);
    }
    assert_eq!(
        frames(&mut u, &mut m),
        (0..=2)
            .map(|d| Frame::empty(d, Kind::Ua, true, true))
            .collect::<Vec<_>>()
    );
    u.input(&mut m, &uih(2, b"ATE0\r"), 0);
    assert_eq!(text_on(&mut u, &mut m, 2), "ATE0\r\r\nOK\r\n");
    (u, m)
}

#[test]
fn cmux_only_on_a_single_line() {
    let mut args = vec!["--model", "bg96"];
    for uart in [false, true] {
        if uart {
            args.push("--uart");
        }
        let mut m = match parse_args(args.iter().copied()) {
            Ok(Cli::Run(cfg)) => Modem::new(&cfg, 0),
            other => panic!("{other:?}"),
        };
        m.input(PortId::At, b"ATE0\r", 0);
        m.take_effects();
        m.input(PortId::At, b"AT+CMUX=0\r", 0);
        let out = m.take_output(PortId::At);
        assert_eq!(out == "\r\nOK\r\n", uart, "{out:?}");
        // Never on the second interpreter.
        m.input(PortId::Ppp, b"ATE0\r", 0);
        m.take_effects();
        m.input(PortId::Ppp, b"AT+CMUX=0\r", 0);
        assert!(m.take_output(PortId::Ppp).contains("ERROR"));
    }
}

#[test]
fn plain_at_until_cmux() {
    let mut m = modem("sim7672", &[]);
    let mut u = Uart::new();
    u.input(&mut m, b"AT\r", 0);
    assert_eq!(u.take_bytes(&mut m), b"AT\r\r\nOK\r\n");
    assert!(!u.muxed());
    // Basic mode only, with UIH frames.
    u.input(&mut m, b"AT+CMUX=1\r", 0);
    let refused = String::from_utf8_lossy(&u.take_bytes(&mut m)).into_owned();
    assert!(
        refused.starts_with("AT+CMUX=1\r\r\n+CME ERROR"),
        "{refused:?}"
    );
    u.input(&mut m, b"AT+CMUX=?\r", 0);
    let test = u.take_bytes(&mut m);
    assert!(
        test.starts_with(b"AT+CMUX=?\r\r\n+CMUX: (0),(0),"),
        "{test:?}"
    );
    assert!(!u.muxed());
}

#[test]
fn single_uart_models_open_channels_and_answer_on_them() {
    for model in ["sim7672", "bg96", "sim7080"] {
        let (mut u, mut m) = muxed(model);
        let name = m.profile().model;
        u.input(&mut m, &uih(1, b"AT+CGMM\r"), 0);
        let text = text_on(&mut u, &mut m, 1);
        assert!(text.contains(name), "{model}: {text:?}");
        assert!(text.ends_with("OK\r\n"), "{model}: {text:?}");
        // The two channels are two interpreters: echo is per channel.
        u.input(&mut m, &uih(1, b"ATE1\r"), 0);
        text_on(&mut u, &mut m, 1);
        u.input(&mut m, &uih(2, b"AT\r"), 0);
        assert_eq!(text_on(&mut u, &mut m, 2), "\r\nOK\r\n", "{model}");
        u.input(&mut m, &uih(1, b"AT\r"), 0);
        assert_eq!(text_on(&mut u, &mut m, 1), "AT\r\r\nOK\r\n", "{model}");
    }
}

#[test]
fn sabm_beyond_the_channels_is_refused() {
    let (mut u, mut m) = muxed("bg96");
    u.input(&mut m, &sabm(3), 0);
    assert_eq!(
        frames(&mut u, &mut m),
        [Frame::empty(3, Kind::Dm, true, true)]
    );
    // Data on a channel that is not open is dropped.
    u.input(&mut m, &uih(5, b"AT\r"), 0);
    assert!(frames(&mut u, &mut m).is_empty());
}

#[test]
fn switch_and_frames_in_one_read() {
    let mut m = modem("sim7080", &[]);
    let mut u = Uart::new();
    let mut read = b"ATE0\rAT+CMUX=0,0,5,127\r".to_vec();
    read.extend_from_slice(&sabm(0));
    read.extend_from_slice(&sabm(1));
    read.extend_from_slice(&uih(1, b"AT+CMUX?\r"));
    u.input(&mut m, &read, 0);
    let bytes = u.take_bytes(&mut m);
    let plain = b"ATE0\r\r\nOK\r\n\r\nOK\r\n";
    assert_eq!(&bytes[..plain.len()], plain);
    let mut decoder = Decoder::new(MAX_INFO);
    let mut events = Vec::new();
    decoder.feed(&bytes[plain.len()..], &mut events);
    assert_eq!(
        events,
        [
            MuxEvent::Frame(Frame::empty(0, Kind::Ua, true, true)),
            MuxEvent::Frame(Frame::empty(1, Kind::Ua, true, true)),
            MuxEvent::Frame(Frame::uih(
                1,
                false,
                b"\r\n+CMUX: 0,0,5,127,10,3,30,10,2\r\n\r\nOK\r\n".to_vec()
            )),
        ]
    );
}

#[test]
fn output_is_cut_into_frames_of_n1() {
    let mut m = modem("bg96", &[]);
    let mut u = Uart::new();
    u.input(&mut m, b"AT+CMUX=0,0,5,8\r", 0);
    u.take_bytes(&mut m);
    u.input(&mut m, &sabm(1), 0);
    u.take_bytes(&mut m);
    u.input(&mut m, &uih(1, b"ATI\r"), 0);
    let frames = frames(&mut u, &mut m);
    assert!(frames.len() > 3);
    assert!(frames.iter().all(|f| f.info.len() <= 8 && f.dlci == 1));
    let text: Vec<u8> = frames.into_iter().flat_map(|f| f.info).collect();
    assert!(text.starts_with(b"ATI\r\r\nQuectel\r\nBG96"), "{text:?}");
}

#[test]
fn dial_on_dlci_2_carries_ppp_and_urcs_stay_on_dlci_1() {
    let (mut u, mut m) = muxed("sim7672");
    u.input(&mut m, &uih(1, b"AT+CREG=2\r"), 0);
    assert_eq!(text_on(&mut u, &mut m, 1), "\r\nOK\r\n");
    u.input(&mut m, &uih(2, b"ATD*99#\r"), 100);
    let fx = u.take_effects(&mut m);
    assert!(fx.contains(&Effect::Event(crate::json::Event::Connected(PortId::Ppp))));
    let mut bytes = Vec::new();
    for e in fx {
        if let Effect::Write(PortId::At, Out::Bytes(b)) = e {
            bytes.extend(b);
        }
    }
    let mut decoder = Decoder::new(MAX_INFO);
    let mut events = Vec::new();
    decoder.feed(&bytes, &mut events);
    let MuxEvent::Frame(connect) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(connect.dlci, 2);
    assert!(String::from_utf8_lossy(&connect.info).contains("CONNECT"));
    // PPP bytes in data mode: taken, no answer; the AT channel still works.
    u.input(&mut m, &uih(2, &[0x7E, 0xFF, 0x03, 0xC0, 0x21, 0x7E]), 200);
    assert!(frames(&mut u, &mut m).is_empty());
    u.input(&mut m, &uih(1, b"AT+CSQ\r"), 300);
    assert!(text_on(&mut u, &mut m, 1).contains("+CSQ:"));
    // The +++ escape on DLCI 2, with the guard time around it.
    u.input(&mut m, &uih(2, b"+++"), 2_000);
    m.tick(3_000);
    assert_eq!(text_on(&mut u, &mut m, 2), "\r\nOK\r\n");
    // The network drops the call: the registration URC goes to the channel
    // that asked for it (DLCI 1), NO CARRIER to the channel of the call.
    m.control(Control::Reg(RegTarget::Denied(15)), 4_000);
    let out = frames(&mut u, &mut m);
    let on = |dlci: u8| -> String {
        let bytes: Vec<u8> = out
            .iter()
            .filter(|f| f.dlci == dlci)
            .flat_map(|f| f.info.clone())
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    assert!(on(1).starts_with("\r\n+CREG: "), "{out:?}");
    assert_eq!(on(2), "\r\nNO CARRIER\r\n");
}

#[test]
fn control_messages_are_answered() {
    let (mut u, mut m) = muxed("bg96");
    let msc = Body::Msc(Msc {
        dlci: 2,
        signals: Msc::RTC | Msc::RTR,
        brk: None,
    });
    let pn = Body::Pn(Pn {
        dlci: 1,
        frame_type: 0,
        convergence: 0,
        priority: 7,
        ack_timer: 10,
        max_frame: 127,
        retransmissions: 3,
        window: 2,
    });
    for body in [
        msc,
        pn,
        Body::Test(b"ping".to_vec()),
        Body::FcOff,
        Body::FcOn,
    ] {
        u.input(&mut m, &control(Message::command(body.clone())), 0);
        assert_eq!(
            frames(&mut u, &mut m),
            [Frame::uih(0, false, Message::response(body).encode())]
        );
    }
    // A type the modem does not know: NSC with the command's type octet.
    let rpn = Message::command(Body::Other {
        kind: cellular_core::cmux::control::types::RPN,
        value: vec![0x07],
    });
    u.input(&mut m, &control(rpn), 0);
    assert_eq!(
        frames(&mut u, &mut m),
        [Frame::uih(
            0,
            false,
            Message::response(Body::Nsc(0x93)).encode()
        )]
    );
    // Responses are not answered; a bad message is traced, not answered.
    u.input(&mut m, &control(Message::response(Body::FcOn)), 0);
    u.input(&mut m, &uih(0, &[0xE3, 0x05]), 0);
    assert!(frames(&mut u, &mut m).is_empty());
    assert!(u.muxed());
}

#[test]
fn cld_and_disc_on_dlci_0_leave_mux_mode() {
    let (mut u, mut m) = muxed("sim7080");
    u.input(&mut m, &control(Message::command(Body::Cld)), 0);
    assert_eq!(
        frames(&mut u, &mut m),
        [Frame::uih(0, false, Message::response(Body::Cld).encode())]
    );
    assert!(!u.muxed());
    u.input(&mut m, b"AT\r", 0);
    assert_eq!(u.take_bytes(&mut m), b"\r\nOK\r\n");

    // Plain AT right after the closing frame, in the same read.
    let (mut u, mut m) = muxed("sim7080");
    let mut read = wire(&Frame::empty(0, Kind::Disc, true, true));
    read.extend_from_slice(b"AT\r");
    u.input(&mut m, &read, 0);
    let mut expected = wire(&Frame::empty(0, Kind::Ua, true, true));
    expected.extend_from_slice(b"\r\nOK\r\n");
    assert_eq!(u.take_bytes(&mut m), expected);

    let (mut u, mut m) = muxed("sim7080");
    // DISC on DLCI 1 closes that channel only: its output is dropped.
    u.input(&mut m, &wire(&Frame::empty(1, Kind::Disc, true, true)), 0);
    assert_eq!(
        frames(&mut u, &mut m),
        [Frame::empty(1, Kind::Ua, true, true)]
    );
    assert!(!u.is_open(1) && u.is_open(2));
    u.input(&mut m, &uih(1, b"AT\r"), 0);
    assert!(frames(&mut u, &mut m).is_empty());
    u.input(&mut m, &wire(&Frame::empty(0, Kind::Disc, true, true)), 0);
    assert_eq!(
        frames(&mut u, &mut m),
        [Frame::empty(0, Kind::Ua, true, true)]
    );
    assert!(!u.muxed());
    u.input(&mut m, b"AT\r", 0);
    assert_eq!(u.take_bytes(&mut m), b"\r\nOK\r\n");
}

#[test]
fn reset_drops_out_of_mux_mode() {
    let (mut u, mut m) = muxed("sim7672");
    u.input(&mut m, &uih(1, b"AT+CFUN=1,1\r"), 0);
    assert_eq!(text_on(&mut u, &mut m, 1), "\r\nOK\r\n");
    m.tick(200);
    let fx = u.take_effects(&mut m);
    assert!(fx.contains(&Effect::Unplug), "{fx:?}");
    assert!(!u.muxed());
    m.tick(10_000);
    let boot = u.take_bytes(&mut m);
    // Boot URCs in plain text on the line.
    assert!(boot.starts_with(b"\r\n"), "{boot:?}");
    u.input(&mut m, b"AT+CMUX?\r", 10_000);
    assert_eq!(u.take_bytes(&mut m), b"AT+CMUX?\r\r\nERROR\r\n");
}

#[test]
fn line_noise_in_mux_mode_is_traced_not_answered() {
    let (mut u, mut m) = muxed("bg96");
    u.input(&mut m, b"\r\nAT\r\n", 0);
    let fx = u.take_effects(&mut m);
    assert!(fx.iter().all(|e| matches!(e, Effect::Trace(_))), "{fx:?}");
    assert!(u.muxed());
    // A frame after the noise still decodes.
    u.input(&mut m, &uih(1, b"AT\r"), 0);
    assert_eq!(text_on(&mut u, &mut m, 1), "\r\nOK\r\n");
}

/// Random reads mixing noise, AT lines and frames of every kind on DLCIs
/// 0–4 (CLD and DISC included, so the line goes in and out of mux mode):
/// nothing panics, and what the modem writes in mux mode always decodes.
#[test]
fn random_traffic_never_breaks_the_line() {
    let mut rng = crate::rng::Rng::new(7);
    let (mut u, mut m) = muxed("sim7672");
    let mut pieces: Vec<Vec<u8>> = vec![
        b"AT\r".to_vec(),
        b"AT+CMUX=0\r".to_vec(),
        b"ATD*99#\r".to_vec(),
        control(Message::command(Body::Cld)),
        control(Message::command(Body::Test(vec![0xF9; 40]))),
        vec![0xF9, 0x07, 0xEF, 0xFF, 0x00],
    ];
    for dlci in 0..=4 {
        for kind in Kind::ALL {
            pieces.push(wire(&Frame::empty(dlci, kind, true, true)));
        }
        pieces.push(uih(dlci, b"AT+CSQ\r"));
    }
    for round in 0..2_000u64 {
        let mut read = Vec::new();
        for _ in 0..rng.range(1, 4) {
            match rng.below(4) {
                0 => read.extend((0..rng.below(20)).map(|_| rng.below(256) as u8)),
                _ => read.extend_from_slice(&pieces[rng.below(pieces.len() as u64) as usize]),
            }
        }
        let muxed_before = u.muxed();
        u.input(&mut m, &read, round * 10);
        m.tick(round * 10);
        let out = u.take_bytes(&mut m);
        if muxed_before && u.muxed() {
            let mut d = Decoder::new(MAX_INFO);
            let mut events = Vec::new();
            d.feed(&out, &mut events);
            assert!(
                events.iter().all(|e| matches!(e, MuxEvent::Frame(_))),
                "{events:?}"
            );
        }
    }
}

#[test]
fn a_mute_modem_answers_no_frame_and_loses_what_it_was_sent() {
    let (mut u, mut m) = muxed("sim7672");
    m.control(Control::Mute(true), 1_000);
    m.take_effects();
    // A TEST probe and a SABM: nothing comes back while mute.
    u.input(
        &mut m,
        &control(Message::command(Body::Test(vec![1, 2, 3, 4]))),
        1_100,
    );
    u.input(&mut m, &sabm(2), 1_200);
    assert_eq!(frames(&mut u, &mut m), Vec::<Frame>::new());
    // Unmuted, it is still multiplexing (what was lost never reached it).
    m.control(Control::Mute(false), 2_000);
    m.take_effects();
    u.input(
        &mut m,
        &control(Message::command(Body::Test(vec![5, 6, 7, 8]))),
        2_100,
    );
    assert_eq!(
        frames(&mut u, &mut m),
        [Frame::uih(
            0,
            false,
            Message::response(Body::Test(vec![5, 6, 7, 8])).encode()
        )]
    );
}
