//! Runs the built `crossdock` as a user would.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `crossdock ARGS`: whether it succeeded, its standard output and its standard error.
pub fn crossdock(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_crossdock"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `crossdock mapping test` of `connector`'s mapping for `operation` on the file `input`.
pub fn mapping_test(
    config: &str,
    connector: &str,
    operation: &str,
    input: &str,
) -> (bool, String, String) {
    crossdock(&[
        "mapping",
        "test",
        "--config",
        config,
        "--connector",
        connector,
        "--operation",
        operation,
        "--input",
        input,
    ])
}

/// A free local port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `crossdock serve` on `port`, its warnings in `log`.
pub fn serve(config: &std::path::Path, port: u16, log: &std::path::Path) -> Child {
    serve_logging(config, port, log, "warn")
}

/// `crossdock serve` on `port`, its log (at `level`) in `log`.
pub fn serve_logging(
    config: &std::path::Path,
    port: u16,
    log: &std::path::Path,
    level: &str,
) -> Child {
    let log = std::fs::File::create(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_crossdock"))
        .args(["serve", "--config"])
        .arg(config)
        .env("CROSSDOCK_LISTEN", format!("127.0.0.1:{port}"))
        .env("CROSSDOCK_LOG", level)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("the crossdock binary starts")
}

/// Waits until the hub at `base` is ready (panics after 30 s).
pub async fn wait_ready(http: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("crossdock did not become ready at {base}");
}
