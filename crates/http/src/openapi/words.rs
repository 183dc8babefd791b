//! The document's named strings: the enums, each listed from the domain's own values (so a
//! code, state or event type added there is in the document at once), and the kinds of free
//! text the parsers take.

use std::borrow::Cow;

use utoipa::openapi::schema::{AnyOfBuilder, ObjectBuilder, Schema, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// Text with a character that is not white space, and no control character: what every
/// field read as a name or reference takes.
pub const NON_BLANK: &str = r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";

fn text(pattern: &str, max_length: Option<usize>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .max_length(max_length)
        .into()
}

fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values))
        .into()
}

/// A schema type for the document only: its schema, and the name it is listed under.
macro_rules! word {
    ($(#[$doc:meta])* $name:ident => $schema:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                $schema
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

word!(
    /// Not blank, no control characters.
    NonBlank => text(NON_BLANK, None)
);
word!(
    /// A free-text reference (a source, an event id, an order or PO reference): not blank,
    /// at most 128 characters, no control characters.
    Reference => text(NON_BLANK, Some(128))
);
word!(
    /// A SKU as the item master takes it: not blank, at most 64 characters.
    ItemSku => text(NON_BLANK, Some(crossdock_domain::Sku::MAX_LEN))
);
word!(
    /// An amount of money: a decimal with at most 12 digits before the point and 6 after.
    Decimal => text(r"^-?[0-9]{1,12}(\.[0-9]{1,6})?$", None)
);
word!(
    /// An ISO 4217 currency code.
    CurrencyCode => text("^[A-Z]{3}$", None)
);
word!(
    /// Every code an error or an exception can carry.
    ErrorCode => one_of(crossdock_domain::ErrorCode::ALL.iter().map(|c| c.as_str()))
);
word!(
    /// A span of time: a whole number and s, m, h or d (`90s`, `30m`, `1h`, `2d`).
    Span => text("^[1-9][0-9]{0,5}[smhd]$", None)
);
word!(
    /// How far back: a span back from now, or an RFC 3339 time.
    Since => AnyOfBuilder::new()
        .item(Ref::from_schema_name("Span"))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::DateTime,
                ))),
        )
        .into()
);
word!(
    /// What an API key may do.
    ScopeName => one_of(crossdock_domain::Scope::ALL.iter().map(|s| s.as_str()))
);
word!(
    /// An order's canonical state.
    OrderState => one_of(crossdock_domain::order_state::OrderState::ALL.iter().map(|s| s.as_str()))
);
word!(
    /// Where a job stands.
    JobState => one_of(crossdock_domain::JobState::ALL.iter().map(|s| s.as_str()))
);
word!(
    /// What a job does.
    JobKind => one_of(crossdock_domain::JobKind::ALL.iter().map(|k| k.as_str()))
);
word!(
    /// How one try of a job ended.
    JobOutcome => one_of(crossdock_domain::JobOutcome::ALL.iter().map(|o| o.as_str()))
);
word!(
    /// Where an exception stands.
    ExceptionStatus => one_of(crossdock_domain::ExceptionStatus::ALL.iter().map(|s| s.as_str()))
);
word!(
    /// What a stock event reports.
    StockEventKind => one_of(crossdock_domain::stock_events::KINDS.iter().copied())
);
word!(
    /// What a binding pairs.
    BindingKind => one_of(crossdock_domain::BindingKind::ALL.iter().map(|k| k.as_str()))
);
word!(
    /// Where a reservation stands.
    ReservationStatus => one_of(
        crossdock_domain::ledger::ReservationStatus::ALL.iter().map(|s| s.as_str())
    )
);
word!(
    /// A type of event the hub appends.
    EventType => one_of(crossdock_domain::event_types::EVENT_TYPES.iter().copied())
);
word!(
    /// How one delivery attempt ended.
    AttemptOutcome => one_of(crossdock_store::AttemptOutcome::ALL.iter().map(|o| o.as_str()))
);
word!(
    /// The kinds of outside system.
    System => one_of(crossdock_engine::config::SYSTEMS.iter().copied())
);

/// An entry of a list whose entries are each checked alone: documented as `T`, any value
/// taken (one that is not a `T` is refused by its index, and the rest apply).
fn entry(name: &str) -> RefOr<Schema> {
    AnyOfBuilder::new()
        .description(Some(format!(
            "An {name}. An item that is not one is refused alone: it is listed under \
             `rejected` with its index, code and reason, and the other items apply."
        )))
        .item(Ref::from_schema_name(name))
        .item(utoipa::openapi::schema::empty())
        .into()
}

word!(
    /// An entry of `POST /v1/items`.
    ItemEntry => entry("ItemIn")
);
word!(
    /// An entry of `POST /v1/inventory/events`.
    StockEventEntry => entry("StockEventIn")
);
word!(
    /// Any JSON value (a webhook's body, read as bytes and checked by its signature).
    AnyValue => utoipa::openapi::schema::empty().into()
);
word!(
    /// One SKU's availability: for one channel, or across them all.
    Availability => AnyOfBuilder::new()
        .item(Ref::from_schema_name("ChannelAvailability"))
        .item(Ref::from_schema_name("SkuAvailability"))
        .into()
);
