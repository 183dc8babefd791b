//! `/metrics` read as a Prometheus server reads it: with a text parser.

use prometheus_parse::{Sample, Scrape, Value as Read};
use reqwest::StatusCode;

use super::App;

/// The metrics as parsed, and the raw answer's content type.
pub async fn scrape(app: &App) -> (Vec<Sample>, String) {
    let res = (app.http.get(format!("{}/metrics", app.base)).send().await).unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let kind = res.headers()["content-type"].to_str().unwrap().to_string();
    let text = res.text().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = Scrape::parse(lines).unwrap_or_else(|e| panic!("{e}: {text}"));
    (scrape.samples, kind)
}

/// The value of the sample named `metric` with every label of `labels`.
pub fn value(samples: &[Sample], metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let sample = samples.iter().find(|s| {
        s.metric == metric && (labels.iter()).all(|(k, v)| s.labels.get(k) == Some(*v))
    })?;
    match &sample.value {
        Read::Counter(v) | Read::Gauge(v) | Read::Untyped(v) => Some(*v),
        Read::Histogram(buckets) => buckets.last().map(|b| b.count),
        Read::Summary(_) => None,
    }
}
