//! `crossdock mapping test`: runs one connector's mapping for one operation on an input file
//! and prints what it gives, or why not, as the hub would run it. And the mappings check that
//! `check-config` makes: every mapping compiles.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use crossdock_connectors::mapping::Mapping;
use crossdock_connectors::packs::{Inbound, InboundMappings, envelope, inbound_mappings};
use crossdock_engine::Config;
use crossdock_engine::config::ConnectorKind;

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
    /// The operation (a key of its `mappings`, or one its pack maps itself, e.g. NetSuite's
    /// `sales_order`); for a webhook connector, the topic, e.g. `orders/create`, whose
    /// mapping is its own or its pack's.
    #[arg(long)]
    operation: String,
    /// A JSON file to give the mapping (for a webhook connector, the payload as sent).
    #[arg(long)]
    input: PathBuf,
}

/// Compiles every connector's mappings (a webhook pack's own with the configured ones in
/// their place); names each that does not compile. Counts the configured ones.
pub fn check_all(config: &Config) -> anyhow::Result<usize> {
    let mut errors = Vec::new();
    let mut compiled = 0;
    for c in &config.connectors {
        if let Some(defaults) = inbound_mappings(c.kind) {
            match InboundMappings::compile(defaults, &c.mappings) {
                Ok(_) => compiled += c.mappings.len(),
                Err((topic, e)) => {
                    errors.push(format!("connector {} mapping {topic}: {e}", c.name))
                }
            }
            continue;
        }
        for (operation, file) in &c.mappings {
            match Mapping::load(file) {
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

/// `none`, or the names joined.
fn listed<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// Runs `mapping test`. A webhook connector's operation is a topic: the input is the payload
/// as the sender sends it, given to the mapping in the envelope the hub gives it, and what
/// the mapping gives is checked as the hub checks it.
pub fn run(command: Command, config: Config) -> anyhow::Result<()> {
    let Command::Test(args) = command;
    let connector = config
        .connectors
        .iter()
        .find(|c| c.name == args.connector)
        .with_context(|| {
            format!(
                "no connector `{}` under [[connectors]] (there are: {})",
                args.connector,
                listed(config.connectors.iter().map(|c| c.name.as_str()))
            )
        })?;
    let text = std::fs::read_to_string(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let input: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not JSON", args.input.display()))?;
    let topic = args.operation.as_str();
    if let Some(defaults) = inbound_mappings(connector.kind) {
        let mappings = InboundMappings::compile(defaults, &connector.mappings)
            .map_err(|(topic, e)| anyhow::anyhow!("mapping {topic}: {e}"))?;
        let Some(mapping) = mappings.for_topic(topic) else {
            bail!(
                "connector {} has no mapping for `{topic}` (its topics: {})",
                connector.name,
                listed(mappings.topics())
            );
        };
        let channel = connector.channel.as_deref();
        let output = mapping.run(&envelope(&connector.name, channel, topic, input))?;
        Inbound::read(output.clone())
            .map_err(|why| anyhow::anyhow!("the hub would park this delivery: {why}"))?;
        println!("{}", serde_json::to_string_pretty(&output)?);
        return Ok(());
    }
    // The configured mapping, else the pack's own for that operation.
    let own = pack_mappings(connector.kind)
        .iter()
        .find(|(op, ..)| *op == topic);
    let mapping = match (connector.mappings.get(topic), own) {
        (Some(file), _) => Mapping::load(file)?,
        (None, Some((_, name, code))) => Mapping::compile(name, code)?,
        (None, None) => bail!(
            "connector {} has no mapping for `{topic}` (its mappings: {})",
            connector.name,
            listed(
                (connector.mappings.keys().map(String::as_str))
                    .chain(pack_mappings(connector.kind).iter().map(|(op, ..)| *op))
            )
        ),
    };
    let output = mapping.run(&input)?;
    println!("{}", serde_json::to_string_pretty(&output)?);
    Ok(())
}

/// An outbound pack's own mappings: (operation, name, program).
fn pack_mappings(kind: ConnectorKind) -> &'static [(&'static str, &'static str, &'static str)] {
    match kind {
        ConnectorKind::Netsuite => crossdock_connectors::packs::netsuite::MAPPINGS,
        ConnectorKind::BusinessCentral => crossdock_connectors::packs::business_central::MAPPINGS,
        _ => &[],
    }
}

/// The configuration file `mapping test` was given.
pub fn config_file(command: &Command) -> &Path {
    let Command::Test(args) = command;
    &args.config.config
}
