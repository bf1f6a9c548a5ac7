//! sarlab from Python: the extension module `sarlab._sarlab` behind the `sarlab` package
//! (python/). Each function takes and returns numpy arrays, borrows its inputs without
//! copying where their layout allows, releases the GIL while it computes, and raises
//! sarlab's own messages as Python exceptions (`sarlab.SarlabError`, a `ValueError`;
//! `OSError` for files). The numbers are the CLI's: the same functions, the same bits.
//!
//! The Python package adds what belongs in Python: scikit-learn's estimator protocol
//! (`sarlab.SVC`), scikit-image's argument conventions, label encoding and DataFrames.

use pyo3::prelude::*;

// The allocator of the `sarlab` binary (see docs/decisions.md): the kernels allocate and
// free large blocks, which glibc's malloc returns to the OS and faults in again. It
// serves only this library's Rust allocations (arrays handed to numpy are freed by it).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod error;
mod features;
mod filter;
mod io;
mod study;
mod svm;
mod transform;

#[pymodule]
fn _sarlab(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("SarlabError", m.py().get_type::<error::SarlabError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(io::read_chip, m)?)?;
    m.add_function(wrap_pyfunction!(features::hog, m)?)?;
    m.add_function(wrap_pyfunction!(io::load_dataset, m)?)?;
    m.add_function(wrap_pyfunction!(features::hog_batch, m)?)?;
    m.add_function(wrap_pyfunction!(features::gabor_kernel, m)?)?;
    m.add_function(wrap_pyfunction!(features::gabor, m)?)?;
    m.add_function(wrap_pyfunction!(features::gabor_bank, m)?)?;
    m.add_function(wrap_pyfunction!(features::spectral, m)?)?;
    m.add_function(wrap_pyfunction!(transform::pca_fit, m)?)?;
    m.add_function(wrap_pyfunction!(transform::pca_transform, m)?)?;
    m.add_function(wrap_pyfunction!(filter::fft2, m)?)?;
    m.add_function(wrap_pyfunction!(filter::fft2_complex, m)?)?;
    m.add_function(wrap_pyfunction!(filter::ifft2, m)?)?;
    m.add_function(wrap_pyfunction!(filter::fftshift_real, m)?)?;
    m.add_function(wrap_pyfunction!(filter::fftshift_complex, m)?)?;
    m.add_function(wrap_pyfunction!(filter::frequency_mask, m)?)?;
    m.add_function(wrap_pyfunction!(filter::apply_filter, m)?)?;
    m.add_function(wrap_pyfunction!(svm::svc_fit, m)?)?;
    m.add_function(wrap_pyfunction!(svm::grid_search, m)?)?;
    m.add_function(wrap_pyfunction!(svm::stratified_folds, m)?)?;
    m.add_class::<svm::NativeSvc>()?;
    m.add_function(wrap_pyfunction!(study::run_study, m)?)?;
    m.add_function(wrap_pyfunction!(study::runs_table, m)?)?;
    m.add_function(wrap_pyfunction!(study::load_model, m)?)?;
    m.add_class::<study::NativeModel>()?;
    Ok(())
}
