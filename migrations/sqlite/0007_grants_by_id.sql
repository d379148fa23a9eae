-- A grant made by picking a co-collaborator by id (the people picker) does not tell the grantor
-- the grantee's address: by_address is 0 until someone shares the document with that address.
ALTER TABLE document_permissions ADD COLUMN by_address INTEGER NOT NULL DEFAULT 1;
