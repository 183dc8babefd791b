//! SQLite's write-ahead log stays bounded while commits and reads never stop, and a clean
//! stop leaves none behind.

#[allow(dead_code)]
mod harness;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossdock_domain::Qty;
use crossdock_domain::stock::StockChange;
use crossdock_store::{AnyStore, SqliteStore, Store};
use harness::{estate, event, run_on};

const TARGET: u64 = 1 << 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_stays_bounded_under_reads_and_writes_and_is_gone_after_a_stop() {
    let path = std::env::temp_dir().join(format!("crossdock-wal-{}.db", ulid::Ulid::new()));
    let sqlite = SqliteStore::open_with_wal_target(&path, TARGET)
        .await
        .unwrap();
    let store = AnyStore::Sqlite(sqlite.clone());
    let estate = estate();
    let skus: Vec<String> = (0..50).map(|i| format!("SKU-{i}")).collect();
    let items = skus
        .iter()
        .map(|s| crossdock_domain::ledger::Command::UpsertItem {
            sku: crossdock_domain::Sku::parse(s).unwrap(),
            description: None,
        })
        .collect();
    run_on(&store, &estate, 0, items).await;

    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..3 {
        let (store, stop) = (store.clone(), stop.clone());
        readers.push(tokio::spawn(async move {
            let mut reads = 0u64;
            while !stop.load(Ordering::Relaxed) {
                store.events_after(0, 50, None).await.unwrap();
                store.load_states(None).await.unwrap();
                reads += 1;
            }
            reads
        }));
    }
    let started = Instant::now();
    let (mut written, mut most, mut batch) = (0u64, 0u64, 0u64);
    while started.elapsed() < Duration::from_secs(4) {
        let commands = (0..200)
            .map(|i| {
                let sku = &skus[(batch as usize * 7 + i) % skus.len()];
                event(
                    &format!("b{batch}-{i}"),
                    1,
                    sku,
                    "east",
                    StockChange::Receipt(Qty::of(1)),
                )
            })
            .collect();
        run_on(&store, &estate, 1, commands).await;
        batch += 1;
        let size = sqlite.wal_bytes();
        most = most.max(size);
        written += 200;
    }
    stop.store(true, Ordering::Relaxed);
    let mut reads = 0;
    for r in readers {
        reads += r.await.unwrap();
    }
    eprintln!("{written} events in {batch} batches, {reads} reads, largest WAL {most} bytes");
    assert!(reads > 10 && batch > 10, "the load really ran");
    // The WAL starts over past its target; between two looks of the writer it may run past
    // it a little. (Checkpointing passively alone, it reached 15-35 MB here.)
    assert!(
        most <= 3 * TARGET,
        "the WAL reached {most} bytes (target {TARGET})"
    );

    sqlite.checkpoint().await.unwrap();
    assert_eq!(
        sqlite.wal_bytes(),
        0,
        "a checkpoint at the stop truncates the WAL"
    );
    drop((store, sqlite));
    crossdock_store::sqlite::remove_files(&path);
}
