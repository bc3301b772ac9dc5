-- data mover projections.start: once every projection of {{consumer}} is
-- backfilled, one cursor per outbox it reads ({{outboxes}}), starting at the
-- backfill snapshot, then the relay runs until it has caught up with the
-- moment the action started:
INSERT INTO {{cursor}} (outbox, seq, snapshot)
VALUES (<outbox>, <low watermark>, <backfill snapshot>);
