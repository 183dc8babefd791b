//! The simulated account's record routes: sales orders upserted and their lines read, item
//! fulfillments made and read back, customers read.

use axum::extract::{Json, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Fulfillment, SalesOrder, SimNetSuite, error, missing};
use std::collections::BTreeMap;

pub(super) async fn upsert(
    State(ns): State<SimNetSuite>,
    Path(key): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(answer) = ns.admit(&headers) {
        return answer;
    }
    let Some(external_id) = key.strip_prefix("eid:") else {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "INVALID_REQUEST",
            "PUT takes an external id (eid:…)",
        );
    };
    let mut inner = ns.lock();
    let entity = body["entity"]["id"].as_str().unwrap_or_default();
    if !inner.customers.contains_key(entity) {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_VALUE",
            &format!("Invalid value for the resource or sub-resource field 'entity': {entity}."),
        );
    }
    let lines = body["item"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for line in &lines {
        let item = line["item"]["id"].as_str().unwrap_or_default();
        if !inner.items.contains(item) {
            return error(
                StatusCode::BAD_REQUEST,
                "INVALID_VALUE",
                &format!("Invalid value for the sub-resource field 'item': {item}."),
            );
        }
    }
    let next = 6000 + inner.orders.len();
    let order = inner
        .orders
        .entry(external_id.to_string())
        .or_insert_with(|| SalesOrder {
            id: next.to_string(),
            external_id: external_id.to_string(),
            body: Value::Null,
            upserts: 0,
            fulfilled: BTreeMap::new(),
            closed: Default::default(),
        });
    order.body = body;
    order.upserts += 1;
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1");
    let location = format!(
        "http://{host}/services/rest/record/v1/salesOrder/{}",
        order.id
    );
    (StatusCode::NO_CONTENT, [(header::LOCATION, location)]).into_response()
}

pub(super) async fn customer(
    State(ns): State<SimNetSuite>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(answer) = ns.admit(&headers) {
        return answer;
    }
    match ns.lock().customers.get(&id) {
        Some(record) => Json(record.clone()).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "NONEXISTENT_ID",
            &format!(
                "The record instance does not exist. Provide a valid record instance ID: {id}."
            ),
        ),
    }
}

/// NetSuite's number for the `i`th line of a sales order.
fn line_number(i: usize) -> i64 {
    1 + 3 * i as i64
}

pub(super) async fn lines(
    State(ns): State<SimNetSuite>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(answer) = ns.admit(&headers) {
        return answer;
    }
    let inner = ns.lock();
    let Some(order) = inner.orders.values().find(|o| o.id == id) else {
        return missing();
    };
    let lines = order.body["item"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let items: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let line = line_number(i);
            json!({"line": line, "item": {"id": l["item"]["id"]}, "quantity": l["quantity"],
                   "quantityFulfilled": order.fulfilled.get(&line).copied().unwrap_or(0.0),
                   "isClosed": order.closed.contains(&line)})
        })
        .collect();
    Json(json!({"items": items, "totalResults": items.len()})).into_response()
}

pub(super) async fn fulfil(
    State(ns): State<SimNetSuite>,
    Path((id, transform)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(answer) = ns.admit(&headers) {
        return answer;
    }
    if transform != "!transform" {
        return error(StatusCode::NOT_FOUND, "INVALID_REQUEST", "no such action");
    }
    let external_id = body["externalId"].as_str().unwrap_or_default().to_string();
    let mut inner = ns.lock();
    if !external_id.is_empty()
        && inner
            .fulfillments
            .iter()
            .any(|f| f.external_id == external_id)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "DUP_RCRD",
            "A record with this external ID already exists.",
        );
    }
    let Some(order) = inner.orders.values_mut().find(|o| o.id == id) else {
        return missing();
    };
    let count = order.body["item"]["items"].as_array().map_or(0, Vec::len);
    let mut received = Vec::new();
    for l in body["item"]["items"].as_array().into_iter().flatten() {
        let line = l["orderLine"].as_i64().unwrap_or_default();
        if !(0..count).any(|i| line_number(i) == line) {
            return error(
                StatusCode::BAD_REQUEST,
                "INVALID_VALUE",
                &format!("Invalid value for the sub-resource field 'orderLine': {line}."),
            );
        }
        if l["itemReceive"] == json!(true) {
            received.push((line, l["quantity"].as_f64().unwrap_or_default()));
        }
    }
    if received.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "USER_ERROR",
            "You must enter at least one line item for this transaction.",
        );
    }
    for (line, qty) in &received {
        *order.fulfilled.entry(*line).or_default() += qty;
    }
    let sales_order = order.id.clone();
    inner.fulfillments.push(Fulfillment {
        sales_order,
        external_id,
        lines: received,
        body,
    });
    let n = inner.fulfillments.len();
    if std::mem::take(&mut inner.lose_next_answer) {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "UNEXPECTED_ERROR",
            "timed out",
        );
    }
    let location = format!("/services/rest/record/v1/itemFulfillment/{}", 8000 + n);
    (StatusCode::NO_CONTENT, [(header::LOCATION, location)]).into_response()
}

pub(super) async fn fulfillment(
    State(ns): State<SimNetSuite>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(answer) = ns.admit(&headers) {
        return answer;
    }
    let inner = ns.lock();
    let found = (key.strip_prefix("eid:"))
        .and_then(|eid| inner.fulfillments.iter().find(|f| f.external_id == eid));
    match found {
        Some(f) => Json(json!({"externalId": f.external_id, "createdFrom": {"id": f.sales_order}}))
            .into_response(),
        None => missing(),
    }
}

/// `PATCH …/salesOrder/{id}`: closes the lines named `isClosed`, answering 204.
pub(super) async fn close_lines(
    State(ns): State<SimNetSuite>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Some(answer) = ns.admit(&headers) {
        return answer;
    }
    let mut inner = ns.lock();
    let Some(order) = inner.orders.values_mut().find(|o| o.id == id) else {
        return missing();
    };
    let count = order.body["item"]["items"].as_array().map_or(0, Vec::len);
    for item in body["item"]["items"].as_array().into_iter().flatten() {
        let Some(line) = item["line"].as_i64() else {
            return error(
                StatusCode::BAD_REQUEST,
                "USER_ERROR",
                "a line to change names its line",
            );
        };
        if !(0..count).any(|i| line_number(i) == line) {
            return error(
                StatusCode::BAD_REQUEST,
                "INVALID_KEY_OR_REF",
                &format!("no line {line}"),
            );
        }
        if item["isClosed"] == true {
            order.closed.insert(line);
        }
    }
    StatusCode::NO_CONTENT.into_response()
}
