//! CRC32C (Castagnoli) of the short byte strings the journal checksums once per record:
//! a record's length, sequence number and payload ([`crate::format::record_crc`]) and a
//! snapshot chain's sequence number and payload ([`chain_append`]), streamed field by
//! field with the CPU's CRC32 instruction, no copy.
//!
//! Why not the `crc32c` crate here: it is built for long buffers, and on ~40-byte
//! records its per-call setup cost more than the bytes (callgrind on `flowmatch replay
//! --journal`: ~190 instructions per record CRC in one call over a stack copy; this
//! streams the same bytes in ~30). Same polynomial, same initial value and final xor, so
//! every value equals the crate's (test `matches_the_crate`). Without SSE4.2 it falls
//! back to the crate.

/// `crc32c_append(crc, seq_le ‖ payload)` (the `crc32c` crate's meaning of append).
#[inline]
pub fn chain_append(crc: u32, seq: u64, payload: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("sse4.2") {
            // SAFETY: the CPU has SSE4.2 (checked just above).
            return unsafe { hw::fields(crc, None, seq, payload) };
        }
    }
    let c = crc32c::crc32c_append(crc, &seq.to_le_bytes());
    crc32c::crc32c_append(c, payload)
}

/// `crc32c(len_le ‖ seq_le ‖ payload)`.
#[inline]
pub fn len_seq_payload(len: u32, seq: u64, payload: &[u8]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("sse4.2") {
            // SAFETY: the CPU has SSE4.2 (checked just above).
            return unsafe { hw::fields(0, Some(len), seq, payload) };
        }
    }
    let c = crc32c::crc32c(&len.to_le_bytes());
    let c = crc32c::crc32c_append(c, &seq.to_le_bytes());
    crc32c::crc32c_append(c, payload)
}

#[cfg(target_arch = "x86_64")]
mod hw {
    use std::arch::x86_64::{_mm_crc32_u32, _mm_crc32_u64, _mm_crc32_u8};

    /// Appends `len` (if any), `seq` and `payload`, little-endian, to `crc`.
    ///
    /// # Safety
    /// The CPU must support SSE4.2.
    #[target_feature(enable = "sse4.2")]
    pub unsafe fn fields(crc: u32, len: Option<u32>, seq: u64, payload: &[u8]) -> u32 {
        let mut s = !crc;
        if let Some(l) = len {
            s = _mm_crc32_u32(s, l);
        }
        let mut s = _mm_crc32_u64(s as u64, seq);
        let mut chunks = payload.chunks_exact(8);
        for c in &mut chunks {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            s = _mm_crc32_u64(s, u64::from_le_bytes(a));
        }
        let mut s = s as u32;
        for &b in chunks.remainder() {
            s = _mm_crc32_u8(s, b);
        }
        !s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the `crc32c` crate (itself pinned to the standard's check value in
    /// `format`'s tests) for every payload length from 0 to 200, several chain values.
    #[test]
    fn matches_the_crate() {
        let data: Vec<u8> = (0..200u32).map(|i| (i * 131 + 7) as u8).collect();
        for n in 0..=200 {
            let p = &data[..n];
            let seq = 0x0102_0304_0506_0708u64 ^ n as u64;
            let mut covered = (n as u32).to_le_bytes().to_vec();
            covered.extend_from_slice(&seq.to_le_bytes());
            covered.extend_from_slice(p);
            assert_eq!(
                len_seq_payload(n as u32, seq, p),
                crc32c::crc32c(&covered),
                "{n}"
            );
            for chain in [0u32, 1, 0xdead_beef, u32::MAX] {
                let mut b = seq.to_le_bytes().to_vec();
                b.extend_from_slice(p);
                assert_eq!(
                    chain_append(chain, seq, p),
                    crc32c::crc32c_append(chain, &b),
                    "{n} {chain}"
                );
            }
        }
    }
}
