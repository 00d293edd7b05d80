//! The `stall` control: the modem's output is held while stalled and goes
//! out in one piece, in order, when the stall ends (a USB link that stops
//! and then catches up).

#![forbid(unsafe_code)]

mod common;

use common::{Port, Sim};
use std::time::Duration;

#[test]
fn stalled_replies_arrive_all_at_once_in_order() {
    let mut sim = Sim::start(&["--quiet"]);
    let mut at = sim.port("at");
    assert_eq!(at.command("ATE0"), "ATE0\r\r\nOK\r\n");

    sim.control("stall on");
    at.write(b"AT+CMEE=2\rAT+CGMI\rAT\r");
    // Nothing while stalled: no echo, no result.
    assert_eq!(at.drain(Duration::from_millis(500)), "");

    sim.control("stall off");
    let burst = at.drain(Duration::from_millis(500));
    assert_eq!(burst.matches("OK").count(), 3, "{burst:?}");
    assert!(burst.contains("Quectel"), "{burst:?}");
    // The CMEE answer comes first, the bare AT's last.
    assert!(burst.ends_with("\r\nOK\r\n\r\nOK\r\n"), "{burst:?}");

    // And the modem answers normally again.
    assert_eq!(at.command("AT"), "\r\nOK\r\n");
}

#[test]
fn an_unplug_drops_what_was_held() {
    let mut sim = Sim::start(&["--quiet"]);
    let mut at = sim.port("at");
    assert_eq!(at.command("ATE0"), "ATE0\r\r\nOK\r\n");
    sim.control("stall on");
    at.write(b"AT\r");
    sim.control("replug");
    // control() waits for the acknowledgement, so the event is already seen.
    let replugged = match sim.seen.iter().find(|l| l.contains("\"replugged\"")) {
        Some(line) => line.clone(),
        None => sim.wait_event(|l| l.contains("\"replugged\"")),
    };
    let path = common::json_field(&replugged, "at").expect("the new at port");
    let mut at = Port::open(&path);
    sim.control("stall off");
    // The new port does not get the old port's answer.
    let after = at.drain(Duration::from_millis(400));
    assert!(!after.contains("OK"), "{after:?}");
    assert!(at.command("AT").ends_with("OK\r\n"));
}
