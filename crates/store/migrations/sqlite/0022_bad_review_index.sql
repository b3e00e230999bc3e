-- The month's bad reviews, for their themes (issue 17 §5): without it the themes read every evaluation of three
-- months by time to keep the few percent that are bad reviews.
CREATE INDEX evaluation_bad_review ON evaluation (created_at)
    WHERE round = 1 AND level IN ('dissatisfied', 'very_dissatisfied');
