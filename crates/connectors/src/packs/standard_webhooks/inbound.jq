# A Standard Webhooks delivery whose data is in crossdock's own shape, by its type:
#   shipment.*               data is a shipment (as POST /v1/shipments takes it)
#   stock.* / inventory.*    data is a stock event, or {events: [...]}
#   order.created            data is a canonical order
# Reads: .topic (the body's type), .payload (the body).
.payload.data as $data
| (.topic | split(".")) as $type
| if $type[0] == "shipment" then {shipment: $data}
  elif $type[0] == "stock" or $type[0] == "inventory" then
    {stock_events: (if ($data | type) == "object" and ($data | has("events")) then $data.events else [$data] end)}
  elif .topic == "order.created" then {order: $data}
  else {ignore: "crossdock does not take in \(.topic | if . == "" then "a delivery without a type" else . end)"}
  end
