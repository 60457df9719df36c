//! Configuration files of both daemons, generated in one place: our `iked.toml`
//! ([`iked::IkedToml`], and `pqlab iked-conf` for scripts) and strongSwan's `swanctl.conf`
//! ([`swanctl::SwanctlConf`]).

pub mod iked;
mod iked_cli;
pub mod n3iwf;
pub mod swanctl;

pub use iked_cli::{HELP as IKED_CONF_HELP, iked_conf_cli};
