//! `mlgate report REPORT.json --html -o FILE`: one self-contained file (no URL, no script, inline SVG), and what a
//! real browser shows of it: Debian's headless Chromium takes a screenshot, which must show the verdict banner's
//! red and the drift chart's blue bars. Chromium is required under MLGATE_REQUIRE_INTEROP=1 (.ci/run installs it);
//! elsewhere its absence skips that test with a note.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{mlgate, text};

/// A failing report with a drift check (two columns) and a metric check against a baseline.
const REPORT: &str = "tests/fixtures/reports/drift-and-metrics.json";

fn render(dir: &Path) -> PathBuf {
    let out = dir.join("report.html");
    let o = mlgate()
        .args(["report", REPORT, "--html", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    out
}

#[test]
fn the_html_is_one_file_with_nothing_to_fetch() {
    let dir = tempfile::tempdir().unwrap();
    let html = std::fs::read_to_string(render(dir.path())).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    // No URL of any kind: no stylesheet, font, image or script is fetched, and the SVG needs no namespace.
    assert!(!html.contains("http"), "a URL in the HTML");
    assert!(!html.contains("<script"));
    assert!(!html.contains("src="));
    assert!(html.contains("<h1>mlgate: fail</h1>"));
    // Two drift charts and the metric chart.
    assert_eq!(
        html.matches("<svg width=\"360\"").count(),
        2,
        "drift charts"
    );
    assert!(html.contains("aria-label=\"metrics against the baseline\""));
}

fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if found.is_none() {
        let required = std::env::var("MLGATE_REQUIRE_INTEROP").is_ok_and(|v| v == "1")
            || std::env::var("CI").is_ok_and(|v| v == "true");
        assert!(
            !required,
            "Debian's chromium is required in CI (.ci/run installs it)"
        );
        eprintln!("note: no chromium on PATH: skipping the browser test of the HTML report");
    }
    found
}

/// Headless Chromium with the flags this machine needs (no background networking: the network is closed) and a
/// fresh profile.
fn headless(chromium: &Path, profile: &Path) -> Command {
    let mut c = Command::new(chromium);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--window-size=1200,900",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// Pixels of the screenshot within 24 of `rgb` in every channel.
fn pixels_like(png_path: &Path, rgb: [u8; 3], rows: std::ops::Range<u32>) -> usize {
    let file = std::io::BufReader::new(std::fs::File::open(png_path).unwrap());
    let mut decoder = png::Decoder::new(file);
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert!(channels >= 3, "a colour screenshot");
    let mut n = 0;
    for y in rows.start..rows.end.min(info.height) {
        let line = &buf[y as usize * info.line_size..][..info.line_size];
        for px in line.chunks_exact(channels) {
            if (0..3).all(|i| px[i].abs_diff(rgb[i]) <= 24) {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn chromium_shows_the_verdict_and_a_chart() {
    let Some(chromium) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let html = render(dir.path());
    let url = format!("file://{}", html.display());

    let dom = headless(&chromium, &dir.path().join("profile-dom"))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("mlgate: fail"), "{dom}");
    assert!(dom.contains("<svg"), "{dom}");

    let shot = dir.path().join("shot.png");
    let o = headless(&chromium, &dir.path().join("profile-shot"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(shot.exists(), "no screenshot: {}", text(&o));
    // The fail banner (#cf222e) fills the top of the page; the drift chart's current bars are #0969da.
    let red = pixels_like(&shot, [0xcf, 0x22, 0x2e], 0..100);
    assert!(red > 1200 * 50, "the verdict banner: {red} red pixels");
    let blue = pixels_like(&shot, [0x09, 0x69, 0xda], 300..700);
    assert!(blue > 2000, "the drift chart: {blue} blue pixels");
}
