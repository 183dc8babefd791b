//! `POST /v1/items`: adds SKUs to the item master.

use axum::Router;
use axum::extract::State;
use axum::routing::post;
use crossdock_domain::Sku;
use crossdock_domain::ledger::{Command, Outcome};
use crossdock_engine::Inventory;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::AppState;
use crate::extract::Json;
use crate::problem::Problem;

/// Most items per call.
pub const MAX_ITEMS: usize = 1_000;

/// Routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/items", post(upsert_items))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemsIn {
    items: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemIn {
    sku: String,
    description: Option<String>,
}

async fn upsert_items(
    State(inv): State<Inventory>,
    Json(body): Json<ItemsIn>,
) -> Result<Json<Value>, Problem> {
    if body.items.len() > MAX_ITEMS {
        return Err(Problem::invalid(format!(
            "items: at most {MAX_ITEMS} per call, got {}",
            body.items.len()
        )));
    }
    let mut rejected = Vec::new();
    let mut commands = Vec::new();
    for (index, raw) in body.items.into_iter().enumerate() {
        let parsed = serde_json::from_value::<ItemIn>(raw)
            .map_err(|e| e.to_string())
            .and_then(|i| {
                let sku = Sku::parse(&i.sku).map_err(|e| format!("sku: {e}"))?;
                if i.description
                    .as_ref()
                    .is_some_and(|d| d.chars().count() > 500)
                {
                    return Err("description must be at most 500 characters".to_string());
                }
                Ok(Command::UpsertItem {
                    sku,
                    description: i.description,
                })
            });
        match parsed {
            Ok(c) => commands.push(c),
            Err(detail) => rejected.push(json!({
                "index": index, "code": "VALIDATION_FAILED", "detail": detail
            })),
        }
    }
    let outcomes = inv.submit(commands).await?;
    let created = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::ItemCreated))
        .count();
    Ok(Json(json!({
        "created": created,
        "existing": outcomes.len() - created,
        "rejected": rejected,
    })))
}
