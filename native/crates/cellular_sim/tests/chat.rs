//! Debian's real `chat` (package ppp) dialling through the simulator.
//!
//! Skipped with a notice when chat is not installed, unless VNC_REQUIRE_CHAT
//! is set (CI sets it), in which case a missing chat fails the test.

#![forbid(unsafe_code)]

mod common;

use common::{chat_binary, Sim};
use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// chat exits with 4 + the index of the ABORT string that matched, so NO
/// CARRIER (first) gives 4, BUSY 5 and ERROR 6.
const SCRIPT: &str =
    "ABORT 'NO CARRIER'\nABORT 'BUSY'\nABORT 'ERROR'\n'' 'AT'\n'OK' 'ATD*99***1#'\n'CONNECT' ''\n";

fn chat_or_skip() -> Option<String> {
    match chat_binary() {
        Some(chat) => Some(chat),
        None if std::env::var_os("VNC_REQUIRE_CHAT").is_some() => {
            panic!("VNC_REQUIRE_CHAT is set but chat (Debian package ppp) is not installed")
        }
        None => {
            eprintln!("SKIP: chat is not installed (apt-get install ppp); set VNC_REQUIRE_CHAT=1 to make this fail");
            None
        }
    }
}

/// Runs chat on a pty with the dial script and returns its exit code and log.
fn run_chat(chat: &str, tty: &str, tag: &str) -> (Option<i32>, String) {
    let dir = std::env::temp_dir().join(format!("cellular_sim_chat_{}_{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let script = dir.join("dial.chat");
    std::fs::write(&script, SCRIPT).expect("write chat script");
    let open = || {
        OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open(tty)
            .expect("open pty for chat")
    };
    let (input, output) = (open(), open());
    let mut child = Command::new(chat)
        .args(["-v", "-s", "-t", "5", "-f"])
        .arg(&script)
        .stdin(Stdio::from(input))
        .stdout(Stdio::from(output))
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn chat");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut log = String::new();
    if let Some(mut err) = child.stderr.take() {
        use std::io::Read;
        let _ = err.read_to_string(&mut log);
    }
    let _ = std::fs::remove_dir_all(&dir);
    (status.and_then(|s| s.code()), log)
}

#[test]
fn chat_dials_to_connect() {
    let Some(chat) = chat_or_skip() else { return };
    for fragment in ["none", "every-byte"] {
        let mut sim = Sim::start(&[
            "--quiet",
            "--provisioned",
            "internet",
            "--register-after-ms",
            "0",
            "--fragment",
            fragment,
        ]);
        let ppp = sim.ppp.clone();
        let (code, log) = run_chat(&chat, &ppp, fragment);
        assert_eq!(code, Some(0), "chat failed ({fragment}):\n{log}");
        assert!(log.contains("CONNECT"), "{log}");
        sim.wait_event(|l| l == r#"{"event":"connected","port":"ppp"}"#);
    }
}

#[test]
fn chat_aborts_on_no_carrier() {
    let Some(chat) = chat_or_skip() else { return };
    // No SIM: the dial ends in NO CARRIER, an ABORT string: exit 4.
    let sim = Sim::start(&["--quiet", "--provisioned", "internet", "--sim", "absent"]);
    let (code, log) = run_chat(&chat, &sim.ppp, "nosim");
    assert_eq!(code, Some(4), "{log}");
    assert!(log.contains("NO CARRIER"), "{log}");
    drop(sim);
    // Registered, then the network goes away (`reg none`): exit 4 again.
    let mut sim = Sim::start(&[
        "--quiet",
        "--provisioned",
        "internet",
        "--register-after-ms",
        "0",
    ]);
    sim.control("reg none");
    let (code, log) = run_chat(&chat, &sim.ppp, "noreg");
    assert_eq!(code, Some(4), "{log}");
    drop(sim);
    // Context 1 deleted: ATD answers ERROR, the third ABORT string: exit 6.
    let sim = Sim::start(&["--quiet", "--register-after-ms", "0"]);
    let mut at = sim.port("at");
    assert!(at.command("AT+CGDCONT=1").ends_with("OK\r\n"));
    let (code, log) = run_chat(&chat, &sim.ppp, "nocid");
    assert_eq!(code, Some(6), "{log}");
}

#[test]
fn chat_times_out_on_a_mute_modem() {
    let Some(chat) = chat_or_skip() else { return };
    let mut sim = Sim::start(&["--quiet", "--provisioned", "internet"]);
    sim.control("mute on");
    let (code, log) = run_chat(&chat, &sim.ppp, "mute");
    assert_eq!(code, Some(3), "{log}");
}
