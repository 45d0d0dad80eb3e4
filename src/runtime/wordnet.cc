// WordNet 3.0 importer over the Debian wordnet-base data files.
//
// A data.<pos> line (wndb(5)):
//   02084071 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 023 @ 02083346 n 0000 ... | a member of ...
//   offset   lex_filenum ss_type w_cnt(hex) {word lex_id}* p_cnt(dec) {ptr_symbol offset pos src/tgt}* [frames] | gloss
// Offsets are byte offsets within one file, so a synset is named by offset + file; satellite
// adjectives (ss_type s) live in data.adj and are pointed at with pos `s`.

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_set>

#include "khive/core/error.h"
#include "khive/runtime/transfer.h"

namespace khive::runtime {

using Clock = std::chrono::steady_clock;

namespace {

constexpr std::array<std::string_view, 45> kLexnames = {"adj.all",          "adj.pert",           "adv.all",
                                                        "noun.Tops",        "noun.act",           "noun.animal",
                                                        "noun.artifact",    "noun.attribute",     "noun.body",
                                                        "noun.cognition",   "noun.communication", "noun.event",
                                                        "noun.feeling",     "noun.food",          "noun.group",
                                                        "noun.location",    "noun.motive",        "noun.object",
                                                        "noun.person",      "noun.phenomenon",    "noun.plant",
                                                        "noun.possession",  "noun.process",       "noun.quantity",
                                                        "noun.relation",    "noun.shape",         "noun.state",
                                                        "noun.substance",   "noun.time",          "verb.body",
                                                        "verb.change",      "verb.cognition",     "verb.communication",
                                                        "verb.competition", "verb.consumption",   "verb.contact",
                                                        "verb.creation",    "verb.emotion",       "verb.motion",
                                                        "verb.perception",  "verb.possession",    "verb.social",
                                                        "verb.stative",     "verb.weather",       "adj.ppl"};

// 128 bits of FNV-1a (two seeds) shaped as a version-8 UUID: stable across builds and runs.
Uuid stableId(std::string_view key) {
  auto fnv = [&](std::uint64_t h) {
    for (unsigned char c : key) h = (h ^ c) * 0x100000001b3ULL;
    return h;
  };
  std::uint64_t a = fnv(0xcbf29ce484222325ULL), b = fnv(0x84222325cbf29ce4ULL ^ a);
  Uuid::Bytes bytes{};
  for (int i = 0; i < 8; ++i) bytes[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(a >> (56 - 8 * i));
  for (int i = 0; i < 8; ++i) bytes[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(b >> (56 - 8 * i));
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0f) | 0x80);
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3f) | 0x80);
  return Uuid(bytes);
}

// The file letter a synset lives in (satellites live in data.adj).
char fileLetter(char pos) {
  return pos == 's' ? 'a' : pos;
}

std::string cleanLemma(std::string w) {
  if (auto p = w.find('('); p != std::string::npos && !w.empty() && w.back() == ')') w.erase(p);  // adj markers "(a)"
  for (char& c : w)
    if (c == '_') c = ' ';
  return w;
}

struct Synset {
  std::string wnid;  // offset-letter, letter = the file's letter (n, v, a, r)
  char ssType = 'n';
  int lexFile = 0;
  std::vector<std::string> lemmas;
  std::string gloss;
  std::vector<std::pair<std::string, std::string>> pointers;  // symbol, target wnid
};

Synset parseLine(const std::string& line, char letter, std::int64_t lineNo, const std::string& file) {
  auto bar = line.find(" | ");
  std::istringstream in(line.substr(0, bar));
  Synset s;
  std::string offset, lexFile, ssType, wcnt;
  if (!(in >> offset >> lexFile >> ssType >> wcnt) || ssType.size() != 1)
    throw Error(ErrorCode::InvalidInput, "import", "wordnet",
                fmt::format("{}:{}: malformed synset line", file, lineNo));
  s.wnid = offset + "-" + std::string(1, letter);
  s.ssType = ssType[0];
  s.lexFile = std::stoi(lexFile);
  int words = std::stoi(wcnt, nullptr, 16);
  for (int i = 0; i < words; ++i) {
    std::string w, lexId;
    in >> w >> lexId;
    s.lemmas.push_back(cleanLemma(w));
  }
  int pcnt = 0;
  in >> pcnt;
  for (int i = 0; i < pcnt; ++i) {
    std::string sym, off, pos, st;
    in >> sym >> off >> pos >> st;
    if (!in || pos.size() != 1)
      throw Error(ErrorCode::InvalidInput, "import", "wordnet", fmt::format("{}:{}: malformed pointer", file, lineNo));
    s.pointers.emplace_back(sym, off + "-" + std::string(1, fileLetter(pos[0])));
  }
  if (bar != std::string::npos) {
    s.gloss = line.substr(bar + 3);
    while (!s.gloss.empty() && (s.gloss.back() == ' ' || s.gloss.back() == '\r' || s.gloss.back() == '\n'))
      s.gloss.pop_back();
  }
  if (s.lemmas.empty())
    throw Error(ErrorCode::InvalidInput, "import", "wordnet", fmt::format("{}:{}: synset without words", file, lineNo));
  return s;
}

}  // namespace

Uuid wordnetEntityId(std::string_view wordnetId) {
  return stableId(fmt::format("wordnet:{}", wordnetId));
}

TransferSummary importWordnet(const ImportSink& sink, const std::filesystem::path& dir, const TransferOptions& options) {
  auto start = Clock::now();
  const std::array<std::pair<const char*, char>, 4> files = {
      {{"data.noun", 'n'}, {"data.verb", 'v'}, {"data.adj", 'a'}, {"data.adv", 'r'}}};
  std::int64_t totalBytes = 0;
  for (auto [name, letter] : files) {
    std::error_code ec;
    auto size = std::filesystem::file_size(dir / name, ec);
    if (ec)
      throw Error(ErrorCode::NotFound, "import", "wordnet",
                  fmt::format("{} is missing: install the WordNet data (Debian: apt-get install wordnet-base)",
                              (dir / name).string()));
    totalBytes += static_cast<std::int64_t>(size);
  }
  const std::string ns = sink.writeNamespace();
  sink.checkGrant(ns);
  auto& b = sink.stores();
  const bool text = sink.hasText();
  TransferSummary sum;
  TransferProgress prog;
  // Two passes: every synset first (so edges point at stored entities), then the edges.
  std::vector<Edge> edges;
  std::set<std::tuple<Uuid, Uuid, std::string>> edgeKeys;
  auto addEdge = [&](const std::string& from, const std::string& to, const char* relation) {
    Uuid s = wordnetEntityId(from), t = wordnetEntityId(to);
    if (s == t || !edgeKeys.emplace(s, t, relation).second) return;
    Edge e;
    e.ns = ns;
    e.sourceId = s;
    e.targetId = t;
    e.relation = relation;
    // Stable ids too, so a re-run with an unchanged file keeps them.
    e.id = stableId(fmt::format("wordnet-edge:{}:{}:{}", from, relation, to));
    edges.push_back(std::move(e));
  };
  std::vector<Entity> entities;
  std::vector<storage::TextDocument> docs;
  auto flushEntities = [&] {
    if (entities.empty()) return;
    auto work = b.beginWork();  // a batch commits with its text documents
    auto s = b.entities().upsertEntities(entities);
    if (s.failed) throw Error(ErrorCode::Driver, "import", "wordnet", s.firstError.value_or("entity batch failed"));
    if (!docs.empty()) {
      auto d = b.text().upsertDocuments(docs);
      if (d.failed) throw Error(ErrorCode::Driver, "import", "wordnet", d.firstError.value_or("text batch failed"));
    }
    work->commit();
    sum.entities += static_cast<std::int64_t>(entities.size());
    sum.textDocuments += static_cast<std::int64_t>(docs.size());
    prog.records = sum.records();
    entities.clear();
    docs.clear();
    if (options.progress) options.progress(prog);
  };

  for (auto [name, letter] : files) {
    std::ifstream in(dir / name);
    std::string line;
    std::int64_t lineNo = 0;
    while (std::getline(in, line)) {
      ++lineNo;
      prog.bytes += static_cast<std::int64_t>(line.size()) + 1;
      ++prog.lines;
      if (line.empty() || line[0] == ' ') continue;  // the licence header lines start with two spaces
      Synset s = parseLine(line, letter, lineNo, (dir / name).string());
      Entity e;
      e.id = wordnetEntityId(s.wnid);
      e.ns = ns;
      e.kind = "concept";
      e.name = s.lemmas.front();
      if (!s.gloss.empty()) e.description = s.gloss;
      e.properties = Json{{"wordnet_id", s.wnid},
                          {"lemmas", s.lemmas},
                          {"lexname", s.lexFile >= 0 && s.lexFile < static_cast<int>(kLexnames.size())
                                          ? std::string(kLexnames[static_cast<std::size_t>(s.lexFile)])
                                          : std::to_string(s.lexFile)},
                          {"pos", std::string(1, s.ssType)}};
      sink.admit(e);
      if (text) {
        storage::TextDocument d = retrieval::textDocumentOf(e);
        std::string lemmas;
        for (const auto& l : s.lemmas) lemmas += (lemmas.empty() ? "" : ", ") + l;
        d.body = s.gloss + "\n" + lemmas;
        docs.push_back(std::move(d));
      }
      entities.push_back(std::move(e));
      for (const auto& [sym, target] : s.pointers) {
        if (sym == "@" || sym == "@i") addEdge(s.wnid, target, "instance_of");
        // wninput(5): #p #m #s are holonyms (this synset is a part/member/substance of the
        // target), %p %m %s meronyms (the target is one of this synset).
        else if (sym == "#p" || sym == "#m" || sym == "#s")
          addEdge(s.wnid, target, "part_of");
        else if (sym == "%p" || sym == "%m" || sym == "%s")
          addEdge(target, s.wnid, "part_of");
      }
      if (entities.size() >= options.batchSize) flushEntities();
    }
  }
  flushEntities();
  // One edge load for all of them: a backend may write them in its own key order at finish().
  auto load = b.graph().beginLoad();
  for (std::size_t i = 0; i < edges.size(); i += options.batchSize) {
    std::span<const Edge> chunk(edges.data() + i, std::min(options.batchSize, edges.size() - i));
    load->add(chunk);
    sum.edges += static_cast<std::int64_t>(chunk.size());
    prog.records = sum.records();
    if (options.progress) options.progress(prog);
  }
  prog.stage = "writing edges";
  if (options.progress) options.progress(prog);
  auto s = load->finish();
  prog.stage.clear();
  if (s.failed) throw Error(ErrorCode::Driver, "import", "wordnet", s.firstError.value_or("edge batch failed"));
  b.refreshStatistics();  // as importJsonl: plan the next queries for the loaded tables
  sum.lines = prog.lines;
  sum.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  sink.recordImport("wordnet", Outcome::Success,
                    Json{{"source", dir.string()}, {"entities", sum.entities}, {"edges", sum.edges}},
                    Clock::now() - start);
  return sum;
}

}  // namespace khive::runtime
