//! Streaming digests: a file is read once, and every digest the caller needs is computed as it streams.
//!
//! `mlgate sign` needs two digests of each file (BLAKE2b-512 for minisign's prehashed signature, SHA-256 for the
//! trusted comment); reading a 1 GB model twice would double the I/O, so both hashers see each block in turn.

use std::io::Read;

use blake2b_simd::State as Blake2b512;
use sha2::{Digest, Sha256};

/// Large blocks keep the per-read overhead small next to hashing (SHA-256 with SHA-NI runs at ~2 GB/s).
const BLOCK: usize = 1 << 20;

/// SHA-256 of a stream.
pub fn sha256_reader(r: impl Read) -> std::io::Result<[u8; 32]> {
    let mut sha = Sha256::new();
    stream(r, &mut sha, None)?;
    Ok(sha.finalize().into())
}

/// SHA-256 and BLAKE2b-512 of a stream read once. The two hashes run on two threads (BLAKE2b-512 on a helper
/// that is handed each block), so signing costs the slower hash, not the sum of both.
pub fn sha256_and_blake2b512(mut r: impl Read) -> std::io::Result<([u8; 32], [u8; 64])> {
    use std::sync::mpsc::sync_channel;
    // Blocks go to the BLAKE2b thread and come back for reuse: IN_FLIGHT blocks bound the memory.
    const IN_FLIGHT: usize = 4;
    let stopped = || std::io::Error::other("the hashing thread stopped");
    let (to_blake, blocks) = sync_channel::<(Vec<u8>, usize)>(IN_FLIGHT);
    let (give_back, returned) = sync_channel::<Vec<u8>>(IN_FLIGHT);
    std::thread::scope(|scope| {
        let blake = scope.spawn(move || {
            let mut h = Blake2b512::new();
            for (block, n) in blocks {
                h.update(&block[..n]);
                // The reader may have stopped on an error: then nobody wants the block back.
                let _ = give_back.try_send(block);
            }
            *h.finalize().as_array()
        });
        let mut sha = Sha256::new();
        let mut spare: Vec<Vec<u8>> = (0..IN_FLIGHT).map(|_| vec![0u8; BLOCK]).collect();
        let result = loop {
            let mut block = match spare.pop() {
                Some(b) => b,
                // Every block is out: wait for the BLAKE2b thread to hand one back.
                None => match returned.recv() {
                    Ok(b) => b,
                    Err(_) => break Err(stopped()),
                },
            };
            let n = match r.read(&mut block) {
                Ok(0) => break Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                    spare.push(block);
                    continue;
                }
                Err(e) => break Err(e),
            };
            sha.update(&block[..n]);
            if to_blake.send((block, n)).is_err() {
                break Err(stopped());
            }
        };
        drop(to_blake);
        let blake = blake.join().map_err(|_| stopped())?;
        result.map(|()| (sha.finalize().into(), blake))
    })
}

/// BLAKE2b-512 of a stream (minisign's prehash).
pub fn blake2b512_reader(mut r: impl Read) -> std::io::Result<[u8; 64]> {
    let mut blake = Blake2b512::new();
    let mut buf = vec![0u8; BLOCK];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(*blake.finalize().as_array()),
            Ok(n) => {
                blake.update(&buf[..n]);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}

fn stream(
    mut r: impl Read,
    sha: &mut Sha256,
    mut blake: Option<&mut Blake2b512>,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; BLOCK];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        sha.update(&buf[..n]);
        if let Some(b) = blake.as_deref_mut() {
            b.update(&buf[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        // FIPS 180-2 "abc" and RFC 7693 Appendix A "abc".
        let (sha, blake) = sha256_and_blake2b512(&b"abc"[..]).unwrap();
        assert_eq!(
            crate::sign::hex(&sha),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            crate::sign::hex(&blake),
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1\
             7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923"
        );
        assert_eq!(sha256_reader(&b"abc"[..]).unwrap(), sha);
    }

    #[test]
    fn two_threads_agree_with_one_over_many_blocks() {
        // More blocks than are in flight, and a partial last block.
        let data: Vec<u8> = (0..(9 * BLOCK + 12345))
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        let (sha, blake) = sha256_and_blake2b512(&data[..]).unwrap();
        assert_eq!(sha, sha256_reader(&data[..]).unwrap());
        assert_eq!(blake, blake2b512_reader(&data[..]).unwrap());
    }

    #[test]
    fn a_read_error_is_returned() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk on fire"))
            }
        }
        let e = sha256_and_blake2b512(Failing).unwrap_err();
        assert_eq!(e.to_string(), "disk on fire");
    }
}
