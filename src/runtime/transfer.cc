#include "khive/runtime/transfer.h"

#include <absl/container/flat_hash_map.h>
#include <absl/hash/hash.h>
#include <fmt/format.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <istream>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <thread>
#include <utility>
#include <variant>

#include "khive/core/error.h"
#include "khive/core/utf8.h"
#include "khive/runtime/codec.h"
#include "khive/storage/record_checks.h"
#include "runtime/boundary.h"
#include "runtime/edge_line.h"
#include "runtime/id_owners.h"
#include "runtime/transfer_vectors.h"

namespace khive::runtime {

using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void lineError(std::int64_t line, std::string_view message, ErrorCode code = ErrorCode::InvalidInput) {
  throw Error(code, "import", "jsonl", fmt::format("line {}: {}", line, message));
}

void checkSummary(const storage::BatchWriteSummary& s, std::string_view what, std::int64_t lastLine,
                  std::string_view scope = "the batch") {
  if (s.failed > 0)
    throw Error(ErrorCode::InvalidInput, "import", "jsonl",
                fmt::format("{} {} of {} ending at line {} failed: {}", s.failed, what, scope, lastLine,
                            s.firstError.value_or("unknown error")));
}

// Lines read, parsed as JSON, decoded into records and checked on decoder threads, and handed
// over in chunks: the main thread only writes, and the parsed JSON is freed on the thread that
// built it. When the edge load holds its edges until finish() (SQLite), the decoders hand the
// edges to it themselves, in line order, so they need not wait for the main thread's writes
// of the nodes before them. The queue is bounded, so memory stays flat whatever the file size.
using Record = std::variant<std::monostate, Entity, Note, Edge, Event>;

struct ParsedLine {
  std::int64_t number = 0;
  std::size_t bytes = 0;  // including the newline
  bool blank = false;
  bool staged = false;  // an edge the decoders handed to the edge load
  Record record;
  std::optional<storage::TextDocument> doc;  // the record's search document, when text is on
  std::vector<storage::VectorRecord> vectors;  // the line's "vectors" (entities and notes)
  std::string error;                         // why the line is not a record, as reported for its line number
  ErrorCode errorCode = ErrorCode::InvalidInput;  // of `error`: PermissionDenied for a namespace the importer may not write
};

// Decodes one non-blank line; throws nothing. Plain edge lines, most of a large graph's
// file, take the fast decoder; every other line, and any edge line it does not take, the
// general one.
void decode(const std::string& line, ParsedLine& p) {
  thread_local std::string scratch;
  if (Edge e; decodePlainEdgeLine(line, scratch, e)) {
    p.record = std::move(e);
    return;
  }
  // A line nesting deeper than any record may is refused before the parser builds it (a
  // JSON value that deep would be copied and walked recursively). The line's own object is
  // one level; the depth of each field is checked against [limits] with the record.
  if (storage::jsonTextDepth(line) > storage::kMaxJsonDepth + 1) {
    p.error = fmt::format("JSON nested deeper than {} levels of objects and arrays, the most khive stores in "
                          "properties, metadata or a payload",
                          storage::kMaxJsonDepth);
    return;
  }
  Json j;
  try {
    j = Json::parse(line);
  } catch (const Json::exception& e) {
    p.error = printableUtf8(fmt::format("malformed JSON: {}", e.what()));  // quotes the bad bytes
    return;
  }
  try {
    if (!j.is_object()) {
      p.error = "not a JSON object";
      return;
    }
    auto t = j.find("type");
    if (t == j.end() || !t->is_string()) {
      p.error = "missing \"type\" (entity, note, edge or event)";
      return;
    }
    const std::string& type = t->get_ref<const std::string&>();
    if (auto v = j.find("vectors"); v != j.end() && (type == "entity" || type == "note")) {
      p.vectors = vectorsFromJson(*v);
      j.erase(v);
    }
    if (type == "entity")
      p.record = entityFromJson(j);
    else if (type == "note")
      p.record = noteFromJson(j);
    else if (type == "edge")
      p.record = edgeFromJson(j);
    else if (type == "event")
      p.record = eventFromJson(j);
    else
      p.error = fmt::format("unknown type '{}' (entity, note, edge or event)", type);
  } catch (const Json::exception& e) {
    p.error = printableUtf8(fmt::format("malformed JSON: {}", e.what()));  // quotes the bad bytes
  } catch (const Error& e) {
    p.error = e.message();
  }
}

// A node id's hash for the checks' open-addressing map: abseil's mix of both halves of the
// id (a UUIDv7 starts with its time, so neither half alone spreads the ids).
struct NodeIdHash {
  std::size_t operator()(const Uuid& id) const noexcept {
    std::uint64_t a = 0, b = 0;
    std::memcpy(&a, id.bytes().data(), 8);
    std::memcpy(&b, id.bytes().data() + 8, 8);
    return absl::Hash<std::pair<std::uint64_t, std::uint64_t>>{}({a, b});
  }
};

// Checks a decoded record as the runtime does before any write: the default namespace, the
// vocabulary, limits and endpoint rules, the gate, and that its id is not one of a record of
// another type. Runs on the parser thread in line order, so `seen` holds the type of every
// record on an earlier line (edge endpoints need no lookup then).
//
// Ids stored before the import: a table with few rows is read into `seen` at the start; a
// larger one is asked once per chunk for the chunk's new ids of other record types (one
// statement), so a line costs a hash lookup, not a query.
class Checker {
 public:
  // preloadRows: TransferOptions::idPreloadRows.
  Checker(const ImportSink& sink, std::int64_t preloadRows)
      : sink_(sink), text_(sink.hasText()), preloadRows_(preloadRows) {
    preload();
  }

  // Checks the chunk's decoded lines in order.
  void checkChunk(std::vector<ParsedLine>& chunk) {
    try {
      lookUpStored(chunk);
    } catch (const Error& e) {
      for (auto& p : chunk) {
        if (p.blank || !p.error.empty()) continue;
        p.error = fmt::format("could not check the ids of the lines from here: {}", e.message());
        p.errorCode = e.code();
        p.record = {};
        break;
      }
      return;
    }
    for (auto& p : chunk)
      if (!p.blank && p.error.empty()) check(p);
    stored_.clear();
  }

  void check(ParsedLine& p) {
    try {
      if (auto* e = std::get_if<Entity>(&p.record)) {
        sink_.admit(*e);
        claim(e->id, 0);
        if (text_ && !e->deletedAt) p.doc = retrieval::textDocumentOf(*e);
      } else if (auto* n = std::get_if<Note>(&p.record)) {
        sink_.admit(*n);
        claim(n->id, 1);
        if (text_ && !n->deletedAt) p.doc = retrieval::textDocumentOf(*n);
      } else if (auto* ed = std::get_if<Edge>(&p.record)) {
        sink_.admit(*ed, typeOf(ed->sourceId), typeOf(ed->targetId));
        claim(ed->id, 2);
      } else if (auto* ev = std::get_if<Event>(&p.record)) {
        sink_.admit(*ev);  // no line writes another namespace's audit log
        claim(ev->id, 3);
      }
    } catch (const Error& e) {
      p.error = e.message();
      p.errorCode = e.code();
      p.record = {};
    }
  }

  // Frees what check() remembered about earlier lines.
  void forget() { decltype(seen_)().swap(seen_); }

 private:
  static constexpr char kLive[4] = {'e', 'n', 'd', 'v'};    // an import line's type, or a live node
  static constexpr char kStored[4] = {'E', 'N', 'd', 'v'};  // an id stored before the import
  static int typeIndex(char c) {
    switch (c) {
      case 'e': case 'E': return 0;
      case 'n': case 'N': return 1;
      case 'd': return 2;
      default: return 3;
    }
  }

  void preload() {
    auto reader = sink_.stores().sql().reader();
    for (int t = 0; t < 4; ++t) {
      auto rows =
          reader->query(fmt::format("SELECT {} FROM {} LIMIT {}", sink_.stores().dialect().idAsText("id"), kIdTables[t], preloadRows_ + 1))
              .rows;
      probe_[t] = static_cast<std::int64_t>(rows.size()) > preloadRows_;
      if (!probe_[t])
        for (const auto& r : rows) seen_.try_emplace(Uuid::parse(storage::asText(r[0])), kStored[t]);
    }
  }

  // Fills stored_ with the type of each id of the chunk that a large table holds and that a
  // record of another type on the chunk's lines has.
  void lookUpStored(const std::vector<ParsedLine>& chunk) {
    if (!probe_[0] && !probe_[1] && !probe_[2] && !probe_[3]) return;
    std::array<std::vector<Uuid>, 4> ids;
    for (const auto& p : chunk) {
      if (p.blank || !p.error.empty()) continue;
      const Uuid* id = std::visit(
          [](const auto& r) -> const Uuid* {
            if constexpr (std::is_same_v<std::decay_t<decltype(r)>, std::monostate>) return nullptr;
            else return &r.id;
          },
          p.record);
      if (!id || seen_.contains(*id)) continue;
      const int type = static_cast<int>(p.record.index()) - 1;
      for (int t = 0; t < 4; ++t)
        if (t != type && probe_[t]) ids[t].push_back(*id);
    }
    findStoredIds(sink_.stores(), ids, [&](const Uuid& id, int t) { stored_.try_emplace(id, t); });
  }

  // Takes `id` for a record of type t (kIdTypes): Conflict when an earlier line or the store
  // has it for another type.
  void claim(const Uuid& id, int t) {
    if (auto it = seen_.find(id); it != seen_.end()) {
      const int held = typeIndex(it->second);
      if (held != t) throw idTakenError(id, kIdTypes[held], kIdTypes[t]);
      if (t < 2) it->second = kLive[t];
      return;
    }
    if (auto it = stored_.find(id); it != stored_.end() && it->second != t)
      throw idTakenError(id, kIdTypes[it->second], kIdTypes[t]);
    seen_.emplace(id, kLive[t]);
  }

  std::string typeOf(const Uuid& id) {
    auto it = seen_.find(id);
    if (it != seen_.end() && (it->second == 'e' || it->second == 'n')) return it->second == 'e' ? "entity" : "note";
    if (it != seen_.end() && (it->second == 'd' || it->second == 'v')) return "";  // not a node
    std::string s = sink_.substrateOf(id);  // unknown, or stored before the import and maybe deleted
    if (!s.empty()) seen_[id] = s == "entity" ? 'e' : 'n';
    return s;
  }

  const ImportSink& sink_;
  const bool text_;
  const std::int64_t preloadRows_;
  // Record id -> its type: 'e' entity, 'n' note (on an earlier line, or a live node looked up
  // for an edge), 'E', 'N' (stored before the import, maybe deleted), 'd' edge, 'v' event.
  // Flat: an edge's two endpoint lookups, the checks' main cost on a large graph's edge
  // lines, each touch one slot instead of a chain.
  absl::flat_hash_map<Uuid, char, NodeIdHash> seen_;
  std::array<bool, 4> probe_{};  // tables too large to preload, by type
  absl::flat_hash_map<Uuid, int, NodeIdHash> stored_;  // the current chunk's ids held by such a table
};

// A chunk of lines in file order. `lines` is empty when none of them is left for the main
// thread (every line blank or an edge already handed to the load): such a chunk costs a few
// bytes in the queue, so the decoders may run far ahead through a file's edges.
struct Chunk {
  std::vector<ParsedLine> lines;
  std::int64_t lastLine = 0;  // 0: the end of the input
  std::int64_t bytes = 0;     // of every line in the chunk
  std::int64_t staged = 0;    // edges of the chunk handed to the load
};

class LineParser {
 public:
  // `load`: when set (a load that holds until finish()), the decoders add each checked edge
  // to it, up to the first line that fails.
  LineParser(std::istream& in, const ImportSink& sink, storage::EdgeLoad* load, std::int64_t idPreloadRows)
      : in_(in), maxLine_(sink.limits().maxImportLineBytes), load_(load), checker_(sink, idPreloadRows) {
    const unsigned n = std::clamp(std::thread::hardware_concurrency(), 1u, kMaxDecoders);
    live_ = static_cast<int>(n);
    for (unsigned i = 0; i < n; ++i) decoders_.emplace_back([this] { run(); });
  }
  ~LineParser() { stop(); }

  // Once stopped: frees what the checks remembered, and hands the memory the decoder threads
  // freed back to the system, before the edge load's large sorts.
  void releaseMemory() {
    checker_.forget();
#ifdef __GLIBC__
    malloc_trim(0);
#endif
  }

  // Stops and joins the decoder threads; afterwards nobody touches the load. Idempotent.
  void stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : decoders_)
      if (t.joinable()) t.join();
  }
  LineParser(const LineParser&) = delete;
  LineParser& operator=(const LineParser&) = delete;

  // The next chunk of lines, in order; lastLine == 0 once the input is exhausted.
  Chunk next() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return !queue_.empty() || live_ == 0; });
    if (queue_.empty()) return {};
    auto chunk = std::move(queue_.front());
    queue_.pop_front();
    if (!chunk.lines.empty()) --heavy_;
    cv_.notify_all();
    return chunk;
  }

 private:
  // kChunksAhead chunks with lines for the main thread may wait in the queue, and up to
  // kLightAhead chunks without (a million lines).
  static constexpr std::size_t kChunk = 1024, kChunksAhead = 8, kLightAhead = 1024;
  static constexpr unsigned kMaxDecoders = 4;

  // Each decoder thread takes the next kChunk lines of the input (reading is serialised and
  // numbers the lines), parses and decodes them on its own, then waits for its chunk's turn:
  // the checks and the queue run in chunk order, so `checker_` sees every line in file order.
  void run() {
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (stop_) {
          --live_;
          cv_.notify_all();
          return;
        }
      }
      std::vector<ParsedLine> chunk;
      std::vector<std::string> lines;
      std::vector<std::size_t> lengths;  // each line's length; over maxLine_, `lines` holds nothing of it
      std::int64_t seq = 0;
      {
        std::lock_guard read(readMu_);
        seq = readSeq_++;
        std::string line;
        std::size_t length = 0;
        while (lines.size() < kChunk && readLine(line, length)) {
          lines.push_back(std::move(line));
          lengths.push_back(length);
        }
        chunk.resize(lines.size());
        for (auto& p : chunk) p.number = ++lineNumber_;
      }
      for (std::size_t k = 0; k < lines.size(); ++k) {
        ParsedLine& p = chunk[k];
        p.bytes = lengths[k] + 1;
        if (lengths[k] > maxLine_)
          p.error = fmt::format("the line is {} bytes; the limit is {} (raise [limits] max_import_line_bytes in "
                                "khive.toml)",
                                lengths[k], maxLine_);
        else if (lines[k].find_first_not_of(" \t\r") == std::string::npos)
          p.blank = true;
        else
          decode(lines[k], p);
      }
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return turn_ == seq || stop_; });
      if (stop_ || lines.empty()) {
        // The end of the input (or a stop): the turn passes on, so every later chunk, which
        // is empty too, ends its thread the same way.
        ++turn_;
        --live_;
        cv_.notify_all();
        return;
      }
      lock.unlock();
      checker_.checkChunk(chunk);
      Chunk out{.lines = std::move(chunk), .lastLine = 0, .bytes = 0, .staged = 0};
      if (load_ && !handOverStopped_) handOver(out.lines);
      bool light = true;
      for (const auto& p : out.lines) {
        out.bytes += static_cast<std::int64_t>(p.bytes);
        out.staged += p.staged ? 1 : 0;
        light = light && (p.blank || p.staged);
      }
      out.lastLine = out.lines.back().number;
      if (light) std::vector<ParsedLine>().swap(out.lines);
      lock.lock();
      cv_.wait(lock, [&] {
        return (light ? queue_.size() - heavy_ < kLightAhead : heavy_ < kChunksAhead) || stop_;
      });
      if (!stop_) {
        if (!light) ++heavy_;
        queue_.push_back(std::move(out));
      }
      ++turn_;
      cv_.notify_all();
    }
  }

  // Reads the next line of the input into `line`, without its newline, and its length into
  // `length`. A line longer than maxLine_ is read through in pieces of the buffer's size and
  // not kept (`line` is then empty): memory stays bounded whatever the line. False at the end
  // of the input. Called with readMu_ held.
  bool readLine(std::string& line, std::size_t& length) {
    line.clear();
    length = 0;
    for (bool first = true;; first = false) {
      in_.getline(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
      const auto got = static_cast<std::size_t>(in_.gcount());
      if (!in_.fail()) {  // the line ended, at a newline or at the end of the input
        const std::size_t n = got - (in_.eof() ? 0 : 1);
        length += n;
        if (length <= maxLine_) line.append(buffer_.data(), n);
        else std::string().swap(line);
        return true;
      }
      // Failed: nothing more to read (the end, or the line ended where a full buffer did), or
      // the buffer filled before the line ended.
      if (in_.eof() || in_.bad()) return !first;
      in_.clear();
      length += got;
      if (length <= maxLine_) line.append(buffer_.data(), got);
      else std::string().swap(line);
    }
  }

  // Adds the chunk's checked edges to the load (runs in chunk order, like the checks). Stops
  // at the first line that failed: edges from there on stay with the main thread, which ends
  // the import at that line.
  void handOver(std::vector<ParsedLine>& chunk) {
    std::vector<Edge> edges;
    std::vector<std::int64_t> positions;
    std::vector<ParsedLine*> handed;
    for (auto& p : chunk) {
      if (p.blank) continue;
      if (!p.error.empty()) {
        handOverStopped_ = true;
        break;
      }
      if (auto* e = std::get_if<Edge>(&p.record)) {
        edges.push_back(std::move(*e));
        positions.push_back(p.number);
        handed.push_back(&p);
      }
    }
    if (edges.empty()) return;
    try {
      load_->addAt(edges, positions);
    } catch (const std::exception& e) {
      // Nothing of the batch is held; the import ends at its first line.
      handOverStopped_ = true;
      handed.front()->error = fmt::format("could not hold the edge for writing: {}", e.what());
      return;
    }
    for (auto* p : handed) {
      p->record = {};
      p->staged = true;
    }
  }

  std::istream& in_;
  const std::size_t maxLine_;    // [limits] max_import_line_bytes
  std::mutex readMu_;
  std::array<char, 1 << 16> buffer_{};  // guarded by readMu_
  std::int64_t readSeq_ = 0;     // guarded by readMu_
  std::int64_t lineNumber_ = 0;  // guarded by readMu_
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Chunk> queue_;                    // guarded by mu_
  std::size_t heavy_ = 0;                      // chunks in queue_ with lines; guarded by mu_
  std::int64_t turn_ = 0;                      // the chunk whose check and hand-over is next; guarded by mu_
  int live_ = 0;                               // decoder threads still running; guarded by mu_
  bool stop_ = false;                          // guarded by mu_
  storage::EdgeLoad* load_;                    // used by the thread whose turn it is
  bool handOverStopped_ = false;               // a line failed; used by the thread whose turn it is
  Checker checker_;                            // used by the thread whose turn it is
  std::vector<std::thread> decoders_;          // last: started once the members above exist
};

// Pending records of one batch, flushed in dependency order (nodes before edges). Nodes,
// text documents and events are written batch by batch; edges go to one EdgeLoad for the
// whole import, which the backend may hold and write in its own key order at finishEdges().
class Batch {
 public:
  explicit Batch(storage::Backend& stores) : stores_(stores) {}
  std::vector<Entity> entities;
  std::vector<Note> notes;
  std::vector<Edge> edges;
  std::vector<Event> events;
  std::vector<storage::TextDocument> docs;
  std::vector<storage::VectorRecord> vectors;
  std::optional<std::int64_t> firstLine;  // of the records pending; none when empty

  std::size_t size() const { return entities.size() + notes.size() + edges.size() + events.size(); }

  // The import's edge load, begun on first use.
  storage::EdgeLoad& load() {
    if (!load_) load_ = stores_.graph().beginLoad();
    return *load_;
  }
  // The load when it holds its edges until finish() (the decoders then fill it ahead of the
  // writes); null when it writes as it goes.
  storage::EdgeLoad* holdingLoad() { return load().holdsUntilFinish() ? &load() : nullptr; }

  // After a failed write: the held edges of the pending records' lines and later ones are not
  // written (the records before them are).
  void dropPendingEdges() {
    if (load_ && firstLine && load_->holdsUntilFinish()) load_->dropFrom(*firstLine);
  }

  // One unit of work: the batch's records, text documents, events and (on a load that writes
  // as it goes) edges commit together or not at all.
  void flush(TransferSummary& sum, std::int64_t lastLine) {
    auto& b = stores_;
    auto work = b.beginWork();
    if (!entities.empty()) checkSummary(b.entities().upsertEntities(entities), "entities", lastLine);
    if (!notes.empty()) checkSummary(b.notes().upsertNotes(notes), "notes", lastLine);
    if (!docs.empty()) checkSummary(b.text().upsertDocuments(docs), "text documents", lastLine);
    if (!vectors.empty()) checkSummary(b.vectors().insertVectors(vectors), "vectors", lastLine);
    if (!events.empty()) {
      std::vector<Event> fresh;
      for (auto& e : events) {
        if (b.events().getEvent(e.id))
          ++sum.skippedEvents;
        else
          fresh.push_back(std::move(e));
      }
      if (!fresh.empty()) checkSummary(b.events().appendEvents(fresh), "events", lastLine);
      sum.events += static_cast<std::int64_t>(fresh.size());
    }
    // Last: a batch that failed above hands none of its edges to the load (a load that writes
    // as it goes would write them).
    if (!edges.empty()) load().add(edges);
    work->commit();
    sum.entities += static_cast<std::int64_t>(entities.size());
    sum.notes += static_cast<std::int64_t>(notes.size());
    sum.edges += static_cast<std::int64_t>(edges.size());
    sum.textDocuments += static_cast<std::int64_t>(docs.size());
    sum.vectors += static_cast<std::int64_t>(vectors.size());
    vectors.clear();
    entities.clear();
    notes.clear();
    edges.clear();
    events.clear();
    docs.clear();
    firstLine.reset();
  }

  // Writes the edges held by the load. `check`: a failed edge fails the import.
  void finishEdges(std::int64_t lastLine, bool check) {
    if (!load_) return;
    auto summary = load_->finish();
    load_.reset();
    if (check) checkSummary(summary, "edges", lastLine, "the import");
  }

 private:
  storage::Backend& stores_;
  std::unique_ptr<storage::EdgeLoad> load_;
};

}  // namespace

TransferSummary importJsonl(const ImportSink& sink, std::istream& in, const TransferOptions& options) {
  auto start = Clock::now();
  TransferSummary sum;
  Batch batch(sink.stores());
  TransferProgress prog;
  std::int64_t lineNo = 0;
  auto report = [&] {
    prog.lines = lineNo;
    prog.records = sum.records();
    if (options.progress) options.progress(prog);
  };
  LineParser parser(in, sink, batch.holdingLoad(), options.idPreloadRows);
  ImportedVectorCheck vectorCheck(sink);
  auto fail = [&](std::string_view message, ErrorCode code = ErrorCode::InvalidInput) {
    parser.stop();  // the load then holds exactly the edges of the lines before this one
    batch.flush(sum, lineNo - 1);
    batch.finishEdges(lineNo - 1, false);
    report();
    sink.recordImport("jsonl", code == ErrorCode::PermissionDenied ? Outcome::Denied : Outcome::Error,
                      Json{{"line", lineNo}, {"error", message}, {"committed", sum.records()}}, Clock::now() - start);
    lineError(lineNo, message, code);
  };
  // A record's vectors take its subject, namespace, kind and properties.
  auto addVectors = [&](ParsedLine& parsed) {
    auto fill = [&](const auto& rec) {
      for (auto& v : parsed.vectors) {
        try {
          vectorCheck.check(v);
        } catch (const Error& e) {
          fail(e.message(), e.code());
        }
        v.subjectId = rec.id;
        v.ns = rec.ns;
        v.kind = rec.kind;
        v.properties = rec.properties;
        batch.vectors.push_back(std::move(v));
      }
    };
    if (auto* e = std::get_if<Entity>(&parsed.record)) fill(*e);
    if (auto* n = std::get_if<Note>(&parsed.record)) fill(*n);
  };
  try {
    for (auto chunk = parser.next(); chunk.lastLine != 0; chunk = parser.next()) {
      if (chunk.lines.empty()) {  // blank lines and edges the load holds
        lineNo = chunk.lastLine;
        prog.bytes += chunk.bytes;
        sum.edges += chunk.staged;
        continue;
      }
      for (auto& parsed : chunk.lines) {
        lineNo = parsed.number;
        prog.bytes += static_cast<std::int64_t>(parsed.bytes);
        if (parsed.blank) continue;
        if (parsed.staged) {
          ++sum.edges;
          continue;
        }
        if (!parsed.error.empty()) fail(parsed.error, parsed.errorCode);
        if (!parsed.vectors.empty()) addVectors(parsed);
        if (!batch.firstLine) batch.firstLine = lineNo;
        if (parsed.doc) batch.docs.push_back(std::move(*parsed.doc));
        if (auto* e = std::get_if<Entity>(&parsed.record))
          batch.entities.push_back(std::move(*e));
        else if (auto* n = std::get_if<Note>(&parsed.record))
          batch.notes.push_back(std::move(*n));
        else if (auto* ed = std::get_if<Edge>(&parsed.record))
          batch.edges.push_back(std::move(*ed));
        else if (auto* ev = std::get_if<Event>(&parsed.record))
          batch.events.push_back(std::move(*ev));
        if (batch.size() >= options.batchSize) {
          batch.flush(sum, lineNo);
          report();
        }
      }
    }
    batch.flush(sum, lineNo);
    parser.stop();
    // A stream that failed to read (a directory, an I/O error) ended early: that is an error,
    // not the end of the input.
    if (in.bad()) {
      ++lineNo;
      fail("the input could not be read from this line on (is it a directory, or did the device fail?)");
    }
    parser.releaseMemory();
    prog.stage = "writing edges";
    report();
    batch.finishEdges(lineNo, true);
    prog.stage.clear();
  } catch (const Error&) {
    // Records before the failure stay written, the edges held by the load included; when a
    // batch failed to write, the held edges of its lines and later ones are dropped.
    parser.stop();
    try {
      batch.dropPendingEdges();
      batch.finishEdges(lineNo, false);
    } catch (const Error&) {
      // The first error is the one to report.
    }
    throw;
  }
  report();
  // The planner's statistics must describe the tables as the load left them before the next
  // query is planned (on PostgreSQL a pattern query on a freshly loaded graph is otherwise
  // planned for empty tables).
  sink.stores().refreshStatistics();
  // Imported vectors: build and persist their search index now, as reindex does.
  for (const auto& engine : vectorCheck.engines()) sink.stores().vectors().prepareVectorIndex(engine);
  sum.lines = lineNo;
  sum.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  sink.recordImport("jsonl", Outcome::Success,
                    Json{{"lines", sum.lines},
                         {"entities", sum.entities},
                         {"notes", sum.notes},
                         {"edges", sum.edges},
                         {"events", sum.events}},
                    Clock::now() - start);
  return sum;
}

namespace {
// Orders stored vectors and ids by subject, for equal_range.
struct SubjectOrder {
  bool operator()(const storage::VectorRecord& v, const Uuid& id) const { return v.subjectId < id; }
  bool operator()(const Uuid& id, const storage::VectorRecord& v) const { return id < v.subjectId; }
};
}  // namespace

TransferSummary exportJsonl(const ExportSource& source, std::ostream& out, const TransferOptions& options) {
  auto start = Clock::now();
  TransferSummary sum;
  TransferProgress prog;
  auto& b = source.stores();
  const auto& ns = source.namespaces();
  const std::int64_t pageSize = 5000;
  auto emit = [&](Json j, const char* type, std::int64_t& counter) {
    j["type"] = type;
    out << j.dump() << '\n';
    ++counter;
    ++prog.records;
    ++prog.lines;
  };
  const bool vectors = options.withVectors && source.hasVectors();
  auto pages = [&](auto fetch, const char* type, std::int64_t& counter) {
    for (std::int64_t offset = 0;;) {
      auto page = fetch(storage::PageRequest{.offset = offset, .limit = pageSize});
      // Entities and notes carry their vectors: one read per page.
      std::vector<storage::VectorRecord> stored;
      using Item = std::decay_t<decltype(page.items.front())>;
      if constexpr (std::is_same_v<Item, Entity> || std::is_same_v<Item, Note>) {
        if (vectors && !page.items.empty()) {
          std::vector<Uuid> ids;
          for (const auto& r : page.items) ids.push_back(r.id);
          stored = b.vectors().vectorsOf(ids);
          std::stable_sort(stored.begin(), stored.end(),
                           [](const auto& x, const auto& y) { return x.subjectId < y.subjectId; });
        }
      }
      for (const auto& r : page.items) {
        Json j = toJson(r);
        auto [from, to] = std::equal_range(stored.begin(), stored.end(), r.id, SubjectOrder{});
        if (from != to) {
          j["vectors"] = vectorsToJson(std::span(from, to));
          sum.vectors += to - from;
        }
        emit(std::move(j), type, counter);
      }
      if (options.progress) options.progress(prog);
      if (!page.nextOffset) break;
      offset = *page.nextOffset;
    }
  };
  pages(
      [&](storage::PageRequest p) { return b.entities().queryEntities({.namespaces = ns, .includeDeleted = true}, p); },
      "entity", sum.entities);
  pages([&](storage::PageRequest p) { return b.notes().queryNotes({.namespaces = ns, .includeDeleted = true}, p); },
        "note", sum.notes);
  pages([&](storage::PageRequest p) { return b.graph().queryEdges({.namespaces = ns, .includeDeleted = true}, p); },
        "edge", sum.edges);
  pages([&](storage::PageRequest p) { return b.events().queryEvents({.namespaces = ns}, p); }, "event", sum.events);
  out.flush();
  if (!out) throw Error(ErrorCode::Driver, "export", "jsonl", "writing the export failed (disk full or closed pipe?)");
  sum.lines = prog.lines;
  sum.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return sum;
}

}  // namespace khive::runtime
