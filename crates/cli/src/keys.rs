//! `crossdock keys create|list|revoke`: API keys, straight in the configured store. A key is
//! printed once, on its own line on stdout (`KEY=$(crossdock keys create …)`); only its hash
//! is kept. A running `serve` sees a change within a second.

use std::path::Path;

use anyhow::{Context, bail};
use crossdock_domain::Scope;
use crossdock_engine::Config;
use crossdock_http::keys::{self, KeyError, NewKey};
use crossdock_store::{AnyStore, KeyStore};

/// What `keys` can do.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Make a key and print it (once).
    Create(CreateArgs),
    /// List the keys: name, prefix, scopes, rate, system, made, last used, revoked.
    List(crate::ConfigArg),
    /// Revoke a key by name: refused from then on.
    Revoke(RevokeArgs),
}

/// The key to make.
#[derive(clap::Args)]
pub struct CreateArgs {
    #[command(flatten)]
    config: crate::ConfigArg,
    /// Its name (letters, digits, `.`, `_`, `-`), unique among live keys.
    #[arg(long)]
    name: String,
    /// What it may do, comma-separated: orders:write, orders:read, inventory:write,
    /// availability:read, ops:read, ops:write, admin.
    #[arg(long, required = true, value_parser = parse_scopes)]
    scopes: Vec<Vec<Scope>>,
    /// Requests a second it may make (default: `[server] key_rate_per_sec`).
    #[arg(long)]
    rate_per_sec: Option<u32>,
    /// The system it writes as (a connector, a configured system, or an owner named in
    /// `[ownership]`): `[ownership]` applies to it.
    #[arg(long)]
    system: Option<String>,
}

/// The key to revoke.
#[derive(clap::Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    config: crate::ConfigArg,
    /// Its name.
    name: String,
}

fn parse_scopes(s: &str) -> Result<Vec<Scope>, String> {
    let scopes = Scope::parse_list(s)
        .map_err(|bad| format!("`{bad}` is none of {}", keys::scope_names()))?;
    if scopes.is_empty() {
        return Err(format!("name at least one of {}", keys::scope_names()));
    }
    Ok(scopes)
}

/// The configuration file the command reads.
pub fn config_file(command: &Command) -> &Path {
    match command {
        Command::Create(args) => &args.config.config,
        Command::List(config) => &config.config,
        Command::Revoke(args) => &args.config.config,
    }
}

/// Runs `command` against `config`'s store.
pub async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    let store = AnyStore::open(&config.store.url)
        .await
        .context("cannot open the store")?;
    match command {
        Command::Create(args) => {
            let mut scopes: Vec<Scope> = args.scopes.into_iter().flatten().collect();
            scopes.sort();
            scopes.dedup();
            let new = NewKey {
                name: args.name,
                scopes,
                rate_per_sec: args.rate_per_sec,
                system: args.system,
            };
            let (key, kept) = match keys::create(&store, new, &config.writers()).await {
                Ok(made) => made,
                Err(KeyError::Store(e)) => return Err(e).context("cannot write the key"),
                Err(e) => bail!("{e}"),
            };
            println!("{key}");
            let rate = kept.rate_per_sec.unwrap_or(config.server.key_rate_per_sec);
            eprintln!(
                "key {} made: {}, {rate} requests/s{}. It is shown once; only its hash is kept.",
                kept.name,
                scope_list(&kept.scopes),
                kept.system
                    .map(|s| format!(", writes as {s}"))
                    .unwrap_or_default(),
            );
        }
        Command::List(_) => {
            let listed = store.keys().await.context("cannot read the keys")?;
            if listed.is_empty() {
                println!("no keys: serve answers loopback clients only (protected mode)");
                return Ok(());
            }
            let when =
                |t: Option<crossdock_domain::Timestamp>| t.map_or("-".into(), |t| t.to_string());
            let rows = listed
                .into_iter()
                .map(|k| {
                    vec![
                        k.name,
                        format!("{}…", k.prefix),
                        scope_list(&k.scopes),
                        k.rate_per_sec
                            .unwrap_or(config.server.key_rate_per_sec)
                            .to_string(),
                        k.system.unwrap_or_else(|| "-".into()),
                        k.created_at.to_string(),
                        when(k.last_used_at),
                        when(k.revoked_at),
                    ]
                })
                .collect();
            let header = [
                "name",
                "key",
                "scopes",
                "rate/s",
                "system",
                "made",
                "last used",
                "revoked",
            ];
            println!("{}", crate::report::table(&header, rows));
        }
        Command::Revoke(args) => {
            let at = crossdock_engine::now();
            if !store
                .revoke_key(&args.name, at)
                .await
                .context("cannot revoke")?
            {
                bail!(
                    "no live key is named {} (`crossdock keys list` shows them)",
                    args.name
                );
            }
            println!(
                "key {} revoked; a running serve refuses it within a second",
                args.name
            );
        }
    }
    Ok(())
}

fn scope_list(scopes: &[Scope]) -> String {
    let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
    names.join(",")
}
