//! Running the `ikectl` binary as a user does.

#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::process::{Command, Output};

/// `ikectl --socket SOCKET ARGS…`, ignoring any `IKED_SOCKET` of the environment.
pub fn ikectl(socket: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ikectl"))
        .arg("--socket")
        .arg(socket)
        .args(args)
        .env_remove("IKED_SOCKET")
        .output()
        .expect("run ikectl")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
