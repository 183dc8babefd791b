# Shopify's order, as the orders/create webhook carries it, as a crossdock order.
# Reads: .channel (the connector's), .payload (Shopify's order).
.channel as $channel
| .payload as $o
| ($o.shipping_address // error("Shopify order \($o.id) has no shipping address (crossdock takes in orders that ship)")) as $to
| {order: {
    channel: $channel,
    external_id: ($o.id | tostring),
    customer: {
      id: (($o.customer.id // $o.email // error("Shopify order \($o.id) has no customer and no email")) | tostring),
      email: ($o.email // $o.contact_email // $o.customer.email)
    },
    currency: $o.currency,
    lines: [
      $o.line_items[]
      | select(.requires_shipping != false)
      | . as $line
      | {
          sku: ($line.sku // "" | if . == "" then error("line \($line.id // "?") of Shopify order \($o.id) has no SKU") else . end),
          qty: $line.quantity,
          unit_price: $line.price
        }
    ],
    ship_to: {
      name: ($to.name // ([$to.first_name, $to.last_name] | map(select(. != null)) | join(" "))),
      line1: $to.address1,
      line2: $to.address2,
      city: $to.city,
      region: $to.province_code,
      postal_code: $to.zip,
      country: $to.country_code
    },
    tax: (if ($o.total_tax // "0") | tonumber > 0 then {amount: $o.total_tax} else null end)
  }}
