-- A grant made by picking a co-collaborator by id (the people picker) does not tell the grantor
-- the grantee's address: by_address is false until someone shares the document with that address.
ALTER TABLE document_permissions ADD COLUMN by_address boolean NOT NULL DEFAULT true;
