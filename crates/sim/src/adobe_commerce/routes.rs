//! The simulated store's routes.

use std::collections::HashMap;

use axum::extract::{Json, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Shipment, SimAdobeCommerce, error};

/// Adobe Commerce's answer to a call without a token it takes.
fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "The consumer isn't authorized to access %resources.",
        json!({"resources": "Magento_Sales::actions_view"}),
    )
}

pub(super) async fn orders(
    State(sim): State<SimAdobeCommerce>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(mut inner) = sim.authorized(&headers) else {
        return unauthorized();
    };
    inner.order_pages += 1;
    let f = "searchCriteria[filter_groups][0][filters][0]";
    let since = match (
        q.get(&format!("{f}[field]")),
        q.get(&format!("{f}[condition_type]")),
    ) {
        (Some(field), Some(cond)) if field == "updated_at" && cond == "gteq" => {
            q.get(&format!("{f}[value]")).cloned().unwrap_or_default()
        }
        (None, None) => String::new(),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "the simulated store filters by updated_at gteq only",
                json!([]),
            );
        }
    };
    let size: usize = (q
        .get("searchCriteria[pageSize]")
        .and_then(|s| s.parse().ok()))
    .unwrap_or(20);
    let page: usize = (q
        .get("searchCriteria[currentPage]")
        .and_then(|s| s.parse().ok()))
    .unwrap_or(1);
    let mut matching: Vec<&Value> = (inner.orders.values())
        .filter(|o| o["updated_at"].as_str().unwrap_or_default() >= since.as_str())
        .collect();
    // Times are written `YYYY-MM-DD HH:MM:SS`, so text order is time order.
    matching.sort_by_key(|o| {
        (
            o["updated_at"].as_str().unwrap_or_default().to_string(),
            o["entity_id"].as_i64(),
        )
    });
    let total = matching.len();
    let pages = total.div_ceil(size.max(1)).max(1);
    // A page past the last is the last page again, as Adobe Commerce answers.
    let page = page.clamp(1, pages);
    let items: Vec<Value> = (matching.into_iter())
        .skip((page - 1) * size)
        .take(size)
        .cloned()
        .collect();
    Json(json!({"items": items, "total_count": total,
                "search_criteria": {"page_size": size, "current_page": page}}))
    .into_response()
}

fn no_such_order(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "The entity that was requested doesn't exist. Verify the entity and try again.",
        json!({"id": id}),
    )
}

pub(super) async fn order(
    State(sim): State<SimAdobeCommerce>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(inner) = sim.authorized(&headers) else {
        return unauthorized();
    };
    match id.parse::<i64>().ok().and_then(|n| inner.orders.get(&n)) {
        Some(o) => Json(o.clone()).into_response(),
        None => no_such_order(&id),
    }
}

pub(super) async fn cancel(
    State(sim): State<SimAdobeCommerce>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(mut inner) = sim.authorized(&headers) else {
        return unauthorized();
    };
    let clock = inner.clock.clone();
    let Some(o) = id
        .parse::<i64>()
        .ok()
        .and_then(|n| inner.orders.get_mut(&n))
    else {
        return no_such_order(&id);
    };
    let cancellable = matches!(
        o["state"].as_str(),
        Some("new" | "pending_payment" | "processing" | "holded")
    );
    if cancellable {
        o["state"] = json!("canceled");
        o["status"] = json!("canceled");
        o["updated_at"] = json!(clock);
    }
    Json(json!(cancellable)).into_response()
}

pub(super) async fn ship(
    State(sim): State<SimAdobeCommerce>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let Some(mut inner) = sim.authorized(&headers) else {
        return unauthorized();
    };
    let clock = inner.clock.clone();
    let Some((n, o)) = id
        .parse::<i64>()
        .ok()
        .and_then(|n| Some((n, inner.orders.get_mut(&n)?)))
    else {
        return no_such_order(&id);
    };
    let mut shipped = Vec::new();
    for item in body["items"].as_array().into_iter().flatten() {
        let (Some(item_id), Some(qty)) = (item["order_item_id"].as_i64(), item["qty"].as_f64())
        else {
            return error(
                StatusCode::BAD_REQUEST,
                "\"%fieldName\" is required. Enter and try again.",
                json!({"fieldName": "order_item_id"}),
            );
        };
        let Some(line) =
            (o["items"].as_array_mut().into_iter().flatten()).find(|i| i["item_id"] == item_id)
        else {
            return error(
                StatusCode::BAD_REQUEST,
                "Shipment Document Validation Error(s):\nThe order does not contain item %1.",
                json!([item_id]),
            );
        };
        let left = line["qty_ordered"].as_f64().unwrap_or(0.0)
            - line["qty_shipped"].as_f64().unwrap_or(0.0);
        if qty > left {
            return error(
                StatusCode::BAD_REQUEST,
                "Shipment Document Validation Error(s):\nYou can't create a shipment without products.",
                json!([]),
            );
        }
        line["qty_shipped"] = json!(line["qty_shipped"].as_f64().unwrap_or(0.0) + qty);
        shipped.push((item_id, qty));
    }
    o["updated_at"] = json!(clock);
    let tracks = (body["tracks"].as_array().into_iter().flatten())
        .filter_map(|t| t["track_number"].as_str().map(str::to_string))
        .collect();
    inner.shipments.push(Shipment {
        order_id: n,
        items: shipped,
        tracks,
    });
    let shipment_id = inner.shipments.len().to_string();
    if std::mem::take(&mut inner.lose_next_answer) {
        return error(StatusCode::GATEWAY_TIMEOUT, "Gateway Timeout", json!([]));
    }
    Json(json!(shipment_id)).into_response()
}

pub(super) async fn shipments(
    State(sim): State<SimAdobeCommerce>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(inner) = sim.authorized(&headers) else {
        return unauthorized();
    };
    let f = "searchCriteria[filter_groups][0][filters][0]";
    let order_id: Option<i64> = match q.get(&format!("{f}[field]")).map(String::as_str) {
        Some("order_id") => q.get(&format!("{f}[value]")).and_then(|v| v.parse().ok()),
        _ => None,
    };
    let items: Vec<Value> = (inner.shipments.iter().enumerate())
        .filter(|(_, s)| order_id.is_none_or(|id| s.order_id == id))
        .map(|(i, s)| {
            let tracks: Vec<Value> = s
                .tracks
                .iter()
                .map(|t| json!({"track_number": t}))
                .collect();
            json!({"entity_id": i + 1, "order_id": s.order_id, "tracks": tracks})
        })
        .collect();
    Json(json!({"items": items, "total_count": items.len()})).into_response()
}

pub(super) async fn source_items(
    State(sim): State<SimAdobeCommerce>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let Some(mut inner) = sim.authorized(&headers) else {
        return unauthorized();
    };
    inner.source_calls += 1;
    let items = body["sourceItems"].as_array().cloned().unwrap_or_default();
    if let Some(unknown) = items
        .iter()
        .filter_map(|i| i["sku"].as_str())
        .find(|s| !inner.catalog.contains(*s))
    {
        return error(
            StatusCode::BAD_REQUEST,
            "Could not save Source Item: product with SKU \"%1\" does not exist",
            json!([unknown]),
        );
    }
    for i in items {
        let (Some(sku), Some(source)) = (i["sku"].as_str(), i["source_code"].as_str()) else {
            continue;
        };
        let qty = i["quantity"].as_f64().unwrap_or(0.0) as i64;
        inner
            .source_items
            .insert((source.to_string(), sku.to_string()), qty);
    }
    Json(json!([])).into_response()
}

/// `POST /V1/products/base-prices`: each item's price set, but those of a SKU the catalog
/// does not have, or below zero, answered as refused (with the SKU as a parameter).
pub(super) async fn base_prices(
    State(sim): State<SimAdobeCommerce>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let Some(mut inner) = sim.authorized(&headers) else {
        return unauthorized();
    };
    inner.price_calls += 1;
    let mut refused = Vec::new();
    for i in body["prices"].as_array().into_iter().flatten() {
        let (Some(sku), Some(price)) = (i["sku"].as_str(), i["price"].as_f64()) else {
            continue;
        };
        if !inner.catalog.contains(sku) {
            refused.push(
                json!({"message": "Requested product doesn't exist. SKU: %sku.",
                                "parameters": {"sku": sku}}),
            );
        } else if price < 0.0 {
            refused.push(json!({"message": "Invalid attribute Price = %price. Row ID: SKU = %SKU, Store ID: %storeId.",
                                "parameters": {"price": price, "SKU": sku, "storeId": i["store_id"]}}));
        } else {
            inner.prices.insert(sku.to_string(), price);
        }
    }
    Json(Value::Array(refused)).into_response()
}
