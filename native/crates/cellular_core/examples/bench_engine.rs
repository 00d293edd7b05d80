//! Line-engine throughput on a realistic modem transcript.
//!
//! `cargo run --release -p cellular_core --example bench_engine`
//!
//! Prints MB/s for the transcript fed in tty-sized reads (64 bytes, as a USB
//! serial port often delivers), in one piece per command, and one byte at a
//! time (the worst case: a modem that trickles). Goal: ≥100 MB/s.

#![forbid(unsafe_code)]

use cellular_core::engine::{Config, Engine, Event};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// One EC25 session: boot URCs, identification, SIM, registration with
/// interleaved URCs, PDP contexts, operator list, signal.
const STEPS: &[(Option<&str>, &[u8])] = &[
    (
        None,
        b"\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\n+QUSIM: 1\r\n\r\n+QIND: SMS DONE\r\n",
    ),
    (Some("ATE1"), b"ATE1\r\r\nOK\r\n"),
    (Some("AT+CMEE=2"), b"AT+CMEE=2\r\r\nOK\r\n"),
    (
        Some("ATI"),
        b"ATI\r\r\nQuectel\r\nEC25\r\nRevision: EC25EFAR06A06M4G\r\n\r\nOK\r\n",
    ),
    (Some("AT+CGSN"), b"AT+CGSN\r\r\n867698041234567\r\n\r\nOK\r\n"),
    (Some("AT+CPIN?"), b"AT+CPIN?\r\r\n+CPIN: READY\r\n\r\nOK\r\n"),
    (
        Some("AT+QCCID"),
        b"AT+QCCID\r\r\n+QCCID: 89014103211118510720\r\n\r\n+QIND: PB DONE\r\n\r\nOK\r\n",
    ),
    (Some("AT+CIMI"), b"AT+CIMI\r\r\n310410123456789\r\n\r\nOK\r\n"),
    (
        Some("AT+CSQ"),
        b"AT+CSQ\r\r\n+CSQ: 17,99\r\n\r\n+CREG: 2,\"1A2B\",\"01C3D04\",7\r\n\r\nOK\r\n",
    ),
    (
        Some("AT+CREG?;+CGREG?;+CEREG?"),
        b"AT+CREG?;+CGREG?;+CEREG?\r\r\n+CREG: 2,1,\"1A2B\",\"01C3D04\",7\r\n+CGREG: 2,1,\"1A2B\",\"01C3D04\",7\r\n+CEREG: 2,1,\"1A2B\",\"01C3D04\",7\r\n\r\nOK\r\n",
    ),
    (
        Some("AT+CGDCONT?"),
        b"AT+CGDCONT?\r\r\n+CGDCONT: 1,\"IP\",\"broadband\",\"0.0.0.0\",0,0,0,0\r\n+CGDCONT: 2,\"IPV4V6\",\"ims\",\"0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0\",0,0,0,0\r\n\r\n+QIND: \"csq\",20,99\r\n\r\nOK\r\n",
    ),
    (
        Some("AT+QNWINFO"),
        b"AT+QNWINFO\r\r\n+QNWINFO: \"FDD LTE\",\"310410\",\"LTE BAND 2\",900\r\n\r\nOK\r\n",
    ),
    (
        Some("AT+COPS=?"),
        b"AT+COPS=?\r\r\n+COPS: (2,\"AT&T\",\"AT&T\",\"310410\",7),(1,\"T-Mobile\",\"T-Mobile\",\"310260\",7),(3,\"Verizon\",\"Verizon\",\"311480\",7),,(0,1,2,3,4),(0,1,2)\r\n\r\nOK\r\n",
    ),
    (Some("AT+CGATT=0"), b"AT+CGATT=0\r\r\n+CME ERROR: 30\r\n"),
];

/// Nanoseconds this thread has spent on a CPU (Linux `/proc/self/schedstat`),
/// so a busy machine does not count against the engine.
fn on_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// Returns (MB/s by wall clock, MB/s by on-CPU time if known, events).
fn run(
    transcript: &[(Option<&str>, &[u8])],
    chunk: usize,
    rounds: usize,
) -> (f64, Option<f64>, usize) {
    let bytes_per_round: usize = transcript.iter().map(|(_, b)| b.len()).sum();
    let mut engine = Engine::new(Config::default());
    let mut events: Vec<Event> = Vec::with_capacity(64);
    let mut count = 0;
    let cpu_start = on_cpu_ns();
    let start = Instant::now();
    for _ in 0..rounds {
        for (command, bytes) in transcript {
            if let Some(command) = command {
                engine.start_command(command);
            }
            for piece in bytes.chunks(chunk) {
                engine.feed(black_box(piece), &mut events);
            }
            count += events.len();
            events.clear();
        }
    }
    let elapsed = start.elapsed().max(Duration::from_nanos(1));
    let cpu = match (cpu_start, on_cpu_ns()) {
        (Some(a), Some(b)) if b > a => Some((b - a) as f64 / 1e9),
        _ => None,
    };
    let mb = (bytes_per_round * rounds) as f64 / 1e6;
    (mb / elapsed.as_secs_f64(), cpu.map(|s| mb / s), count)
}

fn main() {
    let bytes_per_round: usize = STEPS.iter().map(|(_, b)| b.len()).sum();
    println!(
        "line engine: EC25 transcript of {} commands, {bytes_per_round} bytes per round",
        STEPS.len()
    );
    println!("  best of 7 runs each (the machine may be shared)");
    run(STEPS, 64, 2_000); // warm-up
    for (label, chunk, rounds) in [
        ("64-byte reads", 64, 20_000),
        ("whole replies", usize::MAX, 20_000),
        ("1-byte reads", 1, 2_000),
    ] {
        let runs: Vec<_> = (0..7).map(|_| run(STEPS, chunk, rounds)).collect();
        let wall = runs.iter().map(|r| r.0).fold(0.0, f64::max);
        let cpu = runs
            .iter()
            .filter_map(|r| r.1)
            .fold(None, |best: Option<f64>, v| {
                Some(best.map_or(v, |b| b.max(v)))
            });
        let events = runs[0].2;
        let cpu_text = cpu.map_or(String::new(), |c| format!(", {c:>6.1} MB/s of on-CPU time"));
        println!(
            "  {label:<14} {wall:>6.1} MB/s wall{cpu_text}  ({events} events; goal >= 100 MB/s: ratio {:.2})",
            cpu.unwrap_or(wall) / 100.0
        );
    }
}
