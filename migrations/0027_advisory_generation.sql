-- A value every write to advisories, their packages, alias groups or the
-- KEV catalog changes in its own transaction: matching keeps prepared
-- advisory entries in memory and trusts them while this value is the one
-- they were read under. Taken from a sequence so that a rolled-back write
-- can never leave a value that a later write would reuse; the database's
-- own random id goes with it, so a process talking to several databases
-- (the test suite does) never takes one's entries for another's.
CREATE SEQUENCE advisory_generation_seq;
CREATE TABLE advisory_generation (
    only_row    boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    database_id uuid    NOT NULL DEFAULT gen_random_uuid(),
    generation  bigint  NOT NULL
);
INSERT INTO advisory_generation (generation) VALUES (nextval('advisory_generation_seq'));
