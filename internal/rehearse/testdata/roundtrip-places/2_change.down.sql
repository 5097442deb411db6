-- forgets the index and the old column, and widens the note too far
ALTER TABLE orders ALTER COLUMN note TYPE varchar(30);
