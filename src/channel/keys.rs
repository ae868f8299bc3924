//! Signing keys for TUF roles: the Ed25519 keys `mlgate sign` reads (files or `env:VAR`), handed to tough
//! through an in-memory [`KeySource`] (tough's own `LocalKeySource` reads only files).

use std::collections::BTreeMap;
use std::sync::Arc;

use tough::key_source::KeySource;
use tough::schema::decoded::{Decoded, Hex};
use tough::schema::{RoleType, Root};
use tough::sign::{parse_keypair, Sign};
use zeroize::Zeroizing;

use super::ChannelError;
use crate::sign::KeyPair;

/// A secret key held in memory as PKCS#8 DER; `origin` (a path or `$VAR`) names it in messages.
pub struct MemoryKeySource {
    der: Arc<Zeroizing<Vec<u8>>>,
    origin: String,
}

/// Shows where the key came from, never the key.
impl std::fmt::Debug for MemoryKeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryKeySource")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

#[tough::async_trait]
impl KeySource for MemoryKeySource {
    async fn as_sign(
        &self,
    ) -> Result<Box<dyn Sign>, Box<dyn std::error::Error + Send + Sync + 'static>> {
        Ok(Box::new(parse_keypair(&self.der)?))
    }

    async fn write(
        &self,
        _value: &str,
        _key_id_hex: &str,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync + 'static>> {
        Err(format!("{}: mlgate never writes keys back", self.origin).into())
    }
}

/// One loaded key: its TUF key (public half), its TUF key ID and its source for signing.
pub struct LoadedKey {
    pub origin: String,
    pub key_id: Decoded<Hex>,
    pub tuf_key: tough::schema::key::Key,
    der: Arc<Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for LoadedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.origin, id_hex(&self.key_id))
    }
}

impl LoadedKey {
    pub fn new(key: &KeyPair, origin: &str) -> Result<LoadedKey, ChannelError> {
        let der = key.to_pkcs8_der()?;
        let tuf_key = parse_keypair(&der)
            .map_err(|e| ChannelError::Keys {
                message: format!("{origin}: tough does not accept this key: {e}"),
                help: None,
            })?
            .tuf_key();
        let key_id = tuf_key.key_id().map_err(ChannelError::tuf)?;
        Ok(LoadedKey {
            origin: origin.to_string(),
            key_id,
            tuf_key,
            der: Arc::new(der),
        })
    }

    /// A key source over this key, for tough.
    pub fn source(&self) -> Box<dyn KeySource> {
        Box::new(MemoryKeySource {
            der: Arc::clone(&self.der),
            origin: self.origin.clone(),
        })
    }

    pub fn key_id_hex(&self) -> String {
        id_hex(&self.key_id)
    }
}

/// The keys given for each role at `channel init` (a key may serve several roles).
#[derive(Debug, Default)]
pub struct RoleKeys {
    pub by_role: BTreeMap<RoleName, Vec<LoadedKey>>,
}

/// The four top-level roles, in the order they are listed to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoleName {
    Root,
    Targets,
    Snapshot,
    Timestamp,
}

impl RoleName {
    pub const ALL: [RoleName; 4] = [
        RoleName::Root,
        RoleName::Targets,
        RoleName::Snapshot,
        RoleName::Timestamp,
    ];

    pub fn tuf(self) -> RoleType {
        match self {
            RoleName::Root => RoleType::Root,
            RoleName::Targets => RoleType::Targets,
            RoleName::Snapshot => RoleType::Snapshot,
            RoleName::Timestamp => RoleType::Timestamp,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RoleName::Root => "root",
            RoleName::Targets => "targets",
            RoleName::Snapshot => "snapshot",
            RoleName::Timestamp => "timestamp",
        }
    }
}

/// Checks, before tough signs anything, that `keys` reach each role's threshold in `root`, so that a wrong key
/// is a message naming the role and the key IDs it accepts rather than tough's generic refusal.
pub fn check_keys_for(
    root: &Root,
    roles: &[RoleName],
    keys: &[LoadedKey],
) -> Result<(), ChannelError> {
    for role in roles {
        let Some(rk) = root.roles.get(&role.tuf()) else {
            return Err(ChannelError::tuf(format!(
                "the root lists no {} role",
                role.as_str()
            )));
        };
        let have = keys
            .iter()
            .filter(|k| rk.keyids.contains(&k.key_id))
            .count() as u64;
        if have < rk.threshold.get() {
            let want: Vec<String> = rk.keyids.iter().map(id_hex).collect();
            let given: Vec<String> = keys
                .iter()
                .map(|k| format!("{} ({})", k.key_id_hex(), k.origin))
                .collect();
            return Err(ChannelError::Keys {
                message: format!(
                    "the {} role needs {} signature(s) by its keys {}; the keys given make {have}: {}",
                    role.as_str(),
                    rk.threshold,
                    want.join(", "),
                    if given.is_empty() {
                        "no key was given".to_string()
                    } else {
                        given.join(", ")
                    }
                ),
                help: Some(format!(
                    "pass the {} key with --key FILE or --key env:VAR (repeat --key for several roles)",
                    role.as_str()
                )),
            });
        }
    }
    Ok(())
}

/// The key sources tough signs with.
pub fn sources<'a>(keys: impl IntoIterator<Item = &'a LoadedKey>) -> Vec<Box<dyn KeySource>> {
    keys.into_iter().map(LoadedKey::source).collect()
}

/// A TUF key ID as lowercase hex.
pub fn id_hex(id: &Decoded<Hex>) -> String {
    crate::sign::hex(id.as_ref())
}
