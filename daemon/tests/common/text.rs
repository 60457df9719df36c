//! The configuration text the loader's tests parse.

#![allow(dead_code, unreachable_pub)]

/// Where the tests pretend the file is; errors name it.
pub const FILE: &str = "/etc/iked/iked.toml";

/// A valid two-peer connection; tests edit it with `replace`.
pub const BASE: &str = r#"[daemon]
listen = ["127.0.0.1"]

[connections.site-b]
remote_addrs = ["192.0.2.2"]
proposals = ["aes256gcm16-prfsha384-x25519-ke1_mlkem768"]
start_action = "start"

[connections.site-b.local]
auth = "psk"
id = "site-a.example"

[connections.site-b.remote]
auth = "psk"
id = "site-b.example"

[connections.site-b.children.net]
local_ts = ["10.1.0.0/16"]
remote_ts = ["10.2.0.0/16"]

[secrets.ike.ab]
ids = ["site-a.example", "site-b.example"]
secret = "0x000102030405060708090a0b0c0d0e0f"
"#;

/// [`BASE`] with `daemon_extra` lines in `[daemon]`, X25519 alone in the IKE proposal and no
/// start action: the file the `[daemon]` settings' tests vary.
pub fn with_daemon_settings(daemon_extra: &str) -> String {
    BASE.replacen(
        "listen = [\"127.0.0.1\"]\n",
        &format!("listen = [\"127.0.0.1\"]\n{daemon_extra}"),
        1,
    )
    .replacen("-ke1_mlkem768", "", 1)
    .replacen("start_action = \"start\"\n", "", 1)
}
