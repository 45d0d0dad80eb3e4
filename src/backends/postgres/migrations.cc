#include "backends/postgres/migrations.h"

namespace khive::postgres {

// Forward-only, versioned schema changes; never edit one that has shipped, add one. Each runs
// in its own transaction together with its ledger row, under an advisory lock.
//
// Table and column names mirror the SQLite schema exactly: the query compiler emits SQL
// against these names for both engines. Types: uuid ids, jsonb JSON, int8 microseconds.
//
// Row-level security: every table with tenant data has ENABLE + FORCE ROW LEVEL SECURITY and
// one policy whose USING and WITH CHECK both test kGrantedPredicate, so a session sees and
// writes only rows of the namespaces its signed scope token grants (migration 4). The
// application role gets DML privileges but owns nothing; the ledger and the scope key are not
// granted to it at all.
const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "core tables: entities, notes, edges, events; row-level security; application role",
       R"sql(
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {role_literal}) THEN
    CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;  -- another process made it first
END $$;

-- The namespaces granted to this session: khive.namespaces holds a text[] literal, set by the
-- backend on every pool checkout and reset to '' on return (which grants nothing).
CREATE FUNCTION khive_granted_namespaces() RETURNS text[] LANGUAGE sql STABLE PARALLEL SAFE AS
$f$ SELECT COALESCE(NULLIF(current_setting('khive.namespaces', true), ''), '{}')::text[] $f$;

CREATE TABLE entities (
  id             uuid PRIMARY KEY,
  namespace      text NOT NULL CHECK (namespace <> ''),
  kind           text NOT NULL CHECK (kind <> ''),
  entity_type    text,
  name           text NOT NULL CHECK (name <> ''),
  description    text,
  properties     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(properties) = 'object'),
  tags           jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tags) = 'array'),
  created_at     int8 NOT NULL,
  updated_at     int8 NOT NULL,
  deleted_at     int8,
  merged_into    uuid,
  merge_event_id uuid
);
CREATE INDEX entities_ns_created ON entities (namespace, created_at, id);
CREATE INDEX entities_ns_kind ON entities (namespace, kind, created_at);
CREATE INDEX entities_ns_name ON entities (namespace, lower(name) text_pattern_ops);
CREATE INDEX entities_tags ON entities USING gin (tags);

CREATE TABLE notes (
  id           uuid PRIMARY KEY,
  namespace    text NOT NULL CHECK (namespace <> ''),
  kind         text NOT NULL CHECK (kind <> ''),
  status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
  name         text,
  content      text NOT NULL CHECK (content <> ''),
  salience     float8 CHECK (salience IS NULL OR (salience >= 0 AND salience <= 1)),
  decay_factor float8 CHECK (decay_factor IS NULL OR decay_factor >= 0),
  expires_at   int8,
  properties   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(properties) = 'object'),
  created_at   int8 NOT NULL,
  updated_at   int8 NOT NULL,
  deleted_at   int8
);
CREATE INDEX notes_ns_created ON notes (namespace, created_at, id);
CREATE INDEX notes_ns_kind ON notes (namespace, kind, created_at);
CREATE INDEX notes_properties ON notes USING gin (properties jsonb_path_ops);

-- endpoint_deleted counts the edge's soft-deleted endpoints (a self-loop counts twice), kept
-- current by the triggers below, so live-graph reads test one column; the partial indexes
-- hold exactly the traversable edges. Same design as the SQLite schema.
CREATE TABLE edges (
  id               uuid PRIMARY KEY,
  namespace        text NOT NULL CHECK (namespace <> ''),
  source_id        uuid NOT NULL,
  target_id        uuid NOT NULL,
  relation         text NOT NULL CHECK (relation <> ''),
  weight           float8 NOT NULL DEFAULT 1.0 CHECK (weight >= 0 AND weight <= 1),
  metadata         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
  created_at       int8 NOT NULL,
  updated_at       int8 NOT NULL,
  deleted_at       int8,
  endpoint_deleted int4 NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX edges_natural_key ON edges (namespace, source_id, target_id, relation);
CREATE INDEX edges_out ON edges (source_id, relation, target_id, weight, namespace)
  WHERE deleted_at IS NULL AND endpoint_deleted = 0;
CREATE INDEX edges_in ON edges (target_id, relation, source_id, weight, namespace)
  WHERE deleted_at IS NULL AND endpoint_deleted = 0;
CREATE INDEX edges_ns_created ON edges (namespace, created_at);
CREATE INDEX edges_any_source ON edges (source_id);
CREATE INDEX edges_any_target ON edges (target_id);

CREATE FUNCTION khive_edges_endpoint_state() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  NEW.endpoint_deleted :=
      (SELECT count(*) FROM entities WHERE id = NEW.source_id AND deleted_at IS NOT NULL)
    + (SELECT count(*) FROM notes WHERE id = NEW.source_id AND deleted_at IS NOT NULL)
    + (SELECT count(*) FROM entities WHERE id = NEW.target_id AND deleted_at IS NOT NULL)
    + (SELECT count(*) FROM notes WHERE id = NEW.target_id AND deleted_at IS NOT NULL);
  RETURN NEW;
END $f$;
CREATE TRIGGER edges_endpoint_state BEFORE INSERT ON edges
  FOR EACH ROW EXECUTE FUNCTION khive_edges_endpoint_state();

CREATE FUNCTION khive_node_soft_delete() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  UPDATE edges SET endpoint_deleted = endpoint_deleted
      + (CASE WHEN NEW.deleted_at IS NULL THEN -1 ELSE 1 END)
      * ((source_id = NEW.id)::int + (target_id = NEW.id)::int)
  WHERE source_id = NEW.id OR target_id = NEW.id;
  RETURN NULL;
END $f$;
CREATE TRIGGER entities_soft_delete_edges AFTER UPDATE OF deleted_at ON entities FOR EACH ROW
  WHEN ((OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)) EXECUTE FUNCTION khive_node_soft_delete();
CREATE TRIGGER notes_soft_delete_edges AFTER UPDATE OF deleted_at ON notes FOR EACH ROW
  WHEN ((OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)) EXECUTE FUNCTION khive_node_soft_delete();

-- Hard delete of an entity or note removes every incident edge in the same transaction.
CREATE FUNCTION khive_node_hard_delete() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  DELETE FROM edges WHERE source_id = OLD.id OR target_id = OLD.id;
  RETURN NULL;
END $f$;
CREATE TRIGGER entities_hard_delete_edges AFTER DELETE ON entities
  FOR EACH ROW EXECUTE FUNCTION khive_node_hard_delete();
CREATE TRIGGER notes_hard_delete_edges AFTER DELETE ON notes
  FOR EACH ROW EXECUTE FUNCTION khive_node_hard_delete();

CREATE TABLE events (
  id          uuid PRIMARY KEY,
  namespace   text NOT NULL CHECK (namespace <> ''),
  verb        text NOT NULL,
  substrate   text NOT NULL CHECK (substrate IN ('entity', 'note', 'event')),
  actor       text NOT NULL,
  kind        text NOT NULL,
  outcome     text NOT NULL CHECK (outcome IN ('success', 'denied', 'error')),
  payload     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(payload) = 'object'),
  duration_us int8 NOT NULL DEFAULT 0,
  target_id   uuid,
  session_id  text,
  created_at  int8 NOT NULL
);
CREATE INDEX events_ns_created ON events (namespace, created_at, id);
CREATE INDEX events_target ON events (target_id) WHERE target_id IS NOT NULL;
CREATE INDEX events_session ON events (session_id) WHERE session_id IS NOT NULL;
CREATE FUNCTION khive_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  RAISE EXCEPTION 'events are append-only: an event cannot be %', lower(TG_OP) USING ERRCODE = 'P0001';
END $f$;
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION khive_events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION khive_events_append_only();

{rls:entities}
{rls:notes}
{rls:edges}
{rls:events}
GRANT USAGE ON SCHEMA {schema} TO {role};
GRANT SELECT, INSERT, UPDATE, DELETE ON entities, notes, edges TO {role};
-- Append-only also by privilege: the application role may read and add events, nothing else.
GRANT SELECT, INSERT ON events TO {role};
GRANT EXECUTE ON FUNCTION khive_granted_namespaces() TO {role};
)sql"},
      {2, "text search (tsvector + GIN) and sparse vectors",
       R"sql(
-- One text document per subject. tsv and doc_len are derived by the trigger below: title
-- lexemes weigh 'A', body lexemes 'B'; doc_len counts tokens (positions), as BM25 needs.
-- The 'simple' configuration lower-cases without stemming, like SQLite FTS5's unicode61.
CREATE TABLE text_documents (
  subject_id uuid PRIMARY KEY,
  namespace  text NOT NULL CHECK (namespace <> ''),
  kind       text NOT NULL,
  title      text NOT NULL DEFAULT '',
  body       text NOT NULL DEFAULT '',
  tags       jsonb NOT NULL DEFAULT '[]',
  metadata   jsonb NOT NULL DEFAULT '{}',
  updated_at int8 NOT NULL,
  tsv        tsvector NOT NULL DEFAULT ''::tsvector,
  doc_len    int4 NOT NULL DEFAULT 0
);
CREATE INDEX text_documents_tsv ON text_documents USING gin (tsv);
CREATE INDEX text_documents_ns ON text_documents (namespace, kind);

-- Tokens are runs of letters and digits (Unicode-aware), as SQLite FTS5's unicode61
-- tokenizer sees them: every other character separates. Applied to documents here and to
-- queries by the search, it also means a query's lexemes never hold tsquery syntax.
CREATE FUNCTION khive_text_clean(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$f$ SELECT regexp_replace(t, '[^[:alnum:]]+', ' ', 'g') $f$;

-- tsv carries the column in each position's weight (title 'A', tags 'B', body 'D'), which
-- the BM25 scoring turns into FTS5's column weights (4, 2, 1); doc_len counts tokens
-- (positions), as BM25 needs.
CREATE FUNCTION khive_text_derive() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  NEW.tsv := setweight(to_tsvector('simple'::regconfig, khive_text_clean(NEW.title)), 'A')
          || setweight(to_tsvector('simple'::regconfig,
                         khive_text_clean(COALESCE((SELECT string_agg(t, ' ') FROM jsonb_array_elements_text(NEW.tags) AS t), ''))), 'B')
          || setweight(to_tsvector('simple'::regconfig, khive_text_clean(NEW.body)), 'D');
  NEW.doc_len := COALESCE((SELECT sum(array_length(positions, 1)) FROM unnest(NEW.tsv)), 0);
  RETURN NEW;
END $f$;
CREATE TRIGGER text_documents_derive BEFORE INSERT OR UPDATE ON text_documents
  FOR EACH ROW EXECUTE FUNCTION khive_text_derive();

-- Sparse vectors as postings: one row per non-zero (index, value), so a search touches only
-- the postings of the query's indices.
CREATE TABLE sparse_entries (
  subject_id uuid NOT NULL,
  namespace  text NOT NULL CHECK (namespace <> ''),
  kind       text NOT NULL,
  model      text NOT NULL,
  idx        int8 NOT NULL,
  value      float4 NOT NULL,
  PRIMARY KEY (model, subject_id, idx)
);
CREATE INDEX sparse_entries_postings ON sparse_entries (model, idx);
CREATE INDEX sparse_entries_subject ON sparse_entries (subject_id);

-- Hard delete of a subject also removes its text document and sparse vectors.
CREATE OR REPLACE FUNCTION khive_node_hard_delete() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  DELETE FROM edges WHERE source_id = OLD.id OR target_id = OLD.id;
  DELETE FROM text_documents WHERE subject_id = OLD.id;
  DELETE FROM sparse_entries WHERE subject_id = OLD.id;
  RETURN NULL;
END $f$;

{rls:text_documents}
{rls:sparse_entries}
GRANT SELECT, INSERT, UPDATE, DELETE ON text_documents, sparse_entries TO {role};
GRANT EXECUTE ON FUNCTION khive_text_clean(text) TO {role};
)sql"},
      {3, "dense vectors on pgvector (HNSW, cosine)",
       R"sql(
CREATE EXTENSION IF NOT EXISTS vector SCHEMA public;

-- The dimension of each (model): fixed by its first vector. Holds no tenant data (model
-- names and sizes only), so it carries no namespace and no policy.
CREATE TABLE vector_models (
  model text PRIMARY KEY,
  dims  int4 NOT NULL CHECK (dims > 0 AND dims <= 16000)
);

-- The canonical copy of every vector. The column is dimensionless; each model's HNSW index
-- is a partial expression index over embedding::vector(dims), made by khive_vector_index().
CREATE TABLE vectors (
  subject_id uuid NOT NULL,
  namespace  text NOT NULL CHECK (namespace <> ''),
  kind       text NOT NULL,
  model      text NOT NULL,
  field      text NOT NULL,
  embedding  public.vector NOT NULL,
  properties jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (subject_id, model, field)
);
CREATE INDEX vectors_model_ns ON vectors (model, field, namespace, kind);

-- The application role owns no table, so it cannot CREATE INDEX; this function (running as
-- the schema owner) makes the HNSW index of one model. Names and values go through format()'s
-- %I/%L quoting.
CREATE FUNCTION khive_vector_index(p_model text, p_dims int4) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $f$
DECLARE idx text := 'vectors_hnsw_' || substr(md5(p_model), 1, 16);
BEGIN
  IF p_dims < 1 OR p_dims > 2000 THEN
    RETURN 'none';  -- HNSW on vector supports up to 2000 dimensions: exact scans only
  END IF;
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON vectors USING hnsw ((embedding::public.vector(%s)) '
                 'public.vector_cosine_ops) WHERE model = %L', idx, p_dims, p_model);
  RETURN 'hnsw';
END $f$;
REVOKE ALL ON FUNCTION khive_vector_index(text, int4) FROM PUBLIC;

CREATE OR REPLACE FUNCTION khive_node_hard_delete() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  DELETE FROM edges WHERE source_id = OLD.id OR target_id = OLD.id;
  DELETE FROM text_documents WHERE subject_id = OLD.id;
  DELETE FROM sparse_entries WHERE subject_id = OLD.id;
  DELETE FROM vectors WHERE subject_id = OLD.id;
  RETURN NULL;
END $f$;

{rls:vectors}
GRANT SELECT, INSERT, UPDATE, DELETE ON vectors TO {role};
GRANT SELECT, INSERT ON vector_models TO {role};
GRANT EXECUTE ON FUNCTION khive_vector_index(text, int4) TO {role};
)sql",
       "vector"},
      {4, "signed scope token: row-level security trusts only namespaces the backend signed",
       R"sql(
-- Migrations 1-3 let the policies trust the khive.namespaces GUC, which any session can set
-- itself (SET, set_config, a DO block): raw SQL could grant itself every namespace. From here
-- on the policies trust a token only the backend can make (see scope_token.h):
--   khive.scope = hex(HMAC-SHA256(key, binding || ':' || namespaces)) || ':' || namespaces
-- The key is random, per schema, and readable only by the owner: the application role has no
-- privilege on khive_scope_key and verifies through khive_scope_verify(), which runs as the
-- owner. The backend reads the key once at open over the owner's (migration) connection.

CREATE TABLE khive_scope_key (
  id   int4 PRIMARY KEY CHECK (id = 1),
  key  bytea NOT NULL CHECK (length(key) = 32),
  ipad bytea NOT NULL,  -- (key zero-padded to 64 bytes) XOR 0x36: HMAC's inner pad
  opad bytea NOT NULL   -- ... XOR 0x5c: the outer pad
);
REVOKE ALL ON khive_scope_key FROM PUBLIC;
DO $k$
DECLARE
  -- gen_random_uuid() draws from the server's strong random source (122 bits each).
  k  bytea := sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8'));
  kp bytea := k || decode(repeat('00', 32), 'hex');
  ip bytea := kp;
  op bytea := kp;
BEGIN
  FOR i IN 0..63 LOOP
    ip := set_byte(ip, i, get_byte(kp, i) # 54);
    op := set_byte(op, i, get_byte(kp, i) # 92);
  END LOOP;
  INSERT INTO khive_scope_key (id, key, ipad, opad) VALUES (1, k, ip, op);
END $k$;

-- What ties a token to one server session: backend pid, client port and the server's start
-- time. A token copied out of one session (a log line, say) grants nothing in another.
-- Cheap, and computed in the caller's own session (no privileges needed).
CREATE FUNCTION khive_session_binding() RETURNS text LANGUAGE sql STABLE PARALLEL RESTRICTED AS
$f$ SELECT pg_catalog.concat_ws(':', pg_catalog.pg_backend_pid(), pg_catalog.inet_client_port(),
        CAST(EXTRACT(epoch FROM pg_catalog.pg_postmaster_start_time()) * 1000000 AS pg_catalog.int8)) $f$;

-- The namespaces a token grants in the session with this binding, or NULL when the MAC does
-- not verify. Runs as the owner (the only reader of the key); search_path pinned. PL/pgSQL
-- rather than SQL: it keeps its plan for the session, where a SQL function called once per
-- statement is planned again every time (measured: ~0.25 ms a statement).
CREATE FUNCTION khive_scope_verify(token text, binding text) RETURNS text[]
LANGUAGE plpgsql STABLE SECURITY DEFINER PARALLEL RESTRICTED SET search_path = pg_catalog, pg_temp AS
$f$
DECLARE k record;
BEGIN
  IF token IS NULL OR binding IS NULL OR length(token) < 66 OR substr(token, 65, 1) <> ':' THEN
    RETURN NULL;
  END IF;
  SELECT ipad, opad INTO k FROM {schema}.khive_scope_key WHERE id = 1;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF left(token, 64) = encode(sha256(k.opad || sha256(k.ipad || convert_to(binding || ':' || substr(token, 66),
                                                                             'UTF8'))), 'hex') THEN
    RETURN substr(token, 66)::text[];
  END IF;
  RETURN NULL;
END $f$;
REVOKE ALL ON FUNCTION khive_scope_verify(text, text) FROM PUBLIC;

-- The policies' entry point keeps its name (and OID): it now returns what the session's
-- verified token grants, '{}' for no token or a forged one. khive.namespaces is ignored.
CREATE OR REPLACE FUNCTION khive_granted_namespaces() RETURNS text[] LANGUAGE sql STABLE PARALLEL RESTRICTED AS
$f$ SELECT COALESCE({schema}.khive_scope_verify(pg_catalog.current_setting('khive.scope', true),
                                               {schema}.khive_session_binding()), '{}') $f$;

-- Re-create every policy with the predicate in its current form: the grant is evaluated once
-- per statement (an InitPlan), not once per row.
{repolicy:entities}
{repolicy:notes}
{repolicy:edges}
{repolicy:events}
{repolicy:text_documents}
{repolicy:sparse_entries}
DO $p$ BEGIN
  -- Only this schema's table (migration 3 is skipped on a server without pgvector).
  IF EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'vectors') THEN
    {repolicy:vectors}
  END IF;
END $p$;
GRANT EXECUTE ON FUNCTION khive_session_binding(), khive_scope_verify(text, text) TO {role};
)sql"},
      {5, "name_folded: the ASCII-lower-cased name, stored and indexed, for pattern queries' name match",
       R"sql(
-- A pattern query matches names ASCII case-insensitively. lower(name COLLATE "C") in the
-- query cannot use an index under row-level security (lower() is not leakproof, so the planner
-- keeps it behind the policy's quals: a sequential scan of the namespace). The folded name is
-- a stored column instead, compared with = (leakproof) to the folded parameter. Its collation
-- is "C", the comparison's: an index of another collation would not serve it.
ALTER TABLE entities ADD COLUMN name_folded text COLLATE "C" GENERATED ALWAYS AS (lower(name COLLATE "C")) STORED;
ALTER TABLE notes ADD COLUMN name_folded text COLLATE "C" GENERATED ALWAYS AS (lower(name COLLATE "C")) STORED;
CREATE INDEX entities_ns_name_folded ON entities (namespace, name_folded);
CREATE INDEX notes_ns_name_folded ON notes (namespace, name_folded);
)sql"},
      {6, "drop the indexes row-level security never lets a query use: a cost on every write",
       R"sql(
-- Every read of the application role runs under row-level security, where only leakproof
-- conditions can be index conditions. lower(name) LIKE (entities_ns_name) and jsonb ?|
-- (entities_tags) are not leakproof, and no query filters notes on properties
-- (notes_properties), so these indexes served no query while costing every write an index
-- insert and its WAL. A name prefix now matches name_folded, which folds ASCII only, as
-- SQLite's LIKE does.
DROP INDEX IF EXISTS entities_ns_name;
DROP INDEX IF EXISTS entities_tags;
DROP INDEX IF EXISTS notes_properties;
)sql"},
      {7, "edge id in the hop indexes: walks and neighbors read edges from the index alone",
       R"sql(
-- A hop (neighbors, a traversal level, a path search level) returns the edge's id with its
-- endpoints, relation and weight. With the id in the partial hop indexes the planner can answer
-- it by an index-only scan instead of fetching every edge's heap row.
DROP INDEX IF EXISTS edges_out;
DROP INDEX IF EXISTS edges_in;
CREATE INDEX edges_out ON edges (source_id, relation, target_id, weight, namespace) INCLUDE (id)
  WHERE deleted_at IS NULL AND endpoint_deleted = 0;
CREATE INDEX edges_in ON edges (target_id, relation, source_id, weight, namespace) INCLUDE (id)
  WHERE deleted_at IS NULL AND endpoint_deleted = 0;
)sql"},
      {8, "endpoint_deleted of new edges set once per statement, not by a trigger per row",
       R"sql(
-- The per-row trigger ran four queries for every inserted edge, each under row-level security
-- (so each verified the scope token again): most of a bulk edge load's time. The statement
-- trigger below sees the statement's inserted rows as a transition table and counts their
-- soft-deleted endpoints in one join, with the grant evaluated once. Only the rows with a
-- deleted endpoint (rare) are updated; the others keep the column's default 0. For INSERT ...
-- ON CONFLICT DO UPDATE the transition table holds the inserted rows only, as the per-row
-- trigger changed only those.
-- The soft-deleted nodes are few: partial indexes of their ids keep the join small whatever
-- the statement's size (a probe per endpoint or a scan of these indexes).
CREATE INDEX entities_deleted ON entities (id) WHERE deleted_at IS NOT NULL;
CREATE INDEX notes_deleted ON notes (id) WHERE deleted_at IS NOT NULL;
DROP TRIGGER IF EXISTS edges_endpoint_state ON edges;
DROP FUNCTION IF EXISTS khive_edges_endpoint_state();
CREATE FUNCTION khive_edges_endpoint_state() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  UPDATE edges AS e SET endpoint_deleted = d.n
  FROM (SELECT v.edge, count(*)::int4 AS n
        FROM (SELECT id, source_id FROM khive_new_edges UNION ALL SELECT id, target_id FROM khive_new_edges)
             AS v(edge, node)
        JOIN (SELECT id FROM entities WHERE deleted_at IS NOT NULL
              UNION ALL SELECT id FROM notes WHERE deleted_at IS NOT NULL) AS g ON g.id = v.node
        GROUP BY v.edge) AS d
  WHERE e.id = d.edge;
  RETURN NULL;
END $f$;
CREATE TRIGGER edges_endpoint_state AFTER INSERT ON edges REFERENCING NEW TABLE AS khive_new_edges
  FOR EACH STATEMENT EXECUTE FUNCTION khive_edges_endpoint_state();
)sql"},
  };
  return kMigrations;
}

}  // namespace khive::postgres
