//! How one block of output is cut into writes.
//!
//! ```
//! use cellular_sim::control::FragmentMode;
//! use cellular_sim::fragment::plan;
//! use cellular_sim::rng::Rng;
//!
//! let mut rng = Rng::new(3);
//! assert_eq!(plan(FragmentMode::None, 10, &mut rng), vec![(10, 0)]);
//! assert_eq!(plan(FragmentMode::EveryByte, 3, &mut rng), vec![(1, 1), (1, 1), (1, 1)]);
//! let random = plan(FragmentMode::Random, 100, &mut rng);
//! assert_eq!(random.iter().map(|(n, _)| n).sum::<usize>(), 100);
//! ```

use crate::control::FragmentMode;
use crate::rng::Rng;

/// Largest chunk in random mode.
pub const MAX_RANDOM_CHUNK: u64 = 16;
/// Longest pause between random chunks, in milliseconds.
pub const MAX_RANDOM_PAUSE_MS: u64 = 2;

/// `(chunk length, pause in ms after it)` for a block of `len` bytes. The
/// lengths always add up to `len`; no chunk is empty.
pub fn plan(mode: FragmentMode, len: usize, rng: &mut Rng) -> Vec<(usize, u64)> {
    if len == 0 {
        return Vec::new();
    }
    match mode {
        FragmentMode::None => vec![(len, 0)],
        FragmentMode::EveryByte => vec![(1, 1); len],
        FragmentMode::Random => {
            let mut left = len;
            let mut out = Vec::new();
            while left > 0 {
                let n = (rng.range(1, MAX_RANDOM_CHUNK) as usize).min(left);
                left -= n;
                out.push((n, rng.range(0, MAX_RANDOM_PAUSE_MS)));
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_plans_cover_the_block_and_depend_only_on_the_seed() {
        for len in [1usize, 2, 15, 16, 17, 300] {
            let a = plan(FragmentMode::Random, len, &mut Rng::new(11));
            let b = plan(FragmentMode::Random, len, &mut Rng::new(11));
            assert_eq!(a, b);
            assert_eq!(a.iter().map(|(n, _)| n).sum::<usize>(), len);
            assert!(a.iter().all(|(n, p)| *n >= 1
                && *n as u64 <= MAX_RANDOM_CHUNK
                && *p <= MAX_RANDOM_PAUSE_MS));
        }
        let long = plan(FragmentMode::Random, 1000, &mut Rng::new(5));
        assert!(long.len() > 1000 / MAX_RANDOM_CHUNK as usize);
        assert!(plan(FragmentMode::Random, 0, &mut Rng::new(5)).is_empty());
    }
}
