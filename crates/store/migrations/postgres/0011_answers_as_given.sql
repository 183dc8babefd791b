-- An order's first answer is kept as the text it was given, so a replay (the same natural
-- key or Idempotency-Key) answers with the same bytes: JSONB kept the document in its own key
-- order and spacing. Orders taken in before keep their answer in `response`; both changes
-- leave the tables' rows where they are.
ALTER TABLE orders ADD COLUMN answer TEXT;
ALTER TABLE orders ALTER COLUMN response DROP NOT NULL;
ALTER TABLE idempotency_keys ADD COLUMN answer TEXT;
ALTER TABLE idempotency_keys ALTER COLUMN response DROP NOT NULL;
