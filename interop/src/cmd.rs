//! Running external commands with a bounded wait.

use std::fmt;
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// An error from the lab: a command that failed or timed out, or a condition never reached.
#[derive(Debug)]
pub struct Error {
    message: String,
}

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    pub(crate) fn io(what: impl fmt::Display, err: std::io::Error) -> Self {
        Self::new(format!("{what}: {err}"))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// The lab's result type.
pub type Result<T> = std::result::Result<T, Error>;

/// How often bounded waits poll their condition.
pub(crate) const POLL: Duration = Duration::from_millis(5);

/// Polls `check` until it returns `Some` or `timeout` passes.
pub fn wait_until<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(POLL);
    }
}

pub(crate) fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn reader<R: Read + Send + 'static>(pipe: Option<R>) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    })
}

/// Stops a child we started, by its PID: SIGTERM through the shell's builtin kill (so no procps
/// is needed in a root filesystem), then a bounded wait that ends in SIGKILL.
pub(crate) fn terminate(child: &mut Child, pid: u32, timeout: Duration) {
    if let Ok(None) = child.try_wait() {
        let _ = run(
            Command::new("sh").args(["-c", "kill -TERM \"$0\"", &pid.to_string()]),
            timeout,
        );
        wait_child(child, timeout);
    }
}

/// Waits for `child` at most `timeout`; kills it (it is ours) when the time is up.
pub(crate) fn wait_child(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let status = wait_until(timeout, || child.try_wait().ok().flatten());
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    status
}

/// Runs `cmd` with stdin closed, collecting its output; fails if it runs longer than `timeout`.
pub fn run(cmd: &mut Command, timeout: Duration) -> Result<Output> {
    run_with_input(cmd, None, timeout)
}

/// Like [`run`], feeding `input` to the command's stdin.
pub fn run_with_input(
    cmd: &mut Command,
    input: Option<Vec<u8>>,
    timeout: Duration,
) -> Result<Output> {
    let what = describe(cmd);
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| Error::io(format_args!("spawning `{what}`"), e))?;
    let writer = match (input, child.stdin.take()) {
        (Some(data), Some(mut stdin)) => Some(thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(&data);
        })),
        _ => None,
    };
    let out = reader(child.stdout.take());
    let err = reader(child.stderr.take());
    let status = wait_child(&mut child, timeout);
    if let Some(w) = writer {
        let _ = w.join();
    }
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    match status {
        Some(status) => Ok(Output {
            status,
            stdout,
            stderr,
        }),
        None => Err(Error::new(format!(
            "`{what}` did not finish within {timeout:?}; stdout: {} stderr: {}",
            String::from_utf8_lossy(&stdout).trim(),
            String::from_utf8_lossy(&stderr).trim()
        ))),
    }
}

/// Like [`run`], but a non-zero exit status is an error that carries the command's output.
pub fn run_ok(cmd: &mut Command, timeout: Duration) -> Result<Output> {
    let what = describe(cmd);
    let out = run(cmd, timeout)?;
    check_status(&what, out)
}

pub(crate) fn check_status(what: &str, out: Output) -> Result<Output> {
    if out.status.success() {
        Ok(out)
    } else {
        Err(Error::new(format!(
            "`{what}` failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}
