-- One number that changes whenever the institutions or their registered purposes change, so a web process may
-- keep what it made of that reference data (who receives each category and why) and still show what the
-- database holds now: it reads the number in the same statement as the person's own data, and reads the data
-- again only when the number is not the one it kept. See docs/decisions/0013-reference-data-version.md.
--
-- The number comes from a sequence, never from version + 1: a sequence value is never handed out twice, even
-- when the transaction that took it rolls back, so a number a process saw inside a transaction that rolled
-- back can never come to stand for other data later.
CREATE SEQUENCE reference_data_versions;

CREATE TABLE reference_data_version (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version bigint NOT NULL
);
INSERT INTO reference_data_version (version) VALUES (nextval('reference_data_versions'));

CREATE FUNCTION vitrine_reference_data_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reference_data_version SET version = nextval('reference_data_versions');
    RETURN NULL;
END
$$;

-- Per statement: a change of many rows is one new version.
CREATE TRIGGER organisations_reference_data_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON organisations
    FOR EACH STATEMENT EXECUTE FUNCTION vitrine_reference_data_changed();
CREATE TRIGGER purposes_reference_data_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON purposes
    FOR EACH STATEMENT EXECUTE FUNCTION vitrine_reference_data_changed();

GRANT SELECT, UPDATE ON reference_data_version TO vitrine_app;
GRANT USAGE ON SEQUENCE reference_data_versions TO vitrine_app;
