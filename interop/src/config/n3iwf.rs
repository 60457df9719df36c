//! `[n3iwf]` of `iked.toml`: the daemon as a 5G N3IWF (its core settings, tracking areas, AMFs
//! and the NWu IKE settings), for the N3IWF sections, demo and benchmark.

use std::fmt::Write as _;

use super::iked::{lines, list};

/// `[n3iwf]` and its tables.
#[derive(Clone, Debug, Default)]
pub struct N3iwf {
    /// Serving PLMN, `MCC-MNC`.
    pub plmn: String,
    /// Global N3IWF ID.
    pub n3iwf_id: u32,
    /// RAN node name sent in NG Setup.
    pub name: Option<String>,
    /// NAS_IP4_ADDRESS given to UEs.
    pub nas_address: String,
    /// NAS_TCP_PORT (default 20000).
    pub nas_port: Option<u16>,
    /// Inner addresses of UEs (CIDR).
    pub ue_pool: String,
    /// UE contexts at most.
    pub max_ues: Option<u32>,
    /// Further `key = value` lines of `[n3iwf]`.
    pub extra: String,
    /// `[[n3iwf.tracking_areas]]`.
    pub tracking_areas: Vec<TrackingArea>,
    /// `[[n3iwf.amfs]]`.
    pub amfs: Vec<Amf>,
    /// `[n3iwf.ike]`.
    pub ike: NwuIke,
}

/// One tracking area with one broadcast PLMN and its slices (SST, or `SST-SD`).
#[derive(Clone, Debug, Default)]
pub struct TrackingArea {
    /// TAC, six hex digits.
    pub tac: String,
    /// Broadcast PLMN.
    pub plmn: String,
    /// S-NSSAIs.
    pub slices: Vec<String>,
}

/// One AMF.
#[derive(Clone, Debug, Default)]
pub struct Amf {
    /// Its name in listings and metrics.
    pub name: String,
    /// `address` (`ADDR` or `ADDR:PORT`).
    pub address: String,
    /// Further `key = value` lines (transport, lower layer, ports).
    pub extra: String,
}

/// `[n3iwf.ike]`: the N3IWF's certificate and the NWu proposals and PPK.
#[derive(Clone, Debug, Default)]
pub struct NwuIke {
    /// Certificate chain files.
    pub certs: Vec<String>,
    /// PKCS#8 key file.
    pub key: String,
    /// IDr (a subjectAltName of the certificate).
    pub id: Option<String>,
    /// IKE proposals (the hybrid default when empty).
    pub proposals: Vec<String>,
    /// ESP proposals of the signalling SA.
    pub esp_proposals: Vec<String>,
    /// ESP proposals of the user-plane Child SAs (AEADs by default).
    pub up_esp_proposals: Vec<String>,
    /// Further `key = value` lines (PPK source, hybrid policy, timers).
    pub extra: String,
}

impl N3iwf {
    /// `[n3iwf]` and its tables.
    pub fn render(&self) -> String {
        let mut s = format!(
            "\n[n3iwf]\nplmn = \"{}\"\nn3iwf_id = {}\nnas_address = \"{}\"\nue_pool = \"{}\"\n",
            self.plmn, self.n3iwf_id, self.nas_address, self.ue_pool
        );
        if let Some(n) = &self.name {
            let _ = writeln!(s, "name = \"{n}\"");
        }
        if let Some(p) = self.nas_port {
            let _ = writeln!(s, "nas_port = {p}");
        }
        if let Some(m) = self.max_ues {
            let _ = writeln!(s, "max_ues = {m}");
        }
        lines(&mut s, &self.extra);
        for ta in &self.tracking_areas {
            let _ = writeln!(
                s,
                "\n[[n3iwf.tracking_areas]]\ntac = \"{}\"\nplmns = [{{ plmn = \"{}\", slices = {} }}]",
                ta.tac,
                ta.plmn,
                list(&ta.slices)
            );
        }
        for amf in &self.amfs {
            let _ = writeln!(
                s,
                "\n[[n3iwf.amfs]]\nname = \"{}\"\naddress = \"{}\"",
                amf.name, amf.address
            );
            lines(&mut s, &amf.extra);
        }
        s.push_str(&self.ike.render());
        s
    }
}

impl NwuIke {
    fn render(&self) -> String {
        let mut s = format!(
            "\n[n3iwf.ike]\ncerts = {}\nkey = \"{}\"\n",
            list(&self.certs),
            self.key
        );
        if let Some(id) = &self.id {
            let _ = writeln!(s, "id = \"{id}\"");
        }
        if !self.proposals.is_empty() {
            let _ = writeln!(s, "proposals = {}", list(&self.proposals));
        }
        if !self.esp_proposals.is_empty() {
            let _ = writeln!(s, "esp_proposals = {}", list(&self.esp_proposals));
        }
        if !self.up_esp_proposals.is_empty() {
            let _ = writeln!(s, "up_esp_proposals = {}", list(&self.up_esp_proposals));
        }
        lines(&mut s, &self.extra);
        s
    }
}

/// Applies one `pqlab iked-conf` flag of the N3IWF (after `--n3iwf PLMN`).
pub(super) fn apply(n: &mut N3iwf, flag: &str, v: &str) -> Result<(), String> {
    let num = |v: &str| v.parse::<u32>().map_err(|e| e.to_string());
    match flag {
        "--n3iwf-id" => n.n3iwf_id = num(v)?,
        "--n3iwf-name" => n.name = Some(v.into()),
        "--nas-address" => n.nas_address = v.into(),
        "--nas-port" => n.nas_port = Some(u16::try_from(num(v)?).map_err(|e| e.to_string())?),
        "--ue-pool" => n.ue_pool = v.into(),
        "--max-ues" => n.max_ues = Some(num(v)?),
        "--n3iwf-line" => n.extra.push_str(&format!("{v}\n")),
        "--n3-address"
        | "--up-address"
        | "--gre-protocol-type"
        | "--mtu-policy"
        | "--gtpu-echo-interval" => {
            n.extra.push_str(&format!("{} = \"{v}\"\n", key(flag)));
        }
        "--max-pdu-sessions" | "--ue-mtu" => {
            n.extra.push_str(&format!("{} = {}\n", key(flag), num(v)?));
        }
        "--ta" => n.tracking_areas.push(tracking_area(v)?),
        "--amf" => n.amfs.push(amf(v)?),
        "--amf-line" => {
            let amf = n.amfs.last_mut().ok_or("comes after --amf")?;
            amf.extra.push_str(&format!("{v}\n"));
        }
        f if f.starts_with("--nwu-") => nwu(&mut n.ike, f, v)?,
        _ => return Err("unknown flag".into()),
    }
    Ok(())
}

/// The `[n3iwf]` key of a flag: `--n3-address` is `n3_address`.
fn key(flag: &str) -> String {
    flag.trim_start_matches("--").replace('-', "_")
}

/// `TAC/PLMN/SLICE[,SLICE...]`, e.g. `000001/208-93/1,1-000001`.
fn tracking_area(v: &str) -> Result<TrackingArea, String> {
    let mut parts = v.split('/');
    let (Some(tac), Some(plmn), Some(slices), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("expected TAC/PLMN/SLICE[,SLICE...]".into());
    };
    Ok(TrackingArea {
        tac: tac.into(),
        plmn: plmn.into(),
        slices: slices.split(',').map(str::to_owned).collect(),
    })
}

/// `NAME@ADDRESS`.
fn amf(v: &str) -> Result<Amf, String> {
    let (name, address) = v.split_once('@').ok_or("expected NAME@ADDRESS")?;
    Ok(Amf {
        name: name.into(),
        address: address.into(),
        extra: String::new(),
    })
}

fn nwu(ike: &mut NwuIke, flag: &str, v: &str) -> Result<(), String> {
    match flag {
        "--nwu-cert" => ike.certs.push(v.into()),
        "--nwu-key" => ike.key = v.into(),
        "--nwu-id" => ike.id = Some(v.into()),
        "--nwu-proposal" => ike.proposals.push(v.into()),
        "--nwu-esp" => ike.esp_proposals.push(v.into()),
        "--nwu-up-esp" => ike.up_esp_proposals.push(v.into()),
        "--nwu-line" => ike.extra.push_str(&format!("{v}\n")),
        _ => return Err("unknown flag".into()),
    }
    Ok(())
}
