CREATE TABLE users (id bigint PRIMARY KEY);
CREATE TABLE audit (id bigint);
