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

-- endpoint_deleted counts the edge's soft-deleted endpoints (a self-loop counts twice). The
-- triggers below keep it current, so live-graph reads test one column instead of looking up
-- both endpoints; the partial indexes then hold exactly the traversable edges.
CREATE TABLE edges (
  id               TEXT PRIMARY KEY NOT NULL,
  namespace        TEXT NOT NULL CHECK (namespace <> ''),
  source_id        TEXT NOT NULL,
  target_id        TEXT NOT NULL,
  relation         TEXT NOT NULL CHECK (relation <> ''),
  weight           REAL NOT NULL DEFAULT 1.0 CHECK (weight >= 0 AND weight <= 1),
  metadata         TEXT NOT NULL DEFAULT '{}' CHECK (json_type(metadata) = 'object'),
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  deleted_at       INTEGER,
  endpoint_deleted INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE UNIQUE INDEX edges_natural_key ON edges (namespace, source_id, target_id, relation);
CREATE INDEX edges_out ON edges (source_id, relation, target_id, weight, namespace)
  WHERE deleted_at IS NULL AND endpoint_deleted = 0;
CREATE INDEX edges_in ON edges (target_id, relation, source_id, weight, namespace)
  WHERE deleted_at IS NULL AND endpoint_deleted = 0;
CREATE INDEX edges_ns_created ON edges (namespace, created_at);
CREATE INDEX edges_any_source ON edges (source_id);
CREATE INDEX edges_any_target ON edges (target_id);

CREATE TRIGGER edges_endpoint_state AFTER INSERT ON edges
WHEN EXISTS (SELECT 1 FROM entities WHERE id IN (NEW.source_id, NEW.target_id) AND deleted_at IS NOT NULL)
  OR EXISTS (SELECT 1 FROM notes WHERE id IN (NEW.source_id, NEW.target_id) AND deleted_at IS NOT NULL)
BEGIN
  UPDATE edges SET endpoint_deleted =
      (SELECT count(*) FROM entities WHERE id = NEW.source_id AND deleted_at IS NOT NULL)
    + (SELECT count(*) FROM notes WHERE id = NEW.source_id AND deleted_at IS NOT NULL)
    + (SELECT count(*) FROM entities WHERE id = NEW.target_id AND deleted_at IS NOT NULL)
    + (SELECT count(*) FROM notes WHERE id = NEW.target_id AND deleted_at IS NOT NULL)
  WHERE id = NEW.id;
END;

CREATE TRIGGER entities_soft_delete_edges AFTER UPDATE OF deleted_at ON entities
WHEN (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
BEGIN
  UPDATE edges SET endpoint_deleted = endpoint_deleted
      + (CASE WHEN NEW.deleted_at IS NULL THEN -1 ELSE 1 END)
      * ((source_id = NEW.id) + (target_id = NEW.id))
  WHERE source_id = NEW.id OR target_id = NEW.id;
END;

CREATE TRIGGER notes_soft_delete_edges AFTER UPDATE OF deleted_at ON notes
WHEN (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
BEGIN
  UPDATE edges SET endpoint_deleted = endpoint_deleted
      + (CASE WHEN NEW.deleted_at IS NULL THEN -1 ELSE 1 END)
      * ((source_id = NEW.id) + (target_id = NEW.id))
  WHERE source_id = NEW.id OR target_id = NEW.id;
END;

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
  };
  return kMigrations;
}

}  // namespace khive::sqlite
