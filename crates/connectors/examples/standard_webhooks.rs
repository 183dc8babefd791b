//! Signs or verifies Standard Webhooks deliveries read from standard input, one JSON object
//! a line (`{"secret", "id", "timestamp", "body"}`, plus `"signature"` to verify), writing
//! one answer a line: the `webhook-signature` value, or `ok` / the refusal. `scripts/webhook-check`
//! runs it against the reference `standardwebhooks` package from PyPI, both ways.

use std::io::{BufRead, Write};

use crossdock_connectors::signatures::{StandardHeaders, sign_standard, verify_standard};
use serde_json::Value;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let (stdin, stdout) = (std::io::stdin(), std::io::stdout());
    let mut out = stdout.lock();
    for line in stdin.lock().lines() {
        let line = line.expect("stdin");
        let case: Value = serde_json::from_str(&line).expect("a JSON case");
        let text = |k: &str| case[k].as_str().unwrap_or_default().to_string();
        let timestamp = case["timestamp"].as_i64().unwrap_or_default();
        let (secret, id, body) = (text("secret"), text("id"), text("body"));
        let answer = match mode.as_str() {
            "sign" => sign_standard(&secret, &id, timestamp, body.as_bytes())
                .unwrap_or_else(|e| format!("error: {e}")),
            "verify" => {
                let (at, signature) = (timestamp.to_string(), text("signature"));
                let headers = StandardHeaders {
                    id: Some(&id),
                    timestamp: Some(&at),
                    signature: Some(&signature),
                };
                match verify_standard(&secret, headers, body.as_bytes(), timestamp) {
                    Ok(()) => "ok".to_string(),
                    Err(e) => format!("refused: {e}"),
                }
            }
            other => panic!("mode `{other}`: use sign or verify"),
        };
        writeln!(out, "{answer}").expect("stdout");
    }
}
