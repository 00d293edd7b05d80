//! CMUX (3GPP TS 27.010 basic mode) codec throughput and overhead.
//!
//! `cargo run --release -p cellular_core --example bench_cmux`
//!
//! For UIH frames with 127-byte information fields (the usual N1) and
//! 1500-byte ones (a PPP MTU in one frame): encode and decode speed (reads
//! of 1, 64 and 4096 bytes) in MB/s of channel data, and as a multiple of
//! what a serial line carries at 115,200 and 921,600 baud (baud / 10 bytes
//! per second: 8N1); then the bytes the multiplexer adds per data byte.

#![forbid(unsafe_code)]

use cellular_core::cmux::{encode_parts, frame_len, Decoder, Event, Kind};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Channel data per run.
const DATA_PER_RUN: usize = 32 << 20;
const BAUDS: [u32; 2] = [115_200, 921_600];

/// Runs `f` and returns MB/s of `data_bytes` by wall clock (the best of
/// several runs is kept, so a busy shared machine counts less).
fn rate(data_bytes: usize, f: impl FnOnce()) -> f64 {
    let start = Instant::now();
    f();
    let secs = start.elapsed().max(Duration::from_nanos(1)).as_secs_f64();
    data_bytes as f64 / 1e6 / secs
}

/// `n` with thousands separators.
fn grouped(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn best(mut f: impl FnMut() -> f64) -> f64 {
    f(); // warm-up
    (0..7).map(|_| f()).fold(0.0, f64::max)
}

fn main() {
    println!(
        "CMUX basic-mode codec: UIH frames, best of 7 runs of {} MB of data each (wall clock)",
        DATA_PER_RUN >> 20
    );
    for payload in [127usize, 1500] {
        let info: Vec<u8> = (0..payload).map(|i| (i * 7) as u8).collect();
        let frames = DATA_PER_RUN / payload;
        let data = frames * payload;
        let mut wire = Vec::with_capacity(frames * frame_len(payload));

        let encode_rate = best(|| {
            wire.clear();
            rate(data, || {
                for i in 0..frames {
                    let dlci = 1 + (i % 3) as u8;
                    let ok = encode_parts(
                        dlci,
                        Kind::Uih,
                        false,
                        true,
                        black_box(&info),
                        payload,
                        &mut wire,
                    );
                    debug_assert!(ok.is_ok());
                }
            })
        });
        wire.clear();
        for i in 0..frames {
            let _ = encode_parts(
                1 + (i % 3) as u8,
                Kind::Uih,
                false,
                true,
                &info,
                payload,
                &mut wire,
            );
        }

        let mut decode_rates = Vec::new();
        for read in [1usize, 64, 4096] {
            let r = best(|| {
                let mut decoder = Decoder::new(payload);
                let mut events = Vec::with_capacity(64);
                let mut got = 0usize;
                let r = rate(data, || {
                    for piece in wire.chunks(read) {
                        decoder.feed(black_box(piece), &mut events);
                        for e in events.drain(..) {
                            if let Event::Frame(f) = e {
                                got += f.info.len();
                            }
                        }
                    }
                });
                assert_eq!(got, data, "every frame decodes");
                r
            });
            decode_rates.push((read, r));
        }

        println!(
            "  {payload}-byte payloads ({} wire bytes per frame):",
            frame_len(payload)
        );
        let line = |label: &str, mbs: f64| {
            let ratios: Vec<String> = BAUDS
                .iter()
                .map(|&baud| {
                    format!(
                        "{}x {baud} baud",
                        grouped(mbs * 1e6 / (f64::from(baud) / 10.0))
                    )
                })
                .collect();
            println!("    {label:<22} {mbs:>8.1} MB/s  ({})", ratios.join(", "));
        };
        line("encode", encode_rate);
        for (read, r) in decode_rates {
            line(&format!("decode, {read}-byte reads"), r);
        }
    }
    println!("  mux overhead (flags, address, control, length, FCS) per data byte,");
    println!("  and the channel data a 115,200-baud line (11,520 bytes/s) then carries:");
    for payload in [127usize, 1500] {
        let extra = frame_len(payload) - payload;
        println!(
            "    {payload:>4}-byte payloads: {extra} bytes per frame = {:.4} bytes per data byte ({:.4} when frames share flags); {:.0} data bytes/s",
            extra as f64 / payload as f64,
            (extra - 1) as f64 / payload as f64,
            11_520.0 * payload as f64 / frame_len(payload) as f64,
        );
    }
}
