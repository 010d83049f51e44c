//! Figures of a run, drawn with `plotters` as SVG and PNG. The PNGs' text is rendered from
//! DejaVu Sans compiled into the binary (the `dejavu` crate), so nothing depends on the
//! machine's fonts; the SVGs name the family and leave the text to the viewer.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{anyhow, Result};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// Register the embedded fonts with plotters (once).
fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are DejaVu's own TTFs: parsing them cannot fail.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
        let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

/// A figure: draws itself on any plotters backend.
pub trait Figure {
    /// Draw on `root` (already filled white).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<()>;
}

/// Draw `fig` into `<dir>/<name>.svg` and `<dir>/<name>.png` at `size` pixels. Returns both
/// paths.
pub fn write(dir: &Path, name: &str, size: (u32, u32), fig: &impl Figure) -> Result<[PathBuf; 2]> {
    fonts();
    let svg = dir.join(format!("{name}.svg"));
    let png = dir.join(format!("{name}.png"));
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        fig.draw(&root)?;
        root.present().map_err(err)?;
    }
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        fig.draw(&root)?;
        root.present().map_err(err)?;
    }
    Ok([svg, png])
}

pub(crate) fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing: {e:?}")
}

/// A named series of points in one colour.
pub type Series<P> = (String, RGBColor, Vec<P>);

/// A scatter chart (a raster): `points` as dots, `bands` shaded.
pub struct Scatter<'a> {
    /// Caption.
    pub title: &'a str,
    /// The x axis's name.
    pub x_label: &'a str,
    /// The y axis's name.
    pub y_label: &'a str,
    /// The x axis's range.
    pub x: Range<f64>,
    /// The y axis's range.
    pub y: Range<f64>,
    /// Points (a raster's spikes; a chart's marked measurements).
    pub points: &'a [(f64, f64)],
    /// x ranges shaded over the whole height.
    pub bands: &'a [Range<f64>],
    /// The points' colour.
    pub color: RGBColor,
}

/// Curves (`lines`) and marked points (`points`), each with a legend entry.
pub struct Lines<'a> {
    /// Caption.
    pub title: &'a str,
    /// The x axis's name.
    pub x_label: &'a str,
    /// The y axis's name.
    pub y_label: &'a str,
    /// The x axis's range.
    pub x: Range<f64>,
    /// The y axis's range.
    pub y: Range<f64>,
    /// Curves.
    pub lines: Vec<Series<(f64, f64)>>,
    /// Points (a raster's spikes; a chart's marked measurements).
    pub points: Vec<Series<(f64, f64)>>,
}

/// A `rows` x `cols` grid of cells coloured by `value(row, col)` over `range` (viridis).
pub struct Image<'a> {
    /// Caption.
    pub title: &'a str,
    /// Rows of cells.
    pub rows: usize,
    /// Columns of cells.
    pub cols: usize,
    /// The value of a cell, `None` for none.
    pub value: &'a dyn Fn(usize, usize) -> Option<f64>,
    /// Values mapped onto the colour scale, from dark to yellow.
    pub range: Range<f64>,
}

/// Bars: `(left edge, width, height)` in data units, one colour per series.
pub struct Bars<'a> {
    /// Caption.
    pub title: &'a str,
    /// The x axis's name.
    pub x_label: &'a str,
    /// The y axis's name.
    pub y_label: &'a str,
    /// The x axis's range.
    pub x: Range<f64>,
    /// The y axis's range.
    pub y: Range<f64>,
    /// Bars `(left edge, width, height)` of each series.
    pub series: Vec<Series<(f64, f64, f64)>>,
}

fn chart<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    x: Range<f64>,
    y: Range<f64>,
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>> {
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 16))
        .margin(8)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(x, y)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(("sans-serif", 12))
        .axis_desc_style(("sans-serif", 13))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// A raster: points as dots over shaded bands.
pub fn scatter<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &Scatter) -> Result<()> {
    let mut chart = chart(area, s.title, s.x_label, s.y_label, s.x.clone(), s.y.clone())?;
    let band = RGBColor(255, 170, 60).mix(0.3).filled();
    chart
        .draw_series(
            s.bands.iter().map(|b| Rectangle::new([(b.start, s.y.start), (b.end, s.y.end)], band)),
        )
        .map_err(err)?;
    let c = s.color.filled();
    chart.draw_series(s.points.iter().map(|&(x, y)| Circle::new((x, y), 1, c))).map_err(err)?;
    Ok(())
}

/// Curves and marked points with a legend.
pub fn lines<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &Lines) -> Result<()> {
    let mut chart = chart(area, s.title, s.x_label, s.y_label, s.x.clone(), s.y.clone())?;
    for (name, color, pts) in &s.lines {
        let c = *color;
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
            .map_err(err)?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
    }
    for (name, color, pts) in &s.points {
        let c = *color;
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))
            .map_err(err)?
            .label(name.as_str())
            .legend(move |(x, y)| Circle::new((x + 9, y), 3, c.filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 12))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(err)?;
    Ok(())
}

/// A grid of coloured cells (viridis over `range`), row 0 at the top.
pub fn image<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &Image) -> Result<()> {
    let mut chart = ChartBuilder::on(area)
        .caption(s.title, ("sans-serif", 11))
        .margin(2)
        .build_cartesian_2d(0.0..s.cols as f64, 0.0..s.rows as f64)
        .map_err(err)?;
    let span = (s.range.end - s.range.start).max(f64::MIN_POSITIVE);
    let mut cells = Vec::with_capacity(s.rows * s.cols);
    for r in 0..s.rows {
        for c in 0..s.cols {
            if let Some(v) = (s.value)(r, c) {
                let col = viridis((v - s.range.start) / span);
                let y = (s.rows - 1 - r) as f64;
                cells
                    .push(Rectangle::new([(c as f64, y), (c as f64 + 1.0, y + 1.0)], col.filled()));
            }
        }
    }
    chart.draw_series(cells).map_err(err)?;
    Ok(())
}

/// Cells `(x0, x1, y0, y1, value)` in data units on axes, coloured viridis over `range`.
pub struct Heat<'a> {
    /// Caption.
    pub title: &'a str,
    /// The x axis's name.
    pub x_label: &'a str,
    /// The y axis's name.
    pub y_label: &'a str,
    /// The x axis's range.
    pub x: Range<f64>,
    /// The y axis's range.
    pub y: Range<f64>,
    /// The cells.
    pub cells: Vec<(f64, f64, f64, f64, f64)>,
    /// Values mapped onto the colour scale, from dark to yellow.
    pub range: Range<f64>,
}

/// A heat map on axes.
pub fn heat<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &Heat) -> Result<()> {
    let mut chart = chart(area, s.title, s.x_label, s.y_label, s.x.clone(), s.y.clone())?;
    let span = (s.range.end - s.range.start).max(f64::MIN_POSITIVE);
    chart
        .draw_series(s.cells.iter().map(|&(x0, x1, y0, y1, v)| {
            Rectangle::new([(x0, y0), (x1, y1)], viridis((v - s.range.start) / span).filled())
        }))
        .map_err(err)?;
    Ok(())
}

/// Histogram bars, one colour per series, with a legend.
pub fn bars<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &Bars) -> Result<()> {
    let mut chart = chart(area, s.title, s.x_label, s.y_label, s.x.clone(), s.y.clone())?;
    for (name, color, bars) in &s.series {
        let c = color.mix(0.55).filled();
        let legend = *color;
        chart
            .draw_series(bars.iter().map(|&(x, w, h)| Rectangle::new([(x, 0.0), (x + w, h)], c)))
            .map_err(err)?
            .label(name.as_str())
            .legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 14, y + 5)], legend.mix(0.55).filled())
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 12))
        .draw()
        .map_err(err)?;
    Ok(())
}

/// The viridis colour of `t` in 0..1.
pub fn viridis(t: f64) -> RGBColor {
    ViridisRGB::get_color(t.clamp(0.0, 1.0))
}
