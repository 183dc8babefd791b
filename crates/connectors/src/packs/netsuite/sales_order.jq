# A crossdock order as a NetSuite sales order (REST record API), upserted by its external id,
# our order id. Reads {connector, order, bindings: {customer, items: {SKU: internal id}}};
# crossdock checks that every binding is there before this runs.
.order as $o
| .bindings as $b
| {
    externalId: $o.id,
    entity: {id: $b.customer},
    otherRefNum: $o.external_id,
    memo: "\($o.channel) order \($o.external_id)",
    currency: {refName: $o.currency},
    item: {
      items: [
        $o.lines[]
        | {item: {id: $b.items[.sku]}, quantity: .qty, rate: (.unit_price | tonumber)}
      ]
    },
    shippingAddress: (
      $o.ship_to
      | {addressee: .name, addr1: .line1, addr2: .line2, city: .city, state: .region,
         zip: .postal_code, country: .country}
      | with_entries(select(.value != null))
    )
  }
