//! `SIGHUP` to a running `crossdock serve` with several ERPs: a business unit moved in the
//! file is routed anew at once (no restart), and a file that adds or drops an ERP is refused
//! with the routes left as they were.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{free_port, serve_logging, wait_ready};

/// Two ERPs: NetSuite keeping `ns`, a crossdock-shape ERP keeping `other` (neither needs to
/// answer: nothing is posted here).
fn erps(dir: &std::path::Path, ns: &str, other: &str) -> String {
    let secret = dir.join("secret");
    std::fs::write(&secret, "s").unwrap();
    let file = format!("file:{}", secret.display());
    format!(
        "\n[[connectors]]\nname = \"netsuite\"\nkind = \"netsuite\"\n\
         url = \"http://127.0.0.1:9/services/rest\"\nbusiness_units = {ns}\n\
         auth = {{ kind = \"netsuite_tba\", account = \"1\", consumer_key = \"{file}\", \
         consumer_secret = \"{file}\", token_id = \"{file}\", token_secret = \"{file}\" }}\n\n\
         [[connectors]]\nname = \"legacy\"\nkind = \"crossdock\"\nrole = \"erp\"\n\
         url = \"http://127.0.0.1:9\"\nbusiness_units = {other}\n"
    )
}

/// The hub's log once it holds `text` (panics after 15 s).
async fn logged(log: &std::path::Path, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let said = std::fs::read_to_string(log).unwrap_or_default();
        if said.contains(text) {
            return said;
        }
        assert!(
            Instant::now() < deadline,
            "the log never said {text:?}:\n{said}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn hangup(pid: u32) {
    let sent = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_moves_a_business_unit_and_refuses_a_new_erp() {
    let dir = std::env::temp_dir().join(format!("crossdock-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("hub.db");
    let config = dir.join("crossdock.toml");
    let base_text = crossdock_engine::config::EXAMPLE.replace(
        "sqlite://crossdock.db",
        &format!("sqlite://{}", db.display()),
    );
    std::fs::write(
        &config,
        format!("{base_text}{}", erps(&dir, "[\"east\"]", "[\"west\"]")),
    )
    .unwrap();
    let port = free_port();
    let log = dir.join("hub.log");
    let mut hub = serve_logging(&config, port, &log, "info");
    let http = crossdock_connectors::tls::builder().build().unwrap();
    wait_ready(&http, &format!("http://127.0.0.1:{port}")).await;
    logged(&log, "east → netsuite; west → legacy").await;

    std::fs::write(
        &config,
        format!(
            "{base_text}{}",
            erps(&dir, "[\"south\"]", "[\"west\", \"east\"]")
        ),
    )
    .unwrap();
    hangup(hub.id());
    logged(&log, "east → legacy; south → netsuite; west → legacy").await;

    // A third ERP cannot be started by a reload.
    let third = "\n[[connectors]]\nname = \"third\"\nkind = \"crossdock\"\nrole = \"erp\"\n\
                 url = \"http://127.0.0.1:9\"\nbusiness_units = [\"north\"]\n";
    std::fs::write(
        &config,
        format!(
            "{base_text}{}{third}",
            erps(&dir, "[\"south\"]", "[\"west\"]")
        ),
    )
    .unwrap();
    hangup(hub.id());
    let said = logged(&log, "the configuration was not taken").await;
    assert!(
        said.contains("adding or removing an ERP takes a restart"),
        "{said}"
    );
    assert!(hub.try_wait().unwrap().is_none(), "the hub keeps running");
    hub.kill().unwrap();
    let _ = hub.wait();
    crossdock_store::sqlite::remove_files(&db);
}
