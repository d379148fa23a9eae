-- Public links are a secret token per document, not the document id: the token is NULL while the
-- link is off and replaced by a new one when the link is turned on again or reset.
-- public_link_seq is the document's seq when the current token was made: whoever opens the
-- document through the link reads no history, version or catch-up from before it.
ALTER TABLE documents ADD COLUMN public_link_token TEXT;
ALTER TABLE documents ADD COLUMN public_link_seq INTEGER NOT NULL DEFAULT 0;
-- Documents already public get a token now (their old id-only links stop working).
UPDATE documents SET public_link_token = lower(hex(randomblob(24))), public_link_seq = seq
    WHERE public_sharing_enabled = 1;

-- Display names are never made from e-mail addresses any more. Invited users had the local part
-- of their address as a name: they have none until they register.
UPDATE users SET name = '' WHERE password_hash IS NULL;
-- Accounts registered without a name got the local part of their address (addresses are stored
-- lower-cased, so the name is exactly that): give them a neutral one (they can choose another
-- with PATCH /auth/me). A name typed differently, even only in case, is kept.
UPDATE users SET name = 'User ' || substr(replace(id, '-', ''), 1, 6)
    WHERE password_hash IS NOT NULL
      AND instr(email, '@') > 1
      AND name = substr(email, 1, instr(email, '@') - 1);
