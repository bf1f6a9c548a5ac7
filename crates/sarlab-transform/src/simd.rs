//! Keeping scalar code fast after wide vector kernels.
//!
//! faer's and pulp's AVX/AVX-512 kernels can return with the upper halves of the vector
//! registers still marked in use. Until a `VZEROUPPER`, every legacy-SSE instruction
//! the compiler emits for ordinary `f64` code (and glibc's `exp`) then pays a
//! state-transition penalty: measured on the 2-core x86-64 build machine, 7.5 M `exp`
//! calls took 1.4–2.0 s after one faer GEMM instead of 40–70 ms. Call
//! [`clear_upper_vector_state`] on the thread that ran such a kernel, right after it.

/// Issues `VZEROUPPER` when the CPU has AVX; a no-op elsewhere.
#[allow(unsafe_code)]
#[inline]
pub fn clear_upper_vector_state() {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx") {
            // SAFETY: AVX is present (checked just above). VZEROUPPER only zeroes the
            // upper halves of YMM0–15, and the intrinsic tells the compiler so: no Rust
            // value lives there across this call.
            unsafe { std::arch::x86_64::_mm256_zeroupper() }
        }
    }
}
