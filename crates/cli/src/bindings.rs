//! `crossdock bindings import --connector NAME --kind KIND FILE.csv`: sets one connector's
//! bindings of one kind from a CSV file of two columns, our key then the system's id (an
//! export from the ERP, a spreadsheet). The file is read and checked whole before anything is
//! written, and a fault is named by its line; then the bindings are written in chunks, with a
//! progress bar, straight into the configured store.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use crossdock_domain::{Binding, BindingKind};
use crossdock_engine::Config;
use crossdock_engine::bindings::{Bindings, BindingsError, MAX_PUT};

/// What `bindings` can do.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Set a connector's bindings of one kind from a CSV file (`ours,theirs` per row).
    Import(ImportArgs),
}

/// Which bindings, from what.
#[derive(clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    config: crate::ConfigArg,
    /// The connector (its `name` under `[[connectors]]`).
    #[arg(long)]
    connector: String,
    /// What the rows bind: item (SKU), customer (account), location or order.
    #[arg(long, value_parser = parse_kind)]
    kind: BindingKind,
    /// Skip the first row, which names the columns. A first row of exactly `ours,theirs` is
    /// skipped without it.
    #[arg(long)]
    header: bool,
    /// The CSV file: our key in the first column, the system's id in the second.
    file: PathBuf,
}

fn parse_kind(s: &str) -> Result<BindingKind, String> {
    BindingKind::parse(s).ok_or_else(|| {
        let names: Vec<&str> = BindingKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("must be one of {}", names.join(", "))
    })
}

/// The configuration file the command reads.
pub fn config_file(command: &Command) -> &Path {
    match command {
        Command::Import(args) => &args.config.config,
    }
}

/// Reads the rows of `file` as bindings of `connector` of `kind`, each with its line number.
fn read(
    file: &Path,
    connector: &str,
    kind: BindingKind,
    header: bool,
) -> anyhow::Result<Vec<(u64, Binding)>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{} is not CSV", file.display()))?;
        let line = record.position().map_or(i as u64 + 1, |p| p.line());
        if i == 0
            && (header || (record.len() == 2 && &record[0] == "ours" && &record[1] == "theirs"))
        {
            continue;
        }
        if record.len() == 1 && record[0].is_empty() {
            continue;
        }
        if record.len() != 2 {
            bail!(
                "{} line {line}: give two columns, our key then the system's id; the row has {}",
                file.display(),
                record.len()
            );
        }
        rows.push((
            line,
            Binding {
                connector: connector.to_string(),
                kind,
                ours: record[0].to_string(),
                theirs: record[1].to_string(),
            },
        ));
    }
    if rows.is_empty() {
        bail!("{} holds no rows to import", file.display());
    }
    Ok(rows)
}

/// Runs the command.
pub async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    let Command::Import(args) = command;
    let rows = read(&args.file, &args.connector, args.kind, args.header)?;
    let store = crossdock_store::AnyStore::open(&config.store.url)
        .await
        .context("cannot open the store")?;
    let bindings = Bindings::new(store, config.connectors.iter().map(|c| c.name.clone()));
    // Checked whole first, so a bad row stops the import before anything is written.
    for chunk in rows.chunks(MAX_PUT) {
        let list: Vec<Binding> = chunk.iter().map(|(_, b)| b.clone()).collect();
        if let Err(BindingsError::Invalid(refused)) = bindings.check(&list) {
            let faults: Vec<String> = refused
                .iter()
                .map(|r| format!("line {}: {}: {}", chunk[r.index].0, r.field, r.detail))
                .collect();
            bail!(
                "{} cannot be imported; nothing was written:\n  {}",
                args.file.display(),
                faults.join("\n  ")
            );
        }
    }
    let bar = indicatif::ProgressBar::new(rows.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} bindings {msg}")
            .expect("a valid template"),
    );
    let mut changed = 0;
    for chunk in rows.chunks(MAX_PUT) {
        let list: Vec<Binding> = chunk.iter().map(|(_, b)| b.clone()).collect();
        changed += bindings.put(list).await.map_err(|e| {
            anyhow::anyhow!("{e} (the rows before line {} were written)", chunk[0].0)
        })?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    println!(
        "{} {} bindings for {} read, {changed} set or changed, {} already as given",
        rows.len(),
        args.kind,
        args.connector,
        rows.len() as u64 - changed
    );
    Ok(())
}
