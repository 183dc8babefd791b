//! Webhook signatures, checked in constant time on the raw body: Shopify's (base64
//! HMAC-SHA256 of the body in `X-Shopify-Hmac-Sha256`) and Standard Webhooks' (`webhook-id`,
//! `webhook-timestamp` within five minutes, `webhook-signature` a list of `v1,<base64>`,
//! HMAC-SHA256 of `id.timestamp.body` under a `whsec_` secret), which crossdock also signs
//! its own deliveries with.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;

/// How far a Standard Webhooks timestamp may be from now, either way, in seconds.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// Why a webhook's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A header the scheme needs is missing.
    #[error("the {0} header is missing")]
    Missing(&'static str),
    /// A header does not read.
    #[error("the {0} header is malformed")]
    Malformed(&'static str),
    /// The timestamp is too far from now (a replay, or a clock far off).
    #[error("webhook-timestamp is {0} s from now, more than the {TOLERANCE_SECS} s allowed")]
    Stale(i64),
    /// No signature matches the body.
    #[error("the signature does not match the body")]
    Mismatch,
    /// The configured secret does not read (a `whsec_` secret is base64).
    #[error("the webhook secret is not a whsec_ secret (base64 after the prefix)")]
    BadSecret,
}

/// Checks Shopify's `X-Shopify-Hmac-Sha256` (`header`) for `body` under the app's `secret`.
pub fn verify_shopify(
    secret: &[u8],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing("X-Shopify-Hmac-Sha256"))?;
    let tag = STANDARD
        .decode(header.trim())
        .map_err(|_| SignatureError::Malformed("X-Shopify-Hmac-Sha256"))?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::verify(&key, body, &tag).map_err(|_| SignatureError::Mismatch)
}

/// The `X-Shopify-Hmac-Sha256` value Shopify sends with `body` under the app's `secret`
/// (for the simulated storefront and tests).
pub fn sign_shopify(secret: &[u8], body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    STANDARD.encode(hmac::sign(&key, body).as_ref())
}

/// The key of a `whsec_…` secret (the prefix is optional, as the reference libraries have it).
fn standard_key(secret: &str) -> Result<hmac::Key, SignatureError> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret);
    let bytes = STANDARD
        .decode(encoded)
        .map_err(|_| SignatureError::BadSecret)?;
    if bytes.is_empty() {
        return Err(SignatureError::BadSecret);
    }
    Ok(hmac::Key::new(hmac::HMAC_SHA256, &bytes))
}

fn signed_content(id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let mut content = format!("{id}.{timestamp}.").into_bytes();
    content.extend_from_slice(body);
    content
}

/// The `webhook-signature` value for a delivery: `v1,<base64>`.
pub fn sign_standard(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, SignatureError> {
    let key = standard_key(secret)?;
    let tag = hmac::sign(&key, &signed_content(id, timestamp, body));
    Ok(format!("v1,{}", STANDARD.encode(tag.as_ref())))
}

/// The three Standard Webhooks headers of a delivery, as received.
#[derive(Debug, Clone, Copy, Default)]
pub struct StandardHeaders<'a> {
    /// `webhook-id`.
    pub id: Option<&'a str>,
    /// `webhook-timestamp`, seconds since the epoch.
    pub timestamp: Option<&'a str>,
    /// `webhook-signature`: space-separated `v1,<base64>` entries.
    pub signature: Option<&'a str>,
}

/// Checks a Standard Webhooks delivery of `body` under `secret` at `now` (seconds since the
/// epoch). Any one `v1` signature matching is enough (senders list several while they
/// rotate secrets); entries of other versions are passed over.
pub fn verify_standard(
    secret: &str,
    headers: StandardHeaders<'_>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let id = headers.id.ok_or(SignatureError::Missing("webhook-id"))?;
    let timestamp = headers
        .timestamp
        .ok_or(SignatureError::Missing("webhook-timestamp"))?;
    let signatures = headers
        .signature
        .ok_or(SignatureError::Missing("webhook-signature"))?;
    let timestamp: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::Malformed("webhook-timestamp"))?;
    let drift = now.saturating_sub(timestamp);
    if drift.saturating_abs() > TOLERANCE_SECS {
        return Err(SignatureError::Stale(drift));
    }
    let key = standard_key(secret)?;
    let content = signed_content(id, timestamp, body);
    let mut any_v1 = false;
    for entry in signatures.split_whitespace() {
        let Some(encoded) = entry.strip_prefix("v1,") else {
            continue;
        };
        any_v1 = true;
        if let Ok(tag) = STANDARD.decode(encoded)
            && hmac::verify(&key, &content, &tag).is_ok()
        {
            return Ok(());
        }
    }
    if any_v1 {
        Err(SignatureError::Mismatch)
    } else {
        Err(SignatureError::Malformed("webhook-signature"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Shopify's own library's vector.
    #[test]
    fn shopify_signatures_match_shopifys_vector_and_refuse_a_tampered_body() {
        let (secret, body) = (b"test_secret_key", br#"{"foo": "bar"}"#);
        let good = "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=";
        assert_eq!(sign_shopify(secret, body), good);
        assert_eq!(verify_shopify(secret, body, Some(good)), Ok(()));
        assert_eq!(
            verify_shopify(secret, br#"{"foo": "baz"}"#, Some(good)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_shopify(b"another_key", body, Some(good)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_shopify(secret, body, None),
            Err(SignatureError::Missing("X-Shopify-Hmac-Sha256"))
        );
        assert_eq!(
            verify_shopify(secret, body, Some("not base64!")),
            Err(SignatureError::Malformed("X-Shopify-Hmac-Sha256"))
        );
    }

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const AT: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn headers(signature: &str) -> StandardHeaders<'_> {
        StandardHeaders {
            id: Some(ID),
            timestamp: Some("1614265330"),
            signature: Some(signature),
        }
    }

    /// The Standard Webhooks specification's vector.
    #[test]
    fn standard_signatures_match_the_specifications_vector() {
        assert_eq!(sign_standard(SECRET, ID, AT, BODY).unwrap(), SIGNED);
        assert_eq!(verify_standard(SECRET, headers(SIGNED), BODY, AT), Ok(()));
        // One good entry among others (a rotation) is enough; the prefix is optional.
        let listed = format!("v1,bm9wZQ== v2,xyz {SIGNED}");
        assert_eq!(
            verify_standard(SECRET, headers(&listed), BODY, AT + 299),
            Ok(())
        );
        let bare = SECRET.trim_start_matches("whsec_");
        assert_eq!(verify_standard(bare, headers(SIGNED), BODY, AT), Ok(()));
    }

    #[test]
    fn a_tampered_body_an_old_timestamp_and_a_missing_header_are_each_refused() {
        assert_eq!(
            verify_standard(SECRET, headers(SIGNED), br#"{"test": 1}"#, AT),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify_standard(SECRET, headers(SIGNED), BODY, AT + 301),
            Err(SignatureError::Stale(301))
        );
        assert_eq!(
            verify_standard(SECRET, headers(SIGNED), BODY, AT - 301),
            Err(SignatureError::Stale(-301))
        );
        for (missing, name) in [
            (0, "webhook-id"),
            (1, "webhook-timestamp"),
            (2, "webhook-signature"),
        ] {
            let mut h = headers(SIGNED);
            match missing {
                0 => h.id = None,
                1 => h.timestamp = None,
                _ => h.signature = None,
            }
            assert_eq!(
                verify_standard(SECRET, h, BODY, AT),
                Err(SignatureError::Missing(name))
            );
        }
        assert_eq!(
            verify_standard(SECRET, headers("v2,abc"), BODY, AT),
            Err(SignatureError::Malformed("webhook-signature"))
        );
        assert_eq!(
            verify_standard("whsec_!!!", headers(SIGNED), BODY, AT),
            Err(SignatureError::BadSecret)
        );
    }

    proptest! {
        /// Whatever arrives in the headers, checking it answers and never panics; only the
        /// right signature is accepted.
        #[test]
        fn arbitrary_headers_are_answered_not_panicked_on(
            id in "\\PC{0,40}",
            timestamp in "\\PC{0,24}",
            signature in "\\PC{0,120}",
            body in prop::collection::vec(any::<u8>(), 0..64),
            now in any::<i64>(),
        ) {
            let h = StandardHeaders { id: Some(&id), timestamp: Some(&timestamp), signature: Some(&signature) };
            let accepted = verify_standard(SECRET, h, &body, now).is_ok();
            if accepted {
                let at: i64 = timestamp.trim().parse().unwrap();
                let expected = sign_standard(SECRET, &id, at, &body).unwrap();
                prop_assert!(signature.split_whitespace().any(|s| s == expected));
            }
            let _ = verify_shopify(b"k", &body, Some(&signature));
        }

        /// What we sign, we verify; a flipped byte of the body is refused.
        #[test]
        fn what_is_signed_verifies_and_a_changed_body_does_not(
            id in "[a-z0-9_]{1,32}",
            at in 0i64..4_000_000_000,
            body in prop::collection::vec(any::<u8>(), 1..256),
            flip in any::<prop::sample::Index>(),
        ) {
            let signature = sign_standard(SECRET, &id, at, &body).unwrap();
            let at_text = at.to_string();
            let h = StandardHeaders { id: Some(&id), timestamp: Some(&at_text), signature: Some(&signature) };
            prop_assert_eq!(verify_standard(SECRET, h, &body, at), Ok(()));
            let mut changed = body.clone();
            let i = flip.index(changed.len());
            changed[i] ^= 0x01;
            prop_assert_eq!(verify_standard(SECRET, h, &changed, at), Err(SignatureError::Mismatch));
        }
    }
}
