//! The simulated Business Central environment's routes: the token endpoint and every API
//! call, routed by its OData path.

use std::collections::BTreeMap;

use axum::extract::{Json, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Inner, Line, Posting, SalesOrder, SimBusinessCentral, error};

/// The client credentials grant.
pub(super) async fn token(State(bc): State<SimBusinessCentral>, body: String) -> Response {
    let form: BTreeMap<String, String> = body
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect();
    let mut inner = bc.lock();
    let field = |k: &str| form.get(k).map(String::as_str);
    if field("grant_type") != Some("client_credentials")
        || field("client_id") != Some(inner.client_id.as_str())
        || field("client_secret") != Some(inner.client_secret.as_str())
    {
        let body = json!({"error": "invalid_client",
                          "error_description": "AADSTS7000215: Invalid client secret provided."});
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    inner.issued += 1;
    let token = format!("bc-token-{}", inner.issued);
    inner.token = Some(token.clone());
    Json(json!({"token_type": "Bearer", "expires_in": 3599, "access_token": token})).into_response()
}

/// `+` and `%XX` undone (enough for the form a client sends).
fn decode(s: &str) -> String {
    let bytes = s.replace('+', " ").into_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = std::str::from_utf8(bytes.get(i + 1..i + 3).unwrap_or_default())
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value a `$filter=FIELD eq 'VALUE'` asks for.
fn filter_value(query: &str, field: &str) -> Option<String> {
    let filter = query
        .split('&')
        .find_map(|p| p.strip_prefix("$filter="))
        .map(decode)?;
    let rest = filter
        .strip_prefix(field)?
        .trim_start()
        .strip_prefix("eq")?
        .trim();
    let inner = rest.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace("''", "'"))
}

/// Every API call: authenticated, counted, then routed by its OData path.
pub(super) async fn api(
    State(bc): State<SimBusinessCentral>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let mut inner = bc.lock();
    if bearer.is_none() || bearer != inner.token {
        return error(
            StatusCode::UNAUTHORIZED,
            "Authentication_InvalidCredentials",
            "The server has rejected the client credentials.",
        );
    }
    inner.calls += 1;
    if inner.limit_next > 0 {
        inner.limit_next -= 1;
        let mut limited = error(
            StatusCode::TOO_MANY_REQUESTS,
            "Application_TooManyRequests",
            "Too many requests reached.",
        );
        limited
            .headers_mut()
            .insert(header::RETRY_AFTER, "1".parse().expect("a header value"));
        return limited;
    }
    let company = format!("/api/v2.0/companies({})", inner.company);
    let Some(rest) = uri.path().strip_prefix(&company) else {
        return error(
            StatusCode::NOT_FOUND,
            "BadRequest_NotFound",
            "The company does not exist.",
        );
    };
    let query = uri.query().unwrap_or_default();
    match (method, rest) {
        (Method::POST, "/salesOrders") => {
            let Ok(body) = serde_json::from_str::<Value>(&body) else {
                return error(StatusCode::BAD_REQUEST, "BadRequest", "Invalid JSON.");
            };
            create(&mut inner, body)
        }
        (Method::GET, "/salesOrders") => {
            let number = filter_value(query, "externalDocumentNumber");
            let found: Vec<Value> = (inner.orders.iter())
                .filter(|o| {
                    number
                        .as_deref()
                        .is_none_or(|n| n == o.external_document_number)
                })
                .map(|o| json!({"id": o.id, "number": o.number, "status": inner.status}))
                .collect();
            Json(json!({"value": found})).into_response()
        }
        (Method::GET, "/customers") => {
            let number = filter_value(query, "number").unwrap_or_default();
            let found: Vec<Value> = inner.customers.get(&number).cloned().into_iter().collect();
            Json(json!({"value": found})).into_response()
        }
        (Method::PATCH | Method::DELETE, _) if !headers.contains_key(header::IF_MATCH) => error(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "A value for the If-Match header is required to change a record.",
        ),
        (Method::GET, path) if path.ends_with("/salesOrderLines") => {
            let id = order_key(path).unwrap_or_default();
            match inner.lines.get(&id) {
                Some(lines) => {
                    let value: Vec<Value> = lines.iter().map(Line::record).collect();
                    Json(json!({"value": value})).into_response()
                }
                None => not_found(),
            }
        }
        (Method::PATCH, path) if path.contains("/salesOrderLines(") => {
            let Ok(body) = serde_json::from_str::<Value>(&body) else {
                return error(StatusCode::BAD_REQUEST, "BadRequest", "Invalid JSON.");
            };
            let id = order_key(path).unwrap_or_default();
            let line_id = path
                .rsplit_once("/salesOrderLines(")
                .map(|(_, l)| l.trim_end_matches(')'));
            let Some(line) = (inner.lines.get_mut(&id).into_iter().flatten())
                .find(|l| Some(l.id.as_str()) == line_id)
            else {
                return not_found();
            };
            if let Some(ship) = body["shipQuantity"].as_f64() {
                if ship > line.quantity - line.shipped {
                    let left = line.quantity - line.shipped;
                    return error(
                        StatusCode::BAD_REQUEST,
                        "Application_FieldValidationException",
                        &format!("You cannot ship more than {left} units."),
                    );
                }
                line.ship = ship;
            }
            if let Some(invoice) = body["invoiceQuantity"].as_f64() {
                line.invoice = invoice;
            }
            Json(line.record()).into_response()
        }
        (Method::POST, path) if path.ends_with("/Microsoft.NAV.shipAndInvoice") => {
            let id = order_key(path).unwrap_or_default();
            let number = (inner.orders.iter())
                .find(|o| o.id == id)
                .map(|o| o.number.clone());
            let (Some(number), Some(lines)) = (number, inner.lines.get_mut(&id)) else {
                return not_found();
            };
            let posted: Vec<(String, f64)> = (lines.iter())
                .filter(|l| l.ship > 0.0)
                .map(|l| (l.item.clone(), l.ship))
                .collect();
            if posted.is_empty() {
                return error(
                    StatusCode::BAD_REQUEST,
                    "Application_DialogException",
                    "There is nothing to post.",
                );
            }
            for l in lines.iter_mut() {
                l.shipped += l.ship;
                l.invoiced += l.invoice.min(l.shipped - l.invoiced);
                l.ship = l.quantity - l.shipped;
                l.invoice = l.shipped - l.invoiced;
            }
            inner.postings.push(Posting {
                order_number: number,
                lines: posted,
            });
            StatusCode::NO_CONTENT.into_response()
        }
        (Method::DELETE, path) => {
            let id = path
                .strip_prefix("/salesOrders(")
                .and_then(|p| p.strip_suffix(')'));
            match id.and_then(|id| inner.orders.iter().position(|o| o.id == id)) {
                Some(i) => {
                    let gone = inner.orders.remove(i);
                    inner.deleted.push(gone);
                    StatusCode::NO_CONTENT.into_response()
                }
                None => error(
                    StatusCode::NOT_FOUND,
                    "BadRequest_NotFound",
                    "The Sales Header does not exist.",
                ),
            }
        }
        _ => error(
            StatusCode::NOT_FOUND,
            "BadRequest_MethodNotFound",
            "No HTTP resource was found that matches the request URI.",
        ),
    }
}

fn create(inner: &mut Inner, body: Value) -> Response {
    let customer = body["customerNumber"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if !inner.customers.contains_key(&customer) {
        return error(
            StatusCode::BAD_REQUEST,
            "Internal_RecordNotFound",
            &format!(
                "The Customer does not exist. Identification fields and values: No.='{customer}'"
            ),
        );
    }
    let lines = body["salesOrderLines"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if let Some(item) = (lines.iter())
        .filter_map(|l| l["lineObjectNumber"].as_str())
        .find(|n| !inner.items.iter().any(|i| i == n))
    {
        return error(
            StatusCode::BAD_REQUEST,
            "BadRequest_NotFound",
            &format!("The Item does not exist. Identification fields and values: No.='{item}'"),
        );
    }
    let n = inner.orders.len() + inner.deleted.len() + 1;
    let order = SalesOrder {
        id: format!("5d115c9c-44e3-ea11-bb43-{n:012x}"),
        number: format!("{}", 101_000 + n),
        external_document_number: body["externalDocumentNumber"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        body,
    };
    let answer = json!({"id": order.id, "number": order.number,
                        "externalDocumentNumber": order.external_document_number,
                        "customerNumber": customer, "status": inner.status});
    let made: Vec<Line> = (lines.iter().enumerate())
        .map(|(i, l)| {
            let quantity = l["quantity"].as_f64().unwrap_or(0.0);
            Line {
                id: format!("{}-{}", order.id, 10_000 * (i + 1)),
                item: l["lineObjectNumber"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                quantity,
                ship: quantity,
                shipped: 0.0,
                invoice: quantity,
                invoiced: 0.0,
            }
        })
        .collect();
    inner.lines.insert(order.id.clone(), made);
    inner.orders.push(order);
    if std::mem::take(&mut inner.lose_next_answer) {
        return error(
            StatusCode::GATEWAY_TIMEOUT,
            "Internal_ServerError",
            "The operation has timed out.",
        );
    }
    (StatusCode::CREATED, Json(answer)).into_response()
}

/// The sales order id in a path `/salesOrders({id})…`.
fn order_key(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/salesOrders(")?;
    Some(rest.split_once(')')?.0.to_string())
}

fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "BadRequest_NotFound",
        "The Sales Header does not exist.",
    )
}
