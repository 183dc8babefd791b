//! Runs the built `crossdock` as a user would.
#![allow(dead_code)]

use std::process::Command;

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
