//! A webhook's headers and body as anyone may send them to `POST /v1/hooks/{connector}`:
//! Shopify's and Standard Webhooks' checks read them without panicking, and never take a
//! delivery whose signature was not made with the secret.
#![no_main]

use crossdock_connectors::packs::HookPack;
use libfuzzer_sys::fuzz_target;

const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SHOPIFY: &str = "shpss_fuzz_secret";

fuzz_target!(|data: &[u8]| {
    // The first lines are the headers' values; what follows is the body.
    let mut parts = data.splitn(5, |b| *b == b'\n');
    let mut next = || String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let (signature, id, timestamp, topic) = (next(), next(), next(), next());
    let body = parts.next().unwrap_or_default();
    let headers: &[(&str, &str)] = &[
        ("x-shopify-hmac-sha256", &signature),
        ("x-shopify-topic", &topic),
        ("x-shopify-event-id", &id),
        ("webhook-id", &id),
        ("webhook-timestamp", &timestamp),
        ("webhook-signature", &signature),
    ];
    let now = 1_674_087_231;
    for (pack, secret) in [
        (HookPack::Shopify, SHOPIFY),
        (HookPack::StandardWebhooks, WHSEC),
    ] {
        if pack.verify(secret, headers, body, now).is_ok() {
            // Only a signature made with the secret passes: the fuzzer cannot forge one.
            panic!("{pack:?} took a delivery signed by nobody: {headers:?}");
        }
    }
});
