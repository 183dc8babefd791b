# Topics this pack does not take in: answered, counted, and otherwise left alone.
{ignore: "crossdock does not take in Shopify's \(.topic) webhook"}
