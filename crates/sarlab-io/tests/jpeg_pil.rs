//! sarlab decodes every MSTAR SOC JPEG chip to exactly the pixels PIL gives
//! (`np.asarray(Image.open(path))`, libjpeg-turbo): the committed fixture holds the
//! SHA-256 of PIL's pixel array for all 5171 chips (made by
//! `scripts/fixtures/jpeg_digests.py`). Skipped, with the reason printed, when
//! `../shared/datasets/mstar-soc` (or `$SARLAB_DATASETS/mstar-soc`) is absent.

use std::fs;
use std::path::PathBuf;

use sarlab_io::Pixels;
use sarlab_io::chip_file::{DecodeOptions, decode};
use sha2::{Digest, Sha256};

const FIXTURE: &str = include_str!("fixtures/mstar_soc_jpeg_digests.tsv");

fn mstar_soc() -> Option<PathBuf> {
    sarlab_testkit::shared_dataset("mstar-soc")
}

#[test]
fn every_mstar_soc_jpeg_decodes_to_pils_pixels() {
    let Some(root) = mstar_soc() else {
        return;
    };
    let mut checked = 0;
    let mut differing = Vec::new();
    for line in FIXTURE.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [rel, mode, rows, cols, digest] = fields[..] else {
            panic!("malformed fixture line `{line}`");
        };
        assert_eq!(mode, "L", "{rel}: the fixture holds grey chips only");
        let path = root.join(rel);
        let bytes = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let chip =
            decode(&bytes, &path, &DecodeOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        let Pixels::U8(pixels) = &chip.image else {
            panic!(
                "{rel}: decoded as {}, expected uint8",
                chip.image.sample_type()
            );
        };
        let shape = (rows.parse().expect("rows"), cols.parse().expect("cols"));
        assert_eq!(pixels.dim(), shape, "{rel}");
        let ours = hex(&Sha256::digest(
            pixels.as_standard_layout().as_slice().expect("C order"),
        ));
        if ours != digest {
            differing.push(rel.to_owned());
        }
        checked += 1;
    }
    assert_eq!(checked, 5171, "the fixture lists the whole SOC set");
    assert!(
        differing.is_empty(),
        "{} of {checked} chips decode differently from PIL, e.g. {:?}",
        differing.len(),
        &differing[..differing.len().min(5)]
    );
    println!("{checked} JPEG chips decoded bit-identically to PIL/libjpeg-turbo");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
