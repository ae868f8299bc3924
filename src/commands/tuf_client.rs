//! `mlgate tuf-client` (hidden): the TUF conformance suite's client under test. Its protocol wants exit 0 when the
//! step succeeded and 1 when any part failed, so every error is printed and exits 1.

use std::io::Write;

use crate::cli::{TufClientAction, TufClientArgs};
use crate::device::tuf_client::{self, Remote};
use crate::device::DeviceError;
use crate::error::Result;
use crate::exit::Exit;

pub fn run(a: TufClientArgs) -> Result<Exit> {
    match step(a) {
        Ok(()) => Ok(Exit::Pass),
        Err(e) => {
            let _ = writeln!(anstream::stderr(), "{:?}", miette::Report::new(e));
            Ok(Exit::GateFailed)
        }
    }
}

fn step(a: TufClientArgs) -> Result<(), DeviceError> {
    if let TufClientAction::Init { trusted_root } = &a.action {
        return tuf_client::init(&a.metadata_dir, trusted_root);
    }
    let remote = Remote {
        metadata_dir: a.metadata_dir,
        metadata_url: url_arg("--metadata-url", a.metadata_url.as_deref())?,
    };
    match a.action {
        TufClientAction::Init { .. } | TufClientAction::Refresh => tuf_client::refresh(&remote),
        TufClientAction::Download => {
            let targets = url_arg("--target-base-url", a.target_base_url.as_deref())?;
            let dir = a
                .target_dir
                .ok_or_else(|| DeviceError::Usage("download needs --target-dir DIR".into()))?;
            if a.target_names.is_empty() {
                return Err(DeviceError::Usage(
                    "download needs at least one --target-name PATH".into(),
                ));
            }
            tuf_client::download(&remote, &targets, &a.target_names, &dir)
        }
    }
}

fn url_arg(flag: &str, value: Option<&str>) -> Result<url::Url, DeviceError> {
    let v = value.ok_or_else(|| DeviceError::Usage(format!("this step needs {flag} URL")))?;
    url::Url::parse(v).map_err(|e| DeviceError::Usage(format!("{flag} {v:?}: not a URL: {e}")))
}
