//! Discovery scan time, Rust side (no NIF): prints figures only.
//!
//! ```text
//! cargo run --release -p cellular_core --example discovery_bench            # builds a 200-device tree
//! cargo run --release -p cellular_core --example discovery_bench -- <root>  # scans an existing tree
//! ```
//!
//! `bench/discovery_bench.exs` runs this on the same tree it scans through the NIF.

#![forbid(unsafe_code)]

#[path = "../tests/sysfs_fixture/mod.rs"]
mod sysfs_fixture;

use cellular_core::discovery;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use sysfs_fixture::{Device, Tree};

const RUNS: usize = 300;

/// 200 USB devices behind hubs on 4 buses: modems of several families and
/// USB-serial adapters, ttys numbered in order as the kernel would.
fn build_tree() -> Tree {
    let tree = Tree::new("bench");
    let mut tty = 0u32;
    let mut acm = 0u32;
    for bus in 1..=4u32 {
        tree.host(bus, "xhci-hcd");
        for hub in 1..=5u32 {
            tree.device(&Device::hub(&format!("{bus}-{hub}")));
            for port in 1..=10u32 {
                let path = format!("{bus}-{hub}.{port}");
                let n = (bus - 1) * 50 + (hub - 1) * 10 + port;
                let dev = match n % 5 {
                    0 => {
                        tty += 5;
                        Device::ec25(&path, tty - 5)
                    }
                    1 => {
                        tty += 6;
                        Device::sim7080(&path, 0x9206, tty - 6)
                    }
                    2 => {
                        acm += 3;
                        Device::lara_r2(&path, acm - 3)
                    }
                    3 => {
                        tty += 2;
                        Device::huawei_e3372(&path, tty - 2)
                    }
                    _ => {
                        tty += 1;
                        Device::ftdi(&path, &format!("ttyUSB{}", tty - 1))
                    }
                };
                tree.device(&dev);
            }
        }
    }
    tree
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

fn main() {
    let arg = std::env::args().nth(1);
    let fixture = if arg.is_none() {
        Some(build_tree())
    } else {
        None
    };
    let root: PathBuf = match (&arg, &fixture) {
        (Some(path), _) => PathBuf::from(path),
        (None, Some(tree)) => tree.root().to_path_buf(),
        (None, None) => return,
    };

    let count = discovery::scan_devices(&root, &[]).len();
    let structs = time(|| discovery::scan_devices(&root, &[]).len());

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "rust scan_devices: {count} devices, {RUNS} runs: median {:.3} ms, p99 {:.3} ms, min {:.3} ms (goal <= 5 ms)",
        ms(percentile(&structs, 0.5)),
        ms(percentile(&structs, 0.99)),
        ms(structs[0])
    );
}

/// Sorted durations of `RUNS` calls.
fn time(mut f: impl FnMut() -> usize) -> Vec<Duration> {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(f());
            start.elapsed()
        })
        .collect();
    times.sort();
    times
}
