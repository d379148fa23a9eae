-- Full-text search. search_docs holds what was indexed of each document: its title and text as of
-- `seq` (the log seq they reflect) and their tsvector under the 'simple' configuration (lower-cased
-- words, no stemming, no stop words: right for any language, see docstream/storage/postgres/
-- search.py), title words weighted A and text words B, with a GIN index. The body is cut to
-- 200,000 characters here too (the indexer already cuts it: a tsvector holds at most 1 MB). A
-- purged document's row goes with it (cascade).
CREATE TABLE search_docs (
    doc_id     UUID PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    indexed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    tsv        TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, title), 'A')
        || setweight(to_tsvector('simple'::regconfig, left(body, 200000)), 'B')
    ) STORED
);
CREATE INDEX search_docs_tsv ON search_docs USING GIN (tsv);
