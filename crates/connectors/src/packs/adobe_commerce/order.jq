# An Adobe Commerce order, as GET /V1/orders lists it, as a crossdock order; a cancelled one
# cancels ours, and one already complete or closed in Adobe Commerce is passed over.
# Reads: .channel (the connector's), .payload (Adobe Commerce's order).
.channel as $channel
| .payload as $o
| ($o.entity_id // error("an Adobe Commerce order without entity_id")) as $id
| if $o.state == "canceled" then
    {cancel: {external_id: ($id | tostring), reason: "cancelled in Adobe Commerce (\($o.increment_id // $id))"}}
  elif ($o.state == "complete" or $o.state == "closed") then
    {ignore: "order \($o.increment_id // $id) is \($o.state) in Adobe Commerce"}
  else
    ($o.extension_attributes.shipping_assignments[0].shipping.address
      // error("Adobe Commerce order \($o.increment_id // $id) has no shipping address (crossdock takes in orders that ship)")) as $to
    | ([$o.items[] | {key: (.item_id | tostring), value: .product_type}] | from_entries) as $types
    # What ships: top-level items, except a bundle, whose children ship instead.
    | [$o.items[]
        | select(.is_virtual != 1 and .product_type != "virtual" and .product_type != "downloadable")
        | select(if .parent_item_id == null then .product_type != "bundle"
                 else $types[.parent_item_id | tostring] == "bundle" end)] as $lines
    | {order: {
        channel: $channel,
        external_id: ($id | tostring),
        customer: {
          id: (($o.customer_id // $o.customer_email // error("Adobe Commerce order \($o.increment_id // $id) has no customer and no email")) | tostring),
          email: $o.customer_email
        },
        currency: ($o.order_currency_code // $o.base_currency_code),
        lines: [
          $lines[]
          | . as $line
          | {
              sku: ($line.sku // "" | if . == "" then error("item \($line.item_id // "?") of Adobe Commerce order \($o.increment_id // $id) has no SKU") else . end),
              qty: ($line.qty_ordered | floor),
              unit_price: ($line.price // 0 | tostring)
            }
        ],
        ship_to: {
          name: ([$to.firstname, $to.lastname] | map(select(. != null and . != "")) | join(" ")),
          line1: ($to.street[0] // null),
          line2: ($to.street[1] // null),
          city: $to.city,
          region: ($to.region_code // $to.region),
          postal_code: $to.postcode,
          country: $to.country_id
        },
        tax: (if ($o.tax_amount // 0) > 0 then {amount: ($o.tax_amount | tostring)} else null end)
      }}
  end
