//! A plotters drawing backend that writes PDF: vector shapes, and text set in the same
//! embedded DejaVu Sans as the SVG and PNG figures, as a Type 3 font of just the glyphs
//! a figure uses (outlines from the TrueType font), with a ToUnicode map so the text
//! can be searched and copied. Backend units are CSS pixels (1/96 in), as in the SVG,
//! so a figure has the same print size in both.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;

use ab_glyph::{Font as _, FontRef, OutlineCurve};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
    FontTransform,
};

/// PDF points per backend pixel (72 pt per inch, 96 px per inch).
const PT_PER_PX: f64 = 0.75;
/// plotters' font size over the CSS pixel size it stands for (the SVG backend writes
/// `font-size = size / 1.24`).
const SIZE_PER_PX: f64 = 1.24;
/// A Type 3 font has one byte per character code; code 0 is left unused.
const CODES_PER_FONT: usize = 255;

#[derive(Debug)]
pub(crate) struct PdfError(String);

impl std::fmt::Display for PdfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PdfError {}

type Drawn = Result<(), DrawingErrorKind<PdfError>>;

/// A page of `size` pixels that a [`PdfBackend`] draws on; [`PdfPage::finish`] gives
/// the file.
pub(crate) struct PdfPage {
    size: (u32, u32),
    font: FontRef<'static>,
    content: String,
    /// Characters in order of first use: the code of the `k`-th is `k % 255 + 1` in
    /// font `k / 255`.
    chars: Vec<char>,
    /// Fill/stroke opacities in use, each an ExtGState.
    alphas: Vec<u16>,
    /// The font's x-height over its em (the top of `x`), for the SVG backend's `ex`.
    x_height: f64,
}

/// plotters' handle on a [`PdfPage`] (the page outlives the drawing area, as
/// `SVGBackend::with_string`'s string does).
pub(crate) struct PdfBackend<'a> {
    page: &'a mut PdfPage,
}

impl<'a> PdfBackend<'a> {
    pub(crate) fn new(page: &'a mut PdfPage) -> Self {
        PdfBackend { page }
    }
}

impl PdfPage {
    pub(crate) fn new(size: (u32, u32)) -> Result<Self, PdfError> {
        let font = FontRef::try_from_slice(dejavu::sans::regular())
            .map_err(|e| PdfError(format!("the embedded DejaVu Sans font: {e}")))?;
        // Backend pixels, y down, as plotters draws: one transform from page space.
        let content = format!(
            "{PT_PER_PX} 0 0 -{PT_PER_PX} 0 {} cm\n1 J 1 j\n",
            fmt(size.1 as f64 * PT_PER_PX)
        );
        let em = font.units_per_em().unwrap_or(2048.0) as f64;
        let x_height = font
            .outline(font.glyph_id('x'))
            .map_or(0.5, |o| o.bounds.min.y as f64 / em);
        Ok(PdfPage {
            x_height,
            size,
            font,
            content,
            chars: Vec::new(),
            alphas: Vec::new(),
        })
    }

    fn code_of(&mut self, c: char) -> (usize, u8) {
        let k = match self.chars.iter().position(|&d| d == c) {
            Some(k) => k,
            None => {
                self.chars.push(c);
                self.chars.len() - 1
            }
        };
        (k / CODES_PER_FONT, (k % CODES_PER_FONT + 1) as u8)
    }

    /// Sets fill and stroke colour and opacity.
    fn colour(&mut self, color: BackendColor) {
        let (r, g, b) = color.rgb;
        let _ = writeln!(
            self.content,
            "{0} {1} {2} rg {0} {1} {2} RG",
            fmt(r as f64 / 255.0),
            fmt(g as f64 / 255.0),
            fmt(b as f64 / 255.0)
        );
        let alpha = (color.alpha.clamp(0.0, 1.0) * 1000.0).round() as u16;
        let index = match self.alphas.iter().position(|&a| a == alpha) {
            Some(i) => i,
            None => {
                self.alphas.push(alpha);
                self.alphas.len() - 1
            }
        };
        let _ = writeln!(self.content, "/GS{index} gs");
    }

    fn polyline(&mut self, points: &[BackendCoord], close: bool) {
        for (i, (x, y)) in points.iter().enumerate() {
            let op = if i == 0 { "m" } else { "l" };
            let _ = writeln!(self.content, "{x} {y} {op}");
        }
        if close {
            self.content.push_str("h\n");
        }
    }

    /// Advance width of `text` in pixels at `px` pixels per em.
    fn width(&self, text: &str, px: f64) -> f64 {
        let em = self.font.units_per_em().unwrap_or(2048.0) as f64;
        text.chars()
            .map(|c| self.font.h_advance_unscaled(self.font.glyph_id(c)) as f64)
            .sum::<f64>()
            * px
            / em
    }

    /// The finished PDF file.
    pub(crate) fn finish(self) -> Result<Vec<u8>, PdfError> {
        let mut pdf = PdfWriter::default();
        let em = self.font.units_per_em().unwrap_or(2048.0) as f64;
        let fonts: Vec<&[char]> = self.chars.chunks(CODES_PER_FONT).collect();
        // Objects: 1 catalog, 2 pages, 3 page, 4 contents, then per font: font,
        // ToUnicode, and one glyph procedure per character.
        let mut next = 5;
        let mut font_ids = Vec::new();
        let mut font_objects = Vec::new();
        for chars in &fonts {
            let font_id = next;
            let unicode_id = next + 1;
            let procs: Vec<usize> = (0..chars.len()).map(|i| next + 2 + i).collect();
            next += 2 + chars.len();
            font_ids.push(font_id);
            font_objects.push((font_id, unicode_id, procs, *chars));
        }
        let mut extgstates = String::new();
        for (i, a) in self.alphas.iter().enumerate() {
            let a = fmt(*a as f64 / 1000.0);
            let _ = write!(extgstates, "/GS{i} << /Type /ExtGState /ca {a} /CA {a} >> ");
        }
        let font_resources: String = font_ids
            .iter()
            .enumerate()
            .map(|(i, id)| format!("/F{i} {id} 0 R "))
            .collect();
        let (w, h) = (
            fmt(self.size.0 as f64 * PT_PER_PX),
            fmt(self.size.1 as f64 * PT_PER_PX),
        );
        pdf.object(1, b"<< /Type /Catalog /Pages 2 0 R >>");
        pdf.object(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
        pdf.object(
            3,
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w} {h}] /Contents 4 0 R \
                 /Resources << /Font << {font_resources}>> /ExtGState << {extgstates}>> >> >>"
            )
            .as_bytes(),
        );
        pdf.stream(4, "", self.content.as_bytes())?;
        for (font_id, unicode_id, procs, chars) in font_objects {
            let mut differences = String::from("1");
            let mut char_procs = String::new();
            let mut widths = String::new();
            let mut cmap = String::new();
            for (i, (&c, proc_id)) in chars.iter().zip(&procs).enumerate() {
                let glyph = self.font.glyph_id(c);
                let _ = write!(differences, " /g{}", i + 1);
                let _ = write!(char_procs, "/g{} {proc_id} 0 R ", i + 1);
                let advance = self.font.h_advance_unscaled(glyph) as f64;
                let _ = write!(widths, "{} ", fmt(advance));
                let utf16: String = c
                    .encode_utf16(&mut [0; 2])
                    .iter()
                    .map(|u| format!("{u:04X}"))
                    .collect();
                let _ = writeln!(cmap, "<{:02X}> <{utf16}>", i + 1);
                let mut proc = String::new();
                match self.font.outline(glyph) {
                    Some(outline) => {
                        let b = outline.bounds;
                        let _ = writeln!(
                            proc,
                            "{} 0 {} {} {} {} d1",
                            fmt(advance),
                            fmt(b.min.x as f64),
                            fmt(b.max.y as f64),
                            fmt(b.max.x as f64),
                            fmt(b.min.y as f64)
                        );
                        glyph_path(&mut proc, &outline.curves);
                        proc.push_str("f\n");
                    }
                    None => {
                        let _ = writeln!(proc, "{} 0 0 0 0 0 d1", fmt(advance));
                    }
                }
                pdf.stream(*proc_id, "", proc.as_bytes())?;
            }
            let unicode = format!(
                "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
                 /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
                 /CMapName /Adobe-Identity-UCS def /CMapType 2 def\n\
                 1 begincodespacerange <01> <FF> endcodespacerange\n\
                 {} beginbfchar\n{cmap}endbfchar\nendcmap CMapName currentdict /CMap defineresource pop end end\n",
                chars.len()
            );
            pdf.stream(unicode_id, "", unicode.as_bytes())?;
            let scale = fmt(1.0 / em);
            pdf.object(
                font_id,
                format!(
                    "<< /Type /Font /Subtype /Type3 /FontBBox [0 0 0 0] /FontMatrix [{scale} 0 0 {scale} 0 0] \
                     /CharProcs << {char_procs}>> /Encoding << /Type /Encoding /Differences [{differences}] >> \
                     /FirstChar 1 /LastChar {} /Widths [{widths}] /ToUnicode {unicode_id} 0 R /Resources << >> >>",
                    chars.len()
                )
                .as_bytes(),
            );
        }
        Ok(pdf.finish(next - 1))
    }
}

/// The outline as a path in glyph space (font units, y up); a new subpath wherever a
/// curve does not start where the last one ended.
fn glyph_path(out: &mut String, curves: &[OutlineCurve]) {
    let mut at: Option<ab_glyph::Point> = None;
    let start = |out: &mut String, at: &mut Option<ab_glyph::Point>, p: ab_glyph::Point| {
        if *at != Some(p) {
            if at.is_some() {
                out.push_str("h\n");
            }
            let _ = writeln!(out, "{} {} m", fmt(p.x as f64), fmt(p.y as f64));
        }
    };
    for curve in curves {
        match *curve {
            OutlineCurve::Line(p0, p1) => {
                start(out, &mut at, p0);
                let _ = writeln!(out, "{} {} l", fmt(p1.x as f64), fmt(p1.y as f64));
                at = Some(p1);
            }
            OutlineCurve::Quad(p0, c, p1) => {
                start(out, &mut at, p0);
                // The cubic with the same curve: controls 2/3 of the way to the quad's.
                let c1 = (
                    p0.x + 2.0 / 3.0 * (c.x - p0.x),
                    p0.y + 2.0 / 3.0 * (c.y - p0.y),
                );
                let c2 = (
                    p1.x + 2.0 / 3.0 * (c.x - p1.x),
                    p1.y + 2.0 / 3.0 * (c.y - p1.y),
                );
                let _ = writeln!(
                    out,
                    "{} {} {} {} {} {} c",
                    fmt(c1.0 as f64),
                    fmt(c1.1 as f64),
                    fmt(c2.0 as f64),
                    fmt(c2.1 as f64),
                    fmt(p1.x as f64),
                    fmt(p1.y as f64)
                );
                at = Some(p1);
            }
            OutlineCurve::Cubic(p0, c1, c2, p1) => {
                start(out, &mut at, p0);
                let _ = writeln!(
                    out,
                    "{} {} {} {} {} {} c",
                    fmt(c1.x as f64),
                    fmt(c1.y as f64),
                    fmt(c2.x as f64),
                    fmt(c2.y as f64),
                    fmt(p1.x as f64),
                    fmt(p1.y as f64)
                );
                at = Some(p1);
            }
        }
    }
    if at.is_some() {
        out.push_str("h\n");
    }
}

/// A number as PDF writes it: at most 4 decimals, no exponent.
fn fmt(v: f64) -> String {
    let text = format!("{v:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    match text {
        "-0" | "" => "0".to_owned(),
        t => t.to_owned(),
    }
}

/// Numbered objects and the cross-reference table that locates them.
#[derive(Default)]
struct PdfWriter {
    bytes: Vec<u8>,
    offsets: BTreeMap<usize, usize>,
}

impl PdfWriter {
    fn start(&mut self, id: usize) {
        if self.bytes.is_empty() {
            // A binary comment line marks the file as binary for transfer tools.
            self.bytes
                .extend_from_slice(b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n");
        }
        self.offsets.insert(id, self.bytes.len());
        self.bytes
            .extend_from_slice(format!("{id} 0 obj\n").as_bytes());
    }

    fn object(&mut self, id: usize, body: &[u8]) {
        self.start(id);
        self.bytes.extend_from_slice(body);
        self.bytes.extend_from_slice(b"\nendobj\n");
    }

    /// A Flate-compressed stream with `extra` dictionary entries.
    fn stream(&mut self, id: usize, extra: &str, data: &[u8]) -> Result<(), PdfError> {
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder
            .write_all(data)
            .and_then(|()| encoder.flush())
            .map_err(|e| PdfError(e.to_string()))?;
        let compressed = encoder.finish().map_err(|e| PdfError(e.to_string()))?;
        self.start(id);
        self.bytes.extend_from_slice(
            format!(
                "<< /Length {} /Filter /FlateDecode {extra}>>\nstream\n",
                compressed.len()
            )
            .as_bytes(),
        );
        self.bytes.extend_from_slice(&compressed);
        self.bytes.extend_from_slice(b"\nendstream\nendobj\n");
        Ok(())
    }

    fn finish(mut self, last: usize) -> Vec<u8> {
        let xref = self.bytes.len();
        let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", last + 1);
        for id in 1..=last {
            let offset = self.offsets.get(&id).copied().unwrap_or(0);
            let _ = writeln!(table, "{offset:010} 00000 n ");
        }
        let _ = write!(
            table,
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            last + 1
        );
        self.bytes.extend_from_slice(table.as_bytes());
        self.bytes
    }
}

impl DrawingBackend for PdfBackend<'_> {
    type ErrorType = PdfError;

    fn get_size(&self) -> (u32, u32) {
        self.page.size
    }

    fn ensure_prepared(&mut self) -> Drawn {
        Ok(())
    }

    fn present(&mut self) -> Drawn {
        Ok(())
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Drawn {
        if color.alpha == 0.0 {
            return Ok(());
        }
        self.page.colour(color);
        let _ = writeln!(self.page.content, "{} {} 1 1 re f", point.0, point.1);
        Ok(())
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Drawn {
        self.draw_path([from, to], style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Drawn {
        if style.color().alpha == 0.0 {
            return Ok(());
        }
        self.page.colour(style.color());
        let (x0, y0) = upper_left;
        let (x1, y1) = bottom_right;
        match fill {
            // plotters' rectangles include their last pixel.
            true => {
                let _ = writeln!(
                    self.page.content,
                    "{x0} {y0} {} {} re f",
                    x1 - x0 + 1,
                    y1 - y0 + 1
                );
            }
            false => {
                let _ = writeln!(
                    self.page.content,
                    "{} w {x0} {y0} {} {} re S",
                    style.stroke_width(),
                    x1 - x0,
                    y1 - y0
                );
            }
        }
        Ok(())
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Drawn {
        if style.color().alpha == 0.0 {
            return Ok(());
        }
        let points: Vec<BackendCoord> = path.into_iter().collect();
        if points.len() < 2 {
            return Ok(());
        }
        self.page.colour(style.color());
        let _ = writeln!(self.page.content, "{} w", style.stroke_width());
        self.page.polyline(&points, false);
        self.page.content.push_str("S\n");
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Drawn {
        if style.color().alpha == 0.0 {
            return Ok(());
        }
        self.page.colour(style.color());
        // Four cubic arcs; k makes each a quarter circle within 0.03 %.
        let (cx, cy, r) = (center.0 as f64, center.1 as f64, radius as f64);
        let k = 0.552_284_75 * r;
        let _ = writeln!(self.page.content, "{} {} m", fmt(cx + r), fmt(cy));
        for (x1, y1, x2, y2, x3, y3) in [
            (cx + r, cy + k, cx + k, cy + r, cx, cy + r),
            (cx - k, cy + r, cx - r, cy + k, cx - r, cy),
            (cx - r, cy - k, cx - k, cy - r, cx, cy - r),
            (cx + k, cy - r, cx + r, cy - k, cx + r, cy),
        ] {
            let _ = writeln!(
                self.page.content,
                "{} {} {} {} {} {} c",
                fmt(x1),
                fmt(y1),
                fmt(x2),
                fmt(y2),
                fmt(x3),
                fmt(y3)
            );
        }
        match fill {
            true => self.page.content.push_str("f\n"),
            false => {
                let _ = writeln!(self.page.content, "{} w S", style.stroke_width());
            }
        }
        Ok(())
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Drawn {
        if style.color().alpha == 0.0 {
            return Ok(());
        }
        let points: Vec<BackendCoord> = vert.into_iter().collect();
        if points.len() < 3 {
            return Ok(());
        }
        self.page.colour(style.color());
        self.page.polyline(&points, true);
        self.page.content.push_str("f\n");
        Ok(())
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Drawn {
        let color = style.color();
        if color.alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        // Anchored as the SVG backend anchors its <text>: by the advance width, and the
        // baseline 0.76 em below a top anchor, 0.5 ex below a centre, 0.5 ex above a
        // bottom.
        let px = style.size() / SIZE_PER_PX;
        let width = self.page.width(text, px);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0.76 * px,
            VPos::Center => 0.5 * self.page.x_height * px,
            VPos::Bottom => -0.5 * self.page.x_height * px,
        };
        // Glyph space is y up; the page's user space here is y down. Each rotation is
        // clockwise on the page, about the anchor, as SVG's rotate().
        let (a, b, c, d) = match style.transform() {
            FontTransform::None => (1.0, 0.0, 0.0, -1.0),
            FontTransform::Rotate90 => (0.0, 1.0, 1.0, 0.0),
            FontTransform::Rotate180 => (-1.0, 0.0, 0.0, 1.0),
            FontTransform::Rotate270 => (0.0, -1.0, -1.0, 0.0),
        };
        // The offset in the text's own direction, turned with it.
        let (ox, oy) = (a * dx + c * -dy, b * dx + d * -dy);
        let (x, y) = (pos.0 as f64 + ox, pos.1 as f64 + oy);
        let codes: Vec<(usize, u8)> = text.chars().map(|ch| self.page.code_of(ch)).collect();
        self.page.colour(color);
        let _ = writeln!(
            self.page.content,
            "BT {} {} {} {} {} {} Tm",
            fmt(a),
            fmt(b),
            fmt(c),
            fmt(d),
            fmt(x),
            fmt(y)
        );
        let mut current = None;
        for chunk in codes.chunk_by(|p, q| p.0 == q.0) {
            if current != Some(chunk[0].0) {
                let _ = write!(self.page.content, "/F{} {} Tf ", chunk[0].0, fmt(px));
                current = Some(chunk[0].0);
            }
            let hex: String = chunk
                .iter()
                .map(|(_, code)| format!("{code:02X}"))
                .collect();
            let _ = write!(self.page.content, "<{hex}> Tj ");
        }
        self.page.content.push_str("ET\n");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;
    use std::io::Read as _;

    /// Every object the cross-reference table names starts where it says.
    fn check_structure(pdf: &[u8]) {
        let marker = b"startxref\n";
        let at = pdf
            .windows(marker.len())
            .rposition(|w| w == marker)
            .expect("startxref");
        let tail = std::str::from_utf8(&pdf[at + marker.len()..]).expect("ascii tail");
        let startxref: usize = tail
            .lines()
            .next()
            .and_then(|l| l.parse().ok())
            .expect("offset");
        let table = std::str::from_utf8(&pdf[startxref..at]).expect("ascii table");
        assert!(table.starts_with("xref\n"), "xref at {startxref}");
        let mut objects = 0;
        for (id, line) in table
            .lines()
            .skip(3)
            .take_while(|l| l.ends_with(" n "))
            .enumerate()
        {
            let offset: usize = line[..10].parse().expect("offset");
            let expected = format!("{} 0 obj", id + 1);
            assert_eq!(&pdf[offset..offset + expected.len()], expected.as_bytes());
            objects += 1;
        }
        assert!(objects >= 6, "{objects} objects");
    }

    /// The decompressed content stream (object 4).
    fn content(pdf: &[u8]) -> String {
        let start = pdf
            .windows(8)
            .position(|w| w == b"4 0 obj\n")
            .expect("object 4");
        let data = pdf[start..]
            .windows(7)
            .position(|w| w == b"stream\n")
            .map(|p| start + p + 7)
            .expect("stream");
        let mut out = String::new();
        flate2::read::ZlibDecoder::new(&pdf[data..])
            .read_to_string(&mut out)
            .expect("inflate");
        out
    }

    #[test]
    fn a_chart_becomes_a_well_formed_pdf_with_its_text() {
        crate::chart::register_font().expect("font");
        let mut page = PdfPage::new((336, 240)).expect("page");
        {
            let root = PdfBackend::new(&mut page).into_drawing_area();
            root.fill(&WHITE).expect("fill");
            let mut chart = ChartBuilder::on(&root)
                .caption("γ sweep ±", ("sans-serif", 14))
                .x_label_area_size(24)
                .y_label_area_size(30)
                .build_cartesian_2d(0.0..1.0, 0.0..100.0)
                .expect("chart");
            chart.configure_mesh().y_desc("CV %").draw().expect("mesh");
            chart
                .draw_series([PathElement::new(vec![(0.0, 10.0), (1.0, 90.0)], RED)])
                .expect("line");
            chart
                .draw_series([Circle::new((0.5, 50.0), 3, BLUE.filled())])
                .expect("points");
        }
        let pdf = page.finish().expect("pdf");
        check_structure(&pdf);
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/MediaBox [0 0 252 180]"), "3.5 in wide");
        assert!(text.contains("/Subtype /Type3"));
        let content = content(&pdf);
        assert!(content.contains(" Tj "), "text is set");
        assert!(content.contains(" c\n"), "circles are curves");
        // The rotated axis title is turned a quarter.
        assert!(content.contains("BT 0 -1 -1 0 "), "{content}");
    }

    #[test]
    fn numbers_are_plain() {
        assert_eq!(fmt(0.75), "0.75");
        assert_eq!(fmt(-0.0), "0");
        assert_eq!(fmt(12.0), "12");
        assert_eq!(fmt(1.0 / 3.0), "0.3333");
    }
}
