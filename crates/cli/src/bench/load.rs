//! Load over HTTP: keep-alive connections posting or reading as fast as the hub answers.

use super::*;

/// The key every benchmark request carries, so the gate's check (key, scope, bucket) is on
/// the measured path as it is on a real hub's.
static KEY: std::sync::LazyLock<String> = std::sync::LazyLock::new(crossdock_http::keys::generate);

/// A client for `connections` keep-alive connections to a benchmark's hub, sending [`KEY`].
pub(crate) fn client(connections: usize) -> anyhow::Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {}", *KEY).parse()?,
    );
    Ok(crossdock_connectors::tls::builder()
        .pool_max_idle_per_host(connections)
        .default_headers(headers)
        .build()?)
}

/// Gives `store` the benchmark's key ([`KEY`], admin, at the highest rate), before its hub
/// starts.
pub(super) async fn admit(store: &AnyStore) -> anyhow::Result<()> {
    let new = crossdock_http::keys::NewKey {
        name: "bench".into(),
        scopes: vec![crossdock_domain::Scope::Admin],
        rate_per_sec: Some(crossdock_http::keys::MAX_RATE),
        system: None,
    };
    crossdock_http::keys::create_with(store, new, &[], KEY.clone()).await?;
    Ok(())
}

/// GET availability over `connections` keep-alive connections for `secs`.
pub(super) async fn ats_http(base: &str, connections: usize, secs: u64) -> anyhow::Result<Row> {
    let client = client(connections)?;
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (client, base) = (client.clone(), base.to_string());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(100_000);
            let mut i = c;
            while Instant::now() < deadline {
                let t = Instant::now();
                let url = format!("{base}/v1/availability/{}?channel=web", sku(i % SKUS));
                let res = client.get(url).send().await?;
                anyhow::ensure!(res.status().is_success(), "status {}", res.status());
                res.bytes().await?;
                lat.push(t.elapsed().as_micros() as u64);
                i += connections;
            }
            Ok(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort_unstable();
    Ok(Row {
        name: format!("ATS reads, HTTP ({connections} conns)"),
        ops: all.len() as u64,
        secs,
        baseline: None,
        latency: Some((percentile_ms(&all, 50.0), percentile_ms(&all, 99.0))),
        per_commit: None,
    })
}

/// POST reservations over `connections` connections.
pub(super) async fn reserve_http(
    base: &str,
    n: u64,
    connections: usize,
    label: &str,
) -> anyhow::Result<Row> {
    let body = |i: u64| {
        json!({"sku": sku(i as usize % SKUS).as_str(), "qty": 1, "channel": "b2b",
               "order_ref": format!("h{i}"), "ttl_seconds": 0})
    };
    post_http(
        base,
        "/v1/reservations",
        n,
        connections,
        label,
        body,
        |_| true,
    )
    .await
}

/// POSTs `n` bodies made by `body` to `path` over `connections` keep-alive connections;
/// fails on any answer but 201 with a body `taken` accepts. Latency is per request.
pub(super) async fn post_http(
    base: &str,
    path: &str,
    n: u64,
    connections: usize,
    label: &str,
    body: impl Fn(u64) -> serde_json::Value + Send + Sync + 'static,
    taken: fn(&serde_json::Value) -> bool,
) -> anyhow::Result<Row> {
    let request = move |i: u64| Request {
        headers: vec![("content-type", "application/json".to_string())],
        body: serde_json::to_vec(&body(i)).expect("plain JSON"),
    };
    post_raw(
        base,
        path,
        n,
        connections,
        label,
        request,
        reqwest::StatusCode::CREATED,
        taken,
    )
    .await
}

/// One request's headers and body.
pub(super) struct Request {
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// POSTs `n` requests made by `request` to `path` over `connections` keep-alive
/// connections; fails on any answer but `expect` with a body `taken` accepts.
#[allow(clippy::too_many_arguments)]
pub(super) async fn post_raw(
    base: &str,
    path: &str,
    n: u64,
    connections: usize,
    label: &str,
    request: impl Fn(u64) -> Request + Send + Sync + 'static,
    expect: reqwest::StatusCode,
    taken: fn(&serde_json::Value) -> bool,
) -> anyhow::Result<Row> {
    let client = client(connections)?;
    let url = format!("{base}{path}");
    let (next, request) = (Arc::new(AtomicU64::new(0)), Arc::new(request));
    let pb = bar(n, label);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, url, next, pb, request) = (
            client.clone(),
            url.clone(),
            next.clone(),
            pb.clone(),
            request.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, anyhow::Error>(lat);
                }
                let Request { headers, body } = request(i);
                let t = Instant::now();
                let mut req = client.post(&url).body(body);
                for (name, value) in headers {
                    req = req.header(name, value);
                }
                let res = req.send().await?;
                let status = res.status();
                let answer: serde_json::Value = res.json().await?;
                lat.push(t.elapsed().as_micros() as u64);
                anyhow::ensure!(
                    status == expect && taken(&answer),
                    "status {status}: {answer}"
                );
                if i % 256 == 0 {
                    pb.set_position(i);
                }
            }
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    let secs = start.elapsed().as_secs_f64();
    pb.finish_and_clear();
    all.sort_unstable();
    Ok(Row {
        name: label.into(),
        ops: n,
        secs,
        baseline: None,
        latency: Some((percentile_ms(&all, 50.0), percentile_ms(&all, 99.0))),
        per_commit: None,
    })
}
