-- Who holds an outbox message's lease: a worker's claim writes a fresh token here, and its
-- "sent" or "failed" counts only while the token is still its own (a send that outlived its
-- lease and was taken over by another worker changes nothing).
alter table outbox add column claim_token text;
