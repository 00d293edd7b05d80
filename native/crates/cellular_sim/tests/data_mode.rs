//! A data call outlives the client that dialed it, as on a real modem: the
//! PPP port stays in data mode (and swallows `AT`) until something ends the
//! call: a DTR drop (the `dtr drop` control command, since a pty carries no
//! modem control lines), the `+++` escape with its guard time, then `ATH`,
//! or `AT+CGACT=0,<cid>` on the AT port.

#![forbid(unsafe_code)]

mod common;

use common::{Port, Sim};
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(400);

fn start() -> Sim {
    Sim::start(&[
        "--quiet",
        "--provisioned",
        "internet",
        "--register-after-ms",
        "0",
    ])
}

/// Dials on the PPP port as pppd's connect program would, then closes the port (the
/// client is gone); returns once the call is up.
fn dial_and_close(sim: &mut Sim, setup: &str) {
    {
        let mut tty = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open(&sim.ppp)
            .expect("open the ppp port");
        tty.write_all(format!("ATE0{setup}\rATD*99***1#\r").as_bytes())
            .expect("write the dial");
    }
    sim.wait_event(|l| l == r#"{"event":"connected","port":"ppp"}"#);
}

/// The next client of the PPP port: what the first one left unread (OK,
/// CONNECT) is drained first.
fn reopen(sim: &Sim) -> Port {
    let mut ppp = sim.port("ppp");
    let left = ppp.drain(QUIET);
    assert!(left.contains("CONNECT"), "{left:?}");
    ppp
}

fn status(sim: &mut Sim) -> String {
    sim.control("status");
    sim.seen
        .iter()
        .rev()
        .find(|l| l.contains("call="))
        .cloned()
        .unwrap_or_default()
}

/// Still in data mode: `AT` goes unanswered, the call is up.
fn assert_data_mode(sim: &mut Sim, ppp: &mut Port) {
    ppp.write(b"AT\r");
    assert_eq!(ppp.drain(QUIET), "", "AT was answered in data mode");
    assert!(status(sim).contains("call=ppp:cid1:data"), "{:?}", sim.seen);
}

fn assert_command_mode(sim: &mut Sim, ppp: &mut Port) {
    assert_eq!(ppp.command("AT"), "\r\nOK\r\n");
    assert!(status(sim).contains("call=none"), "{:?}", sim.seen);
}

#[test]
fn the_call_outlives_its_client_and_ends_on_dtr_drop() {
    let mut sim = start();
    dial_and_close(&mut sim, "");
    let mut ppp = reopen(&sim);
    assert_data_mode(&mut sim, &mut ppp);

    // &D2 (the default): DTR off ends the call, silently.
    sim.control("dtr drop");
    assert!(sim
        .seen
        .iter()
        .any(|l| l == r#"{"event":"hangup","port":"ppp"}"#));
    assert_eq!(ppp.drain(QUIET), "");
    assert_command_mode(&mut sim, &mut ppp);
    // Without a call, a DTR drop changes nothing.
    sim.control("dtr drop");
    assert_eq!(ppp.command("AT"), "\r\nOK\r\n");
}

#[test]
fn dtr_drop_follows_amp_d() {
    // &D1: online command mode with OK; the call stays until ATH.
    let mut sim = start();
    dial_and_close(&mut sim, "&D1");
    let mut ppp = reopen(&sim);
    sim.control("dtr drop");
    assert_eq!(ppp.expect("\r\nOK\r\n"), "\r\nOK\r\n");
    assert!(status(&mut sim).contains("call=ppp:cid1:command"));
    assert_eq!(ppp.command("ATH"), "\r\nOK\r\n");
    assert_command_mode(&mut sim, &mut ppp);

    // &D0: ignored.
    let mut sim = start();
    dial_and_close(&mut sim, "&D0");
    let mut ppp = reopen(&sim);
    sim.control("dtr drop");
    assert_data_mode(&mut sim, &mut ppp);
}

#[test]
fn the_escape_with_guard_time_then_ath_ends_it() {
    let mut sim = start();
    // S12=10: a 200 ms guard time.
    dial_and_close(&mut sim, "S12=10");
    let mut ppp = reopen(&sim);
    assert_data_mode(&mut sim, &mut ppp);

    // Without the guard time before it, +++ is data.
    ppp.write(b"x+++");
    assert_eq!(ppp.drain(QUIET), "");
    assert!(status(&mut sim).contains("call=ppp:cid1:data"));

    std::thread::sleep(Duration::from_millis(300));
    ppp.write(b"+++");
    assert_eq!(ppp.expect("\r\nOK\r\n"), "\r\nOK\r\n");
    assert!(status(&mut sim).contains("call=ppp:cid1:command"));
    assert_eq!(ppp.command("ATH"), "\r\nOK\r\n");
    assert_command_mode(&mut sim, &mut ppp);
}

#[test]
fn deactivating_the_context_on_the_at_port_ends_it() {
    let mut sim = start();
    dial_and_close(&mut sim, "");
    let mut ppp = reopen(&sim);
    assert_data_mode(&mut sim, &mut ppp);

    let mut at = sim.port("at");
    assert!(at.command("AT+CGACT?").contains("+CGACT: 1,1"));
    assert!(at.command("AT+CGACT=0,1").ends_with("OK\r\n"));
    assert_eq!(ppp.expect("\r\nNO CARRIER\r\n"), "\r\nNO CARRIER\r\n");
    assert!(at.command("AT+CGACT?").contains("+CGACT: 1,0"));
    assert_command_mode(&mut sim, &mut ppp);
}
