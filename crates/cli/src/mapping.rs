//! `crossdock mapping test`: runs one connector's mapping for one operation on an input file
//! and prints what it gives, or why not, as the hub would run it. And the mappings check that
//! `check-config` makes: every mapping compiles.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use crossdock_connectors::mapping::Mapping;
use crossdock_engine::Config;

/// What `mapping` can do.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Run a connector's mapping for an operation on an input file and print its output.
    Test(TestArgs),
}

/// Which mapping, on what.
#[derive(clap::Args)]
pub struct TestArgs {
    #[command(flatten)]
    config: crate::ConfigArg,
    /// The connector (its `name` under `[[connectors]]`).
    #[arg(long)]
    connector: String,
    /// The operation (a key of its `mappings`).
    #[arg(long)]
    operation: String,
    /// A JSON file to give the mapping.
    #[arg(long)]
    input: PathBuf,
}

/// A mapping's file: as written, relative to the configuration file's folder.
fn mapping_path(config_file: &Path, written: &Path) -> PathBuf {
    match config_file.parent() {
        Some(dir) if written.is_relative() => dir.join(written),
        _ => written.to_path_buf(),
    }
}

/// Compiles every connector's mappings; names each that does not compile.
pub fn check_all(config: &Config, config_file: &Path) -> anyhow::Result<usize> {
    let mut errors = Vec::new();
    let mut compiled = 0;
    for c in &config.connectors {
        for (operation, file) in &c.mappings {
            match Mapping::load(&mapping_path(config_file, file)) {
                Ok(_) => compiled += 1,
                Err(e) => errors.push(format!("connector {} mapping {operation}: {e}", c.name)),
            }
        }
    }
    if !errors.is_empty() {
        bail!("{}", errors.join("\n"));
    }
    Ok(compiled)
}

/// Runs `mapping test`.
pub fn run(command: Command, config: Config) -> anyhow::Result<()> {
    let Command::Test(args) = command;
    let connector = config
        .connectors
        .iter()
        .find(|c| c.name == args.connector)
        .with_context(|| {
            let names: Vec<&str> = config.connectors.iter().map(|c| c.name.as_str()).collect();
            format!(
                "no connector `{}` under [[connectors]] (there are: {})",
                args.connector,
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )
        })?;
    let Some(file) = connector.mappings.get(&args.operation) else {
        let ops: Vec<&str> = connector.mappings.keys().map(String::as_str).collect();
        bail!(
            "connector {} has no mapping for `{}` (its mappings: {})",
            connector.name,
            args.operation,
            if ops.is_empty() {
                "none".to_string()
            } else {
                ops.join(", ")
            }
        );
    };
    let mapping = Mapping::load(&mapping_path(&args.config.config, file))?;
    let text = std::fs::read_to_string(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let input: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", args.input.display()))?;
    let output = mapping.run(&input)?;
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(())
}

/// The configuration file `mapping test` was given.
pub fn config_file(command: &Command) -> &Path {
    let Command::Test(args) = command;
    &args.config.config
}
