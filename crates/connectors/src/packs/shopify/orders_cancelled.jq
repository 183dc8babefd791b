# Shopify's orders/cancelled webhook: cancel the order on the connector's channel.
{cancel: {external_id: (.payload.id | tostring), reason: (.payload.cancel_reason // "cancelled in Shopify")}}
