-- How many exchange items are in each state, kept by triggers (issue 17 §5): the exchange page showed counts from
-- a GROUP BY over every item ever queued — two per record and evaluation, tens of millions in a big county —
-- which took seconds. The tally changes in the same transaction as the items, so it is exact.
CREATE TABLE upstream_tally (
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (kind, state)
);
INSERT INTO upstream_tally (kind, state, n) SELECT kind, state, COUNT(*) FROM upstream_item GROUP BY kind, state;

CREATE TRIGGER upstream_tally_insert AFTER INSERT ON upstream_item BEGIN
    INSERT INTO upstream_tally (kind, state, n) VALUES (NEW.kind, NEW.state, 1)
    ON CONFLICT (kind, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER upstream_tally_update AFTER UPDATE OF kind, state ON upstream_item
WHEN OLD.kind IS NOT NEW.kind OR OLD.state IS NOT NEW.state BEGIN
    UPDATE upstream_tally SET n = n - 1 WHERE kind = OLD.kind AND state = OLD.state;
    INSERT INTO upstream_tally (kind, state, n) VALUES (NEW.kind, NEW.state, 1)
    ON CONFLICT (kind, state) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER upstream_tally_delete AFTER DELETE ON upstream_item BEGIN
    UPDATE upstream_tally SET n = n - 1 WHERE kind = OLD.kind AND state = OLD.state;
END;

-- The oldest item still to send, per kind and state, is the first entry of this index.
CREATE INDEX upstream_item_pending_age ON upstream_item (kind, state, created_at) WHERE state IN ('waiting', 'sent');
