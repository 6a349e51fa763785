//! Shared pieces of plumb's benchmarks: repeated trials, medians, and a report format a
//! person can compare across commits (one `name value unit` line per figure).
#![allow(clippy::print_stdout, reason = "benchmarks report on their terminal")]

use std::time::{Duration, Instant};

pub mod controller;
pub mod flux;
pub mod metrics;
pub mod watched;

/// Runs `trial` `trials` times and returns the median wall time.
pub fn median_time(trials: usize, mut trial: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..trials.max(1))
        .map(|_| {
            let started = Instant::now();
            trial();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// Prints one figure: `name value unit`, aligned.
pub fn report(name: &str, value: f64, unit: &str) {
    println!("{name:<40} {value:>14.3} {unit}");
}

/// Reads `--name value` from the command line, or `default`.
pub fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|at| args.get(at + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs a command to completion, panicking with its output when it fails.
pub fn run(command: &mut std::process::Command) {
    run_expecting(command, &[0]);
}

/// Runs a diff command: exit code 1 means differences, not failure.
pub fn run_diff(command: &mut std::process::Command) {
    run_expecting(command, &[0, 1]);
}

fn run_expecting(command: &mut std::process::Command, codes: &[i32]) {
    let output = command.output().expect("the command starts");
    assert!(
        output
            .status
            .code()
            .is_some_and(|code| codes.contains(&code)),
        "{command:?} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
