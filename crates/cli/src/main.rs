//! The `crossdock` binary: serve, migrate, check-config, print-config, demo, bench, sim.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use crossdock_engine::{Config, Shutdown};

mod bench;
mod bindings;
mod checkout;
mod demo;
mod estate;
mod fulfil;
mod keys;
mod mapping;
mod report;
mod restock;
mod wal_bench;

/// The hub allocates many small, short-lived values per request (bodies, rows, answers):
/// under glibc's allocator they took about a quarter of the hub's CPU in a profile of HTTP
/// intake; mimalloc cut the process's CPU for the same run by an eighth.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "crossdock",
    version,
    about = "Self-hosted sync hub between ERP, storefronts and warehouses"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the hub: apply migrations, then serve the API.
    Serve(ConfigArg),
    /// Apply pending database migrations and exit.
    Migrate(ConfigArg),
    /// Check a configuration file and summarise it.
    CheckConfig(ConfigArg),
    /// Print the example configuration, to start from.
    PrintConfig,
    /// Work with connectors' jq mappings.
    #[command(subcommand)]
    Mapping(mapping::Command),
    /// Work with bindings: our keys beside each connector's ids.
    #[command(subcommand)]
    Bindings(bindings::Command),
    /// Make, list and revoke API keys.
    #[command(subcommand)]
    Keys(keys::Command),
    /// Run a flash sale against a simulated estate on a fresh embedded store, and report.
    Demo(demo::Args),
    /// Measure reservations/s and ATS reads/s against raw-insert baselines.
    Bench(bench::Args),
    /// Run the simulated ERP, warehouse, payment, fraud, tax and storefront on consecutive
    /// ports, and print the configuration that points a hub at them.
    Sim(SimArgs),
}

/// Where the simulated systems listen.
#[derive(clap::Args)]
struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// The ERP's port; the warehouse, payment, fraud, tax and storefront take the next five.
    #[arg(long, default_value_t = 9100)]
    port: u16,
}

/// Where the configuration is.
#[derive(clap::Args)]
pub(crate) struct ConfigArg {
    /// Configuration file.
    #[arg(
        long,
        short,
        env = "CROSSDOCK_CONFIG",
        default_value = "crossdock.toml"
    )]
    pub(crate) config: PathBuf,
}

fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CROSSDOCK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(if json { "info" } else { "warn" }));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| Masked(std::io::stderr()));
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// A log writer that masks every email address in what it is given (an outside system's
/// error may quote one), so no log line holds one in full. The log formats each line whole
/// and writes it at once.
struct Masked<W>(W);

impl<W: std::io::Write> std::io::Write for Masked<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0
            .write_all(crossdock_domain::privacy::mask_emails(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

fn load(path: &std::path::Path) -> anyhow::Result<Config> {
    Config::load(path).with_context(|| format!("configuration {} is not valid", path.display()))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", explain(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// Waits for Ctrl-C (SIGINT) or SIGTERM, the signal containers and systemd stop a service
/// with, and names the one that came.
async fn stop_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            },
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch SIGTERM; only Ctrl-C stops the hub");
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

/// Reads the configuration again on each `SIGHUP` and moves business units between the
/// running ERPs as it says (anything else in it takes a restart).
async fn reload_on_sighup(
    path: std::path::PathBuf,
    router: std::sync::Arc<crossdock_engine::erp_router::ErpRouter>,
    shutdown: Shutdown,
) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hup = match signal(SignalKind::hangup()) {
            Ok(hup) => hup,
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch SIGHUP; moving a business unit takes a restart");
                return;
            }
        };
        loop {
            tokio::select! {
                _ = shutdown.wait() => return,
                got = hup.recv() => if got.is_none() { return },
            }
            let reloaded = load(&path)
                .map_err(|e| explain(&e))
                .and_then(|config| router.reload(&config));
            match reloaded {
                Ok(routes) => tracing::info!(%routes, file = %path.display(),
                    "SIGHUP: business units routed anew; orders already routed stay with their ERP"),
                Err(why) => tracing::warn!(%why, file = %path.display(),
                    "SIGHUP: the configuration was not taken; the routes stay as they were"),
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (path, router);
        shutdown.wait().await;
    }
}

/// The error and its causes on one line, each said once, without a backtrace.
fn explain(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(ConfigArg { config }) => {
            init_logs(true);
            let config_path = config.clone();
            let config = load(&config)?;
            let listener = tokio::net::TcpListener::bind(config.server.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.server.listen))?;
            let shutdown = Shutdown::new();
            let trigger = shutdown.clone();
            tokio::spawn(async move {
                let signal = stop_signal().await;
                tracing::info!(
                    signal,
                    "shutting down: finishing in-flight requests, commits and calls"
                );
                trigger.trigger();
            });
            let hub = crossdock_http::run(&config, listener, shutdown.clone()).await?;
            tracing::info!(
                url = %hub.base_url(),
                backend = hub.store().backend(),
                runners = hub.workers().tasks.len(),
                "crossdock serving"
            );
            if let Some(router) = hub.workers().erp_router.clone() {
                tokio::spawn(reload_on_sighup(config_path, router, shutdown));
            }
            hub.stopped().await?;
            tracing::info!("stopped");
        }
        Command::Migrate(ConfigArg { config }) => {
            init_logs(false);
            let config = load(&config)?;
            crossdock_store::AnyStore::open(&config.store.url)
                .await
                .context("migration failed")?;
            println!(
                "migrations applied to {}",
                crossdock_engine::config::redact_url(&config.store.url)
            );
        }
        Command::CheckConfig(ConfigArg { config }) => {
            let loaded = load(&config)?;
            let compiled = mapping::check_all(&loaded)
                .with_context(|| format!("configuration {} is not valid", config.display()))?;
            println!("ok: {}", config.display());
            print!("{}", loaded.summary());
            if compiled > 0 {
                println!("mappings: {compiled} compiled");
            }
            for (key, why) in loaded.unreadable_secrets() {
                println!("warning: {key}: {why} on this machine; serve will not start without it");
            }
        }
        Command::PrintConfig => print!("{}", crossdock_engine::config::EXAMPLE),
        Command::Mapping(command) => {
            let config = load(mapping::config_file(&command))?;
            mapping::run(command, config)?;
        }
        Command::Bindings(command) => {
            init_logs(false);
            let config = load(bindings::config_file(&command))?;
            bindings::run(command, config).await?;
        }
        Command::Keys(command) => {
            init_logs(false);
            let config = load(keys::config_file(&command))?;
            keys::run(command, config).await?;
        }
        Command::Demo(args) => {
            init_logs(false);
            demo::run(args).await?;
        }
        Command::Bench(args) => {
            init_logs(false);
            bench::run(args).await?;
        }
        Command::Sim(args) => {
            init_logs(false);
            let sims = crossdock_sim::SimSystems::start_at(&args.host, args.port)
                .await
                .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
            println!("# simulated systems; add to the hub's configuration:");
            for (name, url) in &sims.urls {
                println!("[{name}]\nurl = \"{url}\"\n");
            }
            println!(
                "# each takes PUT /_sim/faults {{\"fail_next\":3}} (delay_ms, down_for_ms, \
                 max_per_sec, commit_then_stall, stall_ms); the ERP takes PUT \
                 /_sim/credit/ACCOUNT {{\"hold\":true}}, the fraud service PUT /_sim/flagged \
                 [\"email\"]; Ctrl-C or SIGTERM stops them"
            );
            stop_signal().await;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn log_lines_never_hold_an_email_address_in_full() {
        let sink = Sink::default();
        let writer = sink.clone();
        let logs = tracing_subscriber::fmt()
            .json()
            .with_writer(move || Masked(writer.clone()))
            .finish();
        tracing::subscriber::with_default(logs, || {
            let error = "ERP refused (400): customer buyer@example.com is unknown";
            tracing::warn!(%error, order = "ord_1", "job failed: opened its exception");
        });
        let line = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert!(!line.contains("buyer@example.com"), "{line}");
        assert!(line.contains("b***@example.com is unknown"), "{line}");
        let read: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
        assert_eq!(
            read["fields"]["order"], "ord_1",
            "still one JSON line: {line}"
        );
    }
}
