//! Writing files so that nothing is ever left half-written: write a temporary file beside the target, then rename.

use std::io::Write;
use std::path::Path;

use crate::error::Error;

/// Writes `bytes` to `path` atomically (temporary file in the same folder, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    write_atomic_with(path, |out| out.write_all(bytes))
}

/// Writes what `fill` writes to `path` atomically, as [`write_atomic`], without holding it all in memory.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Error> {
    let err = |source| Error::Write {
        path: path.display().to_string(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, tmp);
    fill(&mut out).map_err(err)?;
    let tmp = out.into_inner().map_err(|e| err(e.into_error()))?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

/// Makes a file mlgate wrote readable by everyone (0644): temporary files are created owner-only, but keys' public
/// halves, signatures, bundles and generated workflows are meant to be read by other users and tools.
pub fn make_world_readable(path: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).map_err(
            |source| Error::Write {
                path: path.display().to_string(),
                source,
            },
        )?;
    }
    let _ = path;
    Ok(())
}
