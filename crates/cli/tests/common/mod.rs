//! Runs the built `crossdock` as a user would.

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
