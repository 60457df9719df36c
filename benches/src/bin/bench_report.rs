//! Benchmark report generator, run by `scripts/bench-all.sh`:
//!
//! - `bench_report machine OUT --date D --commit C --rustc R`: this machine (CPU, cores, kernel);
//! - `bench_report criterion CRITERION_DIR OUT`: the `exchanges` bench's medians;
//! - `bench_report datapath RESULTS_MD OUT`: the datapath benchmark's tables;
//! - `bench_report render RESULTS_DIR MARKDOWN SVG_DIR`: `docs/benchmarks.md` and its plots.

use std::path::Path;
use std::process::ExitCode;

use benches::report::{collect, render};

fn main() -> ExitCode {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| a.get(i).map(String::as_str).unwrap_or("");
    let opt = |name: &str| {
        a.iter()
            .position(|x| x == name)
            .and_then(|i| a.get(i + 1))
            .map_or("?", String::as_str)
    };
    let result = match arg(0) {
        "machine" => write_json(
            arg(1),
            &collect::machine(opt("--date"), opt("--commit"), opt("--rustc")),
        ),
        "criterion" => write_json(arg(2), &collect::criterion(Path::new(arg(1)))),
        "datapath" => write_json(arg(2), &collect::datapath(Path::new(arg(1)))),
        "render" => {
            let r = render::Results::load(Path::new(arg(1)));
            render::render(&r, Path::new(arg(3))).and_then(|md| std::fs::write(arg(2), md))
        }
        _ => {
            eprintln!("usage: bench_report machine|criterion|datapath|render ...");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_report {}: {e}", arg(0));
            ExitCode::FAILURE
        }
    }
}

fn write_json(path: &str, v: &serde_json::Value) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(v).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")
}
