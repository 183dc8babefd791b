//! `crossdock bindings import` as a user runs it: a CSV export taken in (header skipped,
//! quoted fields kept whole), a file with a bad row refused by line with nothing written,
//! and the bindings readable from the store afterwards.

mod common;

use common::crossdock;

use crossdock_domain::BindingKind;
use crossdock_store::Store;

#[tokio::test]
async fn a_csv_file_of_bindings_is_imported_whole_or_not_at_all() {
    let dir = std::env::temp_dir().join(format!("crossdock-bindings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("hub.db");
    let _ = std::fs::remove_file(&db);
    let example = crossdock_engine::config::EXAMPLE.replace(
        "url = \"sqlite://crossdock.db\"",
        &format!("url = \"sqlite://{}\"", db.display()),
    );
    assert!(
        example.contains(&db.display().to_string()),
        "the example names its store"
    );
    std::fs::write(dir.join("secret"), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let config = format!(
        "{example}\n[[connectors]]\nname = \"threepl\"\nkind = \"standard_webhooks\"\n\
         url = \"https://3pl.example.com\"\nwebhook_secret = \"file:{}\"\n",
        dir.join("secret").display()
    );
    let config_file = dir.join("hub.toml");
    std::fs::write(&config_file, config).unwrap();
    let config_file = config_file.display().to_string();
    let import = |file: &str, connector: &str, header: bool| {
        let path = dir.join("rows.csv");
        std::fs::write(&path, file).unwrap();
        let path = path.display().to_string();
        let mut args = vec![
            "bindings",
            "import",
            "--config",
            &config_file,
            "--connector",
            connector,
            "--kind",
            "item",
        ];
        if header {
            args.push("--header");
        }
        args.push(&path);
        crossdock(&args)
    };

    let (ok, out, err) = import(
        "SKU,Internal ID\nSKU-1,101\n\"SKU-2, large\",102\n\nSKU-3,103\n",
        "threepl",
        true,
    );
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("3 item bindings for threepl read, 3 set or changed"),
        "{out}"
    );
    let (ok, out, _) = import("ours,theirs\nSKU-1,101\nSKU-3,303\n", "threepl", false);
    assert!(ok);
    assert!(
        out.contains("2 item bindings for threepl read, 1 set or changed, 1 already"),
        "{out}"
    );

    // A bad row anywhere stops the file before anything is written.
    let (ok, _, err) = import("SKU-4,104\nSKU-5,105,extra\n", "threepl", false);
    assert!(!ok);
    assert!(
        err.contains("line 2") && err.contains("two columns"),
        "{err}"
    );
    let (ok, _, err) = import("SKU-4,104\n,105\n", "threepl", false);
    assert!(!ok);
    assert!(
        err.contains("line 2: ours: must not be empty") && err.contains("nothing was written"),
        "{err}"
    );
    let (ok, _, err) = import("SKU-4,104\n", "nosuch", false);
    assert!(!ok);
    assert!(
        err.contains("no connector `nosuch`") && err.contains("threepl"),
        "{err}"
    );

    let store = crossdock_store::AnyStore::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    let keys = ["SKU-1", "SKU-2, large", "SKU-3", "SKU-4"].map(String::from);
    let bound = store
        .bound("threepl", BindingKind::Item, keys.to_vec())
        .await
        .unwrap();
    assert_eq!(bound.len(), 3, "SKU-4 was never written: {bound:?}");
    assert_eq!(bound["SKU-2, large"], "102");
    assert_eq!(bound["SKU-3"], "303");
}
