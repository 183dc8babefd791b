# A crossdock order as a Business Central sales order (API v2.0), its lines inserted with it.
# Reads {connector, order, bindings: {customer: customer number, items: {SKU: item number}}};
# crossdock checks that every binding is there before this runs, and sets
# externalDocumentNumber to our order id whatever this gives.
.order as $o
| .bindings as $b
| {
    externalDocumentNumber: $o.id,
    customerNumber: $b.customer,
    currencyCode: $o.currency,
    salesOrderLines: [
      $o.lines[]
      | {lineType: "Item", lineObjectNumber: $b.items[.sku], quantity: .qty,
         unitPrice: (.unit_price | tonumber)}
    ]
  }
+ (
    $o.ship_to
    | {shipToName: .name, shipToAddressLine1: .line1, shipToAddressLine2: .line2,
       shipToCity: .city, shipToState: .region, shipToPostCode: .postal_code,
       shipToCountry: .country}
    | with_entries(select(.value != null))
  )
