//! `POST /v1/items`: adds SKUs to the item master.

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use crossdock_engine::items::Items;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::AppState;
use crate::extract::Json;
use crate::openapi;
use crate::problem::Problem;

/// Most items per call.
pub const MAX_ITEMS: usize = 1_000;

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/items", post(upsert_items))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ItemsIn {
    #[schema(max_items = 1000, value_type = Vec<openapi::ItemEntry>)]
    items: Vec<Value>,
}

/// Add SKUs to the item master
///
/// Up to 1,000 items a call. Existing SKUs are left as they are.
#[utoipa::path(
    post,
    path = "/v1/items",
    request_body = ItemsIn,
    responses(
        (status = 200, description = "Counts and per-index rejections", body = openapi::ItemsResult),
        (status = 422, description = "Invalid field (VALIDATION_FAILED and others)"),
        (status = 503, description = "Store unavailable; nothing was written (STORE_UNAVAILABLE)"),
    )
)]
async fn upsert_items(
    State(items): State<Items>,
    Json(body): Json<ItemsIn>,
) -> Result<Json<Value>, Problem> {
    if body.items.len() > MAX_ITEMS {
        return Err(Problem::invalid(format!(
            "items: at most {MAX_ITEMS} per call, got {}",
            body.items.len()
        )));
    }
    let upserted = items.upsert(body.items).await?;
    let rejected: Vec<Value> = upserted
        .rejected
        .iter()
        .map(|(index, detail)| json!({"index": index, "code": "VALIDATION_FAILED", "detail": detail}))
        .collect();
    Ok(Json(json!({
        "created": upserted.created,
        "existing": upserted.existing,
        "rejected": rejected,
    })))
}
