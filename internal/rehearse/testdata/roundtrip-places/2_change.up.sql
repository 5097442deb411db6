-- widen the note, index it, drop the old column
ALTER TABLE orders ALTER COLUMN note TYPE varchar(20);

CREATE INDEX orders_note_idx ON orders (note);
ALTER TABLE orders DROP COLUMN legacy;
