# A crossdock shipment as a NetSuite item fulfillment, transformed from the order's sales
# order. Reads {connector, order, shipment, bindings: {items: {SKU: internal id}},
# sales_order: {id, lines: [{line, item, quantity, quantity_fulfilled}]}}: each line of the
# sales order takes what the shipment carries of its item, up to what is left to fulfil on
# it (an item on two lines fills the first first); a line the shipment does not reach is not
# received. The lines are NetSuite's own numbers, read from the sales order.
.order as $o
| .shipment as $s
| .bindings.items as $items
| (reduce $s.lines[] as $l ({}; .[$items[$l.sku]] = ((.[$items[$l.sku]] // 0) + $l.qty)))
    as $shipped
| (reduce .sales_order.lines[] as $line ({left: $shipped, items: []};
    (.left[$line.item] // 0) as $wanted
    | (($line.quantity // 0) - ($line.quantity_fulfilled // 0)) as $open
    | (if $wanted < $open then $wanted else $open end) as $take
    | if $take > 0 then
        .left[$line.item] = $wanted - $take
        | .items += [{orderLine: $line.line, quantity: $take, itemReceive: true}]
      else
        .items += [{orderLine: $line.line, itemReceive: false}]
      end
  )) as $plan
| {
    externalId: "\($o.id):\($s.shipment_id)",
    memo: ([
      "shipment \($s.shipment_id)",
      ($s.carrier | select(. != null) | "by \(.)"),
      ($s.tracking_number | select(. != null) | "tracking \(.)")
    ] | join(" ")),
    shipStatus: {id: "C"},
    item: {items: $plan.items}
  }
