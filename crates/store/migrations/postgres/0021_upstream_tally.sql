-- How many exchange items are in each state, kept by a trigger (issue 17 §5): the exchange page showed counts from
-- a GROUP BY over every item ever queued — two per record and evaluation, tens of millions in a big county —
-- which took seconds. The tally changes in the same transaction as the items, so it is exact.
CREATE TABLE upstream_tally (
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (kind, state)
);
INSERT INTO upstream_tally (kind, state, n) SELECT kind, state, COUNT(*) FROM upstream_item GROUP BY kind, state;

CREATE FUNCTION upstream_tally_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.kind = NEW.kind AND OLD.state = NEW.state THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE upstream_tally SET n = n - 1 WHERE kind = OLD.kind AND state = OLD.state;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO upstream_tally (kind, state, n) VALUES (NEW.kind, NEW.state, 1)
        ON CONFLICT (kind, state) DO UPDATE SET n = upstream_tally.n + 1;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER upstream_tally_change AFTER INSERT OR DELETE OR UPDATE OF kind, state ON upstream_item
    FOR EACH ROW EXECUTE FUNCTION upstream_tally_count();

-- The oldest item still to send, per kind and state, is the first entry of this index.
CREATE INDEX upstream_item_pending_age ON upstream_item (kind, state, created_at) WHERE state IN ('waiting', 'sent');
