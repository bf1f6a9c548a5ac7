//! Integration tests of the `sarlab` command line: whole studies in temporary folders.

mod bad_input;
mod dataset;
mod exact;
mod features;
mod filter;
mod hardening;
mod models;
mod report;
mod safety;
mod study;
mod support;
mod svm;
mod tracking;
