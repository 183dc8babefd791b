//! Bindings over HTTP on both stores: set (all or none), changed, listed by page and by
//! filter, and refused clearly.

mod common;

use common::{App, spawn_app_tuned};
use crossdock_engine::Config;
use reqwest::StatusCode;
use serde_json::json;

async fn hub(postgres: bool) -> Option<App> {
    let dir = std::env::temp_dir().join(format!("crossdock-bindings-{}", ulid::Ulid::new()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("secret"), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let parsed = Config::parse(&format!(
        "{}\n[[connectors]]\nname = \"threepl\"\nkind = \"standard_webhooks\"\n\
         url = \"https://3pl.example.com\"\nwebhook_secret = \"file:{}\"\n",
        crossdock_engine::config::EXAMPLE,
        dir.join("secret").display()
    ))
    .unwrap();
    spawn_app_tuned(postgres, &[], |c| c.connectors = parsed.connectors).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bindings_are_set_all_or_none_and_listed_by_page() {
    for postgres in [false, true] {
        let Some(app) = hub(postgres).await else {
            continue;
        };
        let items = json!({"bindings": [
            {"connector": "threepl", "kind": "item", "ours": "SKU-1", "theirs": "101"},
            {"connector": "threepl", "kind": "item", "ours": "SKU-2", "theirs": "102"},
            {"connector": "threepl", "kind": "location", "ours": "east", "theirs": "WH-E"},
        ]});
        let (status, body) = app.post("/v1/bindings", items.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body, json!({"received": 3, "changed": 3}));
        let (_, again) = app.post("/v1/bindings", items).await;
        assert_eq!(
            again["changed"], 0,
            "the same bindings again change nothing"
        );

        // One bad binding stops the list: nothing of it is written.
        let bad = json!({"bindings": [
            {"connector": "threepl", "kind": "item", "ours": "SKU-1", "theirs": "999"},
            {"connector": "nosuch", "kind": "item", "ours": "SKU-3", "theirs": "103"},
            {"connector": "threepl", "kind": "item", "ours": "", "theirs": "104"},
        ]});
        let (status, problem) = app.post("/v1/bindings", bad).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
        assert_eq!(problem["code"], "VALIDATION_FAILED");
        let errors = problem["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 2, "{problem}");
        assert_eq!(errors[0]["index"], 1);
        assert_eq!(errors[0]["field"], "connector");
        assert!(errors[0]["detail"].as_str().unwrap().contains("threepl"));
        assert_eq!(errors[1]["index"], 2);
        assert_eq!(errors[1]["field"], "ours");
        let (_, one) = app.get("/v1/bindings?connector=threepl&ours=SKU-1").await;
        assert_eq!(one["bindings"][0]["theirs"], "101", "{one}");

        let (status, problem) = app
            .post(
                "/v1/bindings",
                json!({"bindings": [{"connector": "threepl", "kind": "items", "ours": "A", "theirs": "B"}]}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");

        // Pages of one, in the order they were first set.
        let (status, page) = app.get("/v1/bindings?kind=item&limit=1").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["bindings"][0]["ours"], "SKU-1");
        assert_eq!(page["bindings"][0]["connector"], "threepl");
        assert_eq!(page["bindings"][0]["kind"], "item");
        let after = page["next_after"].as_i64().expect("a full page has a next");
        let (_, next) = app
            .get(&format!("/v1/bindings?kind=item&limit=1&after={after}"))
            .await;
        assert_eq!(next["bindings"][0]["ours"], "SKU-2");
        let after = next["next_after"].as_i64().unwrap();
        let (_, last) = app
            .get(&format!("/v1/bindings?kind=item&limit=1&after={after}"))
            .await;
        assert_eq!(last["bindings"], json!([]));
        assert_eq!(last["next_after"], json!(null));
        let (_, by_theirs) = app.get("/v1/bindings?theirs=WH-E").await;
        assert_eq!(by_theirs["bindings"][0]["ours"], "east");

        let (status, _) = app.get("/v1/bindings?connector=nosuch").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, problem) = app.get("/v1/bindings?kind=sku").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            problem["detail"].as_str().unwrap().contains("item"),
            "{problem}"
        );
        let (status, _) = app.get("/v1/bindings?limit=0").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}
