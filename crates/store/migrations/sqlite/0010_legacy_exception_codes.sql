-- Exceptions opened before every code was one of the ErrorCode vocabulary carry the
-- system's name in upper case: the storefront's become CHANNEL_UNAVAILABLE, and crossdock's
-- own runners (which fail that way only when the store does) STORE_UNAVAILABLE.
UPDATE exceptions SET code = 'CHANNEL_UNAVAILABLE' WHERE code = 'STOREFRONT_UNAVAILABLE';
UPDATE exceptions SET code = 'STORE_UNAVAILABLE'
 WHERE code IN ('SAGA_UNAVAILABLE', 'BACKORDERS_UNAVAILABLE', 'INVOICES_UNAVAILABLE',
                'SHIPMENTS_UNAVAILABLE');
