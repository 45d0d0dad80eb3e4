// `khive serve` under load: a keep-alive HTTP/1.1 client (one thread and one connection per
// simulated client) against a server it starts, at 1, 16 and 64 connections, for GET /healthz
// (the HTTP floor), GET /v1/records/{id}, POST /v1/search, POST /v1/query and POST
// /v1/entities, on SQLite and (with --pg) PostgreSQL. Prints throughput, p50 and p99 per
// operation, the server's and this client's CPU time per request (user + system time of each
// process over the measurement, divided by the requests answered: figures that move less than
// throughput when other programs load the machine) and the ratios docs/serve.md states goals
// for. Asserts nothing.
//
//   serve_bench --khive build/release/src/bin/khive [--pg postgresql://...] [--seconds 3]
//               [--connections 1,16,64] [--workers 8] [--records 2000]
//               [--ops healthz,get,search,query,create] [--backends sqlite,postgres]
// --pg is a superuser URL (the test services' KHIVE_PG_URL): a database serve_bench_<pid> is
// created for the run and dropped after it.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

// One keep-alive connection. Not thread-safe: one per thread.
class Connection {
 public:
  explicit Connection(int port) : port_(port) {}
  ~Connection() { closeFd(); }
  // Sends one request and reads the whole response; returns the status (0 on failure).
  int exchange(const std::string& request, std::string& body) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (fd_ < 0 && !open()) return 0;
      if (sendAll(request)) {
        int status = readResponse(body);
        if (status) return status;
      }
      closeFd();  // the server closed the connection: reconnect once
    }
    return 0;
  }

 private:
  bool open() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      closeFd();
      return false;
    }
    return true;
  }
  void closeFd() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buf_.clear();
  }
  bool sendAll(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  bool fill() {
    char tmp[65536];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }
  int readResponse(std::string& body) {
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return 0;
    const std::string head = buf_.substr(0, end);
    int status = std::atoi(head.c_str() + 9);
    std::size_t length = 0;
    std::string lower = head;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto p = lower.find("content-length:"); p != std::string::npos) length = std::strtoull(lower.c_str() + p + 15, nullptr, 10);
    const bool close = lower.find("connection: close") != std::string::npos;
    buf_.erase(0, end + 4);
    while (buf_.size() < length)
      if (!fill()) return 0;
    body = buf_.substr(0, length);
    buf_.erase(0, length);
    if (close) closeFd();
    return status;
  }

  int port_;
  int fd_ = -1;
  std::string buf_;
};

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char b[4096];
  while (std::size_t n = std::fread(b, 1, sizeof b, p)) out.append(b, n);
  ::pclose(p);
  return out;
}

struct Server {
  pid_t pid = -1;
  int port = 0;
};

Server startServer(const std::string& khive, const std::filesystem::path& config, const std::vector<std::string>& backendArgs,
                   const std::filesystem::path& log) {
  Server s;
  s.pid = ::fork();
  if (s.pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 2);
    std::vector<std::string> args{khive, "--config", config.string()};
    args.insert(args.end(), backendArgs.begin(), backendArgs.end());
    args.push_back("serve");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(khive.c_str(), argv.data());
    std::_Exit(127);
  }
  for (int i = 0; i < 600 && !s.port; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::ifstream in(log);
    std::string line;
    while (std::getline(in, line))
      if (auto p = line.find("listening on http://127.0.0.1:"); p != std::string::npos) s.port = std::atoi(line.c_str() + p + 30);
  }
  if (!s.port) {
    std::cerr << "serve_bench: khive serve did not start (see " << log << ")\n";
    std::exit(1);
  }
  return s;
}

void stopServer(Server& s) {
  if (s.pid <= 0) return;
  ::kill(s.pid, SIGTERM);
  int st = 0;
  ::waitpid(s.pid, &st, 0);
  s.pid = -1;
}

std::string httpRequest(const std::string& method, const std::string& path, const std::string& token, const std::string& body = "") {
  std::string r = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!token.empty()) r += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty() || method == "POST") r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + body;
}

struct Result {
  double throughput = 0, p50 = 0, p99 = 0;
  double serverCpuUs = 0;  // the server's user + system CPU time per answered request
  double clientCpuUs = 0;  // this client's, likewise
  std::int64_t errors = 0;
};

// User + system CPU seconds of process `pid` so far (every thread), from /proc/<pid>/stat.
double cpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The fields after the command name (which may hold spaces) start after the last ')'.
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// `conns` threads, each on its own connection, run make(thread, i) requests for `seconds`
// against the server process `server`.
Result measure(pid_t server, int port, int conns, double seconds, const std::function<std::string(int, std::int64_t)>& make, int okStatus) {
  std::atomic<bool> go{false}, stop{false};
  std::vector<std::vector<double>> lat(static_cast<std::size_t>(conns));
  std::vector<std::int64_t> errors(static_cast<std::size_t>(conns), 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < conns; ++t)
    threads.emplace_back([&, t] {
      Connection c(port);
      std::string body;
      c.exchange(make(t, -1), body);  // connect and warm up
      while (!go) std::this_thread::yield();
      for (std::int64_t i = 0; !stop; ++i) {
        const std::string req = make(t, i);
        const auto t0 = Clock::now();
        const int status = c.exchange(req, body);
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        if (status != okStatus) ++errors[static_cast<std::size_t>(t)];
        else lat[static_cast<std::size_t>(t)].push_back(ms);
      }
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const double cpuBefore = cpuSeconds(server), clientBefore = cpuSeconds(::getpid());
  const auto start = Clock::now();
  go = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  for (auto& th : threads) th.join();
  const double cpu = cpuSeconds(server) - cpuBefore, clientCpu = cpuSeconds(::getpid()) - clientBefore;
  std::vector<double> all;
  Result r;
  for (std::size_t t = 0; t < lat.size(); ++t) {
    all.insert(all.end(), lat[t].begin(), lat[t].end());
    r.errors += errors[t];
  }
  std::sort(all.begin(), all.end());
  r.throughput = static_cast<double>(all.size()) / elapsed;
  // The last requests of each thread finish after `elapsed`; their CPU time is counted, so
  // they are too.
  if (!all.empty()) {
    r.serverCpuUs = cpu * 1e6 / static_cast<double>(all.size());
    r.clientCpuUs = clientCpu * 1e6 / static_cast<double>(all.size());
  }
  if (!all.empty()) {
    r.p50 = all[all.size() / 2];
    r.p99 = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  return r;
}

std::vector<int> parseList(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, ',')) out.push_back(std::atoi(x.c_str()));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string khive, pg;
  double seconds = 3;
  std::vector<int> connections{1, 16, 64};
  int workers = 8, records = 2000;
  std::string opsArg = "healthz,get,search,query,create", backendsArg = "sqlite,postgres";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--khive") khive = v;
    else if (k == "--pg") pg = v;
    else if (k == "--seconds") seconds = std::atof(v.c_str());
    else if (k == "--connections") connections = parseList(v);
    else if (k == "--workers") workers = std::atoi(v.c_str());
    else if (k == "--records") records = std::atoi(v.c_str());
    else if (k == "--ops") opsArg = v;
    else if (k == "--backends") backendsArg = v;
    else {
      std::cerr << "serve_bench: unknown option " << k << "\n";
      return 2;
    }
  }
  if (khive.empty()) {
    std::cerr << "usage: serve_bench --khive PATH [--pg URL] [--seconds S] [--connections 1,16,64] [--workers N] [--records N]\n";
    return 2;
  }
  if (pg.empty())
    if (const char* e = std::getenv("KHIVE_PG_URL")) pg = e;
  ::signal(SIGPIPE, SIG_IGN);

  auto split = [](const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string x;
    while (std::getline(ss, x, ',')) out.push_back(x);
    return out;
  };
  std::vector<std::string> backends;
  for (const auto& b : split(backendsArg))
    if (b == "sqlite" || (b == "postgres" && !pg.empty())) backends.push_back(b);
  const std::string pgDb = "serve_bench_" + std::to_string(::getpid());
  std::printf("serve_bench: %u cores, %d server workers, %.1f s per measurement, %d records\n", std::thread::hardware_concurrency(),
              workers, seconds, records);
  for (const auto& backend : backends) {
    const auto dir = std::filesystem::temp_directory_path() / ("serve_bench_" + std::to_string(::getpid()) + "_" + backend);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const auto config = dir / "khive.toml";
    std::vector<std::string> backendArgs;
    std::string serverExtra;
    if (backend == "sqlite") {
      backendArgs = {"--db", (dir / "bench.db").string()};
    } else {
      run("psql '" + pg + "' -qc 'DROP DATABASE IF EXISTS " + pgDb + "' -qc 'CREATE DATABASE " + pgDb + "' 2>&1");
      std::string url = pg.substr(0, pg.rfind('/')) + "/" + pgDb;
      if (auto q = pg.find('?', pg.rfind('/')); q != std::string::npos) url += pg.substr(q);
      backendArgs = {"--backend", url};
      serverExtra = "postgres_admin_url = \"" + url + "\"\npostgres_user = \"khive_app\"\n";
    }
    std::ofstream(config) << "[server]\nport = 0\nworkers = " << workers << "\n" << serverExtra;
    const Json tok = Json::parse(run("'" + khive + "' --json --config '" + config.string() + "' token create --actor bench --write bench"));
    const std::string token = tok["token"];
    Server server = startServer(khive, config, backendArgs, dir / "serve.log");

    // Seed: entities named e<i> with a searchable description, a chain of edges.
    std::vector<std::string> ids;
    {
      Connection c(server.port);
      std::string body;
      for (int i = 0; i < records; ++i) {
        Json e{{"kind", "concept"}, {"name", "e" + std::to_string(i)}, {"description", "word" + std::to_string(i % 100) + " bench record"}};
        c.exchange(httpRequest("POST", "/v1/entities", token, e.dump()), body);
        ids.push_back(Json::parse(body)["id"]);
      }
    }
    std::printf("\n== %s (seeded %zu entities)\n%-8s %6s %12s %10s %10s %11s %11s %8s\n", backend.c_str(), ids.size(), "op",
                "conns", "req/s", "p50 ms", "p99 ms", "srv cpu us", "cli cpu us", "errors");
    std::map<std::pair<std::string, int>, Result> results;
    const std::vector<std::string> ops = split(opsArg);
    for (const auto& op : ops)
      for (int conns : connections) {
        auto make = [&](int t, std::int64_t i) -> std::string {
          const std::size_t k = static_cast<std::size_t>((t * 7919 + i * 104729 + 1000003) % static_cast<std::int64_t>(ids.size()));
          if (op == "healthz") return httpRequest("GET", "/healthz", "");
          if (op == "get") return httpRequest("GET", "/v1/records/" + ids[k], token);
          if (op == "search")
            return httpRequest("POST", "/v1/search", token, Json{{"text", "word" + std::to_string(k % 100)}, {"limit", 10}}.dump());
          if (op == "query")
            return httpRequest("POST", "/v1/query", token,
                               Json{{"text", "MATCH (n:concept) WHERE n.name = $name RETURN n.id"}, {"parameters", Json{{"name", "e" + std::to_string(k)}}}}.dump());
          return httpRequest("POST", "/v1/entities", token,
                             Json{{"kind", "concept"}, {"name", "c" + std::to_string(conns) + "-" + std::to_string(t) + "-" + std::to_string(i)}}.dump());
        };
        Result r = measure(server.pid, server.port, conns, seconds, make, op == "create" ? 201 : 200);
        results[{op, conns}] = r;
        std::printf("%-8s %6d %12.0f %10.3f %10.3f %11.1f %11.1f %8lld\n", op.c_str(), conns, r.throughput, r.p50, r.p99,
                    r.serverCpuUs, r.clientCpuUs, static_cast<long long>(r.errors));
        std::fflush(stdout);
      }
    auto ratio = [&](const std::string& a, int ca, const std::string& b, int cb) {
      auto x = results.find({a, ca}), y = results.find({b, cb});
      return x == results.end() || y == results.end() || y->second.throughput == 0 ? 0.0 : x->second.throughput / y->second.throughput;
    };
    std::printf("ratios (%s): get/healthz throughput at 16 conns %.2f (goal >= 0.5); create 16/1 conns %.2f", backend.c_str(),
                ratio("get", 16, "healthz", 16), ratio("create", 16, "create", 1));
    if (auto it = results.find({"get", 64}); it != results.end()) std::printf("; p99 get at 64 conns %.2f ms", it->second.p99);
    if (auto g = results.find({"get", 16}), h = results.find({"healthz", 16});
        g != results.end() && h != results.end() && h->second.serverCpuUs > 0)
      std::printf("; server cpu per request get/healthz at 16 conns %.2f", g->second.serverCpuUs / h->second.serverCpuUs);
    std::printf("\n");
    stopServer(server);
    if (backend == "postgres") run("psql '" + pg + "' -qc 'DROP DATABASE IF EXISTS " + pgDb + " WITH (FORCE)' 2>&1");
    std::filesystem::remove_all(dir);
  }
  return 0;
}
