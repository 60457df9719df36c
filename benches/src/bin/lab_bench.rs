//! On-the-wire benchmarks in the interop lab (two network namespaces joined by a veth pair,
//! strongSwan 6 from `interop/setup.sh`), written as JSON for `bench_report`:
//!
//! - `lab_bench wire --runs N --out FILE`: phase timings of N initiations each for
//!   iked ↔ iked, strongSwan ↔ strongSwan, iked → strongSwan and strongSwan → iked;
//! - `lab_bench load --count N --duration SECS --concurrency C --out FILE`: `ike_load` against
//!   an iked responder, then against a charon responder, same proposals, same lab.
//!
//! Needs root and a built lab; otherwise it prints a `SKIPPED` banner and writes nothing.

use std::process::ExitCode;

use benches::lab::{LoadArgs, run_load, run_wire};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprintln!("usage: lab_bench wire|load [options] --out FILE");
        return ExitCode::from(2);
    };
    let Some(strongswan) = interop::lab_or_skip(&format!("lab_bench {cmd}")) else {
        return ExitCode::SUCCESS;
    };
    let opt = |name: &str| {
        rest.iter()
            .position(|a| a == name)
            .and_then(|i| rest.get(i + 1))
            .cloned()
    };
    let num = |name: &str, default: f64| opt(name).and_then(|v| v.parse().ok()).unwrap_or(default);
    let Some(out) = opt("--out") else {
        eprintln!("lab_bench: --out FILE is required");
        return ExitCode::from(2);
    };
    let json = match cmd.as_str() {
        "wire" => run_wire(&strongswan, num("--runs", 10.0) as usize),
        "load" => run_load(
            &strongswan,
            &LoadArgs {
                count: num("--count", 20_000.0) as usize,
                duration_s: num("--duration", 10.0),
                concurrency: num("--concurrency", 64.0) as usize,
                sources: num("--sources", 16.0) as usize,
                burst: num("--burst", 0.0) as usize,
            },
        ),
        other => {
            eprintln!("lab_bench: unknown command {other}");
            return ExitCode::from(2);
        }
    };
    match json {
        Ok(v) => {
            let text = serde_json::to_string_pretty(&v).expect("JSON");
            if let Err(e) = std::fs::write(&out, text + "\n") {
                eprintln!("lab_bench: writing {out}: {e}");
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("lab_bench {cmd}: {e}");
            ExitCode::FAILURE
        }
    }
}
