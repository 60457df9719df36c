//! The `iked` binary: `--check`, SIGHUP reloads, SIGTERM stops cleanly.

mod common;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use common::{HYBRID, site, wait_for};
use iked::client::Client;
use iked::proto::{Command as Ctl, ConnView};

/// `iked.toml` with `body` right after the `[daemon]` section (the line numbers the
/// assertions name count from there).
fn write(path: &Path, socket: &Path, body: &str) {
    let daemon = interop::config::iked::Daemon {
        socket: socket.display().to_string(),
        listen: vec!["127.0.0.1".into()],
        ike_port: Some(0),
        natt_port: Some(0),
        ..Default::default()
    };
    std::fs::write(path, daemon.render() + body).expect("write");
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .expect("chmod");
}

fn signal(child: &Child, name: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill -{name} failed");
}

fn conns(socket: &Path) -> Option<Vec<String>> {
    let mut c = Client::connect(socket).ok()?;
    let v: Vec<ConnView> = c
        .call_as(Ctl::ListConns, Some(Duration::from_secs(5)))
        .ok()?;
    Some(v.into_iter().map(|c| c.name).collect())
}

/// `iked --check --config CONFIG`.
fn check(config: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iked"))
        .arg("--check")
        .arg("--config")
        .arg(config)
        .output()
        .expect("run")
}

#[test]
fn check_reports_errors_with_exit_status() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("iked.toml");
    write(
        &config,
        &dir.path().join("s"),
        &site("ok", "a", "b", Some(9), "none", HYBRID),
    );
    let o = check(&config);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        format!("{}: OK (1 connection)\n", config.display())
    );
    write(
        &config,
        &dir.path().join("s"),
        &site("ok", "a", "b", Some(9), "sometimes", HYBRID),
    );
    let o = check(&config);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        format!(
            "{}:11: connections.ok.start_action: unknown start action 'sometimes' (use none, start or trap)\n",
            config.display()
        )
    );
}

#[test]
fn sighup_reloads_and_sigterm_stops() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("iked.toml");
    let socket = dir.path().join("iked.sock");
    write(
        &config,
        &socket,
        &site("one", "a", "b", Some(9), "none", HYBRID),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_iked"))
        .arg("--config")
        .arg(&config)
        .arg("--log")
        .arg("warn")
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn iked");
    let started = wait_for(Duration::from_secs(10), || conns(&socket));
    if started.is_none() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("iked did not come up");
    }
    assert_eq!(started, Some(vec!["one".to_string()]));

    write(
        &config,
        &socket,
        &format!(
            "{}{}",
            site("one", "a", "b", Some(9), "none", HYBRID),
            site("two", "a", "c", Some(9), "none", HYBRID)
        ),
    );
    signal(&child, "HUP");
    let reloaded = wait_for(Duration::from_secs(10), || {
        conns(&socket).filter(|c| c.len() == 2)
    });
    assert_eq!(reloaded, Some(vec!["one".to_string(), "two".to_string()]));

    // A broken file is refused; the daemon keeps running with the previous configuration.
    write(&config, &socket, "this is not toml");
    signal(&child, "HUP");
    assert_eq!(
        wait_for(Duration::from_secs(2), || conns(&socket)
            .filter(|c| c.len() != 2)),
        None
    );

    signal(&child, "TERM");
    let status = wait_for(Duration::from_secs(10), || child.try_wait().expect("wait"));
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert!(
        status.is_some_and(|s| s.success()),
        "iked did not exit cleanly: {status:?}"
    );
    assert!(!socket.exists(), "socket removed on exit");
}

/// A panic in the engine task (injected with the debug-only `debug-panic` command) ends the
/// process with a non-zero status and says why, instead of leaving a daemon that answers
/// `ikectl` but handles no IKE.
#[test]
#[cfg(feature = "fault-injection")]
fn a_panicking_engine_task_ends_the_process_with_a_failure() {
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("iked.toml");
    let socket = dir.path().join("iked.sock");
    let log = dir.path().join("stderr");
    write(
        &config,
        &socket,
        &site("one", "a", "b", Some(9), "none", HYBRID),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_iked"))
        .arg("--config")
        .arg(&config)
        .arg("--log")
        .arg("error")
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("spawn iked");
    if wait_for(Duration::from_secs(10), || conns(&socket)).is_none() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("iked did not come up");
    }
    let answer = Client::connect(&socket)
        .expect("connect")
        .call(Ctl::DebugPanic, Some(Duration::from_secs(5)));
    assert!(answer.is_err(), "the engine task cannot answer: {answer:?}");
    let status = wait_for(Duration::from_secs(10), || child.try_wait().expect("wait"));
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    assert_eq!(status.and_then(|s| s.code()), Some(70), "exit status");
    let stderr = std::fs::read_to_string(&log).expect("log");
    assert!(
        stderr.contains("the engine task panicked: fault injected by the debug-panic control command: iked no longer works and exits"),
        "{stderr}"
    );
    assert!(!socket.exists(), "socket removed on exit");
}
