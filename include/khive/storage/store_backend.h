#pragma once
// StoreBackend: the part of a Backend that every engine made of one database and one store
// object per capability writes the same way. It owns the database and the stores, hands the
// stores out, passes the read budget to the database and opens units of work. The engine's
// backend derives from it and adds what is its own: info, dialect, diagnostics, integrity check
// and statistics.
//
// The database type `Db` is constructed from the engine's options and has setReadBudget(),
// readBudget(), location() and schemaVersion(); `Unit` (the unit of work) and every store type
// are constructed from `Db&`. Thread-safe, as the database and the stores are.

#include <memory>
#include <string>
#include <utility>

#include "khive/storage/backend.h"

namespace khive::storage {

template <class Db, class Unit, class Sql, class Entities, class Notes, class Graph, class Events, class Vectors,
          class Sparse, class Text>
class StoreBackend : public Backend {
 public:
  SqlAccess& sql() override { return sql_; }
  EntityStore& entities() override { return entities_; }
  NoteStore& notes() override { return notes_; }
  GraphStore& graph() override { return graph_; }
  EventStore& events() override { return events_; }
  VectorStore& vectors() override { return vectors_; }
  SparseStore& sparse() override { return sparse_; }
  TextSearch& text() override { return text_; }
  void setReadBudget(const ReadBudget& budget) override { db_.setReadBudget(budget); }
  ReadBudget readBudget() const override { return db_.readBudget(); }
  std::unique_ptr<UnitOfWork> beginWork() override { return std::make_unique<Unit>(db_); }

 protected:
  // The info every engine fills the same way (the database's location and schema version),
  // capabilities still to add.
  BackendInfo infoOf(std::string engine, std::string engineVersion, int buildSchemaVersion) const {
    BackendInfo out;
    out.engine = std::move(engine);
    out.engineVersion = std::move(engineVersion);
    out.location = db_.location();
    out.schemaVersion = db_.schemaVersion();
    out.buildSchemaVersion = buildSchemaVersion;
    return out;
  }

  template <class Options>
  explicit StoreBackend(const Options& options)
      : db_(options),
        sql_(db_),
        entities_(db_),
        notes_(db_),
        graph_(db_),
        events_(db_),
        vectors_(db_),
        sparse_(db_),
        text_(db_) {}

  Db db_;
  Sql sql_;
  Entities entities_;
  Notes notes_;
  Graph graph_;
  Events events_;
  Vectors vectors_;
  Sparse sparse_;
  Text text_;
};

}  // namespace khive::storage
