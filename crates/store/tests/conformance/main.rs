//! The store conformance suite: every test runs against SQLite and against PostgreSQL.

mod bindings;
#[path = "../harness/mod.rs"]
mod harness;
mod inventory;
mod jobs;
mod keys;
mod orders;
mod prices;
mod routing;
mod subscriptions;
mod trace;

use crossdock_domain::JobKind;
use std::collections::HashSet;

use bindings::*;
use crossdock_domain::ledger::{AdvanceOrder, Command, EventChange, NewJob, Outcome, StockEvent};
use crossdock_domain::order_state::OrderState;
use crossdock_domain::stock::{Bucket, StockChange};
use crossdock_domain::{ChannelCode, Delta, Level, OrderId, Qty, ReservationId, Timestamp};
use crossdock_store::{JobFinish, Store};
use harness::*;
use inventory::*;
use jobs::*;
use keys::*;
use orders::*;
use prices::*;
use routing::*;
use subscriptions::*;
use trace::*;

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(super::harness::sqlite().await).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if let Some(h) = super::harness::postgres(3).await {
                        super::$name(h).await
                    }
                }
            )*
        }
    };
}

conformance!(
    racing_reservations_take_exactly_the_stock,
    racing_instances_respect_the_channel_cap,
    a_storm_of_duplicate_events_applies_once,
    events_older_than_a_snapshot_are_stale,
    the_event_log_is_gap_free_and_filterable,
    release_and_expiry_return_units_once,
    a_pick_consumes_the_reservation_it_names,
    expected_receipts_round_trip,
    unknown_skus_are_rejected_and_not_remembered,
    reopening_keeps_everything,
    a_storm_of_the_same_order_makes_one_order,
    a_replay_answers_with_the_first_answers_bytes,
    an_order_is_kept_with_its_history_and_jobs,
    a_reused_idempotency_key_with_another_body_conflicts,
    expired_idempotency_keys_are_forgotten_but_natural_keys_are_not,
    racing_workers_take_each_job_once,
    a_lapsed_lease_is_taken_over_and_the_old_holder_cannot_finish,
    a_retried_job_waits_for_its_time_and_a_failed_one_stays_put,
    a_failed_job_opens_an_exception_that_can_be_retried_and_resolved,
    an_order_moves_once_with_its_history_and_next_jobs,
    cancelling_a_posted_order_releases_stock_and_queues_the_erp_cancellation,
    a_parcel_after_a_pick_that_used_up_a_reservation_takes_the_picked_units,
    a_read_filtered_by_type_looks_at_a_bounded_window,
    bindings_are_set_changed_paged_and_looked_up,
    keys_are_made_named_once_marked_used_and_revoked,
    racing_writers_leave_one_binding_per_key,
    deliveries_are_queued_leased_finished_and_replayed,
    racing_senders_lease_each_delivery_once,
    deleting_while_senders_finish_leaves_nothing_behind,
    an_order_stays_with_the_erp_its_first_job_was_routed_to,
    prices_are_set_pushed_acknowledged_and_paged,
    jobs_carry_their_transaction_and_a_trace_gathers_it,
);
