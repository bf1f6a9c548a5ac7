//! The transforms learned on training features before the SVM: the standard scaler
//! (scikit-learn's `StandardScaler`) and PCA (scikit-learn's `PCA`, exact or
//! randomized), over [`Rows`] (a subset of a matrix's rows, so cross-validation folds
//! are never copied), with streaming [`moments::Moments`] that combine fold by fold.
//!
//! Compute only: in-memory arrays in, arrays out; results do not depend on the number
//! of threads.
//!
//! ```
//! use ndarray::array;
//! use sarlab_transform::{Rows, StandardScaler};
//!
//! let x = array![[1.0, 10.0], [3.0, 30.0]];
//! let scaler = StandardScaler::fit_rows(Rows::all(x.view())).unwrap();
//! let z = scaler.transform(x.view()).unwrap();
//! assert_eq!(z, array![[-1.0, -1.0], [1.0, 1.0]]);
//! ```

mod centred;
mod error;
pub mod gemm;
pub mod moments;
pub mod pca;
mod rows;
mod scale;
pub mod simd;

pub use error::{Error, Result};
pub use rows::Rows;
pub use scale::StandardScaler;
