//! Fuzzing of the parsers that read untrusted bytes: the Phoenix header (and whole
//! Phoenix files), the ENVI header and `.npy` files. Each property feeds arbitrary
//! bytes, and mutations (byte flips, truncations, splices) of valid files, and checks
//! that the parser returns — `Ok` or a named error — and never panics. The number of
//! executions is printed (`cargo test -p sarlab-io --test fuzz_headers -- --nocapture`);
//! `SARLAB_FUZZ_CASES` raises it from the default.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::Array2;
use proptest::prelude::*;
use sarlab_io::envi::EnviHeader;
use sarlab_io::phoenix::{self, PhoenixHeader, PhoenixSamples};
use sarlab_io::{DecodeOptions, chip_file, npy};

fn cases() -> u32 {
    std::env::var("SARLAB_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000)
}

fn valid_phoenix() -> Vec<u8> {
    let magnitude = Array2::from_shape_fn((4, 5), |(r, c)| (r * 5 + c) as f32);
    let phase = Array2::from_elem((4, 5), 1.0f32);
    let fields: Vec<(String, String)> = [
        ("TargetType", "t72_tank"),
        ("TargetSerNum", "132"),
        ("TargetAz", "10.5"),
        ("DesiredDepression", "17"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec();
    phoenix::encode(
        &fields,
        PhoenixSamples::Chip {
            magnitude: &magnitude,
            phase: &phase,
        },
    )
    .expect("valid chip encodes")
}

const VALID_ENVI: &str = "ENVI\ndescription = {\n  test raster }\nsamples = 7\nlines = 5\nbands = 3\nheader offset = 0\nfile type = ENVI Standard\ndata type = 4\ninterleave = bil\nbyte order = 1\nband names = { HH,\n HV, VV }\n";

/// A mutation of `base`: flip, overwrite, delete or insert bytes, or truncate.
fn mutated(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = base.len();
    prop::collection::vec((0..len.max(1), any::<u8>(), 0u8..5), 1..8).prop_map(move |edits| {
        let mut bytes = base.clone();
        for (at, byte, kind) in edits {
            if bytes.is_empty() {
                break;
            }
            let at = at % bytes.len();
            match kind {
                0 => bytes[at] ^= byte | 1,
                1 => bytes[at] = byte,
                2 => {
                    bytes.remove(at);
                }
                3 => bytes.insert(at, byte),
                _ => bytes.truncate(at),
            }
        }
        bytes
    })
}

/// Replaces one digit run of a valid file with an arbitrary number (header lengths,
/// sizes and counts are the interesting fields).
fn renumbered(base: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    (any::<prop::sample::Index>(), any::<u64>()).prop_map(move |(which, n)| {
        let text = base.clone();
        let runs: Vec<(usize, usize)> = {
            let mut runs = Vec::new();
            let mut i = 0;
            while i < text.len() {
                if text[i].is_ascii_digit() {
                    let start = i;
                    while i < text.len() && text[i].is_ascii_digit() {
                        i += 1;
                    }
                    runs.push((start, i));
                } else {
                    i += 1;
                }
            }
            runs
        };
        let (start, end) = runs[which.index(runs.len())];
        let mut out = text[..start].to_vec();
        out.extend_from_slice(n.to_string().as_bytes());
        out.extend_from_slice(&text[end..]);
        out
    })
}

static PHOENIX_RUNS: AtomicU64 = AtomicU64::new(0);
static ENVI_RUNS: AtomicU64 = AtomicU64::new(0);
static NPY_RUNS: AtomicU64 = AtomicU64::new(0);

fn phoenix_case(bytes: &[u8]) {
    PHOENIX_RUNS.fetch_add(1, Ordering::Relaxed);
    let path = Path::new("fuzz.phx");
    let _ = PhoenixHeader::parse(bytes, path);
    let _ = phoenix::decode(bytes, path, true);
    let _ = chip_file::decode(
        bytes,
        path,
        &DecodeOptions {
            band: None,
            verify_md5: true,
        },
    );
}

fn envi_case(text: &str) {
    ENVI_RUNS.fetch_add(1, Ordering::Relaxed);
    if let Ok(header) = EnviHeader::parse(text, Path::new("fuzz.hdr")) {
        // Whatever parses must describe a raster whose offsets are computable.
        let _ = header.data_length();
        let _ = header.to_text();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn phoenix_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..3000)) {
        phoenix_case(&bytes);
        let mut with_magic = b"[PhoenixHeaderVer01.04]\n".to_vec();
        with_magic.extend_from_slice(&bytes);
        phoenix_case(&with_magic);
    }

    #[test]
    fn phoenix_mutated_files(bytes in mutated(valid_phoenix())) {
        phoenix_case(&bytes);
    }

    #[test]
    fn phoenix_renumbered_fields(bytes in renumbered(valid_phoenix())) {
        phoenix_case(&bytes);
    }

    #[test]
    fn envi_arbitrary_text(text in "\\PC{0,400}") {
        envi_case(&text);
        envi_case(&format!("ENVI\n{text}"));
    }

    #[test]
    fn envi_mutated_headers(bytes in mutated(VALID_ENVI.as_bytes().to_vec())) {
        envi_case(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn envi_renumbered_fields(bytes in renumbered(VALID_ENVI.as_bytes().to_vec())) {
        envi_case(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn npy_mutated_files(bytes in mutated(npy::encode_f32(&Array2::from_elem((3, 4), 0.5f32)))) {
        NPY_RUNS.fetch_add(1, Ordering::Relaxed);
        let _ = npy::decode(&bytes, Path::new("fuzz.npy"));
        let _ = npy::decode_matrix(&bytes, Path::new("fuzz.npy"));
        let _ = npy::decode_labels(&bytes, Path::new("fuzz.npy"));
    }

    #[test]
    fn npy_mutated_feature_files(bytes in mutated(npy::encode_f64(&[3, 2], &[0.5; 6]))) {
        let _ = npy::decode_matrix(&bytes, Path::new("fuzz.npy"));
        let _ = npy::decode_labels(&bytes, Path::new("fuzz.npy"));
    }

    #[test]
    fn npy_mutated_label_files(bytes in mutated(npy::encode_i64(&[0, 1, 2, 1]))) {
        let _ = npy::decode_matrix(&bytes, Path::new("fuzz.npy"));
        let _ = npy::decode_labels(&bytes, Path::new("fuzz.npy"));
    }
}

/// Runs after (or alongside) the properties in this binary and reports the counts;
/// the counts only ever grow, so this reports what has run so far.
#[test]
fn zz_report_executions() {
    // Give the property tests (run on other threads) a chance to finish first.
    std::thread::sleep(std::time::Duration::from_millis(10));
    println!(
        "fuzz executions so far: phoenix {}, envi {}, npy {} (no panic: a panic fails its property)",
        PHOENIX_RUNS.load(Ordering::Relaxed),
        ENVI_RUNS.load(Ordering::Relaxed),
        NPY_RUNS.load(Ordering::Relaxed)
    );
}
