//! Version 1 of the API: one module per resource, each with its own router.

use crate::AppState;
use axum::Router;

pub mod availability;
pub mod bindings;
pub mod events;
pub mod exceptions;
pub mod fulfilment;
pub mod hooks;
pub mod inventory_events;
pub mod items;
pub mod jobs;
pub mod keys;
pub mod ops;
pub mod orders;
pub mod prices;
pub mod reservations;
pub mod subscriptions;
pub mod trace;

/// Every `/v1` route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(items::router())
        .merge(inventory_events::router())
        .merge(availability::router())
        .merge(reservations::router())
        .merge(events::router())
        .merge(orders::router())
        .merge(jobs::router())
        .merge(exceptions::router())
        .merge(fulfilment::router())
        .merge(hooks::router())
        .merge(bindings::router())
        .merge(prices::router())
        .merge(subscriptions::router())
        .merge(keys::router())
        .merge(ops::router())
        .merge(trace::router())
}

/// The cursor to a list's next page: the last item's id when the page is full (there may
/// be more), none when the list ended. Send it back as `?after=`.
pub(crate) fn next_page<T, K>(page: &[T], limit: i64, id: impl Fn(&T) -> K) -> Option<K> {
    (page.len() as i64 >= limit)
        .then(|| page.last().map(id))
        .flatten()
}

/// A query parameter that must name one of `all` (`as_str` gives each one's name): `None`
/// when absent, 422 listing the names when it names none of them.
pub(crate) fn one_of<T: Copy>(
    param: &str,
    value: Option<&str>,
    all: &[T],
    as_str: fn(T) -> &'static str,
) -> Result<Option<T>, crate::problem::Problem> {
    let Some(value) = value else {
        return Ok(None);
    };
    match all.iter().copied().find(|t| as_str(*t) == value) {
        Some(t) => Ok(Some(t)),
        None => {
            let names: Vec<&str> = all.iter().map(|t| as_str(*t)).collect();
            Err(crate::problem::Problem::invalid(format!(
                "{param} must be one of {}",
                names.join(", ")
            )))
        }
    }
}
