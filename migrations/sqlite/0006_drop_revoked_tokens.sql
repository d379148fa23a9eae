-- Refresh tokens are single-use within sessions now (0003): the list of signed-out tokens is
-- no longer read.
DROP TABLE revoked_tokens;
