-- Full-text search. search_docs holds what was indexed of each document (its title and text as of
-- `seq`, the log seq they reflect); search_fts is an FTS5 index over it (external content: the
-- text is stored once, in search_docs, and the triggers keep the index in step). The explicit
-- INTEGER PRIMARY KEY keeps the rowids FTS5 refers to stable across VACUUM. A purged document's
-- row goes with it (cascade), and the delete trigger takes it out of the index.
CREATE TABLE search_docs (
    id         INTEGER PRIMARY KEY,
    doc_id     TEXT NOT NULL UNIQUE REFERENCES documents(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    indexed_at TEXT NOT NULL
);

CREATE VIRTUAL TABLE search_fts USING fts5(
    title, body,
    content='search_docs', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2'
);

CREATE TRIGGER search_docs_insert AFTER INSERT ON search_docs BEGIN
    INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;

CREATE TRIGGER search_docs_delete AFTER DELETE ON search_docs BEGIN
    INSERT INTO search_fts(search_fts, rowid, title, body)
    VALUES ('delete', old.id, old.title, old.body);
END;

CREATE TRIGGER search_docs_update AFTER UPDATE ON search_docs BEGIN
    INSERT INTO search_fts(search_fts, rowid, title, body)
    VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
END;
