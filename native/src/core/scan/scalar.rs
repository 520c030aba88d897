//! The portable path: one table lookup per byte, eight bytes per loop turn so the
//! compiler keeps the table in cache lines and the branch predictor sees a long run.

use super::DelimSet;

pub fn find(set: &DelimSet, hay: &[u8]) -> Option<usize> {
    let table = set.member_table();
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let hit = table[chunk[0] as usize]
            | table[chunk[1] as usize]
            | table[chunk[2] as usize]
            | table[chunk[3] as usize]
            | table[chunk[4] as usize]
            | table[chunk[5] as usize]
            | table[chunk[6] as usize]
            | table[chunk[7] as usize];
        if hit {
            return chunk
                .iter()
                .position(|&b| table[b as usize])
                .map(|i| base + i);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| table[b as usize])
        .map(|i| base + i)
}
