#include "backends/sqlite/migrations.h"

namespace khive::sqlite {

// Forward-only, versioned schema changes. Never edit a migration that has shipped: add one.
// Each runs in its own transaction together with its ledger row.
const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "core tables: entities, notes, edges, events",
       R"sql(
CREATE TABLE entities (
  id             TEXT PRIMARY KEY NOT NULL,
  namespace      TEXT NOT NULL CHECK (namespace <> ''),
  kind           TEXT NOT NULL CHECK (kind <> ''),
  entity_type    TEXT,
  name           TEXT NOT NULL CHECK (name <> ''),
  description    TEXT,
  properties     TEXT NOT NULL DEFAULT '{}' CHECK (json_type(properties) = 'object'),
  tags           TEXT NOT NULL DEFAULT '[]' CHECK (json_type(tags) = 'array'),
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL,
  deleted_at     INTEGER,
  merged_into    TEXT,
  merge_event_id TEXT
) WITHOUT ROWID;
CREATE INDEX entities_ns_created ON entities (namespace, created_at);
CREATE INDEX entities_ns_kind ON entities (namespace, kind, created_at);
CREATE INDEX entities_ns_name ON entities (namespace, name COLLATE NOCASE);

CREATE TABLE notes (
  id           TEXT PRIMARY KEY NOT NULL,
  namespace    TEXT NOT NULL CHECK (namespace <> ''),
  kind         TEXT NOT NULL CHECK (kind <> ''),
  status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
  name         TEXT,
  content      TEXT NOT NULL CHECK (content <> ''),
  salience     REAL CHECK (salience IS NULL OR (salience >= 0 AND salience <= 1)),
  decay_factor REAL CHECK (decay_factor IS NULL OR decay_factor >= 0),
  expires_at   INTEGER,
  properties   TEXT NOT NULL DEFAULT '{}' CHECK (json_type(properties) = 'object'),
  created_at   INTEGER NOT NULL,
  updated_at   INTEGER NOT NULL,
  deleted_at   INTEGER
) WITHOUT ROWID;
CREATE INDEX notes_ns_created ON notes (namespace, created_at);
CREATE INDEX notes_ns_kind ON notes (namespace, kind, created_at);

-- The table is clustered on its natural key (source, target, relation, namespace): the
-- outgoing edges of a node are one contiguous range of the table itself, so an out-hop reads
-- no index at all. `id` is unique through edges_id (time-ordered UUIDs: appends). edges_in
-- carries the primary key columns too, so an in-hop is covered by it alone.
--
-- endpoint_deleted counts the edge's soft-deleted endpoints (a self-loop counts twice), so
-- live-graph reads test one column instead of looking up both endpoints. The stores keep it
-- current (graph_store.cc computes it on insert; entity and note soft delete and revival
-- recompute it for the node's edges) rather than triggers: a trigger on these tables makes
-- SQLite open a statement journal for every row written, which more than halves the
-- batch-write rate. Raw SQL that changes deleted_at must call the stores' path instead.
CREATE TABLE edges (
  id               TEXT NOT NULL,
  namespace        TEXT NOT NULL CHECK (namespace <> ''),
  source_id        TEXT NOT NULL,
  target_id        TEXT NOT NULL,
  relation         TEXT NOT NULL CHECK (relation <> ''),
  weight           REAL NOT NULL DEFAULT 1.0 CHECK (weight >= 0 AND weight <= 1),
  metadata         TEXT NOT NULL DEFAULT '{}' CHECK (json_type(metadata) = 'object'),
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  deleted_at       INTEGER,
  endpoint_deleted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (source_id, target_id, relation, namespace)
) WITHOUT ROWID;
CREATE UNIQUE INDEX edges_id ON edges (id);
CREATE INDEX edges_in ON edges (target_id, namespace, relation, weight, deleted_at, endpoint_deleted);
CREATE INDEX edges_ns_created ON edges (namespace, created_at);

-- Hard delete of an entity or note removes every incident edge in the same transaction.
CREATE TRIGGER entities_hard_delete_edges AFTER DELETE ON entities
BEGIN
  DELETE FROM edges WHERE source_id = OLD.id OR target_id = OLD.id;
END;
CREATE TRIGGER notes_hard_delete_edges AFTER DELETE ON notes
BEGIN
  DELETE FROM edges WHERE source_id = OLD.id OR target_id = OLD.id;
END;

CREATE TABLE events (
  id          TEXT PRIMARY KEY NOT NULL,
  namespace   TEXT NOT NULL CHECK (namespace <> ''),
  verb        TEXT NOT NULL,
  substrate   TEXT NOT NULL CHECK (substrate IN ('entity', 'note', 'event')),
  actor       TEXT NOT NULL,
  kind        TEXT NOT NULL,
  outcome     TEXT NOT NULL CHECK (outcome IN ('success', 'denied', 'error')),
  payload     TEXT NOT NULL DEFAULT '{}' CHECK (json_type(payload) = 'object'),
  duration_us INTEGER NOT NULL DEFAULT 0,
  target_id   TEXT,
  session_id  TEXT,
  created_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX events_ns_created ON events (namespace, created_at, id);
CREATE INDEX events_target ON events (target_id) WHERE target_id IS NOT NULL;
CREATE INDEX events_session ON events (session_id) WHERE session_id IS NOT NULL;
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: an event cannot be updated'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only: an event cannot be deleted'); END;
)sql"},
      {2, "retrieval: text documents + FTS5, vectors + change log, sparse vectors",
       R"sql(
-- Text documents. text_fts is an external-content FTS5 index over them, so the document row is
-- the single copy of the text. The text store writes the index rows itself on insert and
-- update (a trigger there would put every row written through a statement journal); deletes,
-- including the cascade from a hard-deleted subject, go through the trigger below.
CREATE TABLE text_documents (
  doc_id     INTEGER PRIMARY KEY,
  subject_id TEXT NOT NULL UNIQUE,
  namespace  TEXT NOT NULL CHECK (namespace <> ''),
  kind       TEXT NOT NULL CHECK (kind <> ''),
  title      TEXT NOT NULL DEFAULT '',
  body       TEXT NOT NULL DEFAULT '',
  tags       TEXT NOT NULL DEFAULT '[]' CHECK (json_type(tags) = 'array'),
  metadata   TEXT NOT NULL DEFAULT '{}' CHECK (json_type(metadata) = 'object'),
  updated_at INTEGER NOT NULL
);
CREATE INDEX text_documents_ns_kind ON text_documents (namespace, kind);
CREATE VIRTUAL TABLE text_fts USING fts5(
  title, body, tags, content='text_documents', content_rowid='doc_id',
  tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER text_documents_fts_delete AFTER DELETE ON text_documents BEGIN
  INSERT INTO text_fts (text_fts, rowid, title, body, tags) VALUES ('delete', OLD.doc_id, OLD.title, OLD.body, OLD.tags);
END;

-- Dense vectors: the canonical copy (little-endian float32 blob). The dimension is fixed per
-- model by its first vector. A vector is never updated in place: replacing one deletes the row
-- and inserts a new one with a new vid (AUTOINCREMENT: vids are never reused), so the FAISS
-- index, keyed by vid, only ever sees additions and removals.
CREATE TABLE vector_spaces (
  model TEXT PRIMARY KEY NOT NULL CHECK (model <> ''),
  dims  INTEGER NOT NULL CHECK (dims > 0)
) WITHOUT ROWID;
CREATE TABLE vectors (
  vid        INTEGER PRIMARY KEY AUTOINCREMENT,
  subject_id TEXT NOT NULL,
  model      TEXT NOT NULL,
  field      TEXT NOT NULL CHECK (field <> ''),
  namespace  TEXT NOT NULL CHECK (namespace <> ''),
  kind       TEXT NOT NULL CHECK (kind <> ''),
  properties TEXT NOT NULL DEFAULT '{}' CHECK (json_type(properties) = 'object'),
  embedding  BLOB NOT NULL,
  UNIQUE (subject_id, model, field)
);
CREATE INDEX vectors_space ON vectors (model, field, namespace, kind);
CREATE TRIGGER vectors_no_update BEFORE UPDATE ON vectors
BEGIN SELECT RAISE(ABORT, 'vectors are replaced, not updated: delete the row and insert a new one'); END;

-- The change log the in-memory FAISS index catches up from. Every committed insert or delete
-- of a vector, by this process or another one (including the hard-delete triggers below),
-- appends (seq, vid, op); an index that has applied seq N is stale exactly when the log holds
-- a row of its (model, field) with seq > N.
CREATE TABLE vector_changes (
  seq   INTEGER PRIMARY KEY AUTOINCREMENT,
  model TEXT NOT NULL,
  field TEXT NOT NULL,
  vid   INTEGER NOT NULL,
  op    INTEGER NOT NULL CHECK (op IN (0, 1))  -- 1 added, 0 removed
);
CREATE INDEX vector_changes_space ON vector_changes (model, field, seq);
CREATE TRIGGER vectors_log_insert AFTER INSERT ON vectors BEGIN
  INSERT INTO vector_changes (model, field, vid, op) VALUES (NEW.model, NEW.field, NEW.vid, 1);
END;
CREATE TRIGGER vectors_log_delete AFTER DELETE ON vectors BEGIN
  INSERT INTO vector_changes (model, field, vid, op) VALUES (OLD.model, OLD.field, OLD.vid, 0);
END;
-- rebuildVectorIndex prunes the log up to the seq its fresh index holds and records that seq
-- here: an index (in any process) that has applied less than the floor has missed entries and
-- rebuilds from the table instead of catching up.
CREATE TABLE vector_log_floor (
  model     TEXT NOT NULL,
  field     TEXT NOT NULL,
  floor_seq INTEGER NOT NULL,
  PRIMARY KEY (model, field)
) WITHOUT ROWID;

-- Sparse vectors: the vector (terms as uint32 LE, weights as float32 LE) plus one posting per
-- non-zero term, so a search reads only the postings of the query's terms.
CREATE TABLE sparse_vectors (
  sid        INTEGER PRIMARY KEY,
  subject_id TEXT NOT NULL,
  model      TEXT NOT NULL CHECK (model <> ''),
  namespace  TEXT NOT NULL CHECK (namespace <> ''),
  kind       TEXT NOT NULL CHECK (kind <> ''),
  terms      BLOB NOT NULL,
  weights    BLOB NOT NULL,
  UNIQUE (subject_id, model)
);
CREATE TABLE sparse_postings (
  model  TEXT NOT NULL,
  term   INTEGER NOT NULL,
  sid    INTEGER NOT NULL,
  weight REAL NOT NULL,
  PRIMARY KEY (model, term, sid)
) WITHOUT ROWID;
CREATE INDEX sparse_postings_sid ON sparse_postings (sid);
CREATE TRIGGER sparse_vectors_postings_delete AFTER DELETE ON sparse_vectors BEGIN
  DELETE FROM sparse_postings WHERE sid = OLD.sid;
END;

-- Hard delete of an entity or note removes its text document and vectors in the same
-- transaction (soft delete keeps them: retrieval drops soft-deleted subjects when it fuses).
CREATE TRIGGER entities_hard_delete_retrieval AFTER DELETE ON entities BEGIN
  DELETE FROM text_documents WHERE subject_id = OLD.id;
  DELETE FROM vectors WHERE subject_id = OLD.id;
  DELETE FROM sparse_vectors WHERE subject_id = OLD.id;
END;
CREATE TRIGGER notes_hard_delete_retrieval AFTER DELETE ON notes BEGIN
  DELETE FROM text_documents WHERE subject_id = OLD.id;
  DELETE FROM vectors WHERE subject_id = OLD.id;
  DELETE FROM sparse_vectors WHERE subject_id = OLD.id;
END;
)sql"},
      {3, "partial indexes of soft-deleted entities and notes (cheap endpoint-state probes on edge writes)",
       R"sql(
CREATE INDEX entities_deleted ON entities (id) WHERE deleted_at IS NOT NULL;
CREATE INDEX notes_deleted ON notes (id) WHERE deleted_at IS NOT NULL;
)sql"},
      {4, "notes by name (a pattern's unlabeled start node looks notes up by name as well as entities)",
       R"sql(
CREATE INDEX notes_ns_name ON notes (namespace, name COLLATE NOCASE);
)sql"},
      {5, "edge id in edges_in: an in-hop (and a symmetric relation's other half of an out-hop) reads no table row",
       R"sql(
-- edges_in already carries the clustered key (source, target, relation, namespace); with the
-- id too, an in-hop answers (node, edge id, relation, weight) from the index alone instead of
-- seeking the table once per edge for its id.
DROP INDEX edges_in;
CREATE INDEX edges_in ON edges (target_id, namespace, relation, weight, deleted_at, endpoint_deleted, id);
)sql"},
  };
  return kMigrations;
}

}  // namespace khive::sqlite
