//! Lab-driven benchmarks: phase timings on the wire ([`run_wire`]) and handshake rate
//! ([`run_load`]), with our daemon and strongSwan in the interop lab's namespaces.

mod config;
mod kme;
mod load;
mod wire;

pub use load::{LoadArgs, run_load};
pub use wire::run_wire;

/// The IKE proposal of every lab benchmark (the recommended hybrid).
pub const IKE: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";
/// ESP proposal of the first Child SA.
pub const ESP: &str = "aes256gcm16";
/// ESP proposal with PFS, for timed CREATE_CHILD_SA (+ IKE_FOLLOWUP_KE) rekeys.
pub const ESP_PFS: &str = "aes256gcm16-x25519-ke1_mlkem768";

/// A boxed error with a message, for the lab binaries.
pub type Result<T> = std::result::Result<T, String>;

/// The directory of the running program (where `ike_load` is built too).
pub(crate) fn sibling(name: &str) -> Result<std::path::PathBuf> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let p = exe.with_file_name(name);
    if p.exists() {
        Ok(p)
    } else {
        Err(format!(
            "{} not found (cargo build --release -p benches)",
            p.display()
        ))
    }
}
