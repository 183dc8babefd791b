//! Every request belongs to a business transaction with one correlation id: the caller's
//! `X-Correlation-ID`, else the trace id of its W3C `traceparent`, else a fresh `corr_…`. The id
//! is set on the request (so the handlers record it on the order's history, shipments, invoices
//! and returns), carried by the request's log span, and sent back as `X-Correlation-ID` on
//! every answer, errors included.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use crossdock_engine::Inventory;
use tracing::Instrument;

/// The header the id travels in, both ways.
pub const HEADER: HeaderName = HeaderName::from_static("x-correlation-id");

/// The trace id of a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`): `None` when the
/// header is not one, or its trace id is all zeros (invalid by the spec).
pub fn trace_id(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let well_formed = hex(version, 2)
        && version != "ff"
        && hex(trace, 32)
        && hex(parent, 16)
        && hex(flags, 2)
        && (version != "00" || parts.next().is_none());
    (well_formed && trace.bytes().any(|b| b != b'0')).then_some(trace)
}

/// Gives the request its correlation id and the answer its `X-Correlation-ID`.
pub async fn follow(mut req: Request, next: Next) -> Response {
    let given = req.headers().get(&HEADER).cloned();
    let id = match given {
        Some(value) => value,
        None => {
            let traced = (req.headers().get("traceparent"))
                .and_then(|v| v.to_str().ok())
                .and_then(trace_id)
                .map(str::to_string);
            let id = traced.unwrap_or_else(Inventory::new_correlation_id);
            let value = HeaderValue::from_str(&id).expect("hex and ids are header text");
            req.headers_mut().insert(HEADER, value.clone());
            value
        }
    };
    let shown = id.to_str().unwrap_or("(not text)");
    let span = tracing::info_span!("request", correlation_id = shown, method = %req.method(), path = req.uri().path());
    let mut res = next.run(req).instrument(span).await;
    res.headers_mut().insert(HEADER, id);
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trace_id_is_read_from_a_well_formed_traceparent_only() {
        let good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(trace_id(good), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        // A later version may carry more fields.
        let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra";
        assert_eq!(trace_id(later), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        for bad in [
            "",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        ] {
            assert_eq!(trace_id(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_header_text_reads_or_is_refused_never_a_panic(text in "\\PC{0,80}") {
            if let Some(id) = trace_id(&text) {
                proptest::prop_assert_eq!(id.len(), 32);
            }
        }
    }
}
